"""Real handlers under simulated load: the simulator's workloads drive a restate-sdk app on virtual time.

:class:`RealLoad` runs an app in ``LocalRestate`` on a :class:`~restate_lab.runtime.virtual.VirtualClock`
and feeds it the simulator's :class:`~restate_lab.sim.workload.Workload` streams (Poisson or bursty
arrivals, uniform or Zipf keys, idempotent resends, delayed sends). The handler code is the real one: its
sleeps, calls, sends, state and retries are what the journal says. Two things are modelled, per
deployment, as the simulator models them: a service time (any of the simulator's distributions) that
each attempt's work takes on the virtual clock before the real code answers, and a concurrency limit
(attempts beyond it wait, in FIFO order, for a free slot), so queueing appears as on a loaded
deployment. Results are the simulator's own frames (``invocations_frame``, ``queue_depth_frame``,
``summary_frame``, same columns), so a notebook can put the model and the real code side by side.

The service time is charged to every attempt, a replay after a suspension included (in-process a
replay is the real code running again; its own wall time does not count, virtual time stands still
while code runs).

>>> import restate
>>> from restate_lab.sim import Exponential, Poisson, Workload
>>> svc = restate.Service("Echo")
>>> @svc.handler()
... async def echo(ctx: restate.Context) -> str:
...     return "ok"
>>> load = RealLoad(restate.app([svc]), [Workload("Echo", "echo", Poisson(10), count=20)],
...                 service_times={"Echo/echo": Exponential(20)}).run()
>>> int(load.summary_frame().loc["all", "completed"])
20
"""

from __future__ import annotations

import math
import random
import struct
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from restate_lab.protocol import service_protocol_pb2 as pb
from restate_lab.protocol.body import ClosedBody, RequestBody
from restate_lab.protocol.messages import HEADER_SIZE, Failure
from restate_lab.protocol.transport import AsgiTransport, Transport
from restate_lab.rules.targets import Target
from restate_lab.runtime.apps import as_app
from restate_lab.runtime.invocation import Invocation, InvocationStatus
from restate_lab.runtime.local import LocalRestate, encode_body
from restate_lab.runtime.virtual import VirtualClock
from restate_lab.sim import results
from restate_lab.sim.distributions import Distribution, as_distribution
from restate_lab.sim.engine import DEFAULT_EPOCH_MS
from restate_lab.sim.records import (
    CANCELLED,
    COMPLETED,
    FAILED,
    KILLED,
    STATUS_NAMES,
    SUCCEEDED,
    InvocationRecords,
    QueueTrace,
    intern,
)
from restate_lab.sim.workload import Workload

if TYPE_CHECKING:
    import asyncio

    import pandas as pd

_KEY_BITS = 32
#: Wall seconds ``run`` gives the whole load by default.
DEFAULT_RUN_TIMEOUT_S = 600.0
_LIVE_STATUS = {s.value: STATUS_NAMES.index(s.value) for s in InvocationStatus if s.value in STATUS_NAMES}


class _Slots:
    """One deployment's attempt slots on virtual time: ``busy`` of ``limit``, a FIFO of waiters."""

    def __init__(self, limit: int | None, clock: VirtualClock) -> None:
        self.limit = limit
        self.clock = clock
        self.busy = 0
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.busy_area = 0.0
        self.last_change = 0.0

    def _count(self, delta: int) -> None:
        now = float(self.clock.now_ms())
        self.busy_area += self.busy * (now - self.last_change)
        self.last_change = now
        self.busy += delta

    async def acquire(self) -> None:
        if self.limit is None or self.busy < self.limit:
            self._count(+1)
            return
        import asyncio

        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(fut)
        self.clock.parked += 1
        try:
            await fut
        except asyncio.CancelledError:
            if not fut.done():
                self.waiting.remove(fut)
                self.clock.parked -= 1
            else:
                self.release()  # handed over as it was cancelled: pass it on
            raise

    def release(self) -> None:
        while self.waiting:
            nxt = self.waiting.popleft()
            if not nxt.done():
                self.clock.parked -= 1
                nxt.set_result(None)  # the slot passes on; busy stays
                return
        self._count(-1)


class _LoadedDeployment:
    """A transport that charges each attempt a service time on a deployment slot, then runs the real code."""

    def __init__(self, inner: Transport, driver: RealLoad) -> None:
        self.inner = inner
        self.driver = driver
        self.description = getattr(inner, "description", "loaded deployment")

    async def discover(self, http2: bool) -> Any:
        return await self.inner.discover(http2)

    async def close(self) -> None:
        await self.inner.close()

    async def invoke(
        self, service: str, handler: str, content_type: str, body: RequestBody, bidi: bool
    ) -> AsyncIterator[Any]:
        driver = self.driver
        data = body.get_nowait() if isinstance(body, ClosedBody) else None
        if data is None:
            raise RuntimeError("RealLoad needs request-response deployments (in-process apps are)")
        (length,) = struct.unpack(">I", data[4:HEADER_SIZE])
        inv_id = pb.StartMessage.FromString(data[HEADER_SIZE : HEADER_SIZE + length]).debug_id
        slots = driver.slots[service]
        await slots.acquire()
        try:
            driver._attempt_started(inv_id)
            model = driver.service_times.get(f"{service}/{handler}")
            if model is not None:
                await driver.clock.sleep(model.sample(driver.rng))
            async for chunk in self.inner.invoke(service, handler, content_type, ClosedBody(data), bidi):
                yield chunk
        finally:
            slots.release()


class _HandlerRow:
    __slots__ = ("target", "takes_lock", "service_index")

    def __init__(self, target: str, takes_lock: bool, service_index: int) -> None:
        self.target = target
        self.takes_lock = takes_lock
        self.service_index = service_index


class RealLoad:
    """Drive ``app`` (a restate-sdk app or services) with ``workloads`` on virtual time.

    ``service_times``: per ``"Service/handler"``, a distribution (or ms) each attempt's work takes.
    ``concurrency``: per service, how many attempts its deployment runs at once (None: no limit).
    ``bodies``: per ``"Service/handler"``, the request body, or a callable of the generator giving one.
    Other keyword arguments go to the engine (``retry_policy``, ``completion_retention_ms``, ...).
    """

    def __init__(
        self,
        app: Any,
        workloads: list[Workload],
        *,
        service_times: Mapping[str, Distribution | float] | None = None,
        concurrency: Mapping[str, int | None] | None = None,
        bodies: Mapping[str, Any] | None = None,
        seed: int = 0,
        epoch_ms: int = DEFAULT_EPOCH_MS,
        record_queues: bool = True,
        **engine_options: Any,
    ) -> None:
        self.epoch_ms = epoch_ms
        self.clock = VirtualClock(start_ms=epoch_ms)
        self.rng = random.Random(seed)
        self.seed = seed
        self.service_times = {t: as_distribution(d) for t, d in (service_times or {}).items()}
        self.bodies = dict(bodies or {})
        self.workloads = list(workloads)
        self.lab = LocalRestate(clock=self.clock, seed=seed, **engine_options)
        self.engine = self.lab.engine
        transport = _LoadedDeployment(AsgiTransport(as_app(app)), self)
        self.lab.portal.call(self.engine.register(transport))
        self.catalogue = catalogue = self.lab.catalogue()
        self.service_names = list(catalogue.services)
        concurrency = dict(concurrency or {})
        self.slots = {name: _Slots(concurrency.get(name), self.clock) for name in self.service_names}
        self.deployments = self.slots
        self.handlers: list[_HandlerRow] = []
        self._handler_index: dict[tuple[str, str], int] = {}
        for s_index, (name, service) in enumerate(catalogue.services.items()):
            for hname, hmodel in service.handlers.items():
                self._handler_index[(name, hname)] = len(self.handlers)
                self.handlers.append(_HandlerRow(f"{name}/{hname}", hmodel.takes_lock, s_index))
        for w in self.workloads:
            if w.topic:
                raise ValueError("RealLoad drives ingress workloads; Kafka topics are the simulator's")
            if (w.service, w.handler) not in self._handler_index:
                raise ValueError(f"workload {w.name}: {w.target} is not a handler of the app")
        self.records = InvocationRecords()
        self.queue_trace = QueueTrace() if record_queues else None
        self.key_names: list[str] = []
        self._key_codes: dict[str, int] = {}
        self.idem_names: list[str] = []
        self._idem_codes: dict[str, int] = {}
        self._rows: dict[str, int] = {}
        self._ids: list[str] = []
        self._in_system = 0
        self._in_system_area = 0.0
        self._in_system_since = 0.0
        self.engine.subscribe(self._seen)

    # ---- time ----

    @property
    def now(self) -> float:
        """Virtual ms since the run's start."""
        return float(self.clock.now_ms() - self.epoch_ms)

    def _rel(self, epoch_ms: int | None) -> float:
        return math.nan if epoch_ms is None else float(epoch_ms - self.epoch_ms)

    # ---- codes ----

    def key_code(self, key: str | None) -> int:
        return intern(key, self._key_codes, self.key_names)

    def _idem_code(self, key: str | None) -> int:
        return intern(key, self._idem_codes, self.idem_names)

    def idem_name(self, code: int) -> str | None:
        return None if code < 0 else self.idem_names[code]

    def invocation_id(self, row: int) -> str:
        return self._ids[row]

    # ---- what the runtime does ----

    def _count_in_system(self, delta: int) -> None:
        now = self.now
        self._in_system_area += self._in_system * (now - self._in_system_since)
        self._in_system_since = now
        self._in_system += delta

    def _lock_code(self, h: int, key: int) -> int:
        return (self.handlers[h].service_index << _KEY_BITS) | key

    def _trace(self, h: int, key: int, *, arrived: bool) -> None:
        """One more (or one less) invocation on a locked key's queue, as the simulator records it."""
        if self.queue_trace is not None and self.handlers[h].takes_lock and key >= 0:
            code = self._lock_code(h, key)
            if arrived:
                self.queue_trace.arrived(self.now, code)
            else:
                self.queue_trace.left(self.now, code)

    def _seen(self, inv: Invocation) -> None:
        """Engine listener: a new invocation gets a row; a completed one its end."""
        row = self._rows.get(inv.id_str)
        rec = self.records
        if row is None:
            target = inv.target
            h = self._handler_index[(target.service, target.handler)]
            key = self.key_code(target.key)
            parent = self._rows.get(inv.invoked_by_id, -1) if inv.invoked_by_id else -1
            row = rec.add(
                h,
                key,
                self._idem_code(inv.idempotency_key),
                self._rel(inv.created_at_ms),
                _LIVE_STATUS.get(inv.status.value, 0),
                -1,
                parent,
            )
            self._rows[inv.id_str] = row
            self._ids.append(inv.id_str)
            rec.ready[row] = self._rel(inv.execution_time_ms or inv.created_at_ms)
            self._count_in_system(+1)
            if inv.execution_time_ms is None:
                self._trace(h, key, arrived=True)
            else:
                self.clock.call_at(inv.execution_time_ms, lambda: self._trace(h, key, arrived=True), background=True)
        if inv.completed and math.isnan(rec.completed[row]):
            rec.completed[row] = self._rel(inv.completed_at_ms)
            result = inv.result
            rec.status[row] = COMPLETED
            if isinstance(result, Failure):
                rec.outcome[row] = (
                    KILLED if result.message == "killed" else (CANCELLED if result.message == "cancelled" else FAILED)
                )
            else:
                rec.outcome[row] = SUCCEEDED
            self._count_in_system(-1)
            self._trace(rec.handler[row], rec.key[row], arrived=False)
        elif not inv.completed:
            rec.status[row] = _LIVE_STATUS.get(inv.status.value, rec.status[row])

    def _attempt_started(self, inv_id: str) -> None:
        row = self._rows.get(inv_id)
        if row is None:
            return
        rec = self.records
        rec.attempts[row] += 1
        if math.isnan(rec.started[row]):
            rec.started[row] = self.now

    # ---- arrivals ----

    def _body(self, target: str) -> bytes:
        spec = self.bodies.get(target)
        value = spec(self.rng) if callable(spec) else spec
        return encode_body(value)

    def _submit(self, w: Workload, key: str | None, idem: str | None, delay_ms: float) -> None:
        execute_at = self.clock.now_ms() + round(delay_ms) if delay_ms > 0 else None
        submission = self.engine.submit(
            Target(w.service, w.handler, key),
            self._body(w.target),
            [],
            idempotency_key=idem,
            execute_at_ms=execute_at,
        )
        if submission.previously_accepted:
            owner = self._rows[submission.invocation.id_str]
            h = self._handler_index[(w.service, w.handler)]
            self.records.add(h, self.key_code(key), self._idem_code(idem), self.now, -1, owner, -1)
            self._ids.append(submission.invocation.id_str)

    def _start_stream(self, index: int, w: Workload) -> None:
        gaps = w.arrivals.gaps(self.rng)
        left = [w.count if w.count is not None else -1]
        end = self.epoch_ms + w.start_ms + w.duration_ms if w.duration_ms is not None else math.inf
        serial = [0]
        at = [float(self.epoch_ms + w.start_ms)]

        def schedule_next() -> None:
            if left[0] == 0:
                return
            at[0] += next(gaps)
            if at[0] > end:
                return
            self.clock.call_at(math.ceil(at[0]), arrive)

        def arrive() -> None:
            left[0] -= 1
            rng = self.rng
            key = w.keys.name(w.keys.sample(rng)) if w.keys is not None else None
            idem = None
            if w.idempotency_fraction > 0 and rng.random() < w.idempotency_fraction:
                serial[0] += 1
                idem = f"{w.name}-idem-{serial[0]}"
            delay = w.delay.sample(rng) if w.delay is not None else 0.0
            self._submit(w, key, idem, delay)
            if idem is not None and w.client_retry_probability > 0 and rng.random() < w.client_retry_probability:
                again = self.clock.now_ms() + round(w.client_retry_after.sample(rng))
                self.clock.call_at(again, lambda: self._submit(w, key, idem, delay))
            schedule_next()

        schedule_next()

    # ---- running ----

    def run(self, *, timeout: float = DEFAULT_RUN_TIMEOUT_S, close: bool = True) -> RealLoad:
        """Run every workload to its end and every invocation as far as time takes it (``timeout``: wall s)."""

        async def go() -> None:
            for index, w in enumerate(self.workloads):
                self._start_stream(index, w)
            assert self.lab.time is not None
            await self.lab.time.run_until_idle(timeout_s=timeout)

        self.lab._run(go())
        self._count_in_system(0)
        if close:
            self.close()
        return self

    def close(self) -> None:
        """Stop the runtime (the frames stay readable)."""
        self.lab.close()

    # ---- measures and frames (the simulator's) ----

    def in_system_area(self) -> float:
        """Integral over virtual time of the invocations submitted and not yet completed."""
        return self._in_system_area + self._in_system * (self.now - self._in_system_since)

    def busy_area(self, service: str) -> float:
        d = self.slots[service]
        return d.busy_area + d.busy * (float(self.clock.now_ms()) - d.last_change)

    def invocations_frame(self, *, ids: bool = True) -> pd.DataFrame:
        """One row per submission, the simulator's columns (``restate_lab.sim.results.invocations_frame``)."""
        return results.invocations_frame(cast(Any, self), ids=ids)

    def queue_depth_frame(self) -> pd.DataFrame:
        return results.queue_depth_frame(cast(Any, self))

    def summary_frame(self, frame: pd.DataFrame | None = None) -> pd.DataFrame:
        return results.summary_frame(cast(Any, self), frame)

    def utilisation_frame(self) -> pd.DataFrame:
        return results.utilisation_frame(cast(Any, self))


BodySpec = Any | Callable[[random.Random], Any]

__all__ = ["RealLoad"]
