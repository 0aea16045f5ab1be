"""What each journal command does on the server: state, timers, calls, promises, signals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from restate_lab.protocol import service_protocol_pb2 as pb
from restate_lab.protocol.messages import (
    VOID,
    Failure,
    Frame,
    MessageType,
    Result,
    Value,
    completion,
    invocation_id_completion,
    result_of,
    state_keys_completion,
)
from restate_lab.rules.admission import refuses_repeated_call, workflow_already_invoked
from restate_lab.rules.errors import RestateError
from restate_lab.rules.ids import parse_awakeable_id
from restate_lab.rules.targets import HandlerType, Target
from restate_lab.runtime.invocation import Invocation
from restate_lab.runtime.types import EngineCore

Handler = Callable[[EngineCore, Invocation, Any], None]


def apply(engine: EngineCore, inv: Invocation, frame: Frame, message: Any = None) -> None:
    """Carry out a command the SDK just journaled (``message``: the frame decoded, when it already is)."""
    handler = _HANDLERS.get(frame.type)
    if handler is not None:
        handler(engine, inv, frame.message() if message is None else message)


def _output(engine: EngineCore, inv: Invocation, m: pb.OutputCommandMessage) -> None:
    inv.pending_output = result_of(m, void=None) or Value(b"")


def _get_lazy_state(engine: EngineCore, inv: Invocation, m: pb.GetLazyStateCommandMessage) -> None:
    value = engine.state.get(inv.lock_key, m.key)
    result: Result = VOID if value is None else Value(value)
    cid = m.result_completion_id
    engine.notify(inv, completion(MessageType.GET_LAZY_STATE_COMPLETION, cid, result), completion_id=cid)


def _get_lazy_state_keys(engine: EngineCore, inv: Invocation, m: pb.GetLazyStateKeysCommandMessage) -> None:
    cid = m.result_completion_id
    keys = sorted(engine.state.all(inv.lock_key))
    engine.notify(inv, state_keys_completion(cid, keys), completion_id=cid)


def _set_state(engine: EngineCore, inv: Invocation, m: pb.SetStateCommandMessage) -> None:
    engine.state.set(inv.lock_key, m.key, m.value.content)


def _clear_state(engine: EngineCore, inv: Invocation, m: pb.ClearStateCommandMessage) -> None:
    engine.state.clear(inv.lock_key, m.key)


def _clear_all_state(engine: EngineCore, inv: Invocation, m: pb.ClearAllStateCommandMessage) -> None:
    engine.state.clear_all(inv.lock_key)


def _get_promise(engine: EngineCore, inv: Invocation, m: pb.GetPromiseCommandMessage) -> None:
    engine.await_promise(inv, m.key, m.result_completion_id)


def _peek_promise(engine: EngineCore, inv: Invocation, m: pb.PeekPromiseCommandMessage) -> None:
    cid = m.result_completion_id
    promise = engine.promises.peek(inv.lock_key, m.key)
    result = promise.result if promise is not None and promise.result is not None else VOID
    engine.notify(inv, completion(MessageType.PEEK_PROMISE_COMPLETION, cid, result), completion_id=cid)


def _complete_promise(engine: EngineCore, inv: Invocation, m: pb.CompletePromiseCommandMessage) -> None:
    cid = m.result_completion_id
    value = result_of(m, "completion", value="completion_value", failure="completion_failure", void=None)
    answer: Result = engine.complete_promise(inv.lock_key, m.key, value or Value(b""))
    engine.notify(inv, completion(MessageType.COMPLETE_PROMISE_COMPLETION, cid, answer), completion_id=cid)


def _on_engine_clock(
    engine: EngineCore, inv: Invocation, m: pb.SleepCommandMessage | pb.OneWayCallCommandMessage, field: str
) -> int:
    """The SDK stamped ``field`` from the host's wall clock: the time on the engine clock, journaled as such.

    On the wall clock nothing changes; on a virtual clock the journal then says when the sleep ends (or
    the send runs) in the time the engine reports everywhere else. The SDK does not compare this field
    when it replays the command.
    """
    host_ms: int = getattr(m, field)
    engine_ms = engine.from_host_ms(host_ms, inv.attempt_host_start_ms)
    if engine_ms != host_ms:
        setattr(m, field, engine_ms)
        inv.journal[-1] = Frame(inv.journal[-1].type, m.SerializeToString())
    return engine_ms


def _sleep(engine: EngineCore, inv: Invocation, m: pb.SleepCommandMessage) -> None:
    cid = m.result_completion_id
    frame = completion(MessageType.SLEEP_COMPLETION, cid, VOID)
    wake_up = _on_engine_clock(engine, inv, m, "wake_up_time")
    engine.at(inv, wake_up, lambda: engine.notify(inv, frame, completion_id=cid))


def _call(engine: EngineCore, inv: Invocation, m: pb.CallCommandMessage) -> None:
    _invoke(engine, inv, m, execute_at_ms=None, result_cid=m.result_completion_id)


def _one_way_call(engine: EngineCore, inv: Invocation, m: pb.OneWayCallCommandMessage) -> None:
    invoke_at = _on_engine_clock(engine, inv, m, "invoke_time") if m.invoke_time else None
    _invoke(engine, inv, m, execute_at_ms=invoke_at, result_cid=None)


def _invoke(
    engine: EngineCore,
    inv: Invocation,
    m: pb.CallCommandMessage | pb.OneWayCallCommandMessage,
    execute_at_ms: int | None,
    result_cid: int | None,
) -> None:
    headers = [(h.key, h.value) for h in m.headers]
    id_cid = m.invocation_id_notification_idx
    idempotency_key = m.idempotency_key if m.HasField("idempotency_key") else None
    try:
        meta = engine.services.get(m.service_name)
        key = m.key if meta is not None and meta.keyed else None
        submission = engine.submit(
            Target(m.service_name, m.handler_name, key),
            m.parameter,
            headers,
            idempotency_key=idempotency_key,
            execute_at_ms=execute_at_ms,
            invoked_by=inv,
        )
    except RestateError as err:
        engine.notify(inv, invocation_id_completion(id_cid, ""), completion_id=id_cid)
        if result_cid is not None:
            failed = completion(MessageType.CALL_COMPLETION, result_cid, Failure(err.code, err.message))
            engine.notify(inv, failed, completion_id=result_cid)
        return
    callee = submission.invocation
    engine.notify(inv, invocation_id_completion(id_cid, callee.id_str), completion_id=id_cid)
    if result_cid is not None and refuses_repeated_call(
        callee.handler_type is HandlerType.WORKFLOW, submission.previously_accepted, idempotency_key
    ):
        refused = workflow_already_invoked()
        failed = completion(MessageType.CALL_COMPLETION, result_cid, Failure(refused.code, refused.message))
        engine.notify(inv, failed, completion_id=result_cid)
        return
    if result_cid is not None:
        inv.add_callee(callee.id_str)
        cid = result_cid

        def deliver(_callee: Invocation, result: Result) -> None:
            engine.notify(inv, completion(MessageType.CALL_COMPLETION, cid, result), completion_id=cid)

        engine.when_complete(callee, deliver)


def _send_signal(engine: EngineCore, inv: Invocation, m: pb.SendSignalCommandMessage) -> None:
    signal: int | str = m.name if m.WhichOneof("signal_id") == "name" else m.idx
    engine.signal_from(inv, m.target_invocation_id, signal, result_of(m) or VOID)


def _complete_awakeable(engine: EngineCore, inv: Invocation, m: pb.CompleteAwakeableCommandMessage) -> None:
    try:
        target, index = parse_awakeable_id(m.awakeable_id)
    except ValueError:
        return
    engine.signal_from(inv, str(target), index, result_of(m, void=None) or Value(b""))


def _attach_or_output(engine: EngineCore, inv: Invocation, m: pb.AttachInvocationCommandMessage, attach: bool) -> None:
    cid = m.result_completion_id
    msg_type = MessageType.ATTACH_INVOCATION_COMPLETION if attach else MessageType.GET_INVOCATION_OUTPUT_COMPLETION
    target = None
    which = m.WhichOneof("target")
    if which == "invocation_id":
        target = engine.find(m.invocation_id)
    elif which == "idempotent_request_target":
        idem = m.idempotent_request_target
        key = idem.service_key if idem.HasField("service_key") else None
        target = engine.find_idempotent(idem.service_name, key, idem.handler_name, idem.idempotency_key)
    elif which == "workflow_target":
        target = engine.find_workflow(m.workflow_target.workflow_name, m.workflow_target.workflow_key)
    if target is None:
        missing = Failure(404, "invocation not found") if attach else VOID
        engine.notify(inv, completion(msg_type, cid, missing), completion_id=cid)
        return
    if not attach:
        engine.notify(inv, completion(msg_type, cid, target.result or VOID), completion_id=cid)
        return

    def deliver(_target: Invocation, result: Result) -> None:
        engine.notify(inv, completion(msg_type, cid, result), completion_id=cid)

    engine.when_complete(target, deliver)


_HANDLERS: dict[int, Handler] = {
    MessageType.OUTPUT_COMMAND: _output,
    MessageType.GET_LAZY_STATE_COMMAND: _get_lazy_state,
    MessageType.GET_LAZY_STATE_KEYS_COMMAND: _get_lazy_state_keys,
    MessageType.SET_STATE_COMMAND: _set_state,
    MessageType.CLEAR_STATE_COMMAND: _clear_state,
    MessageType.CLEAR_ALL_STATE_COMMAND: _clear_all_state,
    MessageType.GET_PROMISE_COMMAND: _get_promise,
    MessageType.PEEK_PROMISE_COMMAND: _peek_promise,
    MessageType.COMPLETE_PROMISE_COMMAND: _complete_promise,
    MessageType.SLEEP_COMMAND: _sleep,
    MessageType.CALL_COMMAND: _call,
    MessageType.ONE_WAY_CALL_COMMAND: _one_way_call,
    MessageType.SEND_SIGNAL_COMMAND: _send_signal,
    MessageType.COMPLETE_AWAKEABLE_COMMAND: _complete_awakeable,
    MessageType.ATTACH_INVOCATION_COMMAND: lambda e, i, f: _attach_or_output(e, i, f, attach=True),
    MessageType.GET_INVOCATION_OUTPUT_COMMAND: lambda e, i, f: _attach_or_output(e, i, f, attach=False),
}

#: Every command type of protocol v5/v6; the rest need no server action (input, eager state, run).
KNOWN_COMMANDS = frozenset(_HANDLERS) | {
    MessageType.INPUT_COMMAND,
    MessageType.GET_EAGER_STATE_COMMAND,
    MessageType.GET_EAGER_STATE_KEYS_COMMAND,
    MessageType.RUN_COMMAND,
}
