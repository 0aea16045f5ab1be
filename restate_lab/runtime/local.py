"""``LocalRestate``: a Restate server inside this Python process, for notebooks and asyncio code."""

from __future__ import annotations

import asyncio
import json
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from restate_lab.api import DEFAULT_TIMEOUT, Delay, InvocationTimeout, SendReceipt
from restate_lab.protocol.messages import VOID, Failure, Result, Value
from restate_lab.rules.durations import parse_duration_ms
from restate_lab.rules.errors import RestateError, invocation_does_not_exist
from restate_lab.rules.ids import parse_awakeable_id
from restate_lab.rules.targets import Target
from restate_lab.runtime import operations as ops
from restate_lab.runtime.apps import as_app
from restate_lab.runtime.clock import ManualClock, WallClock
from restate_lab.runtime.describe import describe_service
from restate_lab.runtime.durable import DurableStore
from restate_lab.runtime.engine import Engine
from restate_lab.runtime.invocation import Invocation
from restate_lab.runtime.portal import Channel, Deadlines, Portal, PortalAnswer
from restate_lab.runtime.registry import Deployment
from restate_lab.runtime.virtual import TimeSkipper, VirtualClock

if TYPE_CHECKING:
    import pandas as pd

    from restate_lab.catalogue import Catalogue

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
        raise RestateError(result.code, result.message, "invocation", metadata=dict(result.metadata))
    if isinstance(result, Value) and result.content:
        try:
            return json.loads(result.content)
        except ValueError:
            return result.content
    return None


def _clock_named(name: str) -> WallClock | VirtualClock:
    """``"wall"``, or ``"virtual"`` (virtual time that skips ahead whenever the runtime is idle)."""
    if name == "wall":
        return WallClock()
    if name == "virtual":
        return VirtualClock(auto_skip=True)
    raise ValueError(f"unknown clock {name!r}: 'wall', 'virtual', or a Clock object (e.g. VirtualClock())")


def delay_ms(delay: Delay | None) -> int | None:
    """A delay (duration string, ``timedelta`` or seconds) in whole milliseconds."""
    if delay is None:
        return None
    if isinstance(delay, timedelta):
        return int(delay.total_seconds() * 1000)
    if isinstance(delay, str):
        return parse_duration_ms(delay)
    return int(float(delay) * 1000)


class _GaveUp(Exception):
    """An awaited answer did not come within its limit."""


def _give_up(answer: asyncio.Future[Any]) -> None:
    if not answer.done():
        answer.set_exception(_GaveUp())


class _Reply(ABC):
    """Where a call's result goes: a completion hook on the runtime's loop, or ``fail`` for a refusal.

    One object per call rather than closures (each a function and a cell per variable it keeps).
    """

    __slots__ = ("accepted",)

    def __init__(self) -> None:
        #: The accepted invocation's id, once the runtime has accepted the call.
        self.accepted: str | None = None

    @abstractmethod
    def __call__(self, _inv: Invocation, result: Result) -> None:
        """Hand ``result`` to the caller (on the runtime's loop)."""

    @abstractmethod
    def fail(self, error: BaseException) -> None:
        """Hand a refusal to the caller."""


class _BlockingReply(_Reply):
    """A blocking call's reply: settles a :class:`PortalAnswer` the calling thread waits on."""

    __slots__ = ("answer",)

    def __init__(self) -> None:
        super().__init__()
        self.answer: PortalAnswer[Result] = PortalAnswer()

    def __call__(self, _inv: Invocation, result: Result) -> None:
        self.answer.set_result(result)

    def fail(self, error: BaseException) -> None:
        self.answer.set_exception(error)


class _AsyncReply(_Reply):
    """An awaited call's reply: settles a future of the caller's loop, through the channel back to it."""

    __slots__ = ("answer", "replies")

    def __init__(self, answer: asyncio.Future[Result], replies: Channel) -> None:
        super().__init__()
        self.answer = answer
        self.replies = replies

    def __call__(self, _inv: Invocation, result: Result) -> None:
        self.replies.send(self.settle, result)

    def fail(self, error: BaseException) -> None:
        self.replies.send(self.settle, error)

    def settle(self, outcome: Result | BaseException) -> None:
        """On the caller's loop: the first outcome counts (a timed-out answer is already done)."""
        answer = self.answer
        if answer.done():
            return
        if isinstance(outcome, BaseException):
            answer.set_exception(outcome)
        else:
            answer.set_result(outcome)


def _receipt(accepted: ops.Accepted) -> SendReceipt:
    """What a send answers: the invocation's id, whether it is new, and when it will run."""
    if accepted.previously_accepted:
        return SendReceipt(accepted.invocation.id_str, "PreviouslyAccepted", accepted.execution_time)
    return SendReceipt(accepted.invocation.id_str, "Accepted", accepted.execution_time)


class LocalRestate:
    """Runs ``restate-sdk`` services in this process and invokes them as Restate Server would.

    Takes what ``restate-lab serve`` takes: an app from ``restate.app(...)``, a service, virtual object
    or workflow, a list of them, or a deployment URL; several may be given. The engine runs on a
    private loop in a worker thread; every method has a blocking form (safe inside a running Jupyter
    kernel) and the invoking ones an ``a``-prefixed awaitable form. Blocking waits give up after
    ``timeout`` seconds (per call, else the constructor's, default 60; ``None`` there means no limit)
    with :class:`restate_lab.InvocationTimeout`.
    In-process apps run as bidirectional streams, as Restate Server drives a deployment served over
    HTTP/2; ``http2=False`` selects request-response (see :meth:`register`).
    Keyword options go to the ``Engine`` (``retry_policy``, ``completion_retention_ms``, ``clock`` -- a
    ``restate_lab.runtime.clock.ManualClock`` lets a test move time -- ...).

    ``clock="virtual"`` runs it on virtual time that skips ahead whenever nothing is running (a 30-day
    sleep ends at once); ``clock=VirtualClock()`` moves only on :meth:`advance` and
    :meth:`run_until_idle` (see ``restate_lab.runtime.virtual`` for what cannot be virtual).

    >>> import restate
    >>> greeter = restate.Service("Greeter")
    >>> @greeter.handler()
    ... async def greet(ctx: restate.Context, name: str) -> str:
    ...     return f"Hello {name}!"
    >>> with LocalRestate(greeter) as lab:
    ...     lab.call("Greeter", "greet", "World")
    'Hello World!'
    """

    def __init__(
        self,
        *apps: Any,
        engine: Engine | None = None,
        data_dir: str | Path | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        http2: bool | None = None,
        **engine_options: Any,
    ) -> None:
        #: Seconds a blocking wait lasts when the call names no ``timeout`` (``None``: no limit).
        self.timeout = timeout
        loaded = [app if isinstance(app, str) else as_app(app) for app in apps]
        self.portal = Portal()
        #: Per calling loop, a channel to the portal's loop and one back (calls and results go in batches),
        #: and the deadlines of its awaited answers by limit.
        self._channels: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[Channel, Channel, dict[float, Deadlines]]
        ] = weakref.WeakKeyDictionary()
        if data_dir is not None and engine is None:
            engine_options["store"] = DurableStore(Path(data_dir) / DATA_FILE)
        clock = engine_options.get("clock")
        if isinstance(clock, str):
            engine_options["clock"] = _clock_named(clock)
        self.engine = engine or Engine(**engine_options)
        #: Moves a manual or virtual clock (``advance``, ``run_until_idle``); None on the wall clock.
        self.time: TimeSkipper | None = None
        if isinstance(self.engine.clock, ManualClock):
            self.time = TimeSkipper(self.engine, self.engine.clock)
            if isinstance(self.engine.clock, VirtualClock) and self.engine.clock.auto_skip:
                self._run(self._on_loop(self.time.start))
            if http2 is None and isinstance(self.engine.clock, VirtualClock):
                # Virtual time runs one instant at a time and skips only while no attempt is in flight; an
                # open stream keeps its attempt in flight until the inactivity timeout, so apps on a virtual
                # clock run request-response (a ManualClock keeps the default: a test moves it by hand).
                http2 = False
        for app in loaded:
            self.register(app, http2=http2)
        if self.engine.store is not None:
            self.recover()

    def recover(self) -> int:
        """Durable mode: resume every unfinished invocation of the registered services; returns how many."""
        return self._run(self.engine.recover())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.portal.call(coro)

    async def _on_loop(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    def _limit(self, timeout: float | None) -> float | None:
        return timeout if timeout is not None else self.timeout

    # ---- deployments and services ----

    def register(self, app: Any, *, http2: bool | None = None) -> Deployment:
        """Register an app (or services, as the constructor takes them) or a deployment URL.

        An in-process app runs as a bidirectional stream by default, as on Restate Server with a
        deployment served over HTTP/2: a handler awaiting a call keeps running in the same attempt.
        ``http2=False`` selects request-response: every await the runtime cannot answer at once ends
        the attempt with a suspension, and the handler's code re-runs from the journal.
        """
        return self._run(self.engine.register(app if isinstance(app, str) else as_app(app), http2=http2))

    async def aregister(self, app: Any, *, http2: bool | None = None) -> Deployment:
        target = app if isinstance(app, str) else as_app(app)
        return await self.portal.acall(self.engine.register(target, http2=http2))

    def services(self) -> list[dict[str, Any]]:
        """Registered services as the admin API's ``GET /services`` lists them."""
        return [describe_service(s) for s in list(self.engine.services.values())]

    def catalogue(self) -> Catalogue:
        """The registered services as a :class:`~restate_lab.catalogue.Catalogue` (e.g. to simulate them)."""
        from restate_lab.catalogue import Catalogue

        return Catalogue.from_admin(self.services())

    # ---- timeouts ----

    def _timed_out(self, what: str, limit: float, inv: Invocation | None) -> InvocationTimeout:
        """The timeout error for ``inv`` (read on the portal's loop, or from wherever the caller is)."""
        if inv is None:
            return InvocationTimeout(what, limit)
        return InvocationTimeout(what, limit, inv.id_str, inv.status.value, inv.retry_count, inv.last_failure)

    def _timed_out_by_id(self, what: str, limit: float, invocation_id: str | None) -> InvocationTimeout:
        async def go() -> InvocationTimeout:
            inv = self.engine.find(invocation_id) if invocation_id is not None else None
            return self._timed_out(what, limit, inv)

        return self._run(go())

    # ---- invoking ----

    async def _call(
        self,
        service: str,
        handler: str,
        body: Any,
        key: str | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
        limit: float | None,
    ) -> Any:
        target = Target(service, handler, key)
        inv = ops.submit_call(
            self.engine, target, encode_body(body), list((headers or {}).items()), idempotency_key
        ).invocation
        try:
            result = await asyncio.wait_for(self.engine.wait(inv), limit)
        except TimeoutError:
            raise self._timed_out(str(target), limit or 0.0, inv) from None
        return decode_result(result)

    def _submit_call(
        self, target: Target, body: bytes, headers: list[tuple[str, str]], idempotency_key: str | None, reply: _Reply
    ) -> None:
        """On the portal's loop: accept a call and hand its result (or refusal) to ``reply``.

        A plain callback rather than a coroutine: no task per call on the runtime's loop. The accepted
        invocation's id goes into ``reply.accepted`` so a caller that times out can say what it is doing.
        """
        try:
            inv = ops.submit_call(self.engine, target, body, headers, idempotency_key).invocation
        except BaseException as exc:  # refusals (404, 409, ...) travel back to the caller
            reply.fail(exc)
            return
        reply.accepted = inv.id_str
        self.engine.when_complete(inv, reply)

    def call(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Invoke a handler and wait (at most ``timeout`` seconds) for its result."""
        if self.portal.in_portal:
            raise RuntimeError("blocking call from inside the runtime's own loop; use the async variant")
        limit = self._limit(timeout)
        reply = _BlockingReply()
        target = Target(service, handler, key)
        self.portal.mailbox.post(
            self._submit_call, target, encode_body(body), list((headers or {}).items()), idempotency_key, reply
        )
        try:
            result = reply.answer.result(limit)
        except TimeoutError:
            raise self._timed_out_by_id(str(target), limit or 0.0, reply.accepted) from None
        return decode_result(result)

    async def acall(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Awaitable :meth:`call`."""
        limit = self._limit(timeout)
        if self.portal.in_portal:
            return await self._call(service, handler, body, key, idempotency_key, headers, limit)
        loop = asyncio.get_running_loop()
        channels = self._channels.get(loop)
        if channels is None:
            channels = self._channels[loop] = (Channel(loop, self.portal.loop), Channel(self.portal.loop, loop), {})
        to_portal, replies, by_limit = channels
        reply = _AsyncReply(loop.create_future(), replies)
        target = Target(service, handler, key)
        to_portal.send(
            self._submit_call, target, encode_body(body), list((headers or {}).items()), idempotency_key, reply
        )
        answer = reply.answer
        # A deadline on the answer rather than ``asyncio.wait_for``: no waiter future, no callbacks, no timer per call.
        deadlines = None
        if limit is not None:
            deadlines = by_limit.get(limit)
            if deadlines is None:
                deadlines = by_limit[limit] = Deadlines(loop, limit, _give_up)
            deadlines.add(answer)
        try:
            result = await answer
        except _GaveUp:
            found = reply.accepted

            async def describe() -> InvocationTimeout:
                return self._timed_out(str(target), limit or 0.0, self.engine.find(found) if found else None)

            raise await self.portal.acall(describe()) from None
        finally:
            if deadlines is not None:
                deadlines.discard(answer)
        return decode_result(result)

    async def _send(
        self,
        service: str,
        handler: str,
        body: Any,
        key: str | None,
        delay: Delay | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> SendReceipt:
        accepted = ops.send(
            self.engine,
            Target(service, handler, key),
            encode_body(body),
            list((headers or {}).items()),
            idempotency_key,
            delay_ms(delay),
        )
        return _receipt(accepted)

    def _submit_send(
        self,
        answer: PortalAnswer[SendReceipt],
        target: Target,
        body: bytes,
        headers: list[tuple[str, str]],
        idempotency_key: str | None,
        delay: int | None,
    ) -> None:
        """On the portal's loop: accept a send and settle ``answer`` with its receipt (or refusal).

        A plain callback posted to the mailbox: no coroutine, task or chained future per send.
        """
        try:
            receipt = _receipt(ops.send(self.engine, target, body, headers, idempotency_key, delay))
        except BaseException as exc:  # refusals (404, 409, ...) travel back to the caller
            answer.set_exception(exc)
            return
        answer.set_result(receipt)

    def send(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        delay: Delay | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendReceipt:
        """Invoke without waiting; returns the invocation id at once."""
        if self.portal.in_portal:
            raise RuntimeError("blocking call from inside the runtime's own loop; use the async variant")
        target = Target(service, handler, key)
        answer: PortalAnswer[SendReceipt] = PortalAnswer()
        self.portal.mailbox.post(
            self._submit_send,
            answer,
            target,
            encode_body(body),
            list((headers or {}).items()),
            idempotency_key,
            delay_ms(delay),
        )
        limit = self._limit(None)
        try:
            return answer.result(limit)
        except TimeoutError:
            raise InvocationTimeout(f"send to {target}", limit or 0.0) from None

    async def asend(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        delay: Delay | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendReceipt:
        """Awaitable :meth:`send`."""
        return await self.portal.acall(self._send(service, handler, body, key, delay, idempotency_key, headers))

    # ---- results ----

    async def _wait_for(self, find: Callable[[], Invocation], what: str, limit: float | None) -> Any:
        inv = find()
        try:
            result = await asyncio.wait_for(ops.attach(self.engine, inv), limit)
        except TimeoutError:
            raise self._timed_out(what, limit or 0.0, inv) from None
        return decode_result(result)

    def _by_id(self, invocation_id: str, *, attach: bool = False) -> Callable[[], Invocation]:
        """Finds the invocation; an unknown id answers as the server's attach (or output) does."""
        return lambda: ops.lookup_invocation(self.engine, invocation_id, attach=attach)

    def _by_workflow(self, workflow: str, workflow_id: str) -> Callable[[], Invocation]:
        return lambda: ops.lookup_workflow(self.engine, workflow, workflow_id)

    def _by_idempotency(
        self, service: str, handler: str, idempotency_key: str, key: str | None
    ) -> Callable[[], Invocation]:
        return lambda: ops.lookup_idempotent(self.engine, service, key, handler, idempotency_key)

    async def _output(self, find: Callable[[], Invocation]) -> Any:
        return decode_result(ops.output(find()))

    def attach(self, invocation_id: str, *, timeout: float | None = None) -> Any:
        """Wait (at most ``timeout`` seconds) for an invocation's result."""
        return self._run(self._wait_for(self._by_id(invocation_id, attach=True), invocation_id, self._limit(timeout)))

    async def aattach(self, invocation_id: str, *, timeout: float | None = None) -> Any:
        """Awaitable :meth:`attach`."""
        return await self.portal.acall(
            self._wait_for(self._by_id(invocation_id, attach=True), invocation_id, self._limit(timeout))
        )

    def output(self, invocation_id: str) -> Any:
        """An invocation's result; ``RestateError`` 470 while it is still running."""
        return self._run(self._output(self._by_id(invocation_id)))

    async def aoutput(self, invocation_id: str) -> Any:
        """Awaitable :meth:`output`."""
        return await self.portal.acall(self._output(self._by_id(invocation_id)))

    def attach_workflow(self, workflow: str, workflow_id: str, *, timeout: float | None = None) -> Any:
        """Wait for a workflow's ``run`` to finish, by workflow id."""
        find = self._by_workflow(workflow, workflow_id)
        return self._run(self._wait_for(find, f"{workflow}/{workflow_id}", self._limit(timeout)))

    def output_workflow(self, workflow: str, workflow_id: str) -> Any:
        """The result of a workflow's ``run``, by workflow id; 470 while it runs."""
        return self._run(self._output(self._by_workflow(workflow, workflow_id)))

    def attach_idempotent(
        self, service: str, handler: str, idempotency_key: str, *, key: str | None = None, timeout: float | None = None
    ) -> Any:
        """Wait for the invocation an idempotency key started."""
        find = self._by_idempotency(service, handler, idempotency_key, key)
        what = f"{Target(service, handler, key)} (idempotency key {idempotency_key!r})"
        return self._run(self._wait_for(find, what, self._limit(timeout)))

    def output_idempotent(self, service: str, handler: str, idempotency_key: str, *, key: str | None = None) -> Any:
        """The result of the invocation an idempotency key started; 470 while it runs."""
        return self._run(self._output(self._by_idempotency(service, handler, idempotency_key, key)))

    def status(self, invocation_id: str) -> str:
        """One invocation's status in Restate's names; ``RestateError`` 404 if unknown."""

        async def go() -> str:
            return ops.lookup_invocation(self.engine, invocation_id).status.value

        return self._run(go())

    # ---- managing invocations ----

    def _manage(self, op: str, invocation_id: str, action: Callable[[str], None]) -> None:
        """Run ``action`` on the invocation, refusing as the admin API does (404 unknown, 409/425 by status)."""

        async def go() -> None:
            inv = self.engine.find(invocation_id)
            if inv is None:
                raise invocation_does_not_exist(invocation_id)
            refusal = ops.management_refusal(op, inv)
            if refusal is not None:
                raise refusal
            action(invocation_id)

        self._run(go())

    def cancel(self, invocation_id: str) -> None:
        """Cancel: the handler sees a terminal cancellation error and may compensate."""
        self._manage("cancel", invocation_id, self.engine.cancel)

    def kill(self, invocation_id: str) -> None:
        """Kill: stop at once without running handler code again."""
        self._manage("kill", invocation_id, self.engine.kill)

    def purge(self, invocation_id: str) -> None:
        """Forget a completed invocation (409 while it has not completed)."""
        self._manage("purge", invocation_id, self.engine.purge)

    def resume(self, invocation_id: str) -> None:
        """Resume a paused invocation (409 if completed, 425 if inboxed or scheduled)."""
        self._manage("resume", invocation_id, self.engine.resume)

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
        """An object's or workflow's state, values JSON-decoded where possible (``bytes`` otherwise)."""
        from restate_lab.runtime.frames import decode_value

        async def go() -> dict[bytes, bytes]:
            return self.engine.state.all((service, key))

        return {k.decode(errors="replace"): decode_value(v) for k, v in self._run(go()).items()}

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        """``sql``'s answer as the JSON rows ``POST /query`` gives (null fields left out), as the client reads them."""
        from restate_lab.runtime.introspection import execute, snapshot
        from restate_lab.runtime.sql.render import json_body

        async def go() -> Any:
            return snapshot(self.engine, sql)

        return cast(list[dict[str, Any]], json.loads(json_body(execute(self._run(go()), sql)))["rows"])

    def invocations(
        self, *, service: str | None = None, status: str | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """Invocations, newest first, as a frame with ``sys_invocation``'s columns."""
        from restate_lab.runtime.frames import invocations_frame, invocations_sql

        return invocations_frame(self._rows(invocations_sql(service, status, limit)))

    def journal(self, invocation_id: str) -> pd.DataFrame:
        """One invocation's journal with ``sys_journal``'s columns (empty for an unknown id)."""
        from restate_lab.runtime.frames import entry_value, journal_frame, journal_sql

        rows = self._rows(journal_sql(invocation_id))

        async def values() -> list[Any]:
            inv = self.engine.find(invocation_id)
            return [entry_value(frame) for frame in inv.journal] if inv is not None else []

        decoded = self._run(values())
        for row in rows:
            index = int(row["index"])
            row["value"] = decoded[index] if index < len(decoded) else None
        return journal_frame(rows)

    def query(self, sql: str) -> pd.DataFrame:
        """SQL over Restate's introspection tables (``sys_invocation``, ``state``, ...) as a DataFrame.

        DataFusion's dialect, as on Restate Server; the frame is read through Arrow, so the server's types
        are kept (timestamps as UTC datetimes, nullable integers). The snapshot is taken on the engine's
        loop (one instant); DataFusion runs in the calling thread.
        """
        from restate_lab.runtime.introspection import execute, snapshot
        from restate_lab.runtime.sql.frames import to_frame

        async def go() -> Any:
            return snapshot(self.engine, sql)

        return to_frame(execute(self._run(go()), sql))

    # ---- virtual time ----

    def _skipper(self) -> TimeSkipper:
        if self.time is None:
            raise ValueError(
                "this runtime runs on the wall clock: LocalRestate(app, clock='virtual') "
                "or clock=VirtualClock() makes time virtual"
            )
        return self.time

    def now_ms(self) -> int:
        """The runtime's time (ms since the epoch): virtual on a virtual clock."""
        return self.engine.now_ms()

    def advance(self, duration: Delay, *, timeout: float | None = None) -> None:
        """Move virtual time forward by ``duration`` ("3d", a ``timedelta`` or seconds), running everything
        that falls due on the way at its own instant. ``timeout``: wall seconds to wait for handler code."""
        ms = delay_ms(duration) or 0
        if ms < 0:
            raise ValueError(f"time cannot go back ({duration!r})")
        skipper = self._skipper()

        async def go() -> None:
            await skipper.advance_to(self.engine.now_ms() + ms, self._limit(timeout))

        self._run(go())

    def run_until_idle(self, *, max_duration: Delay | None = None, timeout: float | None = None) -> int:
        """Skip from timer to timer until no invocation waits for one (at most ``max_duration`` of virtual
        time); returns the virtual ms that passed."""
        skipper = self._skipper()
        return self._run(skipper.run_until_idle(max_ms=delay_ms(max_duration), timeout_s=self._limit(timeout)))

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
