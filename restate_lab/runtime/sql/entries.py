"""``sys_journal.entry_json`` and ``entry_lite_json``: journal entries as Restate Server 1.7.12 spells them.

The shapes were measured on the real server (docs/observed-restate-1.7.12.md, "entry_json"): a command is
``{"Command":{"<Type>":{...,"name":""}}}``, a notification ``{"Notification":{"Completion":{"<Type>":...}}}``
or ``{"Notification":{"Signal":...}}``; payloads are byte arrays, results ``{"Success":[...]}``, ``"Void"`` or
``{"Failure":{"code":..,"message":..}}``; the lite form drops payloads and names a result by its variant.
Entries whose shape was not measured (lazy state, ``GetInvocationOutput``, calls to workflows, failures
with metadata) render as None, so the column reads null rather than something the server never wrote.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from restate_lab.protocol.messages import Frame, MessageType, WireError
from restate_lab.rules.targets import HandlerType, ServiceType, Target

__all__ = ["ENTRY_NAMES", "Callee", "render_journal"]


def _bare(name: str) -> str:
    """A message type's name without its kind (``SIGNAL_NOTIFICATION`` is the server's ``Signal``)."""
    for suffix in ("_COMMAND", "_COMPLETION", "_NOTIFICATION"):
        name = name.removesuffix(suffix)
    return name


#: Journal entry types as the server names them in ``sys_journal.entry_type`` (``Command: Run``, ...).
ENTRY_NAMES = {
    t.value: ("Command: " if t.is_command else "Notification: " if t.is_notification else "")
    + "".join(w.capitalize() for w in _bare(t.name).split("_"))
    for t in MessageType
}

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Callee:
    """What the server's ``Call``/``OneWayCall`` entry says of the invocation a call started."""

    target: Target
    service_type: ServiceType
    handler_type: HandlerType | None
    retention_s: int


#: Finds the invocation a call started, by id (None when it is no longer known).
CalleeLookup = Callable[[str], Callee | None]


class _NotMeasured(Exception):
    """An entry whose server shape was not measured: its columns stay null."""


def render_journal(frames: Sequence[Frame], callee: CalleeLookup) -> list[tuple[str | None, str | None]]:
    """``(entry_json, entry_lite_json)`` for each frame of one journal, in order.

    A call's entry names the id of the invocation it started, which the journal holds in the call's
    ``CallInvocationId`` notification; hence the whole journal, not one frame, is rendered.
    """
    messages: list[Any] = []
    for frame in frames:
        try:
            messages.append(frame.message())
        except WireError:
            messages.append(None)
    invocation_ids = {
        m.completion_id: m.invocation_id
        for f, m in zip(frames, messages, strict=True)
        if f.type == MessageType.CALL_INVOCATION_ID_COMPLETION and m is not None
    }
    rendered: list[tuple[str | None, str | None]] = []
    for frame, message in zip(frames, messages, strict=True):
        try:
            if message is None:
                raise _NotMeasured
            full, lite = _entry(frame.type, message, invocation_ids, callee)
        except _NotMeasured:
            rendered.append((None, None))
            continue
        rendered.append((_dumps(full), _dumps(lite)))
    return rendered


def _dumps(value: Json) -> str:
    # The server writes compact JSON, non-ASCII characters as themselves.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _entry(msg_type: int, m: Any, invocation_ids: dict[int, str], callee: CalleeLookup) -> tuple[Json, Json]:
    name = ENTRY_NAMES.get(msg_type, "").split(": ", 1)[-1]
    if msg_type >= 0x8000:
        return _notification(msg_type, name, m)
    full, lite = _command(msg_type, m, invocation_ids, callee)
    # Every command's full form ends with its entry name (SendSignal's field is ``entry_name``).
    entry_name = m.entry_name if msg_type == MessageType.SEND_SIGNAL_COMMAND else m.name
    return {"Command": {name: {**full, "name": entry_name}}}, {"Command": {name: lite}}


def _command(msg_type: int, m: Any, invocation_ids: dict[int, str], callee: CalleeLookup) -> tuple[Json, Json]:
    """A command's fields (without its trailing ``name``) in full and lite form."""
    t = MessageType
    if msg_type == t.INPUT_COMMAND:
        headers = [{"name": h.key, "value": h.value} for h in m.headers]
        return {"headers": headers, "payload": list(m.value.content)}, {}
    if msg_type == t.OUTPUT_COMMAND:
        result = _result(m, "result", failure="failure")
        return {"result": result}, {"result": _variant(result)}
    if msg_type == t.GET_EAGER_STATE_COMMAND:
        key = _text(m.key)
        result = _result(m, "result")
        return {"key": key, "result": result}, {"key": key, "result": _variant(result)}
    if msg_type == t.GET_EAGER_STATE_KEYS_COMMAND:
        return {"state_keys": [_text(k) for k in m.value.keys]}, {}
    if msg_type == t.SET_STATE_COMMAND:
        key = _text(m.key)
        return {"key": key, "value": list(m.value.content)}, {"key": key}
    if msg_type == t.CLEAR_STATE_COMMAND:
        key = _text(m.key)
        return {"key": key}, {"key": key}
    if msg_type == t.CLEAR_ALL_STATE_COMMAND:
        return {}, {}
    if msg_type in (t.GET_PROMISE_COMMAND, t.PEEK_PROMISE_COMMAND):
        fields = {"key": m.key, "completion_id": m.result_completion_id}
        return fields, dict(fields)
    if msg_type == t.COMPLETE_PROMISE_COMMAND:
        value = _result(m, "completion", value="completion_value", failure="completion_failure")
        return (
            {"key": m.key, "value": value, "completion_id": m.result_completion_id},
            {"key": m.key, "completion_id": m.result_completion_id},
        )
    if msg_type == t.SLEEP_COMMAND:
        fields = {"wake_up_time": m.wake_up_time, "completion_id": m.result_completion_id}
        return fields, dict(fields)
    if msg_type in (t.CALL_COMMAND, t.ONE_WAY_CALL_COMMAND):
        return _call(msg_type, m, invocation_ids, callee)
    if msg_type == t.RUN_COMMAND:
        # The run's name is part of the lite form too (it is the only thing that tells runs apart).
        return {"completion_id": m.result_completion_id}, {"completion_id": m.result_completion_id, "name": m.name}
    if msg_type == t.ATTACH_INVOCATION_COMMAND and m.WhichOneof("target") == "invocation_id":
        target = {"InvocationId": m.invocation_id}
        return (
            {"target": target, "completion_id": m.result_completion_id},
            {"target": target, "completion_id": m.result_completion_id},
        )
    if msg_type == t.COMPLETE_AWAKEABLE_COMMAND:
        result = _result(m, "result")
        return (
            {"id": m.awakeable_id, "result": result},
            {"id": m.awakeable_id, "result": _variant(result)},
        )
    if msg_type == t.SEND_SIGNAL_COMMAND:
        signal = {"Name": m.name} if m.WhichOneof("signal_id") == "name" else {"Index": m.idx}
        result = _result(m, "result")
        head = {"target_invocation_id": m.target_invocation_id, "signal_id": signal}
        return {**head, "result": result}, {**head, "result": _variant(result)}
    raise _NotMeasured


def _call(msg_type: int, m: Any, invocation_ids: dict[int, str], callee: CalleeLookup) -> tuple[Json, Json]:
    """A ``Call`` or ``OneWayCall``: the request as the server built it, with the callee's id and target."""
    invocation_id = invocation_ids.get(m.invocation_id_notification_idx)
    found = callee(invocation_id) if invocation_id is not None else None
    if invocation_id is None or found is None or m.HasField("idempotency_key"):
        raise _NotMeasured
    target = _target(found)
    retention = {"secs": found.retention_s, "nanos": 0}
    request = {
        "invocation_id": invocation_id,
        "invocation_target": target,
        "span_context": {
            "span_context": {
                "trace_id": [0] * 16,
                "span_id": [0] * 8,
                "trace_flags": 0,
                "is_remote": False,
                "trace_state": "",
            },
            "cause": None,
        },
        "parameter": list(m.parameter),
        "headers": [{"name": h.key, "value": h.value} for h in m.headers],
        "idempotency_key": None,
        "completion_retention_duration": retention,
        "journal_retention_duration": retention,
    }
    lite: Json = {"invocation_id": invocation_id, "invocation_target": target}
    ids: Json = {"invocation_id_completion_id": m.invocation_id_notification_idx}
    if msg_type == MessageType.CALL_COMMAND:
        ids["result_completion_id"] = m.result_completion_id
    else:
        ids = {"invoke_time": m.invoke_time, **ids}
    return {"request": request, **ids}, {**lite, **ids}


def _target(found: Callee) -> Json:
    target = found.target
    if found.service_type is ServiceType.SERVICE:
        return {"Service": {"name": target.service, "handler": target.handler, "scope": None}}
    if found.service_type is ServiceType.VIRTUAL_OBJECT:
        handler_ty = "Shared" if found.handler_type is HandlerType.SHARED else "Exclusive"
        return {
            "VirtualObject": {
                "name": target.service,
                "key": target.key,
                "handler": target.handler,
                "handler_ty": handler_ty,
                "scope": None,
            }
        }
    raise _NotMeasured  # a workflow target's shape was not measured


def _notification(msg_type: int, name: str, m: Any) -> tuple[Json, Json]:
    kind = m.WhichOneof("id")
    result = _result(m, "result") if m.WhichOneof("result") != "invocation_id" else None
    variant = "InvocationId" if result is None else _variant(result)
    if kind == "completion_id":
        fields: Json = {"completion_id": m.completion_id}
        if msg_type == MessageType.CALL_INVOCATION_ID_COMPLETION:
            fields["invocation_id"] = m.invocation_id
        elif msg_type != MessageType.SLEEP_COMPLETION:
            if msg_type in _UNMEASURED_COMPLETIONS:
                raise _NotMeasured
            fields["result"] = result
        lite = {"ty": {"Completion": name}, "id": {"CompletionId": m.completion_id}, "result": variant}
        return {"Notification": {"Completion": {name: fields}}}, {"Notification": lite}
    if result is None or kind is None:
        raise _NotMeasured
    if kind == "signal_name":
        full_id, lite_id = {"Name": m.signal_name}, {"SignalName": m.signal_name}
    else:
        full_id, lite_id = {"Index": m.signal_id}, {"SignalIndex": m.signal_id}
    return (
        {"Notification": {"Signal": {"id": full_id, "result": result}}},
        {"Notification": {"ty": "Signal", "id": lite_id, "result": variant}},
    )


#: Completions seen on the server only in other shapes, or not at all.
_UNMEASURED_COMPLETIONS = frozenset(
    {
        MessageType.GET_LAZY_STATE_COMPLETION,
        MessageType.GET_LAZY_STATE_KEYS_COMPLETION,
        MessageType.GET_INVOCATION_OUTPUT_COMPLETION,
    }
)


def _result(m: Any, oneof: str, *, value: str = "value", failure: str = "failure") -> Any:
    """A result oneof as the server spells it: ``"Void"``, ``{"Success":[...]}`` or ``{"Failure":{...}}``."""
    which = m.WhichOneof(oneof)
    if which == value:
        content = getattr(m, value)
        return {"Success": list(content if isinstance(content, bytes) else content.content)}
    if which == failure:
        f = getattr(m, failure)
        if f.metadata:
            raise _NotMeasured
        return {"Failure": {"code": f.code, "message": f.message}}
    if which == "void":
        return "Void"
    raise _NotMeasured


def _variant(result: Any) -> str:
    return result if isinstance(result, str) else next(iter(result))


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")
