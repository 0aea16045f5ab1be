"""The simulation driver: Restate's execution rules on a simpy clock, in virtual milliseconds.

Admission (idempotency keys, workflow ids), per-key exclusive scheduling, retry back-off and the
lifecycle decisions (what follows a failed attempt, what cancel and kill do in each status, when the
failure count starts again) come from ``restate_lab.rules`` -- the same code the runtime asks -- so
the simulator cannot drift from it; ``tests/parity`` runs the same scenarios on both and on the
real server. Events are ``simpy.Timeout`` s with a callback (simpy's public event API) rather than
one generator process per invocation: the bookkeeping is the same, and it is what lets a million
invocations run in reasonable time.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, cast

import simpy

from restate_lab.rules.errors import CANCELLED as CANCELLED_FAILURE
from restate_lab.rules.errors import KILLED as KILLED_FAILURE
from restate_lab.rules.errors import FailureText
from restate_lab.rules.idempotency import IdempotencyTable
from restate_lab.rules.ids import InvocationId, invocation_id_for, partition_key_for
from restate_lab.rules.keyed_queue import KeyedQueue
from restate_lab.rules.lifecycle import (
    CancelAction,
    KillAction,
    Pause,
    Retry,
    after_failure,
    cancel_action,
    failures_after_resume,
    failures_after_suspension,
    kill_action,
)
from restate_lab.rules.retry import RetryPolicy
from restate_lab.sim.distributions import Sampler, sampler
from restate_lab.sim.kafka import KafkaSubscription, KafkaTrace, PartitionState
from restate_lab.sim.keys import Uniform
from restate_lab.sim.model import (
    SAME_KEY,
    Call,
    Catalogue,
    Fail,
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
    EXHAUSTED,
    FAILED,
    FINAL,
    KILLED,
    PAUSED,
    PENDING,
    READY,
    RUNNING,
    SCHEDULED,
    STATUSES,
    SUCCEEDED,
    SUSPENDED,
    InvocationRecords,
    RowQueueTrace,
    intern,
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
        "index",
        "model",
        "service_index",
        "target",
        "takes_lock",
        "workflow_run",
        "program",
        "behaviour",
        "policy",
        "deployment",
        "retention_ms",
        "workflow_retention_ms",
        "lock",
        "work",
        "terminal_p",
        "fails",
        "fail_p",
        "result",
    )

    def __init__(
        self,
        index: int,
        model: HandlerModel,
        service_index: int,
        behaviour: HandlerBehaviour,
        policy: RetryPolicy,
        deployment: _Deployment,
        workflow_retention_ms: float,
        rng: random.Random,
    ) -> None:
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
        #: The key-lock code without the key (``lock | key``), -1 for handlers that take no lock.
        self.lock = service_index << _KEY_BITS if self.takes_lock else -1
        first = self.program[0] if len(self.program) == 1 else None
        #: For a program of one Work step (an attempt is one event), its duration's sampler; else None.
        self.work: Sampler | None = sampler(first.duration, rng) if type(first) is Work else None
        self.terminal_p = behaviour.terminal_failure_probability
        #: Whether an attempt can fail retryably at its end (by schedule or probability).
        self.fails = behaviour.failure_schedule is not None or behaviour.failure_probability > 0
        #: The failure probability when there is no schedule (``attempt_fails`` is then one draw), else None.
        self.fail_p = behaviour.failure_probability if behaviour.failure_schedule is None else None
        self.result = behaviour.result


class _Run:
    """In-flight state of one invocation; dropped when it completes.

    A first attempt of a one-Work-step program starts without one (the common case needs none of it):
    an invocation that is ``running`` and has no ``_Run`` is in that first attempt, holds its deployment
    slot and has no cancel signal; :meth:`Simulation._run_of` makes its state explicit when asked.
    """

    __slots__ = ("pc", "journal", "failed", "holding", "fresh", "cancel", "attempt_start", "waiting_on", "passes")

    def __init__(self) -> None:
        self.pc = 0  # next step of the current attempt
        self.journal = 0  # steps journaled so far: replayed, not repeated, on retry
        self.failed = 0  # failed attempts since the start, the last suspension or a resume
        self.holding = False  # holds a deployment slot
        self.fresh = True  # the next step starts a new attempt
        self.cancel = False  # a cancel signal the handler sees at its next step
        self.attempt_start = 0.0
        self.waiting_on = -1  # the callee row a suspended call waits for
        self.passes: dict[int, int] | None = None  # times each Fail step was reached


class _Due:
    """What a fired event hands its callback (its ``value``), for a callback due at once without one."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Stream:
    """A workload being generated, with its draws bound to the simulation's generator."""

    __slots__ = (
        "workload",
        "index",
        "handler",
        "next_gap",
        "left",
        "end",
        "codes",
        "next_idem",
        "keys",
        "pick",
        "idem_fraction",
        "retry_p",
        "retry_after",
        "delay",
    )

    def __init__(
        self, workload: Workload, index: int, handler: _Handler | None, rng: random.Random, draws: random.Random
    ) -> None:
        self.workload = workload
        self.index = index
        self.handler = handler
        self.next_gap = workload.arrivals.gaps(rng).__next__
        self.left = workload.count if workload.count is not None else -1
        self.end = workload.start_ms + workload.duration_ms if workload.duration_ms is not None else math.inf
        self.codes: dict[int, int] = {}
        self.next_idem = 0
        self.keys = keys = workload.keys
        #: ``keys.sample`` bound to the draws (one call per arrival), None for unkeyed workloads.
        self.pick: Callable[[], int] | None = (
            None if keys is None else keys.sampler(draws) if type(keys) is Uniform else partial(keys.sample, draws)
        )
        self.idem_fraction = workload.idempotency_fraction
        self.retry_p = workload.client_retry_probability
        self.retry_after = sampler(workload.client_retry_after, draws)
        self.delay = sampler(workload.delay, draws) if workload.delay is not None else None


class Simulation:
    """A discrete-event simulation of Restate invocations in virtual milliseconds.

    >>> counter = {"name": "Counter", "ty": "VIRTUAL_OBJECT", "handlers": [{"name": "add", "ty": None}]}
    >>> sim = Simulation([counter], behaviours={"Counter/add": HandlerBehaviour(service_time=10)})
    >>> a, b = sim.submit("Counter", "add", key="k"), sim.submit("Counter", "add", key="k")
    >>> _ = sim.run(); sim.records.completed[a], sim.records.completed[b]
    (10.0, 20.0)
    """

    # Slots, not a __dict__: past 30 attributes Python 3.11 keeps an instance's attributes in a dict
    # whose method calls and reads are not specialised, and the event callbacks run several per event.
    __slots__ = (
        "_acquire_cb",
        "_claims_since_expiry",
        "_client_retry_cb",
        "_expire_after",
        "_handler_index",
        "_id_rng",
        "_idem_codes",
        "_idempotency",
        "_ids",
        "_key_codes",
        "_keyed",
        "_on_arrival_cb",
        "_on_progress",
        "_pk_cache",
        "_random",
        "_ready_cb",
        "_runs",
        "_timeout",
        "_waiters",
        "_work_done_cb",
        "_workflows",
        "bodies",
        "catalogue",
        "completions",
        "deployments",
        "dropped",
        "env",
        "epoch_ms",
        "failures",
        "handlers",
        "idem_names",
        "kafka_trace",
        "key_names",
        "partitions",
        "queue_trace",
        "records",
        "results",
        "retry_policy",
        "rng",
        "seed",
        "service_names",
        "subscriptions",
        "workloads",
        "__weakref__",
    )

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
        self._timeout = self.env.timeout
        self.rng = random.Random(seed)
        self._random = self.rng.random
        self.epoch_ms = epoch_ms
        self.retry_policy = retry_policy or RetryPolicy()
        self.records = InvocationRecords()
        self.queue_trace = RowQueueTrace() if record_queues else None
        self.kafka_trace = KafkaTrace()
        self.bodies: dict[int, Any] = {}
        self.results: dict[int, Any] = {}
        #: What each invocation that completed with a failure completed with.
        self.failures: dict[int, FailureText] = {}
        #: Rows the server forgot: cancelled or killed before they ran (output then answers 404).
        self.dropped: set[int] = set()
        self.key_names: list[str] = []
        self._key_codes: dict[str, int] = {}
        self.idem_names: list[str] = []
        self._idem_codes: dict[str, int] = {}
        self._idempotency = IdempotencyTable[tuple[int, int, int]]()
        self._workflows = IdempotencyTable[tuple[int, int]]()
        self._claims_since_expiry = 0
        #: Claims after which the tables drop expired entries: their size at the last sweep, at least 4096.
        self._expire_after = 4096
        self._keyed = KeyedQueue[int, int]()
        self._runs: dict[int, _Run] = {}
        self._waiters: dict[int, list[Callable[[int], None]]] = {}
        self._id_rng = random.Random(seed ^ 0x5EED)
        self._ids: list[str] = []
        self._pk_cache: dict[tuple[int, int], int] = {}
        self.completions = 0
        self._on_progress: Callable[[int], None] | None = None
        # The hot paths' event callbacks, bound once rather than on every event.
        self._on_arrival_cb = self._on_arrival
        self._ready_cb = self._ready_event
        self._work_done_cb = self._work_done
        self._acquire_cb = self._acquire_event
        self._client_retry_cb = self._client_retry
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
                handler = _Handler(
                    len(self.handlers),
                    hmodel,
                    s_index,
                    behaviour,
                    self.retry_policy,
                    deployment,
                    service.workflow_retention_ms,
                    self.rng,
                )
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
        stream = _Stream(workload, index, handler, random.Random(self.rng.getrandbits(64)), self.rng)
        first = workload.start_ms + stream.next_gap() - self.env.now
        self._timeout(max(first, 0.0), stream).callbacks.append(self._on_arrival_cb)

    @property
    def expected_invocations(self) -> int | None:
        """Ingress submissions the workloads will make, when every one has a count."""
        counts = [w.count for w in self.workloads]
        return None if any(c is None for c in counts) else sum(c or 0 for c in counts)

    # ----------------------------------------------------------------- names

    def key_code(self, key: str | None) -> int:
        return intern(key, self._key_codes, self.key_names)

    def idem_code(self, idempotency_key: str | None) -> int:
        return intern(idempotency_key, self._idem_codes, self.idem_names)

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
            if h.workflow_run or rec.idem[i] >= 0:  # derived from the target, as the runtime's
                key_name = self.key_names[key] if key >= 0 else None
                ids.append(
                    str(
                        invocation_id_for(
                            h.model.service, h.model.name, key_name, self.idem_name(rec.idem[i]), h.workflow_run
                        )
                    )
                )
                continue
            if key >= 0:
                cache_key = (h.service_index, key)
                pk = self._pk_cache.get(cache_key)
                if pk is None:
                    pk = self._pk_cache[cache_key] = partition_key_for(h.model.service, self.key_names[key])
            else:
                pk = partition_key_for(h.model.service, None, self._id_rng)
            ids.append(str(InvocationId.new(pk, self._id_rng)))
        return ids[row]

    # ----------------------------------------------------------------- clock

    def _after(self, delay: float, callback: Callable[[Any], None], value: Any) -> None:
        """Call ``callback(value)`` ``delay`` virtual ms from now: a ``simpy.Timeout`` and its callback.

        The hot paths (arrivals, delays, work, back-off) append a callback that takes the event
        itself instead, one call less per event.
        """
        self._timeout(delay, (callback, value)).callbacks.append(_fire)

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
        row = rec.n
        if h.workflow_run or idem >= 0:
            owner = self._admit(h, key, idem, row, now)
            if owner >= 0:
                rec.add(h.index, key, idem, now, -1, owner, parent)
                return row
        # InvocationRecords.add, inlined: the hot path of every submission (dedup_of stays -1)
        if row == rec.capacity:
            rec.grow()
        rec.n = row + 1
        rec.handler[row] = h.index
        rec.key[row] = key
        if idem >= 0:
            rec.idem[row] = idem
        rec.submitted[row] = now
        if parent >= 0:
            rec.parent[row] = parent
        if delay > 0:
            rec.status[row] = SCHEDULED
            timeout = self._timeout  # an attribute, not a method: a call through a local is the cheaper one
            timeout(delay, row).callbacks.append(self._ready_cb)
        else:
            rec.status[row] = PENDING
            self._ready_event(_Due(row))
        return row

    def _admit(self, h: _Handler, key: int, idem: int, row: int, now: float) -> int:
        """Claim the workflow id and the idempotency key for ``row``; the row that owns them, or -1 if new."""
        if h.workflow_run:
            claimed, new = self._workflows.claim((h.service_index, key), str(row), now)
            if not new:
                return int(claimed)
        if idem < 0:
            return -1
        table = self._idempotency
        claimed, new = table.claim((h.index, key, idem), str(row), now)
        claims = self._claims_since_expiry = self._claims_since_expiry + 1
        if claims > self._expire_after:  # a sweep every as many claims as the table holds: O(1) per claim
            table.expire(now)
            self._workflows.expire(now)
            self._claims_since_expiry = 0
            self._expire_after = max(len(table), 4096)
        return -1 if new else int(claimed)

    def _ready_event(self, event: simpy.Event | _Due) -> None:
        """A row's delay is over (or it had none): it queues on its key, else takes a slot and starts."""
        row: int = event.value  # type: ignore[assignment]
        rec = self.records
        if rec.status[row] >= FINAL:
            return
        now = self.env.now
        rec.ready[row] = now
        h = self.handlers[rec.handler[row]]
        lock = h.lock
        if lock >= 0:
            lock |= rec.key[row]
            runs_now = self._keyed.offer(lock, row)
            trace = self.queue_trace
            if trace is not None:
                trace.change.append(row << 1 | 1)
            if not runs_now:
                rec.status[row] = PENDING
                return
        # _acquire for a row's first attempt, inlined (the hot path of every invocation)
        d = h.deployment
        limit = d.limit
        busy = d.busy
        if limit is not None and busy >= limit:
            self._runs[row] = _Run()
            rec.status[row] = READY
            d.waiting.append(row)
            return
        d.busy_area += busy * (now - d.last_change)
        d.last_change = now
        d.busy = busy + 1
        work = h.work
        if work is None:
            run = self._runs[row] = _Run()
            run.holding = True
            self._proceed(row, run)
            return
        # the first attempt of one Work step, with no _Run (see there)
        rec.status[row] = RUNNING
        rec.attempts[row] = 1
        rec.started[row] = now
        timeout = self._timeout
        timeout(work(), row).callbacks.append(self._work_done_cb)

    def _acquire_event(self, event: simpy.Event) -> None:
        self._acquire(event.value)  # type: ignore[arg-type]

    def _acquire(self, row: int) -> None:
        """Take a deployment slot for ``row``'s next step, or wait for one in FIFO order."""
        rec = self.records
        if rec.status[row] >= FINAL:
            return
        h = self.handlers[rec.handler[row]]
        d = h.deployment
        run = self._runs.get(row)
        busy = d.busy
        if d.limit is not None and busy >= d.limit:
            if run is None:
                self._runs[row] = _Run()
            rec.status[row] = READY
            d.waiting.append(row)
            return
        now = self.env.now
        d.busy_area += busy * (now - d.last_change)
        d.last_change = now
        d.busy = busy + 1
        if run is None:
            work = h.work
            if work is not None:  # a first attempt of one Work step, with no _Run (see there)
                rec.status[row] = RUNNING
                rec.attempts[row] = 1
                rec.started[row] = now
                self._timeout(work(), row).callbacks.append(self._work_done_cb)
                return
            run = self._runs[row] = _Run()
        run.holding = True
        self._proceed(row, run)

    def _run_of(self, row: int) -> _Run:
        """The in-flight state of ``row``, made explicit for a first attempt that started without one."""
        run = self._runs.get(row)
        if run is None:  # running its first attempt of one Work step, holding its slot
            run = self._runs[row] = _Run()
            run.holding = True
            run.fresh = False
            run.pc = 1
            run.attempt_start = self.records.started[row]
        return run

    def _free_slot(self, row: int, run: _Run) -> None:
        if not run.holding:
            return
        run.holding = False
        self._slot_freed(self.handlers[self.records.handler[row]].deployment)

    def _slot_freed(self, d: _Deployment) -> None:
        """A slot of ``d`` is free: the first invocation waiting for one takes it."""
        if d.waiting:
            nxt = d.waiting.popleft()
            self.records.status[nxt] = RUNNING  # no longer waiting: a cancel it carries must not look for it there
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
        if run.cancel:  # a cancel signal: the handler sees it at once and ends cancelled
            self.complete(row, CANCELLED)
            return
        rec = self.records
        h = self.handlers[rec.handler[row]]
        rec.status[row] = RUNNING
        now = self.env.now
        if run.fresh:
            run.fresh = False
            run.attempt_start = now
            attempts = rec.attempts[row] + 1
            rec.attempts[row] = attempts
            if attempts == 1:
                rec.started[row] = now
        work = h.work
        if work is not None:  # one Work step: the attempt is one event
            run.pc = 1
            self._timeout(work(), row).callbacks.append(self._work_done_cb)
            return
        program = h.program
        while run.pc < len(program):
            step = program[run.pc]
            run.pc += 1
            if type(step) is Work:
                self._timeout(step.duration.sample(self.rng), row).callbacks.append(self._work_done_cb)
                return
            if type(step) is Fail:
                passes = run.passes
                if passes is None:
                    passes = run.passes = {}
                reached = passes[run.pc] = passes.get(run.pc, 0) + 1
                if reached <= step.times:
                    self._attempt_failed(row, run, h)
                    return
                continue
            if run.pc <= run.journal:
                continue  # journaled on an earlier attempt: replayed instantly
            run.journal = run.pc
            if type(step) is Sleep:
                self._free_slot(row, run)
                rec.status[row] = SUSPENDED
                run.failed = failures_after_suspension(run.failed)
                self._after(step.duration.sample(self.rng), self._acquire, row)
                return
            if type(step) is Send:
                self._child(step.service, step.handler, step.key, rec.key[row], step.delay_ms, -1)
                continue
            if type(step) is Call:
                child = self._child(step.service, step.handler, step.key, rec.key[row], 0.0, row)
                self._free_slot(row, run)
                rec.status[row] = SUSPENDED
                run.failed = failures_after_suspension(run.failed)
                run.waiting_on = child
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

    def _work_done(self, event: simpy.Event) -> None:
        row: int = event.value  # type: ignore[assignment]
        rec = self.records
        if rec.status[row] >= FINAL:
            return
        h = self.handlers[rec.handler[row]]
        run = self._runs.get(row)
        if run is not None and (run.cancel or run.pc < len(h.program)):
            self._proceed(row, run)
            return
        # the attempt's last step: straight to its end (_attempt_end, inlined)
        random = self._random
        terminal_p = h.terminal_p
        if terminal_p > 0 and random() < terminal_p:
            self.complete(row, FAILED, h.behaviour.terminal_failure)
            return
        fail_p = h.fail_p
        if fail_p is None:
            attempt_start = rec.started[row] if run is None else run.attempt_start  # a first attempt has no _Run
            failed = h.behaviour.attempt_fails(rec.attempts[row], attempt_start, self.rng)
        else:  # attempt_fails without a schedule, inlined
            failed = fail_p > 0 and random() < fail_p
        if failed:
            self._attempt_failed(row, run if run is not None else self._run_of(row), h)
        elif run is None:  # complete(row, SUCCEEDED) of a first attempt: running, no _Run to take out
            self._finish(row, h, SUCCEEDED, RUNNING, None)
        else:
            self.complete(row, SUCCEEDED)

    def _child_done(self, parent: int, child: int) -> None:
        if self.records.status[parent] >= FINAL:
            return
        self._runs[parent].waiting_on = -1
        owner = self.owner(child)
        if self.records.outcome[owner] == SUCCEEDED:
            self._acquire(parent)
        else:  # the callee's failure surfaces in the caller as the same terminal error
            self.complete(parent, FAILED, self.failures.get(owner))

    def _attempt_end(self, row: int, run: _Run, h: _Handler) -> None:
        terminal_p = h.terminal_p
        if terminal_p > 0 and self.rng.random() < terminal_p:
            self.complete(row, FAILED, h.behaviour.terminal_failure)
        elif h.fails and h.behaviour.attempt_fails(self.records.attempts[row], run.attempt_start, self.rng):
            self._attempt_failed(row, run, h)
        else:
            self.complete(row, SUCCEEDED)

    def _attempt_failed(self, row: int, run: _Run, h: _Handler) -> None:
        """A retryable failure ends the attempt; :func:`~restate_lab.rules.lifecycle.after_failure` says what next."""
        run.failed += 1
        self._free_slot(row, run)
        decision = after_failure(h.policy, run.failed)
        if type(decision) is Retry:
            self.records.status[row] = BACKING_OFF
            run.pc = 0
            run.fresh = True
            self._timeout(decision.delay_ms, row).callbacks.append(self._acquire_cb)
        elif type(decision) is Pause:
            self.records.status[row] = PAUSED  # keeps its key's lock, as in Restate
            run.pc = 0
            run.fresh = True
        else:  # killed by the retry policy: completed with the last failure
            self.complete(row, EXHAUSTED, h.behaviour.retry_failure)

    def complete(self, row: int, outcome: int, failure: FailureText | None = None) -> None:
        """Complete ``row`` (status ``completed``) with ``outcome``, releasing its slot, key and waiters.

        ``failure`` is what a failed outcome answers; kills and cancels answer ``[409] killed`` and
        ``[409] cancelled``.
        """
        rec = self.records
        previous = rec.status[row]
        if previous >= FINAL or previous < 0:
            return
        h = self.handlers[rec.handler[row]]
        if outcome != SUCCEEDED:
            if failure is None:
                failure = (
                    KILLED_FAILURE
                    if outcome == KILLED
                    else CANCELLED_FAILURE
                    if outcome == CANCELLED
                    else h.behaviour.terminal_failure
                )
            self.failures[row] = failure
        self._finish(row, h, outcome, previous, self._runs.pop(row, None))

    def _finish(self, row: int, h: _Handler, outcome: int, previous: int, run: _Run | None) -> None:
        """The rest of :meth:`complete` (its failure recorded, its ``_Run`` taken out): record, release, wake."""
        rec = self.records
        now = self.env.now
        rec.completed[row] = now
        rec.status[row] = COMPLETED
        rec.outcome[row] = outcome
        if outcome == SUCCEEDED and h.result is not None:
            self.results[row] = h.result(self.bodies.get(row))
        if run is None:
            held = previous == RUNNING  # a first attempt with no _Run holds its slot
        else:
            held = run.holding
            run.holding = False
        if held:  # _slot_freed, inlined
            d = h.deployment
            if d.waiting:
                self._slot_freed(d)
            else:
                d.busy_area += d.busy * (now - d.last_change)
                d.last_change = now
                d.busy -= 1
        if previous == READY:
            h.deployment.waiting.remove(row)
        key = rec.key[row]
        lock = h.lock
        if lock >= 0 and previous != SCHEDULED:
            lock |= key
            keyed = self._keyed
            trace = self.queue_trace
            # past pending (in its key's inbox) or scheduled a row holds its key's lock
            if previous != PENDING or keyed.holder(lock) == row:
                nxt = keyed.release(lock)
                if trace is not None:
                    trace.change.append(row << 1)
                if nxt is not None:
                    self._acquire(nxt)
            elif keyed.remove(lock, row) and trace is not None:
                trace.change.append(row << 1)
        idem = rec.idem[row]
        if idem >= 0:
            self._idempotency.completed((h.index, key, idem), now, h.retention_ms)
        if h.workflow_run:
            self._workflows.completed((h.service_index, key), now, h.workflow_retention_ms)
        completions = self.completions = self.completions + 1
        if self._on_progress is not None and not completions & 4095:
            self._on_progress(4096)
        if self._waiters:
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

    def cancel(self, row: int) -> CancelAction:
        """Cancel as :func:`restate_lab.rules.lifecycle.cancel_action` decides for the row's status.

        An invocation that never ran is dropped; a suspended one ends cancelled at once (its handler
        sees the cancellation at the await it suspended on; a callee it waits for is cancelled too);
        a running one ends when its current work does; a backing-off one when its next attempt
        starts; a paused one is resumed to see it. The handler is assumed not to catch it.
        """
        row = self.owner(row)
        rec = self.records
        status = rec.status[row]
        action = cancel_action(STATUSES[status], rec.attempts[row])
        if action is CancelAction.DROP:
            self.complete(row, CANCELLED)
            self.dropped.add(row)
        elif action is CancelAction.END:
            self.complete(row, CANCELLED)
        elif action is not CancelAction.ALREADY_COMPLETED:
            run = self._run_of(row)
            if status == SUSPENDED:
                callee = run.waiting_on
                self.complete(row, CANCELLED)
                if callee >= 0:
                    self.cancel(callee)
            else:
                run.cancel = True
                if action is CancelAction.SIGNAL_AND_RESUME:
                    run.failed = failures_after_resume(run.failed)
                    self._acquire(row)
        return action

    def kill(self, row: int) -> KillAction:
        """Kill as :func:`restate_lab.rules.lifecycle.kill_action` decides: drop it if it never ran,
        else end it now with ``[409] killed`` (and the callee it waits for), releasing its key."""
        row = self.owner(row)
        action = kill_action(STATUSES[self.records.status[row]])
        if action is KillAction.DROP:
            self.complete(row, KILLED)
            self.dropped.add(row)
        elif action is KillAction.END:
            run = self._runs.get(row)
            callee = run.waiting_on if run is not None else -1
            self.complete(row, KILLED)
            if callee >= 0:
                self.kill(callee)
        return action

    def resume(self, row: int) -> bool:
        """Resume a paused invocation with a fresh failure budget; False if it is not paused."""
        row = self.owner(row)
        if self.records.status[row] != PAUSED:
            return False
        run = self._runs[row]
        run.failed = failures_after_resume(run.failed)
        self._acquire(row)
        return True

    # ----------------------------------------------------------------- workloads and Kafka

    def _on_arrival(self, event: simpy.Event) -> None:
        stream: _Stream = event.value  # type: ignore[assignment]
        end = stream.end
        if end != math.inf and self.env.now > end:
            return
        # one arrival (_arrive, inlined for streams to a handler): key, idempotency key, client resend, delay
        h = stream.handler
        if h is None:
            self._arrive(stream)
        else:
            random = self._random
            key = -1
            pick = stream.pick
            if pick is not None:
                index = pick()
                key = stream.codes.get(index, -1)
                if key < 0:
                    key = stream.codes[index] = self.key_code(stream.keys.name(index))  # type: ignore[union-attr]
            idem = -1
            fraction = stream.idem_fraction
            if fraction > 0 and random() < fraction:
                idem = ((stream.index + 1) << _IDEM_BITS) | stream.next_idem
                stream.next_idem += 1
                if stream.retry_p > 0 and random() < stream.retry_p:
                    resend_after = stream.retry_after
                    timeout = self._timeout
                    timeout(resend_after(), (stream, key, idem)).callbacks.append(self._client_retry_cb)
            delay = stream.delay
            self._submit(h, key, idem, delay() if delay is not None else 0.0, -1)
        left = stream.left
        if left > 0:
            stream.left = left = left - 1
            if left == 0:
                return
        timeout, next_gap = self._timeout, stream.next_gap
        timeout(next_gap(), stream).callbacks.append(self._on_arrival_cb)

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
                self._timeout(w.client_retry_after.sample(rng), (stream, key, idem)).callbacks.append(
                    self._client_retry_cb
                )
        delay = w.delay.sample(rng) if w.delay is not None else 0.0
        if stream.handler is None:
            self._produce(w.topic or "", key)
        else:
            self._submit(stream.handler, key, idem, delay, -1)

    def _client_retry(self, event: simpy.Event) -> None:
        stream, key, idem = cast("tuple[_Stream, int, int]", event.value)
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
        """Integral over virtual time of the number of invocations submitted and not yet final.

        Each invocation (deduplicated submissions are none) is in the system from its submission to
        its completion, or to now: the integral is the sum of those spans, summed here when asked
        rather than kept up to date on every submission and completion.
        """
        import numpy as np

        rec = self.records
        n = rec.n
        if not n:
            return 0.0
        now = self.env.now
        submitted = np.frombuffer(rec.submitted, dtype=np.float64)[:n]
        completed = np.frombuffer(rec.completed, dtype=np.float64)[:n]
        counted = np.frombuffer(rec.dedup_of, dtype=np.int32)[:n] < 0
        until = np.where(np.isnan(completed), now, completed)
        return float(np.sum((until - submitted)[counted]))

    def busy_area(self, service: str) -> float:
        """Integral over virtual time of the attempts running on ``service``'s deployment."""
        d = self.deployments[service]
        return d.busy_area + d.busy * (self.env.now - d.last_change)


def _fire(event: simpy.Event) -> None:
    """The one callback of every simulator timeout: its value is the function to call and its argument."""
    fn, arg = cast("tuple[Callable[[Any], None], Any]", event.value)  # a string: no generic alias built per call
    fn(arg)


__all__ = ["DEFAULT_EPOCH_MS", "Simulation"]
