"""What each journal command does on the server: state, timers, calls, promises, signals."""

from __future__ import annotations

from collections.abc import Callable

from restate_lab.protocol.messages import (
    VOID,
    Failure,
    Fields,
    Frame,
    MessageType,
    Result,
    Value,
    completion,
    invocation_id_completion,
    read_result,
    state_keys_completion,
)
from restate_lab.rules.errors import RestateError
from restate_lab.rules.ids import parse_awakeable_id
from restate_lab.rules.targets import Target
from restate_lab.runtime.invocation import Invocation
from restate_lab.runtime.types import EngineCore

Handler = Callable[[EngineCore, Invocation, Fields], None]


def apply(engine: EngineCore, inv: Invocation, frame: Frame, fields: Fields | None = None) -> None:
    """Carry out a command the SDK just journaled (``fields``: its payload, when already parsed)."""
    handler = _HANDLERS.get(frame.type)
    if handler is not None:
        handler(engine, inv, frame.fields() if fields is None else fields)


def _output(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    inv.pending_output = read_result(f, 14, 15) or Value(b"")


def _get_lazy_state(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    value = engine.state.get(inv.lock_key, f.bytes_(1))
    result: Result = VOID if value is None else Value(value)
    cid = f.uint(11)
    engine.notify(inv, completion(MessageType.GET_LAZY_STATE_COMPLETION, cid, result), completion_id=cid)


def _get_lazy_state_keys(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    cid = f.uint(11)
    keys = sorted(engine.state.all(inv.lock_key))
    engine.notify(inv, state_keys_completion(cid, keys), completion_id=cid)


def _set_state(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    nested = f.message(3)
    engine.state.set(inv.lock_key, f.bytes_(1), nested.bytes_(1) if nested else b"")


def _clear_state(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    engine.state.clear(inv.lock_key, f.bytes_(1))


def _clear_all_state(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    engine.state.clear_all(inv.lock_key)


def _get_promise(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    engine.await_promise(inv, f.string(1), f.uint(11))


def _peek_promise(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    cid = f.uint(11)
    promise = engine.promises.peek(inv.lock_key, f.string(1))
    result = promise.result if promise is not None and promise.result is not None else VOID
    engine.notify(inv, completion(MessageType.PEEK_PROMISE_COMPLETION, cid, result), completion_id=cid)


def _complete_promise(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    cid = f.uint(11)
    name = f.string(1)
    value = read_result(f, 2, 3) or Value(b"")
    answer: Result = engine.complete_promise(inv.lock_key, name, value)
    engine.notify(inv, completion(MessageType.COMPLETE_PROMISE_COMPLETION, cid, answer), completion_id=cid)


def _sleep(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    cid = f.uint(11)
    frame = completion(MessageType.SLEEP_COMPLETION, cid, VOID)
    engine.at(inv, f.uint(1), lambda: engine.notify(inv, frame, completion_id=cid))


def _call(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    _invoke(engine, inv, f, one_way=False)


def _one_way_call(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    _invoke(engine, inv, f, one_way=True)


def _invoke(engine: EngineCore, inv: Invocation, f: Fields, one_way: bool) -> None:
    headers_no, key_no, idem_no = (5, 6, 7) if one_way else (4, 5, 6)
    service, handler = f.string(1), f.string(2)
    headers = [(h.string(1), h.string(2)) for h in f.messages(headers_no)]
    key = f.optional_string(key_no)
    id_cid = f.uint(10)
    result_cid = None if one_way else f.uint(11)
    try:
        meta = engine.services.get(service)
        target = Target(service, handler, key if meta is not None and meta.keyed else None)
        submission = engine.submit(
            target, f.bytes_(3), headers, idempotency_key=f.optional_string(idem_no),
            execute_at_ms=f.uint(4) or None if one_way else None, invoked_by=inv,
        )
    except RestateError as err:
        engine.notify(inv, invocation_id_completion(id_cid, ""), completion_id=id_cid)
        if result_cid is not None:
            failed = completion(MessageType.CALL_COMPLETION, result_cid, Failure(err.code, err.message))
            engine.notify(inv, failed, completion_id=result_cid)
        return
    callee = submission.invocation
    engine.notify(inv, invocation_id_completion(id_cid, callee.id_str), completion_id=id_cid)
    if result_cid is not None:
        inv.callees.append(callee.id_str)
        cid = result_cid

        def deliver(_callee: Invocation, result: Result) -> None:
            engine.notify(inv, completion(MessageType.CALL_COMPLETION, cid, result), completion_id=cid)

        engine.when_complete(callee, deliver)


def _send_signal(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    signal: int | str = f.uint(2) if f.has(2) else f.string(3)
    engine.deliver_signal(f.string(1), signal, read_result(f, 5, 6, 4) or VOID)


def _complete_awakeable(engine: EngineCore, inv: Invocation, f: Fields) -> None:
    try:
        target, index = parse_awakeable_id(f.string(1))
    except ValueError:
        return
    engine.deliver_signal(str(target), index, read_result(f, 2, 3) or Value(b""))


def _attach_or_output(engine: EngineCore, inv: Invocation, f: Fields, attach: bool) -> None:
    cid = f.uint(11)
    msg_type = MessageType.ATTACH_INVOCATION_COMPLETION if attach else MessageType.GET_INVOCATION_OUTPUT_COMPLETION
    target = None
    if f.has(1):
        target = engine.find(f.string(1))
    elif (idem := f.message(3)) is not None:
        target = engine.find_idempotent(idem.string(1), idem.optional_string(2), idem.string(3), idem.string(4))
    elif (wf := f.message(4)) is not None:
        target = engine.find_workflow(wf.string(1), wf.string(2))
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
