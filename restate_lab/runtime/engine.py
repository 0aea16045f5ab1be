"""The invocation state machine: accept, schedule, run attempts, retry, suspend, complete.

The engine lives on one asyncio loop and is not thread-safe; the facade in
``restate_lab.runtime.local`` reaches it from other threads through a portal. It owns every
change of an invocation's status: front ends, ``attempt``, ``commands`` and ``recovery`` ask
it (the last three through ``restate_lab.runtime.types.EngineCore``), so the durable store
and the listeners see each one. Time comes from its clock (``restate_lab.runtime.clock``).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import heapq
import itertools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from restate_lab.protocol.asgi import ASGIApp
from restate_lab.protocol.messages import (
    CANCEL_SIGNAL,
    VOID,
    Failure,
    Frame,
    MessageType,
    Result,
    Value,
    completion,
    input_command,
    signal_notification,
)
from restate_lab.protocol.transport import AsgiTransport, HttpTransport, Transport
from restate_lab.rules.admission import DEFAULT_WORKFLOW_RETENTION_MS
from restate_lab.rules.errors import (
    CANCELLED,
    KILLED,
    RestateError,
    already_completed,
    handler_not_found,
    invocation_does_not_exist,
    key_required,
    not_yet_completed,
    promise_already_completed,
    restart_deployment_not_found,
    restart_prefix_incomplete,
    service_not_found,
)
from restate_lab.rules.idempotency import DEFAULT_IDEMPOTENCY_RETENTION_MS, IdempotencyTable
from restate_lab.rules.ids import InvocationId, idempotent_invocation_id, invocation_id_for, new_ulid
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
from restate_lab.rules.targets import HandlerType, ServiceType, Target
from restate_lab.runtime.attempt import Ended, Failed, Suspended, run_attempt
from restate_lab.runtime.clock import Clock, Timer, WallClock
from restate_lab.runtime.durable import DurableStore
from restate_lab.runtime.idle import IdleWatch
from restate_lab.runtime.invocation import CompletionHook, Invocation, InvocationStatus
from restate_lab.runtime.recovery import invocation_record, restore, rewire
from restate_lab.runtime.registry import DEFAULT_INACTIVITY_TIMEOUT_MS, Deployment, ServiceMeta, parse_manifest
from restate_lab.runtime.restart import adopt_journal, journal_prefix, restart_refusal
from restate_lab.runtime.stores import PromiseStore, ServiceId, StateStore
from restate_lab.runtime.types import IdempotencyKey, Submission

log = logging.getLogger("restate_lab.runtime")

#: Restate Server 1.7 keeps every completed invocation's output this long (``completion_retention``).
DEFAULT_COMPLETION_RETENTION_MS = 24 * 3_600_000

CANCELED = Failure(CANCELLED.code, CANCELLED.message)
KILLED_FAILURE = Failure(KILLED.code, KILLED.message)


class Engine:
    """Runs invocations of registered deployments, as Restate Server does, on one event loop.

    Implements ``restate_lab.runtime.types.EngineCore``.
    """

    def __init__(
        self,
        *,
        retry_policy: RetryPolicy | None = None,
        completion_retention_ms: int = DEFAULT_COMPLETION_RETENTION_MS,
        inactivity_timeout_ms: int = DEFAULT_INACTIVITY_TIMEOUT_MS,
        seed: int | None = None,
        store: DurableStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock or WallClock()
        self.retry_policy = retry_policy or RetryPolicy()
        self.completion_retention_ms = completion_retention_ms
        self.inactivity_timeout_ms = inactivity_timeout_ms
        self.services: dict[str, ServiceMeta] = {}
        self.deployments: dict[str, Deployment] = {}
        self.invocations: dict[str, Invocation] = {}
        self.locks: KeyedQueue[ServiceId, Invocation] = KeyedQueue()
        self.idempotency: IdempotencyTable[IdempotencyKey] = IdempotencyTable()
        self.workflows: dict[ServiceId, str] = {}
        self.state = StateStore()
        self.promises = PromiseStore()
        self._rng = random.Random(seed)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._listeners: list[Callable[[Invocation], None]] = []
        self._close_hooks: list[Callable[[], Awaitable[None]]] = []
        self.store = store
        self.state.tracking = store is not None
        self._seq = 0
        self._dirty: set[Invocation] = set()
        self._dirty_promises: set[tuple[ServiceId, str]] = set()
        self._forgotten: set[str] = set()
        #: Completed invocations by expiry time (expiry, order, id, seq: atomic values, a tuple the collector
        #: stops tracking); one sweeper timer, armed for the earliest, forgets them.
        self._retained: list[tuple[int, int, str, int]] = []
        self._retained_order = itertools.count()
        self._sweeper: Timer | None = None
        self._sweep_at_ms: int | None = None
        self._plain_targets: dict[tuple[str, str], Target] = {}
        #: Closes the input of bidirectional attempts once they have been inactive for their timeout.
        self.idle_watch = IdleWatch(self)
        #: Signals the invocation whose answer is being read sent itself (see ``signal_from``).
        self._self_signals: list[tuple[int | str, Result]] = []

    # ---- clock and timers ----

    def now_ms(self) -> int:
        """The engine clock's time in ms since the epoch: every timestamp the runtime reports."""
        return self.clock.now_ms()

    def at(self, inv: Invocation | None, epoch_ms: int, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` at ``epoch_ms`` on the engine's clock (soon if past); tied to ``inv``'s lifetime."""
        # A timer tied to no invocation is housekeeping (retention, watchdog): time-skipping ignores it.
        handle = self.clock.call_at(epoch_ms, callback, background=inv is None)
        if inv is not None:
            if inv.timer_handles is None:
                inv.timer_handles = [handle]
            else:
                inv.timer_handles.append(handle)
        return handle

    def from_host_ms(self, host_epoch_ms: int, since_host_ms: float | None = None) -> int:
        """A time the SDK computed from the host's wall clock (a sleep's wake-up), on the engine clock."""
        return self.clock.from_host_ms(host_epoch_ms, since_host_ms)

    def attempts_in_flight(self) -> int:
        """How many attempts are running (or about to start) on the engine's loop: 0 means idle."""
        return len(self._tasks)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        # Fresh contexts, not copies of the caller's: spawned from inside an attempt (a call, a send),
        # the task and its done callback would each copy the SDK's context variable and so hold that
        # attempt's whole SDK state for as long as the new attempt runs (the callback's copy is one the
        # collector does not even see).
        task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard, context=contextvars.Context())
        return task

    # ---- deployments ----

    async def register(
        self, target: ASGIApp | str | Transport, *, http2: bool | None = None, replaces: str | None = None
    ) -> Deployment:
        """Discover a deployment (an ASGI app, a URL, or a transport) and register its services.

        ``http2`` decides the protocol mode the SDK reports: over HTTP/2 it asks for a bidirectional
        stream, over HTTP/1.1 for request-response. Unset, an in-process app is discovered over HTTP/2,
        as Restate Server drives a deployment served the documented way (hypercorn, HTTP/2), and a URL
        over HTTP/1.1.

        With ``replaces`` (a registered deployment's id) the new deployment takes over that id, as
        re-registering a known URL does on Restate Server; the old one's transport is closed.
        """
        if isinstance(target, str):
            transport: Transport = HttpTransport(target)
        elif hasattr(target, "invoke") and hasattr(target, "discover"):
            transport = target  # type: ignore[assignment]
        else:
            transport = AsgiTransport(target)
        if http2 is None:
            http2 = isinstance(transport, AsgiTransport)
        manifest = await transport.discover(http2)
        deployment, services = parse_manifest(manifest, transport)
        deployment.created_at_ms = self.now_ms()
        if replaces is not None:
            previous_deployment = self.deployments.pop(replaces, None)
            deployment.id = replaces
            if previous_deployment is not None and previous_deployment.transport is not transport:
                await previous_deployment.transport.close()
        self.deployments[deployment.id] = deployment
        for service in services:
            previous = self.services.get(service.name)
            if previous is not None:
                service.revision = previous.revision + 1
            self.services[service.name] = service
        return deployment

    def remove_deployment(self, deployment_id: str) -> Deployment | None:
        """Forget a deployment and the services it offers (None if there is no such deployment)."""
        deployment = self.deployments.pop(deployment_id, None)
        if deployment is not None:
            for name in [s.name for s in self.services.values() if s.deployment is deployment]:
                del self.services[name]
        return deployment

    def resolve(self, service: str, handler: str) -> tuple[ServiceMeta, Any]:
        meta = self.services.get(service)
        if meta is None:
            raise service_not_found(service)
        handler_meta = meta.handlers.get(handler)
        if handler_meta is None:
            raise handler_not_found(service, handler)
        return meta, handler_meta

    # ---- accepting invocations ----

    def submit(
        self,
        target: Target,
        body: bytes,
        headers: list[tuple[str, str]],
        *,
        idempotency_key: str | None = None,
        execute_at_ms: int | None = None,
        invoked_by: Invocation | None = None,
        subscription_id: str | None = None,
    ) -> Submission:
        """Accept an invocation, or return the one an idempotency key or workflow id already owns."""
        meta, handler = self.resolve(target.service, target.handler)
        if meta.keyed and target.key is None:
            raise key_required(meta.name)
        if not meta.keyed:
            # One shared target per unkeyed handler: one object fewer per retained invocation.
            plain = self._plain_targets.get((target.service, target.handler))
            if plain is None:
                plain = self._plain_targets[(target.service, target.handler)] = Target(target.service, target.handler)
            target = plain
        now = self.now_ms()
        from_ingress = invoked_by is None and subscription_id is None
        generated = idempotency_key is None and from_ingress and meta.ty is not ServiceType.WORKFLOW
        if generated:
            # Restate's ingress stores every plain request (but a workflow's) as an idempotent one under a
            # fresh ULID: it is the request's idempotency key (attach by it, resend with it), and its id
            # derives from it.
            idempotency_key = new_ulid(now, self._rng)
        inv_id = self.invocation_id_for(target, idempotency_key, handler.ty)
        idem_key: IdempotencyKey | None = None
        if idempotency_key is not None and not generated:
            # A key the ingress generated for an earlier plain request: that request, found by the id it derives.
            earlier = self._owner_of_generated_key(str(inv_id), idempotency_key)
            if earlier is not None:
                return Submission(earlier, previously_accepted=True)
            idem_key = (target.service, target.key, target.handler, idempotency_key)
            owner, fresh = self.idempotency.claim(idem_key, str(inv_id), now)
            if not fresh and owner in self.invocations:
                return Submission(self.invocations[owner], previously_accepted=True)
            if not fresh:
                self.idempotency.forget(idem_key)
                self.idempotency.claim(idem_key, str(inv_id), now)
        if handler.ty is HandlerType.WORKFLOW:
            existing = self.workflows.get(target.service_id)
            if existing is not None and existing in self.invocations:
                return Submission(self.invocations[existing], previously_accepted=True)
            self.workflows[target.service_id] = str(inv_id)
        inv = Invocation(
            id=inv_id,
            target=target,
            service_type=meta.ty,
            handler_type=handler.ty,
            input=body,
            headers=headers,
            created_at_ms=now,
            idempotency_key=idempotency_key,
            idempotency_key_generated=generated,
            invoked_by="service" if invoked_by is not None else "subscription" if subscription_id else "ingress",
            invoked_by_id=None if invoked_by is None else invoked_by.id_str,
            invoked_by_subscription_id=subscription_id,
            random_seed=int.from_bytes(hashlib.sha256(inv_id.raw).digest()[:8], "big"),
        )
        inv.append_entry(input_command(headers, body), now)
        self._seq += 1
        inv.seq = self._seq
        self.invocations[inv.id_str] = inv
        if execute_at_ms is not None and execute_at_ms > now:
            inv.status = InvocationStatus.SCHEDULED
            inv.execution_time_ms = execute_at_ms
            self.at(inv, execute_at_ms, lambda: self._enqueue(inv))
        else:
            self._enqueue(inv)
        self._changed(inv)
        self.flush()
        return Submission(inv)

    def invocation_id_for(
        self, target: Target, idempotency_key: str | None, handler_type: HandlerType | None
    ) -> InvocationId:
        """Workflow runs and idempotent requests get the same id for the same target and key."""
        return invocation_id_for(
            target.service, target.handler, target.key, idempotency_key, handler_type is HandlerType.WORKFLOW, self._rng
        )

    def _enqueue(self, inv: Invocation) -> None:
        if inv.completed:
            return
        if inv.holds_lock and not self.locks.offer(inv.lock_key, inv):
            inv.status = InvocationStatus.PENDING
            inv.modified_at_ms = self.now_ms()
            return
        self._start(inv)

    def _start(self, inv: Invocation) -> None:
        inv.status = InvocationStatus.READY
        inv.next_retry_at_ms = None
        inv.attempt_task = self._spawn(self._drive(inv))

    # ---- running ----

    async def _drive(self, inv: Invocation) -> None:
        now = self.now_ms()
        since_stored = max(0, now - inv.stored_at_ms)
        inv.attempts += 1
        inv.status = InvocationStatus.RUNNING
        inv.running_since_ms = now
        inv.modified_at_ms = now
        inv.awaiting = None
        try:
            outcome = await run_attempt(self, inv, since_stored)
        except asyncio.CancelledError:
            return
        except Exception as exc:  # a bug in the runtime must not take the server down
            log.exception("attempt of %s crashed", inv.id_str)
            outcome = Failed(500, f"internal error in restate_lab: {exc!r}")
        if inv.attempt_task is asyncio.current_task():
            inv.attempt_task = None  # a finished task would hold its coroutine for as long as inv waits
        if inv.completed:
            return
        if isinstance(outcome, Ended):
            self._complete(inv, inv.pending_output or Value(b""))
        elif isinstance(outcome, Suspended):
            inv.retry_count = failures_after_suspension(inv.retry_count)
            inv.awaiting = outcome.point
            if inv.already_satisfied():
                self._start(inv)
            else:
                inv.status = InvocationStatus.SUSPENDED
                inv.modified_at_ms = self.now_ms()
        else:
            self._attempt_failed(inv, outcome)
        self._changed(inv)

    def _attempt_failed(self, inv: Invocation, outcome: Failed) -> None:
        inv.retry_count += 1
        inv.retries_since_stored += 1
        where = f" ({outcome.related_command})" if outcome.related_command else ""
        inv.last_failure = f"[{outcome.code}] {outcome.message}{where}"
        inv.last_failure_code = outcome.code
        handler = self.services[inv.target.service].handlers.get(inv.target.handler)
        policy = (handler.retry_policy if handler is not None else None) or self.retry_policy
        decision = after_failure(policy, inv.retry_count, outcome.next_retry_delay_ms)
        if isinstance(decision, Pause):
            inv.status = InvocationStatus.PAUSED
            inv.modified_at_ms = self.now_ms()
            return
        if not isinstance(decision, Retry):
            self._complete(inv, Failure(outcome.code, outcome.message))
            return
        inv.status = InvocationStatus.BACKING_OFF
        inv.next_retry_at_ms = self.now_ms() + decision.delay_ms
        self.at(inv, inv.next_retry_at_ms, lambda: self._retry(inv))

    def _retry(self, inv: Invocation) -> None:
        if inv.status is InvocationStatus.BACKING_OFF:
            self._start(inv)

    def resume(self, invocation_id: str) -> None:
        """Resume a paused invocation (as the admin API's resume does)."""
        inv = self._get(invocation_id)
        if inv.status is InvocationStatus.PAUSED:
            inv.retry_count = failures_after_resume(inv.retry_count)
            self._start(inv)
            self._changed(inv)

    def pause(self, invocation_id: str) -> None:
        """Stop the current attempt and park the invocation as ``paused`` until it is resumed.

        The journal stays, so a resume replays it, as a retry would.
        """
        inv = self._get(invocation_id)
        if inv.completed or inv.status is InvocationStatus.PAUSED:
            return
        if inv.attempt_task is not None and not inv.attempt_task.done():
            inv.attempt_task.cancel()
        inv.live_input = None
        inv.status = InvocationStatus.PAUSED
        inv.next_retry_at_ms = None
        inv.modified_at_ms = self.now_ms()
        self._changed(inv)
        self.flush()

    def notify(
        self, inv: Invocation, frame: Frame, *, completion_id: int | None = None, signal: int | str | None = None
    ) -> None:
        """Append a notification to ``inv``'s journal and wake it if it waits for it."""
        if inv.completed:
            return
        inv.append_entry(frame, self.now_ms())
        if completion_id is not None:
            inv.note_completion(completion_id)
        if signal is not None:
            inv.note_signal(signal)
        inv.modified_at_ms = self.now_ms()
        if self.store is not None:
            self._dirty.add(inv)
        if inv.live_input is not None:
            self.flush()
            inv.live_input.put_nowait(frame.encode())
        elif inv.status is InvocationStatus.SUSPENDED and inv.wakes_on(completion_id, signal):
            self._start(inv)

    def deliver_signal(self, invocation_id: str, signal: int | str, result: Result) -> None:
        if signal == CANCEL_SIGNAL:
            self.cancel(invocation_id, missing_ok=True)
            return
        inv = self.invocations.get(invocation_id)
        if inv is not None:
            self.notify(inv, signal_notification(signal, result), signal=signal)

    def signal_from(self, sender: Invocation, invocation_id: str, signal: int | str, result: Result) -> None:
        """A signal ``sender``'s attempt sends: delivered now, or held if it targets ``sender`` itself.

        On Restate Server a signal to oneself travels through the outbox and comes back after the commands
        sent with it: it is journaled after them, and never if they ended the invocation (measured on
        1.7.12). So it waits until the rest of the chunk it came in has been read (release_self_signals).
        """
        if invocation_id == sender.id_str:
            self._self_signals.append((signal, result))
        else:
            self.deliver_signal(invocation_id, signal, result)

    def release_self_signals(self, inv: Invocation, ended: bool) -> None:
        """Deliver the signals ``inv`` sent itself in the chunk just read; none if that chunk ended it."""
        held, self._self_signals = self._self_signals, []
        if not ended:
            for signal, result in held:
                self.deliver_signal(inv.id_str, signal, result)

    def await_promise(self, inv: Invocation, name: str, completion_id: int) -> None:
        """Notify ``inv`` of its workflow's promise ``name`` once (or as soon as) it is completed."""
        promise = self.promises.get(inv.lock_key, name)
        if promise.result is not None:
            frame = completion(MessageType.GET_PROMISE_COMPLETION, completion_id, promise.result)
            self.notify(inv, frame, completion_id=completion_id)
        else:
            promise.listeners.append((inv.id_str, completion_id))

    def complete_promise(self, sid: ServiceId, name: str, result: Result) -> Result:
        """Complete a workflow promise once; later attempts get a failure."""
        promise = self.promises.get(sid, name)
        if promise.result is not None:
            done = promise_already_completed()
            return Failure(done.code, done.message)
        promise.result = result
        if self.store is not None:
            self._dirty_promises.add((sid, name))
        listeners, promise.listeners = promise.listeners, []
        for inv_id, cid in listeners:
            waiter = self.invocations.get(inv_id)
            if waiter is not None:
                self.notify(waiter, completion(MessageType.GET_PROMISE_COMPLETION, cid, result), completion_id=cid)
        return VOID

    # ---- completion ----

    def when_complete(self, inv: Invocation, hook: CompletionHook) -> None:
        """Call ``hook`` with the result once ``inv`` completes (at once if it has)."""
        if inv.completed and inv.result is not None:
            hook(inv, inv.result)
        elif inv.on_complete is None:
            inv.on_complete = [hook]
        else:
            inv.on_complete.append(hook)

    async def wait(self, inv: Invocation) -> Result:
        """Wait for ``inv``'s result."""
        if inv.completed and inv.result is not None:
            return inv.result
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        if inv.waiters is None:
            inv.waiters = [future]
        else:
            inv.waiters.append(future)
        return await future

    def _complete(self, inv: Invocation, result: Result) -> None:
        now = self.now_ms()
        inv.status = InvocationStatus.COMPLETED
        inv.result = result
        inv.completed_at_ms = now
        inv.modified_at_ms = now
        inv.live_input = None
        inv.awaiting = None
        handles = inv.timer_handles
        if handles is not None:
            inv.timer_handles = None
            for handle in handles:
                handle.cancel()
        if inv.holds_lock:
            if self.locks.holder(inv.lock_key) is inv:
                nxt = self.locks.release(inv.lock_key)
                if nxt is not None:
                    self._start(nxt)
            else:
                self.locks.remove(inv.lock_key, inv)
        handler = self.services[inv.target.service].handlers.get(inv.target.handler)
        retention = self.completion_retention_ms
        if inv.idempotency_key is not None and not inv.idempotency_key_generated:
            idem = (handler.idempotency_retention_ms if handler else None) or DEFAULT_IDEMPOTENCY_RETENTION_MS
            self.idempotency.completed(self._idem_key(inv), now, idem)
            retention = max(retention, idem)
        if inv.handler_type is HandlerType.WORKFLOW:
            wf = (handler.workflow_completion_retention_ms if handler else None) or DEFAULT_WORKFLOW_RETENTION_MS
            retention = max(retention, wf)
        inv.retention_ms = retention
        self._retain(inv, now + retention)
        self._changed(inv)
        self.flush()
        # A retained invocation keeps none of these lists (few objects for the collector to scan).
        waiters = inv.waiters
        if waiters is not None:
            inv.waiters = None
            for future in waiters:
                if not future.done():
                    future.set_result(result)
        hooks = inv.on_complete
        if hooks is not None:
            inv.on_complete = None
            for hook in hooks:
                hook(inv, result)
        inv.pack()

    def _idem_key(self, inv: Invocation) -> IdempotencyKey:
        assert inv.idempotency_key is not None
        return (inv.target.service, inv.target.key, inv.target.handler, inv.idempotency_key)

    def _retain(self, inv: Invocation, expires_at_ms: int) -> None:
        """Forget ``inv`` at ``expires_at_ms``: one sweeper on the engine clock, not one timer per completion."""
        heapq.heappush(self._retained, (expires_at_ms, next(self._retained_order), inv.id_str, inv.seq))
        if self._sweep_at_ms is None or expires_at_ms < self._sweep_at_ms:
            self._arm_sweeper(expires_at_ms)

    def _arm_sweeper(self, at_ms: int) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        self._sweep_at_ms = at_ms
        self._sweeper = self.at(None, at_ms, self._sweep)

    def _sweep(self) -> None:
        self._sweeper = self._sweep_at_ms = None
        now = self.now_ms()
        retained = self._retained
        while retained and retained[0][0] <= now:
            _at, _order, invocation_id, seq = heapq.heappop(retained)
            self._expire(invocation_id, seq)
        if retained:
            self._arm_sweeper(retained[0][0])

    def _expire(self, invocation_id: str, seq: int) -> None:
        """Forget the retained invocation ``invocation_id`` unless it has since been replaced (purged, re-run)."""
        inv = self.invocations.get(invocation_id)
        if inv is not None and inv.seq == seq:
            self._forget(inv)

    def _forget(self, inv: Invocation) -> None:
        self.invocations.pop(inv.id_str, None)
        if self.store is not None:
            self._dirty.discard(inv)
            self._forgotten.add(inv.id_str)
        if inv.idempotency_key is not None and not inv.idempotency_key_generated:
            entry = self.idempotency.lookup(self._idem_key(inv), self.now_ms())
            if entry is not None and entry.invocation_id == inv.id_str:
                self.idempotency.forget(self._idem_key(inv))
        if inv.handler_type is HandlerType.WORKFLOW and self.workflows.get(inv.lock_key) == inv.id_str:
            del self.workflows[inv.lock_key]
            self.state.clear_all(inv.lock_key)
            self.promises.clear(inv.lock_key)
            if self.store is not None and inv.target.key is not None:
                self.store.forget_workflow_state(inv.target.service, inv.target.key)
        self.flush()

    # ---- lookups ----

    def find(self, invocation_id: str) -> Invocation | None:
        return self.invocations.get(invocation_id)

    def _get(self, invocation_id: str) -> Invocation:
        inv = self.invocations.get(invocation_id)
        if inv is None:
            raise invocation_does_not_exist(invocation_id)
        return inv

    def find_idempotent(self, service: str, key: str | None, handler: str, idempotency_key: str) -> Invocation | None:
        entry = self.idempotency.lookup((service, key, handler, idempotency_key), self.now_ms())
        if entry is not None:
            return self.invocations.get(entry.invocation_id)
        derived = idempotent_invocation_id(service, handler, key, idempotency_key)
        return self._owner_of_generated_key(str(derived), idempotency_key)

    def _owner_of_generated_key(self, invocation_id: str, idempotency_key: str) -> Invocation | None:
        """The retained plain request whose generated key is ``idempotency_key`` (its id derives from the key).

        Generated keys stay out of the idempotency table: the id they derive finds the invocation, so a
        plain request costs no table entry for the day it is retained.
        """
        inv = self.invocations.get(invocation_id)
        if inv is not None and inv.idempotency_key_generated and inv.idempotency_key == idempotency_key:
            return inv
        return None

    def find_workflow(self, workflow: str, workflow_id: str) -> Invocation | None:
        inv_id = self.workflows.get((workflow, workflow_id))
        return None if inv_id is None else self.invocations.get(inv_id)

    # ---- cancel, kill, purge ----

    def cancel(self, invocation_id: str, *, missing_ok: bool = False) -> None:
        """Ask an invocation to stop: it sees a cancellation and may compensate; callees are cancelled too.

        What happens in each status is :func:`restate_lab.rules.lifecycle.cancel_action`'s decision.
        ``missing_ok`` (internal cancels: signals, callees) makes unknown and completed ids a no-op.
        """
        inv = self.invocations.get(invocation_id)
        if inv is None:
            if missing_ok:
                return
            raise invocation_does_not_exist(invocation_id)
        action = cancel_action(inv.status, inv.attempts)
        if action is CancelAction.ALREADY_COMPLETED:
            if missing_ok:
                return
            raise already_completed(invocation_id)
        if action is CancelAction.DROP:
            # Restate Server drops an inboxed or scheduled invocation that is cancelled: it never
            # ran, so nothing is kept (output then answers 404 "invocation not found").
            self._complete(inv, CANCELED)
            self._forget(inv)
            return
        if action is CancelAction.END:
            if inv.attempt_task is not None:
                inv.attempt_task.cancel()
            self._complete(inv, CANCELED)
            return
        for callee in list(inv.callees or ()):
            self.cancel(callee, missing_ok=True)
        self.notify(inv, signal_notification(CANCEL_SIGNAL, VOID), signal=CANCEL_SIGNAL)
        if action is CancelAction.SIGNAL_AND_RESUME:
            # The resume starts the attempt that sees the signal; a backing-off invocation keeps
            # its back-off and the next attempt sees it (as on Restate Server).
            inv.retry_count = failures_after_resume(inv.retry_count)
            self._start(inv)

    def kill(self, invocation_id: str) -> None:
        """Stop an invocation at once, without running its code again; callees are killed too.

        What happens in each status is :func:`restate_lab.rules.lifecycle.kill_action`'s decision.
        """
        inv = self._get(invocation_id)
        action = kill_action(inv.status)
        if action is KillAction.ALREADY_COMPLETED:
            raise already_completed(invocation_id)
        if action is KillAction.DROP:
            self._complete(inv, KILLED_FAILURE)
            self._forget(inv)
            return
        for callee in list(inv.callees or ()):
            callee_inv = self.invocations.get(callee)
            if callee_inv is not None and not callee_inv.completed:
                self.kill(callee)
        if inv.attempt_task is not None and not inv.attempt_task.done():
            inv.attempt_task.cancel()
        self._complete(inv, KILLED_FAILURE)

    def purge(self, invocation_id: str) -> None:
        """Forget a completed invocation: its output, idempotency entry and workflow state."""
        inv = self._get(invocation_id)
        if not inv.completed:
            raise not_yet_completed(invocation_id)
        self._forget(inv)

    def purge_journal(self, invocation_id: str) -> None:
        """Drop a completed invocation's journal, keeping its output (the admin API's purge-journal)."""
        inv = self._get(invocation_id)
        if not inv.completed:
            raise RestateError(409, f"invocation '{invocation_id}' is not completed yet, cannot purge its journal")
        inv.journal = []
        inv.persisted_journal = 0
        inv.modified_at_ms = self.now_ms()
        self._changed(inv)
        self.flush()

    def restart_as_new(
        self, invocation_id: str, *, from_index: int | None = None, deployment_id: str | None = None
    ) -> Invocation:
        """Run a completed invocation again as a new one, with its input; the original stays as it is.

        ``from_index`` keeps the original journal up to that entry (and the completions of its
        commands), so the handler replays it; ``deployment_id`` must name a registered deployment.
        Refusals are the real server's, in its order (:mod:`restate_lab.runtime.restart`).
        """
        old = self._get(invocation_id)
        refusal = restart_refusal(old)
        if refusal is not None:
            raise refusal
        if deployment_id is not None and deployment_id not in self.deployments:
            raise restart_deployment_not_found(invocation_id)
        journal = journal_prefix(old.journal, from_index or 0)
        if journal is None:
            raise restart_prefix_incomplete(invocation_id)
        self.resolve(old.target.service, old.target.handler)  # the service may have gone since
        new_id = InvocationId.new(old.id.partition_key, self._rng)
        inv = Invocation(
            id=new_id,
            target=old.target,
            service_type=old.service_type,
            handler_type=old.handler_type,
            input=old.input,
            headers=list(old.headers),
            created_at_ms=self.now_ms(),
            invoked_by="restart_as_new",
            restarted_from=old.id_str,
            random_seed=int.from_bytes(hashlib.sha256(new_id.raw).digest()[:8], "big"),
        )
        adopt_journal(inv, journal, self.now_ms())
        self._seq += 1
        inv.seq = self._seq
        self.invocations[inv.id_str] = inv
        self._enqueue(inv)
        self._changed(inv)
        self.flush()
        return inv

    # ---- observers ----

    def subscribe(self, listener: Callable[[Invocation], None]) -> None:
        """Call ``listener`` on every status change (durable stores and introspection use this)."""
        self._listeners.append(listener)

    def _changed(self, inv: Invocation) -> None:
        if self.store is not None and self.invocations.get(inv.id_str) is inv:
            self._dirty.add(inv)
        for listener in self._listeners:
            listener(inv)

    def mark(self, inv: Invocation) -> None:
        """Note that ``inv`` changed and must reach the durable store at the next flush."""
        if self.store is not None:
            self._dirty.add(inv)

    def flush(self) -> None:
        """Write everything changed since the last flush to the durable store, in one transaction."""
        store = self.store
        if store is None:
            return
        changed, cleared = self.state.take_changes()
        if not (self._dirty or changed or cleared or self._dirty_promises or self._forgotten):
            return
        dirty = list(self._dirty)
        invocations = []
        for inv in dirty:
            start = min(inv.persisted_journal, len(inv.journal))
            tail = inv.journal[start:]
            invocations.append((inv.id_str, inv.seq, invocation_record(inv), start, tail, inv.appended_at()[start:]))
        promises = []
        for sid, name in self._dirty_promises:
            promise = self.promises.peek(sid, name)
            if promise is not None and promise.result is not None and sid[1] is not None:
                promises.append((sid[0], sid[1], name, promise.result))
        store.write(
            invocations,
            ((sid[0], sid[1] or "", key, value) for sid, key, value in changed),
            ((sid[0], sid[1] or "") for sid in cleared),
            promises,
            list(self._forgotten),
        )
        for inv in dirty:
            inv.persisted_journal = len(inv.journal)
        self._dirty.clear()
        self._dirty_promises.clear()
        self._forgotten.clear()

    # ---- recovery ----

    async def recover(self) -> int:
        """Load the durable store and carry on every unfinished invocation; returns how many resumed.

        Deployments must be registered first: invocations of unknown services stay in the store.
        """
        store = self.store
        if store is None:
            return 0
        for service, key, name, value in store.state():
            self.state.set((service, key), name, value)
        self.state.take_changes()
        for service, key, promise_name, result in store.promises():
            self.promises.get((service, key), promise_name).result = result
        restored: list[Invocation] = []
        for stored in store.invocations():
            if stored.id in self.invocations:
                continue
            if stored.service not in self.services:
                log.warning("not resuming %s: service %s is not registered", stored.id, stored.service)
                continue
            inv = restore(stored)
            if inv.completed:
                inv.pack()
            self.invocations[inv.id_str] = inv
            self._seq = max(self._seq, inv.seq)
            restored.append(inv)
        now = self.now_ms()
        for inv in restored:
            self._reclaim(inv, now)
        resumed = 0
        # Lock holders first, then everything else in submission order, so inboxes keep their order.
        for inv in sorted(restored, key=lambda i: (i.status is InvocationStatus.PENDING, i.seq)):
            if not inv.completed:
                rewire(self, inv)
                self._restart(inv)
                resumed += 1
        return resumed

    def _reclaim(self, inv: Invocation, now: int) -> None:
        """A restored invocation's idempotency key, workflow id and retention, derived from itself."""
        if inv.idempotency_key is not None and not inv.idempotency_key_generated:
            key = self._idem_key(inv)
            self.idempotency.claim(key, inv.id_str, now)
            if inv.completed and inv.completed_at_ms is not None:
                self.idempotency.completed(key, inv.completed_at_ms, inv.retention_ms)
        if inv.handler_type is HandlerType.WORKFLOW:
            self.workflows[inv.lock_key] = inv.id_str
        if inv.completed and inv.completed_at_ms is not None:
            self._retain(inv, inv.completed_at_ms + inv.retention_ms)

    def _restart(self, inv: Invocation) -> None:
        """Put a restored unfinished invocation back where it was: queued, scheduled, waiting or running."""
        status = inv.status
        if status is InvocationStatus.SCHEDULED and inv.execution_time_ms is not None:
            self.at(inv, inv.execution_time_ms, lambda: self._enqueue(inv))
            return
        if inv.holds_lock and status is not InvocationStatus.PENDING:
            self.locks.offer(inv.lock_key, inv)
        if status is InvocationStatus.PENDING:
            self._enqueue(inv)
        elif status is InvocationStatus.PAUSED or (
            status is InvocationStatus.SUSPENDED and inv.awaiting is not None and not inv.already_satisfied()
        ):
            return
        elif status is InvocationStatus.BACKING_OFF and inv.next_retry_at_ms is not None:
            self.at(inv, inv.next_retry_at_ms, lambda: self._retry(inv))
        else:
            self._start(inv)

    # ---- lifetime ----

    def on_close(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Await ``hook`` first when the engine closes (front ends stop their consumers with it)."""
        self._close_hooks.append(hook)

    async def close(self) -> None:
        """Stop every timer, attempt and transport, run the close hooks, and flush the durable store."""
        hooks, self._close_hooks = self._close_hooks, []
        for hook in hooks:
            await hook()
        for inv in self.invocations.values():
            for handle in inv.timer_handles or ():
                handle.cancel()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = self._sweep_at_ms = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.idle_watch.close()
        for deployment in self.deployments.values():
            await deployment.transport.close()
        if self.store is not None:
            self.flush()
            self.store.close()
            self.store = None
