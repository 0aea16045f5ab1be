"""Serve a ``LocalRestate`` over HTTP: the ingress on one port, the admin API on another.

Both uvicorn servers run on the runtime's own event loop, so requests reach the engine
without crossing threads. From a notebook::

    lab = LocalRestate(app)
    server = LabServer(lab, port=0, admin_port=0).start()   # 0 picks free ports
    print(server.ingress_url, server.admin_url)
    server.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import Any

import uvicorn

from restate_lab.ingress.app import make_ingress_app
from restate_lab.ingress.calls import CallAnswers
from restate_lab.ingress.http1 import IngressHttpProtocol
from restate_lab.runtime.local import LocalRestate

log = logging.getLogger("restate_lab.server")
STARTUP_TIMEOUT_S = 20.0


def _admin_app(lab: LocalRestate, ingress_url: str) -> Any:
    from restate_lab.ingress.admin import make_admin_app

    return make_admin_app(lab, ingress_url=ingress_url)


async def _serve_until_stopped(server: uvicorn.Server) -> None:
    """``server.serve()``, with uvicorn's ``sys.exit`` on a failed start (a port in use) as an ``OSError``.

    A ``SystemExit`` escaping a task stops the event loop it runs on: the runtime's own loop here.
    """
    try:
        await server.serve()
    except SystemExit as exc:
        raise OSError(f"the server did not start (uvicorn exit status {exc.code})") from None


class LabServer:
    """The ingress (default :8080) and admin API (default :9070) of a ``LocalRestate``."""

    def __init__(
        self,
        lab: LocalRestate,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        admin_port: int | None = 9070,
        log_level: str = "warning",
    ) -> None:
        self.lab = lab
        self.host = host
        self.port = port
        self.admin_port = admin_port
        self.log_level = log_level
        self._servers: list[uvicorn.Server] = []
        self._tasks: list[asyncio.Task[None]] = []

    def _config(self, app: Any, port: int, *, ingress: bool = False) -> uvicorn.Config:
        # The ingress answers unparsable requests and status codes up to 999 as the real server does, and
        # takes invocation requests on its hot path (restate_lab.ingress.http1).
        http: Any = "auto"
        if ingress:
            http = functools.partial(IngressHttpProtocol, calls=CallAnswers(self.lab.engine))
        return uvicorn.Config(
            app,
            host=self.host,
            port=port,
            log_level=self.log_level,
            lifespan="on",
            access_log=False,
            timeout_keep_alive=30,
            h11_max_incomplete_event_size=None,
            http=http,
            server_header=False,
            proxy_headers=False,  # nothing reads the client's address; the middleware was a cost per request
        )

    async def _start(self) -> None:
        engine = self.lab.engine
        if engine.store is not None and (engine.store.path.parent / "kafka.json").exists():
            from restate_lab.kafka.ingress import kafka_ingress  # durable subscriptions resume consuming

            kafka_ingress(engine).resume()
        await self._serve(make_ingress_app(engine), self.port, ingress=True)
        if self.admin_port is not None:
            # The admin API learns the ingress URL only once the ingress has bound its port.
            await self._serve(_admin_app(self.lab, self.ingress_url + "/"), self.admin_port)

    async def _serve(self, app: Any, port: int, *, ingress: bool = False) -> None:
        server = uvicorn.Server(self._config(app, port, ingress=ingress))
        self._servers.append(server)
        self._tasks.append(asyncio.get_running_loop().create_task(_serve_until_stopped(server)))
        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT_S
        while not all(s.started for s in self._servers):
            failed = [t for t in self._tasks if t.done()]
            if failed or asyncio.get_running_loop().time() > deadline:
                await self._stop()
                raise OSError(f"could not start a server on {self.host}:{port} (port in use?)")
            await asyncio.sleep(0.01)

    def start(self) -> LabServer:
        """Start serving in the background; returns self so ``LabServer(lab).start()`` reads well."""
        self.lab.portal.call(self._start(), timeout=2 * STARTUP_TIMEOUT_S + 10)
        return self

    def _bound_port(self, index: int) -> int:
        server = self._servers[index]
        for listener in server.servers:
            for sock in listener.sockets:
                return int(sock.getsockname()[1])
        raise RuntimeError("server is not listening")

    @property
    def ingress_url(self) -> str:
        return f"http://{self.host}:{self._bound_port(0)}"

    @property
    def admin_url(self) -> str:
        if self.admin_port is None:
            raise RuntimeError("the admin API is not served")
        return f"http://{self.host}:{self._bound_port(1)}"

    async def _stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, OSError):
                await asyncio.wait_for(asyncio.shield(task), 5)
            if not task.done():
                task.cancel()
        self._servers.clear()
        self._tasks.clear()

    def stop(self) -> None:
        """Stop both servers (the runtime keeps running)."""
        if not self.lab.portal.loop.is_closed():
            self.lab.portal.call(self._stop())

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
