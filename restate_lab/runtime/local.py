"""``LocalRestate``: a Restate server inside this Python process, for notebooks and asyncio code."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import weakref
from collections.abc import Callable, Coroutine, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from restate_lab.api import Delay, SendReceipt
from restate_lab.protocol.messages import VOID, Failure, Result, Value
from restate_lab.protocol.transport import ASGIApp
from restate_lab.rules.durations import parse_duration_ms
from restate_lab.rules.errors import RestateError
from restate_lab.rules.ids import parse_awakeable_id
from restate_lab.rules.targets import Target
from restate_lab.runtime import operations as ops
from restate_lab.runtime.describe import describe_invocation, describe_service
from restate_lab.runtime.durable import DurableStore
from restate_lab.runtime.engine import Engine
from restate_lab.runtime.portal import Channel, Portal
from restate_lab.runtime.registry import Deployment

T = TypeVar("T")
#: The file durable mode keeps in its data directory.
DATA_FILE = "restate-lab.sqlite3"


def encode_body(body: Any) -> bytes:
    """JSON-encode a Python value; ``bytes`` pass through and ``None`` is an empty body."""
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return json.dumps(body).encode()


def decode_result(result: Result) -> Any:
    """A handler's JSON result as a Python value, or ``RestateError`` for a terminal failure."""
    if isinstance(result, Failure):
        raise RestateError(result.code, result.message, "invocation")
    if isinstance(result, Value) and result.content:
        try:
            return json.loads(result.content)
        except ValueError:
            return result.content
    return None


def delay_ms(delay: Delay | None) -> int | None:
    if delay is None:
        return None
    if isinstance(delay, timedelta):
        return int(delay.total_seconds() * 1000)
    if isinstance(delay, str):
        return parse_duration_ms(delay)
    return int(float(delay) * 1000)


class LocalRestate:
    """Runs ``restate-sdk`` services in this process and invokes them as Restate Server would.

    The engine runs on a private loop in a worker thread; every method has a blocking form
    (safe inside a running Jupyter kernel) and an ``a``-prefixed awaitable form.

    >>> import restate
    >>> greeter = restate.Service("Greeter")
    >>> @greeter.handler()
    ... async def greet(ctx: restate.Context, name: str) -> str:
    ...     return f"Hello {name}!"
    >>> with LocalRestate(restate.app([greeter])) as lab:
    ...     lab.call("Greeter", "greet", "World")
    'Hello World!'
    """

    def __init__(self, *apps: ASGIApp | str, engine: Engine | None = None, data_dir: str | Path | None = None,
                 **engine_options: Any) -> None:
        self.portal = Portal()
        #: Per calling loop, a channel to the portal's loop and one back: calls and results go in batches.
        self._channels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Channel, Channel]] = (
            weakref.WeakKeyDictionary()
        )
        if data_dir is not None and engine is None:
            engine_options["store"] = DurableStore(Path(data_dir) / DATA_FILE)
        self.engine = engine or Engine(**engine_options)
        for app in apps:
            self.register(app)
        if self.engine.store is not None:
            self.recover()

    def recover(self) -> int:
        """Durable mode: resume every unfinished invocation of the registered services; returns how many."""
        return self._run(self.engine.recover())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.portal.call(coro)

    async def _on_loop(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    # ---- deployments and services ----

    def register(self, app: ASGIApp | str, *, http2: bool = False) -> Deployment:
        """Register an ASGI app from ``restate.app(...)`` or a deployment URL."""
        return self._run(self.engine.register(app, http2=http2))

    async def aregister(self, app: ASGIApp | str, *, http2: bool = False) -> Deployment:
        return await self.portal.acall(self.engine.register(app, http2=http2))

    def services(self) -> list[dict[str, Any]]:
        """Registered services as the admin API lists them."""
        return [describe_service(s) for s in list(self.engine.services.values())]

    # ---- invoking ----

    async def _call(self, service: str, handler: str, body: Any, key: str | None, idempotency_key: str | None,
                    headers: Mapping[str, str] | None) -> Any:
        _inv, result = await ops.call(
            self.engine, Target(service, handler, key), encode_body(body), list((headers or {}).items()),
            idempotency_key,
        )
        return decode_result(result)

    def _submit_call(self, target: Target, body: bytes, headers: list[tuple[str, str]],
                     idempotency_key: str | None, deliver: Callable[[Result | BaseException], None]) -> None:
        """On the portal's loop: accept a call and hand its result (or refusal) to ``deliver``.

        A plain callback rather than a coroutine: no task per call on the runtime's loop.
        """
        try:
            inv = ops.submit_call(self.engine, target, body, headers, idempotency_key).invocation
        except BaseException as exc:  # refusals (404, 409, ...) travel back to the caller
            deliver(exc)
            return
        self.engine.when_complete(inv, lambda _inv, result: deliver(result))

    def call(self, service: str, handler: str, body: Any = None, *, key: str | None = None,
             idempotency_key: str | None = None, headers: Mapping[str, str] | None = None) -> Any:
        """Invoke a handler and wait for its result."""
        if self.portal.in_portal:
            raise RuntimeError("blocking call from inside the runtime's own loop; use the async variant")
        answer: concurrent.futures.Future[Result] = concurrent.futures.Future()

        def deliver(outcome: Result | BaseException) -> None:
            if answer.done():
                return
            if isinstance(outcome, BaseException):
                answer.set_exception(outcome)
            else:
                answer.set_result(outcome)

        self.portal.mailbox.post(
            self._submit_call, Target(service, handler, key), encode_body(body), list((headers or {}).items()),
            idempotency_key, deliver,
        )
        return decode_result(answer.result())

    async def acall(self, service: str, handler: str, body: Any = None, *, key: str | None = None,
                    idempotency_key: str | None = None, headers: Mapping[str, str] | None = None) -> Any:
        if self.portal.in_portal:
            return await self._call(service, handler, body, key, idempotency_key, headers)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Result] = loop.create_future()

        def settle(outcome: Result | BaseException) -> None:
            if answer.done():
                return
            if isinstance(outcome, BaseException):
                answer.set_exception(outcome)
            else:
                answer.set_result(outcome)

        channels = self._channels.get(loop)
        if channels is None:
            channels = self._channels[loop] = (Channel(loop, self.portal.loop), Channel(self.portal.loop, loop))
        to_portal, replies = channels

        def deliver(outcome: Result | BaseException) -> None:
            replies.send(settle, outcome)

        to_portal.send(
            self._submit_call, Target(service, handler, key), encode_body(body), list((headers or {}).items()),
            idempotency_key, deliver,
        )
        return decode_result(await answer)

    async def _send(self, service: str, handler: str, body: Any, key: str | None, delay: Delay | None,
                    idempotency_key: str | None, headers: Mapping[str, str] | None) -> SendReceipt:
        accepted = ops.send(
            self.engine, Target(service, handler, key), encode_body(body), list((headers or {}).items()),
            idempotency_key, delay_ms(delay),
        )
        if accepted.previously_accepted:
            return SendReceipt(accepted.invocation.id_str, "PreviouslyAccepted", accepted.execution_time)
        return SendReceipt(accepted.invocation.id_str, "Accepted", accepted.execution_time)

    def send(self, service: str, handler: str, body: Any = None, *, key: str | None = None,
             delay: Delay | None = None, idempotency_key: str | None = None,
             headers: Mapping[str, str] | None = None) -> SendReceipt:
        """Invoke without waiting; returns the invocation id at once."""
        return self._run(self._send(service, handler, body, key, delay, idempotency_key, headers))

    async def asend(self, service: str, handler: str, body: Any = None, *, key: str | None = None,
                    delay: Delay | None = None, idempotency_key: str | None = None,
                    headers: Mapping[str, str] | None = None) -> SendReceipt:
        return await self.portal.acall(self._send(service, handler, body, key, delay, idempotency_key, headers))

    async def _attach(self, invocation_id: str) -> Any:
        inv = ops.lookup_invocation(self.engine, invocation_id, attach=True)
        return decode_result(await ops.attach(self.engine, inv))

    def attach(self, invocation_id: str) -> Any:
        """Wait for an invocation's result."""
        return self._run(self._attach(invocation_id))

    async def aattach(self, invocation_id: str) -> Any:
        return await self.portal.acall(self._attach(invocation_id))

    async def _output(self, invocation_id: str) -> Any:
        return decode_result(ops.output(ops.lookup_invocation(self.engine, invocation_id)))

    def output(self, invocation_id: str) -> Any:
        """An invocation's result; ``RestateError`` 470 while it is still running."""
        return self._run(self._output(invocation_id))

    async def aoutput(self, invocation_id: str) -> Any:
        return await self.portal.acall(self._output(invocation_id))

    def workflow_output(self, workflow: str, workflow_id: str) -> Any:
        """The result of a workflow's ``run``, by workflow id."""
        async def go() -> Any:
            return decode_result(ops.output(ops.lookup_workflow(self.engine, workflow, workflow_id)))
        return self._run(go())

    def workflow_attach(self, workflow: str, workflow_id: str) -> Any:
        """Wait for a workflow's ``run`` to finish, by workflow id."""
        async def go() -> Any:
            inv = ops.lookup_workflow(self.engine, workflow, workflow_id)
            return decode_result(await ops.attach(self.engine, inv))
        return self._run(go())

    def idempotent_attach(self, service: str, handler: str, idempotency_key: str, *, key: str | None = None) -> Any:
        """Wait for the invocation an idempotency key started."""
        async def go() -> Any:
            inv = ops.lookup_idempotent(self.engine, service, key, handler, idempotency_key)
            return decode_result(await ops.attach(self.engine, inv))
        return self._run(go())

    # ---- managing invocations ----

    def cancel(self, invocation_id: str) -> None:
        """Cancel: the handler sees a terminal cancellation error and may compensate."""
        self._run(self._on_loop(self.engine.cancel, invocation_id))

    def kill(self, invocation_id: str) -> None:
        """Kill: stop at once without running handler code again."""
        self._run(self._on_loop(self.engine.kill, invocation_id))

    def purge(self, invocation_id: str) -> None:
        """Forget a completed invocation."""
        self._run(self._on_loop(self.engine.purge, invocation_id))

    def resume(self, invocation_id: str) -> None:
        """Resume a paused invocation."""
        self._run(self._on_loop(self.engine.resume, invocation_id))

    def _complete_awakeable(self, awakeable_id: str, result: Result) -> None:
        try:
            target, index = parse_awakeable_id(awakeable_id)
        except ValueError as exc:
            raise RestateError(400, str(exc)) from exc
        self.engine.deliver_signal(str(target), index, result)

    def resolve_awakeable(self, awakeable_id: str, value: Any = None) -> None:
        """Resolve an awakeable with a JSON value."""
        result = Value(encode_body(value)) if value is not None else VOID
        self._run(self._on_loop(self._complete_awakeable, awakeable_id, result))

    def reject_awakeable(self, awakeable_id: str, message: str) -> None:
        """Reject an awakeable; the handler awaiting it sees a terminal error."""
        self._run(self._on_loop(self._complete_awakeable, awakeable_id, Failure(500, message)))

    # ---- inspecting ----

    def state(self, service: str, key: str) -> dict[str, Any]:
        """An object's or workflow's state, values JSON-decoded where possible."""
        async def go() -> dict[bytes, bytes]:
            return self.engine.state.all((service, key))
        out: dict[str, Any] = {}
        for k, v in self._run(go()).items():
            try:
                out[k.decode()] = json.loads(v)
            except ValueError:
                out[k.decode()] = v
        return out

    def invocations(self, statuses: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Known invocations as ``sys_invocation``-shaped rows."""
        async def go() -> list[dict[str, Any]]:
            return [describe_invocation(i) for i in self.engine.invocations.values()]
        rows = self._run(go())
        wanted = set(statuses) if statuses is not None else None
        return [r for r in rows if wanted is None or r["status"] in wanted]

    def query(self, sql: str) -> Any:
        """Run SQL over Restate's introspection tables (``sys_invocation``, ``state``, ...) as a DataFrame."""
        import pandas as pd

        from restate_lab.runtime.introspection import json_rows, query

        async def go() -> tuple[list[str], list[tuple[Any, ...]]]:
            return query(self.engine, sql)

        columns, rows = self._run(go())
        return pd.DataFrame(json_rows(columns, rows), columns=columns)

    def status(self, invocation_id: str) -> str:
        """One invocation's status (``KeyError`` if unknown), without describing every other invocation."""
        async def go() -> str:
            inv = self.engine.find(invocation_id)
            if inv is None:
                raise KeyError(invocation_id)
            return inv.status.value
        return self._run(go())

    def invocations_by_id(self) -> dict[str, dict[str, Any]]:
        return {row["id"]: row for row in self.invocations()}

    # ---- lifetime ----

    def close(self) -> None:
        """Stop the engine and its worker thread."""
        if self.portal.loop.is_closed():
            return
        self._run(self.engine.close())
        self.portal.stop()

    def __enter__(self) -> LocalRestate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> LocalRestate:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.portal.acall(self.engine.close())
        self.portal.stop()
