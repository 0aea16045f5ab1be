"""The simulation driver: Restate's execution rules on a simpy clock, in virtual milliseconds.

Admission (idempotency keys, workflow ids), per-key exclusive scheduling and retry back-off come from
``restate_lab.rules`` -- the same objects the runtime uses -- so the simulator cannot drift from it.
Events are simpy timeouts with plain callbacks rather than one generator process per invocation:
the bookkeeping is the same, and it is what lets a million invocations run in reasonable time.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import simpy
from simpy.events import NORMAL

from restate_lab.rules.idempotency import IdempotencyTable
from restate_lab.rules.ids import InvocationId, partition_key_for
from restate_lab.rules.keyed_queue import KeyedQueue
from restate_lab.rules.retry import RetryPolicy
from restate_lab.sim.kafka import KafkaSubscription, KafkaTrace, PartitionState
from restate_lab.sim.model import (
    SAME_KEY,
    Call,
    Catalogue,
    HandlerBehaviour,
    HandlerModel,
    Send,
    Sleep,
    Work,
    default_behaviour,
)
from restate_lab.sim.records import (
    BACKING_OFF,
    CANCELLED,
    COMPLETED,
    FAILED,
    FINAL,
    KILLED,
    PAUSED,
    PENDING,
    READY,
    RUNNING,
    SCHEDULED,
    SUSPENDED,
    InvocationRecords,
    QueueTrace,
)
from restate_lab.sim.workload import Workload

_KEY_BITS = 32
_IDEM_BITS = 40
#: The virtual clock's zero, as an epoch time (2026-01-01T00:00:00Z), for ``executionTime`` stamps.
DEFAULT_EPOCH_MS = 1_767_225_600_000


class _Deployment:
    """A deployment's attempt slots: ``busy`` of ``limit`` in use, a FIFO of invocations waiting."""

    __slots__ = ("limit", "busy", "waiting", "busy_area", "last_change")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.busy = 0
        self.waiting: deque[int] = deque()
        self.busy_area = 0.0
        self.last_change = 0.0


class _Handler:
    """A catalogue handler compiled with its behaviour, retry policy and deployment."""

    __slots__ = (
        "index", "model", "service_index", "target", "takes_lock", "workflow_run", "program",
        "behaviour", "policy", "deployment", "retention_ms", "workflow_retention_ms",
    )

    def __init__(self, index: int, model: HandlerModel, service_index: int, behaviour: HandlerBehaviour,
                 policy: RetryPolicy, deployment: _Deployment, workflow_retention_ms: float) -> None:
        self.index = index
        self.model = model
        self.service_index = service_index
        self.target = f"{model.service}/{model.name}"
        self.takes_lock = model.takes_lock
        self.workflow_run = model.workflow_run
        self.program = behaviour.program()
        self.behaviour = behaviour
        self.policy = behaviour.retry_policy or policy
        self.deployment = deployment
        self.retention_ms = behaviour.idempotency_retention_ms
        self.workflow_retention_ms = workflow_retention_ms


class _Run:
    """In-flight state of one invocation; dropped when it completes."""

    __slots__ = ("pc", "journal", "failed", "holding", "fresh", "cancel", "attempt_start")

    def __init__(self) -> None:
        self.pc = 0  # next step of the current attempt
        self.journal = 0  # steps journaled so far: replayed, not repeated, on retry
        self.failed = 0
        self.holding = False  # holds a deployment slot
        self.fresh = True  # the next step starts a new attempt
        self.cancel = False
        self.attempt_start = 0.0


class _Stream:
    """A workload being generated."""

    def __init__(self, workload: Workload, index: int, handler: _Handler | None, rng: random.Random) -> None:
        self.workload = workload
        self.index = index
        self.handler = handler
        self.gaps = workload.arrivals.gaps(rng)
        self.left = workload.count if workload.count is not None else -1
        self.end = workload.start_ms + workload.duration_ms if workload.duration_ms is not None else math.inf
        self.codes: dict[int, int] = {}
        self.next_idem = 0


class Simulation:
    """A discrete-event simulation of Restate invocations in virtual milliseconds.

    >>> counter = {"name": "Counter", "ty": "VIRTUAL_OBJECT", "handlers": [{"name": "add", "ty": None}]}
    >>> sim = Simulation([counter], behaviours={"Counter/add": HandlerBehaviour(service_time=10)})
    >>> a, b = sim.submit("Counter", "add", key="k"), sim.submit("Counter", "add", key="k")
    >>> _ = sim.run(); sim.records.completed[a], sim.records.completed[b]
    (10.0, 20.0)
    """

    def __init__(
        self,
        catalogue: Catalogue | list[dict[str, Any]],
        behaviours: Mapping[str, HandlerBehaviour] | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
        concurrency: Mapping[str, int | None] | None = None,
        workloads: list[Workload] | None = None,
        subscriptions: list[KafkaSubscription] | None = None,
        seed: int = 0,
        record_queues: bool = True,
        epoch_ms: float = DEFAULT_EPOCH_MS,
    ) -> None:
        self.catalogue = catalogue if isinstance(catalogue, Catalogue) else Catalogue.from_admin(catalogue)
        self.seed = seed
        self.env = simpy.Environment()
        self._schedule: Callable[..., None] = self.env.schedule
        self.rng = random.Random(seed)
        self.epoch_ms = epoch_ms
        self.retry_policy = retry_policy or RetryPolicy()
        self.records = InvocationRecords()
        self.queue_trace = QueueTrace() if record_queues else None
        self.kafka_trace = KafkaTrace()
        self.bodies: dict[int, Any] = {}
        self.results: dict[int, Any] = {}
        self.key_names: list[str] = []
        self._key_codes: dict[str, int] = {}
        self.idem_names: list[str] = []
        self._idem_codes: dict[str, int] = {}
        self._idempotency = IdempotencyTable[tuple[int, int, int]]()
        self._workflows = IdempotencyTable[tuple[int, int]]()
        self._claims_since_expiry = 0
        self._keyed = KeyedQueue[int, int]()
        self._runs: dict[int, _Run] = {}
        self._waiters: dict[int, list[Callable[[int], None]]] = {}
        self._in_system = 0
        self._in_system_area = 0.0
        self._in_system_since = 0.0
        self._id_rng = random.Random(seed ^ 0x5EED)
        self._ids: list[str] = []
        self._pk_cache: dict[tuple[int, int], int] = {}
        self.completions = 0
        self._on_progress: Callable[[int], None] | None = None
        concurrency = dict(concurrency or {})
        behaviours = dict(behaviours or {})
        self.service_names = list(self.catalogue.services)
        self.deployments: dict[str, _Deployment] = {}
        self.handlers: list[_Handler] = []
        self._handler_index: dict[tuple[str, str], _Handler] = {}
        for s_index, (name, service) in enumerate(self.catalogue.services.items()):
            limit = concurrency.get(name, service.concurrency)
            deployment = self.deployments[name] = _Deployment(limit)
            for hname, hmodel in service.handlers.items():
                behaviour = behaviours.pop(f"{name}/{hname}", None) or default_behaviour()
                handler = _Handler(len(self.handlers), hmodel, s_index, behaviour, self.retry_policy,
                                   deployment, service.workflow_retention_ms)
                self.handlers.append(handler)
                self._handler_index[(name, hname)] = handler
        if behaviours:
            raise ValueError(f"behaviours for handlers not in the catalogue: {sorted(behaviours)}")
        self.subscriptions: dict[str, KafkaSubscription] = {}
        self.partitions: dict[str, list[PartitionState]] = {}
        for sub in subscriptions or []:
            self.subscribe(sub)
        self.workloads: list[Workload] = []
        for workload in workloads or []:
            self.add_workload(workload)

    # ----------------------------------------------------------------- set-up

    def handler(self, service: str, handler: str) -> _Handler:
        found = self._handler_index.get((service, handler))
        if found is None:
            raise KeyError(f"{service}/{handler} is not in the catalogue")
        return found

    def subscribe(self, subscription: KafkaSubscription) -> None:
        """Deliver the records of ``subscription.topic`` to its handler."""
        self.handler(subscription.service, subscription.handler)
        self.subscriptions[subscription.topic] = subscription
        self.partitions[subscription.topic] = [PartitionState(p) for p in range(subscription.partitions)]

    def add_workload(self, workload: Workload) -> None:
        """Generate ``workload``'s arrivals once the clock runs."""
        index = len(self.workloads)
        self.workloads.append(workload)
        handler = None if workload.topic else self.handler(workload.service, workload.handler)
        if workload.topic and workload.topic not in self.subscriptions:
            raise KeyError(f"no subscription for topic {workload.topic!r}")
        stream = _Stream(workload, index, handler, random.Random(self.rng.getrandbits(64)))
        first = workload.start_ms + next(stream.gaps) - self.env.now
        self._after(max(first, 0.0), self._on_arrival, stream)

    @property
    def expected_invocations(self) -> int | None:
        """Ingress submissions the workloads will make, when every one has a count."""
        counts = [w.count for w in self.workloads]
        return None if any(c is None for c in counts) else sum(c or 0 for c in counts)

    # ----------------------------------------------------------------- names

    def key_code(self, key: str | None) -> int:
        if key is None:
            return -1
        code = self._key_codes.get(key)
        if code is None:
            code = self._key_codes[key] = len(self.key_names)
            self.key_names.append(key)
        return code

    def idem_code(self, idempotency_key: str | None) -> int:
        if idempotency_key is None:
            return -1
        code = self._idem_codes.get(idempotency_key)
        if code is None:
            code = self._idem_codes[idempotency_key] = len(self.idem_names)
            self.idem_names.append(idempotency_key)
        return code

    def idem_name(self, code: int) -> str | None:
        """The idempotency key string of a code, rendering workload-generated keys on demand."""
        if code < 0:
            return None
        stream = code >> _IDEM_BITS
        if stream == 0:
            return self.idem_names[code]
        return f"{self.workloads[stream - 1].name}-idem-{code & ((1 << _IDEM_BITS) - 1)}"

    def invocation_id(self, row: int) -> str:
        """The ``inv_1…`` id of a row; a deduplicated submission has its first invocation's id."""
        rec = self.records
        while rec.dedup_of[row] >= 0:
            row = rec.dedup_of[row]
        ids = self._ids
        while len(ids) <= row:
            i = len(ids)
            h = self.handlers[rec.handler[i]]
            key = rec.key[i]
            if key >= 0:
                cache_key = (h.service_index, key)
                pk = self._pk_cache.get(cache_key)
                if pk is None:
                    pk = self._pk_cache[cache_key] = partition_key_for(h.model.service, self.key_names[key])
            else:
                pk = self._id_rng.getrandbits(64)
            ids.append(str(InvocationId.new(pk, self._id_rng)))
        return ids[row]

    # ----------------------------------------------------------------- clock

    def _after(self, delay: float, callback: Callable[[Any], None], value: Any) -> None:
        self._schedule(_Timer(callback, value), NORMAL, delay)

    def run(self, until: float | None = None, progress: bool | None = None) -> Simulation:
        """Advance virtual time to ``until`` ms (or until nothing is left to happen).

        ``progress`` shows a tqdm bar; by default only for runs of 200 000 invocations or more.
        """
        total = self.expected_invocations
        show = progress if progress is not None else (total or 0) >= 200_000
        if not show:
            self.env.run(until=until)
            return self
        from tqdm.auto import tqdm

        with tqdm(total=total, unit="inv", desc="simulating", mininterval=0.5) as bar:
            self._on_progress = bar.update
            try:
                self.env.run(until=until)
            finally:
                self._on_progress = None
        return self

    @property
    def now(self) -> float:
        return float(self.env.now)

    # ----------------------------------------------------------------- admission

    def submit(
        self,
        service: str,
        handler: str,
        key: str | None = None,
        *,
        idempotency_key: str | None = None,
        delay_ms: float = 0.0,
        body: Any = None,
    ) -> int:
        """Submit one invocation now, as ingress would; return its row (deduplicated ones included)."""
        h = self.handler(service, handler)
        if h.model.service_type.keyed and key is None:
            raise ValueError(f"{h.target} is keyed: pass key=")
        row = self._submit(h, self.key_code(key), self.idem_code(idempotency_key), delay_ms, -1)
        if body is not None:
            self.bodies[row] = body
        return row

    def _submit(self, h: _Handler, key: int, idem: int, delay: float, parent: int) -> int:
        rec = self.records
        now = self.env.now
        row = len(rec.handler)
        owner = -1
        if h.workflow_run:
            claimed, new = self._workflows.claim((h.service_index, key), str(row), now)
            owner = -1 if new else int(claimed)
        if owner < 0 and idem >= 0:
            claimed, new = self._idempotency.claim((h.index, key, idem), str(row), now)
            owner = -1 if new else int(claimed)
            self._claims_since_expiry += 1
            if self._claims_since_expiry > max(len(self._idempotency), 4096):
                self._idempotency.expire(now)
                self._workflows.expire(now)
                self._claims_since_expiry = 0
        if owner >= 0:
            rec.add(h.index, key, idem, now, -1, owner, parent)
            return row
        rec.add(h.index, key, idem, now, SCHEDULED if delay > 0 else PENDING, -1, parent)
        self._in_system_area += self._in_system * (now - self._in_system_since)
        self._in_system_since = now
        self._in_system += 1
        if delay > 0:
            self._after(delay, self._ready, row)
        else:
            self._ready(row)
        return row

    def _ready(self, row: int) -> None:
        rec = self.records
        if rec.status[row] >= FINAL:
            return
        now = self.env.now
        rec.ready[row] = now
        h = self.handlers[rec.handler[row]]
        if h.takes_lock:
            lock = (h.service_index << _KEY_BITS) | rec.key[row]
            runs_now = self._keyed.offer(lock, row)
            if self.queue_trace is not None:
                self.queue_trace.record(now, lock, self._keyed.depth(lock))
            if not runs_now:
                rec.status[row] = PENDING
                return
        self._acquire(row)

    def _acquire(self, row: int) -> None:
        """Take a deployment slot for ``row``'s next step, or wait for one in FIFO order."""
        if self.records.status[row] >= FINAL:
            return
        d = self.handlers[self.records.handler[row]].deployment
        run = self._runs.get(row)
        if run is None:
            run = self._runs[row] = _Run()
        if d.limit is not None and d.busy >= d.limit:
            self.records.status[row] = READY
            d.waiting.append(row)
            return
        now = self.env.now
        d.busy_area += d.busy * (now - d.last_change)
        d.last_change = now
        d.busy += 1
        run.holding = True
        self._proceed(row, run)

    def _free_slot(self, row: int, run: _Run) -> None:
        if not run.holding:
            return
        run.holding = False
        d = self.handlers[self.records.handler[row]].deployment
        if d.waiting:
            nxt = d.waiting.popleft()
            nxt_run = self._runs[nxt]
            nxt_run.holding = True
            self._proceed(nxt, nxt_run)
            return
        now = self.env.now
        d.busy_area += d.busy * (now - d.last_change)
        d.last_change = now
        d.busy -= 1

    # ----------------------------------------------------------------- execution

    def _proceed(self, row: int, run: _Run) -> None:
        rec = self.records
        h = self.handlers[rec.handler[row]]
        rec.status[row] = RUNNING
        now = self.env.now
        if run.fresh:
            run.fresh = False
            run.attempt_start = now
            rec.attempts[row] += 1
            if rec.attempts[row] == 1:
                rec.started[row] = now
        program = h.program
        while run.pc < len(program):
            step = program[run.pc]
            run.pc += 1
            if type(step) is Work:
                self._after(step.duration.sample(self.rng), self._work_done, row)
                return
            if run.pc <= run.journal:
                continue  # journaled on an earlier attempt: replayed instantly
            run.journal = run.pc
            if type(step) is Sleep:
                self._free_slot(row, run)
                rec.status[row] = SUSPENDED
                self._after(step.duration.sample(self.rng), self._acquire, row)
                return
            if type(step) is Send:
                self._child(step.service, step.handler, step.key, rec.key[row], step.delay_ms, -1)
                continue
            if type(step) is Call:
                child = self._child(step.service, step.handler, step.key, rec.key[row], 0.0, row)
                self._free_slot(row, run)
                rec.status[row] = SUSPENDED
                self.when_complete(child, partial(self._child_done, row))
                return
        self._attempt_end(row, run, h)

    def _child(self, service: str, handler: str, key: Any, own_key: int, delay: float, parent: int) -> int:
        h = self.handler(service, handler)
        if key == SAME_KEY:
            code = own_key
        elif isinstance(key, str) or key is None:
            code = self.key_code(key)
        else:
            code = self.key_code(key.name(key.sample(self.rng)))
        return self._submit(h, code, -1, delay, parent)

    def _work_done(self, row: int) -> None:
        if self.records.status[row] >= FINAL:
            return
        run = self._runs[row]
        if run.cancel:
            self.complete(row, CANCELLED)
            return
        self._proceed(row, run)

    def _child_done(self, parent: int, child: int) -> None:
        if self.records.status[parent] >= FINAL:
            return
        status = self.records.status[self.owner(child)]
        if status == COMPLETED:
            self._acquire(parent)
        else:
            self.complete(parent, FAILED)  # the callee's terminal error surfaces in the caller

    def _attempt_end(self, row: int, run: _Run, h: _Handler) -> None:
        b = h.behaviour
        rng = self.rng
        if b.terminal_failure_probability > 0 and rng.random() < b.terminal_failure_probability:
            self.complete(row, FAILED)
            return
        if (b.failure_schedule is not None or b.failure_probability > 0) and b.attempt_fails(
            self.records.attempts[row], run.attempt_start, rng
        ):
            run.failed += 1
            self._free_slot(row, run)
            if h.policy.exhausted(run.failed):
                if h.policy.on_max_attempts == "kill":
                    self.complete(row, KILLED)
                else:
                    self.records.status[row] = PAUSED  # keeps its key's lock, as in Restate
                return
            self.records.status[row] = BACKING_OFF
            run.pc = 0
            run.fresh = True
            self._after(h.policy.delay_ms(run.failed), self._acquire, row)
            return
        self.complete(row, COMPLETED)

    def complete(self, row: int, status: int) -> None:
        """Finish ``row`` with a final ``status``, releasing its slot, its key and its waiters."""
        rec = self.records
        previous = rec.status[row]
        if previous >= FINAL or previous < 0:
            return
        now = self.env.now
        rec.completed[row] = now
        rec.status[row] = status
        h = self.handlers[rec.handler[row]]
        run = self._runs.pop(row, None)
        if run is not None:
            self._free_slot(row, run)
        if previous == READY:
            h.deployment.waiting.remove(row)
        if h.takes_lock and previous != SCHEDULED:
            lock = (h.service_index << _KEY_BITS) | rec.key[row]
            if self._keyed.holder(lock) == row:
                nxt = self._keyed.release(lock)
                if self.queue_trace is not None:
                    self.queue_trace.record(now, lock, self._keyed.depth(lock))
                if nxt is not None:
                    self._acquire(nxt)
            elif self._keyed.remove(lock, row) and self.queue_trace is not None:
                self.queue_trace.record(now, lock, self._keyed.depth(lock))
        if rec.idem[row] >= 0:
            self._idempotency.completed((h.index, rec.key[row], rec.idem[row]), now, h.retention_ms)
        if h.workflow_run:
            self._workflows.completed((h.service_index, rec.key[row]), now, h.workflow_retention_ms)
        if status == COMPLETED and h.behaviour.result is not None:
            self.results[row] = h.behaviour.result(self.bodies.get(row))
        self._in_system_area += self._in_system * (now - self._in_system_since)
        self._in_system_since = now
        self._in_system -= 1
        self.completions += 1
        if self._on_progress is not None and not self.completions & 4095:
            self._on_progress(4096)
        waiters = self._waiters.pop(row, None)
        if waiters:
            for waiter in waiters:
                waiter(row)

    def owner(self, row: int) -> int:
        """The row of the invocation that answers ``row`` (itself unless deduplicated)."""
        while self.records.dedup_of[row] >= 0:
            row = self.records.dedup_of[row]
        return row

    def when_complete(self, row: int, callback: Callable[[int], None]) -> None:
        """Call ``callback(row)`` once the invocation answering ``row`` has a final status."""
        owner = self.owner(row)
        if self.records.status[owner] >= FINAL:
            self._after(0.0, callback, row)
        else:
            self._waiters.setdefault(owner, []).append(lambda _owner: callback(row))

    # ----------------------------------------------------------------- control

    def cancel(self, row: int) -> None:
        """Cancel: waiting invocations end now; one in the middle of work ends when that work does."""
        row = self.owner(row)
        status = self.records.status[row]
        if status >= FINAL:
            return
        if status == RUNNING:
            self._runs[row].cancel = True
        else:
            self.complete(row, CANCELLED)

    def kill(self, row: int) -> None:
        """Kill: end the invocation now, whatever it is doing, and release its key."""
        self.complete(self.owner(row), KILLED)

    # ----------------------------------------------------------------- workloads and Kafka

    def _on_arrival(self, stream: _Stream) -> None:
        now = self.env.now
        if now > stream.end:
            return
        self._arrive(stream)
        if stream.left > 0:
            stream.left -= 1
            if stream.left == 0:
                return
        self._after(next(stream.gaps), self._on_arrival, stream)

    def _arrive(self, stream: _Stream) -> None:
        w = stream.workload
        rng = self.rng
        key = -1
        if w.keys is not None:
            index = w.keys.sample(rng)
            key = stream.codes.get(index, -1)
            if key < 0:
                key = stream.codes[index] = self.key_code(w.keys.name(index))
        idem = -1
        if w.idempotency_fraction > 0 and rng.random() < w.idempotency_fraction:
            idem = ((stream.index + 1) << _IDEM_BITS) | stream.next_idem
            stream.next_idem += 1
            if w.client_retry_probability > 0 and rng.random() < w.client_retry_probability:
                self._after(w.client_retry_after.sample(rng), self._client_retry, (stream, key, idem))
        delay = w.delay.sample(rng) if w.delay is not None else 0.0
        if stream.handler is None:
            self._produce(w.topic or "", key)
        else:
            self._submit(stream.handler, key, idem, delay, -1)

    def _client_retry(self, request: tuple[_Stream, int, int]) -> None:
        stream, key, idem = request
        if stream.handler is not None:
            self._submit(stream.handler, key, idem, 0.0, -1)

    def _produce(self, topic: str, key: int) -> None:
        sub = self.subscriptions[topic]
        name = self.key_names[key] if key >= 0 else None
        part = self.partitions[topic][sub.partition_for(name, self.rng)]
        part.append(key, self.env.now)
        self.kafka_trace.lag(self.env.now, topic, part.index, part.lag)
        if not part.busy:
            self._consume(topic, part)

    def _consume(self, topic: str, part: PartitionState) -> None:
        sub = self.subscriptions[topic]
        if not part.backlog:
            part.busy = False
            return
        part.busy = True
        if sub.ingest_ms > 0:
            self._after(sub.ingest_ms, self._ingest, (topic, part))
        else:
            self._ingest((topic, part))

    def _ingest(self, item: tuple[str, PartitionState]) -> None:
        topic, part = item
        sub = self.subscriptions[topic]
        offset, key, produced = part.pop()
        row = self._submit(self.handler(sub.service, sub.handler), key, -1, 0.0, -1)
        self.kafka_trace.record(row, topic, part.index, offset, produced)
        self.kafka_trace.lag(self.env.now, topic, part.index, part.lag)
        if sub.ordering == "partition":
            self.when_complete(row, lambda _row: self._consume(topic, part))
        else:
            self._consume(topic, part)

    # ----------------------------------------------------------------- measures

    def in_system_area(self) -> float:
        """Integral over virtual time of the number of invocations submitted and not yet final."""
        return self._in_system_area + self._in_system * (self.env.now - self._in_system_since)

    def busy_area(self, service: str) -> float:
        """Integral over virtual time of the attempts running on ``service``'s deployment."""
        d = self.deployments[service]
        return d.busy_area + d.busy * (self.env.now - d.last_change)


class _Timer:
    """The slimmest object simpy's ``Environment.step`` accepts as an event: a callback and its value.

    A full ``simpy.Timeout`` with an appended callback costs about twice as much per event, and the
    simulator schedules a few of these per invocation.
    """

    __slots__ = ("callbacks", "_ok", "_value", "fn")

    def __init__(self, fn: Callable[[Any], None], value: Any) -> None:
        self.callbacks: list[Callable[[_Timer], None]] | None = _FIRE
        self._ok = True
        self._value = value
        self.fn = fn


def _fire(timer: _Timer) -> None:
    timer.fn(timer._value)


_FIRE: list[Callable[[_Timer], None]] = [_fire]


__all__ = ["DEFAULT_EPOCH_MS", "Simulation"]
