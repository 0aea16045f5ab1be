"""What the durable store keeps of an invocation, and how its waits come back after a restart.

Only records and journals are stored; everything that waits is rebuilt from the journals:
sleeps re-arm their timers (late ones fire at once), calls and attaches wait on their
targets again, promise reads listen again. The engine (``Engine.recover``) puts each restored
invocation back in its place: locks, inboxes, idempotency keys, scheduled and back-off timers.
"""

from __future__ import annotations

from typing import Any

from restate_lab.protocol.messages import VOID, MessageType, Result, completion, notified, result_of
from restate_lab.rules.ids import InvocationId
from restate_lab.rules.targets import HandlerType, ServiceType, Target
from restate_lab.runtime.durable import (
    StoredInvocation,
    await_point_from_json,
    await_point_to_json,
    result_from_json,
    result_to_json,
)
from restate_lab.runtime.invocation import CompletionHook, Invocation, InvocationStatus
from restate_lab.runtime.types import EngineCore


def invocation_record(inv: Invocation) -> dict[str, Any]:
    """What the durable store keeps of an invocation besides its journal."""
    return {
        "id": inv.id_str,
        "service": inv.target.service,
        "handler": inv.target.handler,
        "key": inv.target.key,
        "service_type": inv.service_type.value,
        "handler_type": inv.handler_type.value if inv.handler_type else None,
        "input": inv.input.hex(),
        "headers": list(inv.headers),
        "created_at": inv.created_at_ms,
        "idempotency_key": inv.idempotency_key,
        "idempotency_key_generated": inv.idempotency_key_generated,
        "invoked_by": inv.invoked_by,
        "invoked_by_id": inv.invoked_by_id,
        "invoked_by_subscription_id": inv.invoked_by_subscription_id,
        "restarted_from": inv.restarted_from,
        "execution_time": inv.execution_time_ms,
        "status": inv.status.value,
        "command_count": inv.command_count,
        "awaiting": await_point_to_json(inv.awaiting),
        "result": result_to_json(inv.result),
        "attempts": inv.attempts,
        "retry_count": inv.retry_count,
        "retries_since_stored": inv.retries_since_stored,
        "next_retry_at": inv.next_retry_at_ms,
        "last_failure": inv.last_failure,
        "last_failure_code": inv.last_failure_code,
        "modified_at": inv.modified_at_ms,
        "stored_at": inv.stored_at_ms,
        "running_since": inv.running_since_ms,
        "completed_at": inv.completed_at_ms,
        "retention": inv.retention_ms,
        "random_seed": inv.random_seed,
        "callees": inv.callees or [],
    }


def restore(stored: StoredInvocation) -> Invocation:
    """An invocation as it was stored, with what its journal says it was notified of."""
    rec = stored.record
    inv = Invocation(
        id=InvocationId.parse(stored.id),
        target=Target(rec["service"], rec["handler"], rec["key"]),
        service_type=ServiceType(rec["service_type"]),
        handler_type=HandlerType(rec["handler_type"]) if rec["handler_type"] else None,
        input=bytes.fromhex(rec["input"]),
        headers=[(k, v) for k, v in rec["headers"]],
        created_at_ms=rec["created_at"],
        idempotency_key=rec["idempotency_key"],
        idempotency_key_generated=rec.get("idempotency_key_generated", False),
        invoked_by=rec["invoked_by"],
        invoked_by_id=rec["invoked_by_id"],
        invoked_by_subscription_id=rec.get("invoked_by_subscription_id"),
        restarted_from=rec.get("restarted_from"),
        execution_time_ms=rec["execution_time"],
        status=InvocationStatus(rec["status"]),
        command_count=rec["command_count"],
        awaiting=await_point_from_json(rec["awaiting"]),
        attempts=rec["attempts"],
        retry_count=rec["retry_count"],
        retries_since_stored=rec.get("retries_since_stored", rec["retry_count"]),
        next_retry_at_ms=rec["next_retry_at"],
        last_failure=rec["last_failure"],
        last_failure_code=rec["last_failure_code"],
        running_since_ms=rec["running_since"],
        completed_at_ms=rec["completed_at"],
        retention_ms=rec["retention"],
        random_seed=rec["random_seed"],
        callees=list(rec["callees"]) or None,
        seq=stored.seq,
    )
    inv.result = result_from_json(rec["result"])
    inv.modified_at_ms = rec["modified_at"]
    inv.stored_at_ms = rec.get("stored_at", rec["modified_at"])
    inv.restore_journal(list(stored.journal), stored.appended_at)
    inv.persisted_journal = len(inv.journal)
    for frame in inv.journal:
        if frame.is_notification:
            completion_id, signal = notified(frame.message())
            if signal is not None:
                inv.note_signal(signal)
            elif completion_id is not None:
                inv.note_completion(completion_id)
        elif frame.type == MessageType.OUTPUT_COMMAND:
            inv.pending_output = result_of(frame.message(), void=None)
    return inv


def rewire(engine: EngineCore, inv: Invocation) -> None:
    """Re-register what the journal waits for: timers, callees, attached targets, promises."""
    callee_ids: dict[int, str] = {}
    for frame in inv.journal:
        if frame.type == MessageType.CALL_INVOCATION_ID_COMPLETION:
            notification = frame.message()
            callee_ids[notification.completion_id] = notification.invocation_id
    for frame in inv.journal:
        if frame.type not in _REWIRED:
            continue
        command = frame.message()
        cid = command.result_completion_id
        if cid in inv.notified_completions:
            continue
        if frame.type == MessageType.SLEEP_COMMAND:
            _rearm_sleep(engine, inv, cid, command.wake_up_time)
        elif frame.type == MessageType.CALL_COMMAND:
            callee = engine.find(callee_ids.get(command.invocation_id_notification_idx, ""))
            if callee is not None:
                engine.when_complete(callee, _deliver(engine, inv, MessageType.CALL_COMPLETION, cid))
        elif frame.type == MessageType.ATTACH_INVOCATION_COMMAND:
            target = engine.find(command.invocation_id) if command.WhichOneof("target") == "invocation_id" else None
            if target is not None:
                engine.when_complete(target, _deliver(engine, inv, MessageType.ATTACH_INVOCATION_COMPLETION, cid))
        else:
            engine.await_promise(inv, command.key, cid)


#: The commands whose waits ``rewire`` rebuilds.
_REWIRED = frozenset(
    {
        MessageType.SLEEP_COMMAND,
        MessageType.CALL_COMMAND,
        MessageType.ATTACH_INVOCATION_COMMAND,
        MessageType.GET_PROMISE_COMMAND,
    }
)


def _rearm_sleep(engine: EngineCore, inv: Invocation, cid: int, wake_at: int) -> None:
    frame = completion(MessageType.SLEEP_COMPLETION, cid, VOID)
    engine.at(inv, wake_at, lambda: engine.notify(inv, frame, completion_id=cid))


def _deliver(engine: EngineCore, inv: Invocation, msg_type: int, cid: int) -> CompletionHook:
    def deliver(_target: Invocation, result: Result) -> None:
        engine.notify(inv, completion(msg_type, cid, result), completion_id=cid)

    return deliver
