"""Bring an engine back from its durable store after a restart or a crash.

Only records and journals are stored; everything that waits is rebuilt from the journals:
sleeps re-arm their timers (late ones fire at once), calls and attaches wait on their
targets again, promise reads listen again, scheduled and backing-off invocations get their
timers, and every key's lock goes back to the invocation that held it, its inbox in order.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from restate_lab.protocol.messages import VOID, MessageType, Result, completion, read_result
from restate_lab.rules.ids import InvocationId
from restate_lab.rules.targets import HandlerType, ServiceType, Target
from restate_lab.runtime.durable import (
    DurableStore,
    StoredInvocation,
    await_point_from_json,
    await_point_to_json,
    result_from_json,
    result_to_json,
)
from restate_lab.runtime.invocation import Invocation, InvocationStatus

if TYPE_CHECKING:
    from restate_lab.runtime.engine import Engine

log = logging.getLogger("restate_lab.recovery")


def invocation_record(inv: Invocation) -> dict[str, Any]:
    """What the durable store keeps of an invocation besides its journal."""
    return {
        "id": inv.id_str, "service": inv.target.service, "handler": inv.target.handler, "key": inv.target.key,
        "service_type": inv.service_type.value, "handler_type": inv.handler_type.value if inv.handler_type else None,
        "input": inv.input.hex(), "headers": inv.headers, "created_at": inv.created_at_ms,
        "idempotency_key": inv.idempotency_key, "invoked_by": inv.invoked_by, "invoked_by_id": inv.invoked_by_id,
        "invoked_by_subscription_id": inv.invoked_by_subscription_id,
        "execution_time": inv.execution_time_ms, "status": inv.status.value, "command_count": inv.command_count,
        "awaiting": await_point_to_json(inv.awaiting), "result": result_to_json(inv.result),
        "attempts": inv.attempts, "retry_count": inv.retry_count, "next_retry_at": inv.next_retry_at_ms,
        "last_failure": inv.last_failure, "last_failure_code": inv.last_failure_code,
        "modified_at": inv.modified_at_ms, "running_since": inv.running_since_ms,
        "completed_at": inv.completed_at_ms, "retention": inv.retention_ms, "random_seed": inv.random_seed,
        "callees": inv.callees,
    }


def _restore(stored: StoredInvocation) -> Invocation:
    rec = stored.record
    inv = Invocation(
        id=InvocationId.parse(_id_of(stored)), target=Target(rec["service"], rec["handler"], rec["key"]),
        service_type=ServiceType(rec["service_type"]),
        handler_type=HandlerType(rec["handler_type"]) if rec["handler_type"] else None,
        input=bytes.fromhex(rec["input"]), headers=[(k, v) for k, v in rec["headers"]],
        created_at_ms=rec["created_at"], idempotency_key=rec["idempotency_key"], invoked_by=rec["invoked_by"],
        invoked_by_id=rec["invoked_by_id"],
        invoked_by_subscription_id=rec.get("invoked_by_subscription_id"), execution_time_ms=rec["execution_time"],
        status=InvocationStatus(rec["status"]), command_count=rec["command_count"],
        awaiting=await_point_from_json(rec["awaiting"]), result=result_from_json(rec["result"]),
        attempts=rec["attempts"], retry_count=rec["retry_count"], next_retry_at_ms=rec["next_retry_at"],
        last_failure=rec["last_failure"], last_failure_code=rec["last_failure_code"],
        running_since_ms=rec["running_since"], completed_at_ms=rec["completed_at"], retention_ms=rec["retention"],
        random_seed=rec["random_seed"], callees=list(rec["callees"]), seq=stored.seq,
    )
    inv.modified_at_ms = rec["modified_at"]
    inv.journal = list(stored.journal)
    inv.persisted_journal = len(inv.journal)
    for frame in inv.journal:
        if frame.is_notification:
            fields = frame.fields()
            if frame.type == MessageType.SIGNAL_NOTIFICATION:
                inv.notified_signals.add(fields.uint(2) if fields.has(2) else fields.string(3))
            else:
                inv.notified_completions.add(fields.uint(1))
        elif frame.type == MessageType.OUTPUT_COMMAND:
            inv.pending_output = read_result(frame.fields(), 14, 15)
    return inv


def _id_of(stored: StoredInvocation) -> str:
    return str(stored.record["id"])


def recover_engine(engine: Engine, store: DurableStore) -> int:
    """Load ``store`` into ``engine`` (deployments already registered) and restart what was running."""
    for service, key, name, value in store.state():
        engine.state.set((service, key), name, value)
    engine.state.take_changes()
    for service, key, promise_name, result in store.promises():
        engine.promises.get((service, key), promise_name).result = result
    restored: list[Invocation] = []
    for stored in store.invocations():
        if _id_of(stored) in engine.invocations:
            continue
        if stored.record["service"] not in engine.services:
            log.warning("not resuming %s: service %s is not registered", _id_of(stored), stored.record["service"])
            continue
        inv = _restore(stored)
        engine.invocations[inv.id_str] = inv
        engine._seq = max(engine._seq, inv.seq)
        restored.append(inv)
    now = engine.now_ms()
    for inv in restored:
        _reclaim(engine, inv, now)
    resumed = 0
    # Lock holders first, then everything else in submission order, so inboxes keep their order.
    for inv in sorted(restored, key=lambda i: (i.status is InvocationStatus.PENDING, i.seq)):
        if not inv.completed:
            _rewire(engine, inv)
            _restart(engine, inv)
            resumed += 1
    return resumed


def _reclaim(engine: Engine, inv: Invocation, now: int) -> None:
    """Idempotency keys, workflow ids and retention, derived from the invocation itself."""
    if inv.idempotency_key is not None:
        key = (inv.target.service, inv.target.key, inv.target.handler, inv.idempotency_key)
        engine.idempotency.claim(key, inv.id_str, now)
        if inv.completed and inv.completed_at_ms is not None:
            engine.idempotency.completed(key, inv.completed_at_ms, inv.retention_ms)
    if inv.handler_type is HandlerType.WORKFLOW:
        engine.workflows[inv.lock_key] = inv.id_str
    if inv.completed and inv.completed_at_ms is not None:
        engine.at(None, inv.completed_at_ms + inv.retention_ms, lambda: engine._expire(inv))


def _rewire(engine: Engine, inv: Invocation) -> None:
    """Re-register what the journal waits for: timers, callees, attached targets, promises."""
    callee_ids: dict[int, str] = {}
    for frame in inv.journal:
        if frame.type == MessageType.CALL_INVOCATION_ID_COMPLETION:
            fields = frame.fields()
            callee_ids[fields.uint(1)] = fields.string(16)
    for frame in inv.journal:
        if not frame.is_command:
            continue
        fields = frame.fields()
        cid = fields.uint(11)
        if frame.type == MessageType.SLEEP_COMMAND and cid not in inv.notified_completions:
            _rearm_sleep(engine, inv, cid, fields.uint(1))
        elif frame.type == MessageType.CALL_COMMAND and cid not in inv.notified_completions:
            callee = engine.find(callee_ids.get(fields.uint(10), ""))
            if callee is not None:
                engine.when_complete(callee, _deliver(engine, inv, MessageType.CALL_COMPLETION, cid))
        elif frame.type == MessageType.ATTACH_INVOCATION_COMMAND and cid not in inv.notified_completions:
            target = engine.find(fields.string(1)) if fields.has(1) else None
            if target is not None:
                engine.when_complete(target, _deliver(engine, inv, MessageType.ATTACH_INVOCATION_COMPLETION, cid))
        elif frame.type == MessageType.GET_PROMISE_COMMAND and cid not in inv.notified_completions:
            promise = engine.promises.get(inv.lock_key, fields.string(1))
            if promise.result is not None:
                engine.notify(inv, completion(MessageType.GET_PROMISE_COMPLETION, cid, promise.result),
                              completion_id=cid)
            else:
                promise.listeners.append((inv.id_str, cid))


def _rearm_sleep(engine: Engine, inv: Invocation, cid: int, wake_at: int) -> None:
    frame = completion(MessageType.SLEEP_COMPLETION, cid, VOID)
    engine.at(inv, wake_at, lambda: engine.notify(inv, frame, completion_id=cid))


def _deliver(engine: Engine, inv: Invocation, msg_type: int, cid: int) -> Any:
    def deliver(_target: Invocation, result: Result) -> None:
        engine.notify(inv, completion(msg_type, cid, result), completion_id=cid)

    return deliver


def _restart(engine: Engine, inv: Invocation) -> None:
    """Put an unfinished invocation back where it was: queued, scheduled, waiting or running."""
    status = inv.status
    if status is InvocationStatus.SCHEDULED and inv.execution_time_ms is not None:
        engine.at(inv, inv.execution_time_ms, lambda: engine._enqueue(inv))
        return
    holds = inv.holds_lock and status is not InvocationStatus.PENDING
    if holds:
        engine.locks.offer(inv.lock_key, inv)
    if status is InvocationStatus.PENDING:
        engine._enqueue(inv)
    elif status is InvocationStatus.PAUSED or (
        status is InvocationStatus.SUSPENDED and inv.awaiting is not None and not inv.already_satisfied()
    ):
        return
    elif status is InvocationStatus.BACKING_OFF and inv.next_retry_at_ms is not None:
        engine.at(inv, inv.next_retry_at_ms, lambda: engine._retry(inv))
    else:
        engine._start(inv)

