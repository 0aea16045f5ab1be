"""Start the real Restate Server on free loopback ports, serve an SDK app to it, and stop cleanly.

The real server is the oracle the in-process runtime and the imitation ingress are measured
against, so tests and notebooks need to start one in a second and be sure it is gone afterwards.

Example (a pytest fixture works the same way: ``yield`` inside the ``with`` block)::

    import restate
    from restate_lab.server import RestateServer

    greeter = restate.Service("Greeter")

    @greeter.handler()
    async def greet(ctx: restate.Context, name: str) -> str:
        return f"Hello {name}!"

    with RestateServer.start(restate.app([greeter])) as srv:
        assert srv.client.call("Greeter", "greet", "Ada") == "Hello Ada!"

    # pytest:
    @pytest.fixture(scope="module")
    def real_server():
        with RestateServer.start(restate.app([greeter])) as srv:
            yield srv

How it works: the binary runs in its own process group (``start_new_session``) with a fresh
temporary ``--base-dir`` and ``RESTATE_*__BIND_ADDRESS`` env vars pointing at free ports on
127.0.0.1 (admin, ingress, and the node-to-node message fabric; ``--listen-mode tcp`` keeps it
from also creating unix sockets). The SDK app is served by hypercorn in a daemon thread with its
own event loop: the SDK installs a SIGTERM hook when it runs on the main thread's loop, which
must not happen inside a notebook kernel or pytest. Restate Server 1.7 talks HTTP/2 with prior
knowledge to ``http://`` deployments by default; hypercorn accepts h2c prior knowledge, so no
``use_http_11`` is needed (``register(..., use_http_11=True)`` exists for HTTP/1.1-only servers).
Every wait is bounded; :meth:`RestateServer.stop` SIGTERMs the group, SIGKILLs it after a grace
period, and removes the base dir. No server outlives its parent: an ``atexit`` hook stops servers a
crashed caller leaked, on Linux the kernel SIGKILLs the server when the process (strictly: the thread)
that started it dies, even by SIGKILL (``prctl(PR_SET_PDEATHSIG)``), and a base dir left behind by
a parent that was killed outright is removed by the next start (each records its owner's pid).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from restate_lab._processes import accepts, die_with_parent, free_port, is_running, terminate_group
from restate_lab.server.binary import find_restate_server
from restate_lab.server.client import RestateClient

_LIVE: weakref.WeakSet[RestateServer] = weakref.WeakSet()
#: Base dirs are ``<tmp>/restate-lab-server-*``; each holds the pid of the process that owns it.
BASE_DIR_PREFIX = "restate-lab-server-"
OWNER_FILE = "owner.pid"


def sweep_orphaned_base_dirs(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove base dirs whose owning process is gone (it was killed before it could clean up).

    Dirs without an owner file (written by older versions, or still being created) are left alone.
    """
    removed = []
    for path in Path(root or tempfile.gettempdir()).glob(BASE_DIR_PREFIX + "*"):
        try:
            owner = int((path / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if not is_running(owner):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class RestateServerError(RuntimeError):
    """The server did not start, or a deployment could not be registered; carries the log tail."""


def _wait_port(host: str, port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if accepts(host, port):
            return True
        time.sleep(0.05)
    return False


def _quiet_on_cancel(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Drop the "connection callback was cancelled" reports asyncio makes while we shut down."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


class AppServer:
    """An ASGI app served by hypercorn on a loopback port, in a daemon thread with its own loop."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.app = app
        self.host = host
        self.port = port or free_port(host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> AppServer:
        """Start serving; return once the port accepts connections (or raise after ``timeout``)."""
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name=f"restate-lab-app:{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        if not ready.wait(timeout) or not _wait_port(self.host, self.port, deadline):
            self.stop()
            raise RestateServerError(f"app server on {self.url} did not start: {self._error!r}")
        return self

    def _run(self, ready: threading.Event) -> None:
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"{self.host}:{self.port}"]
        config.accesslog = None
        config.errorlog = None
        config.graceful_timeout = 1.0
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._stop = asyncio.Event()
        ready.set()
        try:
            loop.run_until_complete(serve(self.app, config, shutdown_trigger=self._stop.wait))
        except BaseException as exc:  # kept for start()'s message; the thread must not die loudly
            self._error = exc
        finally:
            # Connections hypercorn left open (the server keeps h2 connections) end here, so
            # closing the loop does not complain about pending tasks.
            loop.set_exception_handler(_quiet_on_cancel)
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(asyncio.sleep(0))  # let done-callbacks run before closing
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask hypercorn to shut down and join the thread (bounded by ``timeout``)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout)


class RestateServer:
    """A running real Restate Server (and optionally the SDK apps it invokes).

    Use :meth:`start` as a context manager; ``ingress_url``, ``admin_url`` and ``client`` are
    ready inside the block and everything is stopped when it ends, also on exceptions.
    """

    def __init__(
        self,
        *,
        binary: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
        ingress_port: int | None = None,
        admin_port: int | None = None,
    ) -> None:
        self.binary = Path(binary) if binary else find_restate_server()
        #: Ports asked for by the caller; None means a free port picked at each start.
        self.wanted_ports = (ingress_port, admin_port)
        self.host = host
        self.extra_env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.base_dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.ingress_port = 0
        self.admin_port = 0
        self.fabric_port = 0
        self.app_servers: list[AppServer] = []
        self._client: RestateClient | None = None
        self._log: Any = None

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        app: Any = None,
        *,
        binary: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
        ingress_port: int | None = None,
        admin_port: int | None = None,
    ) -> Iterator[RestateServer]:
        """Start a server, register ``app`` (an SDK app or a deployment URI) if given; stop on exit.

        Ports default to free loopback ports; pass ``ingress_port``/``admin_port`` (e.g. 8080, 9070) to fix them.
        """
        server = cls(
            binary=binary, env=env, startup_timeout=startup_timeout, ingress_port=ingress_port, admin_port=admin_port
        )
        try:
            server.launch()
            if app is not None:
                server.register(app)
            yield server
        finally:
            server.stop()

    def launch(self, attempts: int = 3) -> RestateServer:
        """Start the binary and wait until admin ``/health`` and ingress ``/restate/health`` answer.

        Free ports are picked by the OS and released before the server binds them, so another
        process can win the race; a start that dies early is retried on new ports.
        """
        last: Exception | None = None
        for _ in range(attempts):
            try:
                self._spawn()
                self._wait_healthy()
                _LIVE.add(self)
                return self
            except RestateServerError as exc:
                last = exc
                self._terminate()
        raise last if last else RestateServerError("restate-server did not start")

    def _spawn(self) -> None:
        sweep_orphaned_base_dirs()
        self.base_dir = Path(tempfile.mkdtemp(prefix=BASE_DIR_PREFIX))
        (self.base_dir / OWNER_FILE).write_text(str(os.getpid()))
        self.ingress_port, self.admin_port, self.fabric_port = (free_port(self.host) for _ in range(3))
        wanted_ingress, wanted_admin = self.wanted_ports
        self.ingress_port = wanted_ingress or self.ingress_port
        self.admin_port = wanted_admin or self.admin_port
        # RUST_BACKTRACE in the caller's environment makes the server append stack backtraces to
        # some 500 error bodies; drop it so answers look like a production server's.
        inherited = {k: v for k, v in os.environ.items() if k not in ("RUST_BACKTRACE", "RUST_LIB_BACKTRACE")}
        env = {
            **inherited,
            "RESTATE_INGRESS__BIND_ADDRESS": f"{self.host}:{self.ingress_port}",
            "RESTATE_ADMIN__BIND_ADDRESS": f"{self.host}:{self.admin_port}",
            "RESTATE_BIND_ADDRESS": f"{self.host}:{self.fabric_port}",
            "RESTATE_ADVERTISED_ADDRESS": f"http://{self.host}:{self.fabric_port}/",
            "RESTATE_LISTEN_MODE": "tcp",
            "RESTATE_DISABLE_TELEMETRY": "true",
            "RESTATE_LOG_DISABLE_ANSI_CODES": "true",
            "RESTATE_CLUSTER_NAME": f"restate-lab-{self.admin_port}",
            # Fewer partitions start faster on a small machine and change no API behaviour.
            "RESTATE_DEFAULT_NUM_PARTITIONS": "4",
            **self.extra_env,
        }
        self._log = open(self.base_dir / "server.log", "wb")  # noqa: SIM115 - closed in _terminate
        self.process = subprocess.Popen(
            [str(self.binary), "--base-dir", str(self.base_dir), "--no-logo"],
            env=env,
            cwd=self.base_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(),  # only prctl between fork and exec
        )

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        checks = [f"{self.admin_url}/health", f"{self.ingress_url}/restate/health"]
        with httpx.Client(timeout=1.0) as http:
            while checks:
                if self.process is None or self.process.poll() is not None:
                    raise RestateServerError(f"restate-server exited early:\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    raise RestateServerError(
                        f"restate-server not healthy after {self.startup_timeout}s:\n{self.log_tail()}"
                    )
                try:
                    if http.get(checks[0]).status_code == 200:
                        checks.pop(0)
                        continue
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)

    def stop(self, grace: float = 10.0) -> None:
        """Stop app servers and the server process group; remove the base dir. Safe to call twice."""
        if self._client is not None:
            self._client.close()
            self._client = None
        # The server goes first: its HTTP/2 connections to the apps close with it, so hypercorn
        # then shuts down without connections to cut.
        self._terminate(grace)
        for app_server in self.app_servers:
            app_server.stop()
        self.app_servers.clear()
        _LIVE.discard(self)

    def _terminate(self, grace: float = 10.0) -> None:
        proc, self.process = self.process, None
        if proc is not None:
            terminate_group(proc, grace)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None

    def __enter__(self) -> RestateServer:
        if self.process is None:
            self.launch()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- deployments -----------------------------------------------------------------------

    def serve_app(self, app: Any) -> AppServer:
        """Serve an SDK app (``restate.app(...)``) with hypercorn on a free port; stopped with the server."""
        app_server = AppServer(app, host=self.host).start()
        self.app_servers.append(app_server)
        return app_server

    def register(
        self, app_or_uri: Any, *, use_http_11: bool = False, force: bool = True, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Register a deployment via admin ``POST /deployments``; serve it first if it is an app.

        Returns the admin API's answer (``{"id": "dp_…", "services": [...]}``).
        """
        uri = app_or_uri if isinstance(app_or_uri, str) else self.serve_app(app_or_uri).url
        body: dict[str, Any] = {"uri": uri, "force": force}
        if use_http_11:
            body["use_http_11"] = True
        response = httpx.post(f"{self.admin_url}/deployments", json=body, timeout=timeout)
        if response.status_code >= 300:
            raise RestateServerError(
                f"registering {uri} failed: {response.status_code} {response.text}\n{self.log_tail()}"
            )
        answer: dict[str, Any] = response.json()
        return answer

    # -- access ----------------------------------------------------------------------------

    @property
    def ingress_url(self) -> str:
        return f"http://{self.host}:{self.ingress_port}"

    @property
    def admin_url(self) -> str:
        return f"http://{self.host}:{self.admin_port}"

    @property
    def client(self) -> RestateClient:
        """A :class:`RestateClient` bound to this server's ingress and admin URLs."""
        if self._client is None:
            self._client = RestateClient(self.ingress_url, self.admin_url)
        return self._client

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` of the server's log (for error messages)."""
        if self.base_dir is None:
            return ""
        try:
            text = (self.base_dir / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@atexit.register
def _stop_leaked_servers() -> None:
    for server in list(_LIVE):
        server.stop(grace=2.0)
