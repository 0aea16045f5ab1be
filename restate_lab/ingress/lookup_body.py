"""The JSON target of ``POST /restate/lookup|attach|output``, read as serde reads the server's tagged enum.

Restate Server 1.7.12 deserializes the body into an internally tagged enum (tag ``target``). Its errors,
measured on the server, are serde's: the tag is read as the object streams by, so a missing, duplicate,
non-string or unknown tag is reported with serde_json's position; the variant's own fields are then read
from the buffered entries in document order (a duplicate or a value of the wrong type is reported
without a position), and missing fields in declaration order. Unknown fields are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from restate_lab.ingress.serde_errors import describe_unexpected, position, serde_json_error, top_level_entries
from restate_lab.rules.errors import RestateError

#: Each variant's fields in declaration order, and whether a field may be null (absent or ``null``).
_VARIANTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "workflow": (("workflowName", False), ("workflowKey", False)),
    "idempotentInvocation": (("service", False), ("key", True), ("handler", False), ("idempotencyKey", False)),
    "invocation": (("invocationId", False),),
}
_EXPECTED_VARIANTS = "expected one of `workflow`, `idempotentInvocation`, `invocation`"
_ENUM = "internally tagged enum InvocationTargetRequest"


@dataclass(frozen=True)
class LookupTarget:
    """A well-formed target: its variant and its fields (an optional one absent or null is None)."""

    kind: str
    fields: dict[str, str | None]


def read_lookup_target(body: bytes, what: str) -> LookupTarget:
    """Read the body of a lookup (``what``: ``lookup body``) or of an attach/output (``request body``).

    Anything serde refuses raises a 400 ``cannot read body: invalid {what}: ...`` in serde's words
    (the real server answers these with 500: a deliberate difference).
    """
    text = body.decode("utf-8", errors="replace")
    try:
        parsed: Any = json.loads(text)
    except ValueError as exc:
        detail = serde_json_error(body, exc) if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise _refused(what, detail) from exc
    if isinstance(parsed, list):
        return _from_sequence(text, parsed, what)
    if not isinstance(parsed, dict):
        end = len(text.rstrip())
        raise _refused(what, f"invalid type: {describe_unexpected(parsed)}, expected {_ENUM} at {position(text, end)}")
    entries, object_end = top_level_entries(text)
    kind: str | None = None
    rest = []
    for entry in entries:
        if entry.key != "target":
            rest.append(entry)
            continue
        if kind is not None:
            raise _refused(what, f"duplicate field `target` at {position(text, entry.key_end)}")
        kind = _variant(text, entry.value, entry.value_start, entry.value_end, what)
    if kind is None:
        raise _refused(what, f"missing field `target` at {position(text, object_end)}")
    return LookupTarget(kind, _fields(kind, [(e.key, e.value) for e in rest], what))


def _variant(text: str, value: Any, start: int, end: int, what: str) -> str:
    """The tag's value as a variant name; serde points past a scalar, or before a map or a list."""
    if not isinstance(value, str):
        at = position(text, start if isinstance(value, dict | list) else end)
        raise _refused(what, f"invalid type: {describe_unexpected(value)}, expected variant identifier at {at}")
    if value not in _VARIANTS:
        raise _refused(what, f"unknown variant `{value}`, {_EXPECTED_VARIANTS} at {position(text, end)}")
    return value


def _from_sequence(text: str, items: list[Any], what: str) -> LookupTarget:
    """serde also reads a tagged enum from a list whose first item is the tag; only its errors are modelled."""
    if items and not isinstance(items[0], str):
        start = text.index("[") + 1
        while text[start] in " \t\r\n":
            start += 1
        _value, end = json.JSONDecoder().raw_decode(text, start)
        _variant(text, items[0], start, end, what)
    if items and isinstance(items[0], str) and items[0] not in _VARIANTS:
        start = text.index('"')
        _value, end = json.JSONDecoder().raw_decode(text, start)
        _variant(text, items[0], start, end, what)
    raise _refused(what, "expected a JSON object")


def _fields(kind: str, entries: list[tuple[str, Any]], what: str) -> dict[str, str | None]:
    declared = dict(_VARIANTS[kind])
    found: dict[str, str | None] = {}
    for key, value in entries:
        if key not in declared:
            continue
        if key in found:
            raise _refused(what, f"duplicate field `{key}`")
        if not isinstance(value, str) and not (value is None and declared[key]):
            raise _refused(what, f"invalid type: {describe_unexpected(value)}, expected a string")
        found[key] = value
    for key, optional in _VARIANTS[kind]:
        if key not in found:
            if not optional:
                raise _refused(what, f"missing field `{key}`")
            found[key] = None
    return found


def _refused(what: str, detail: str) -> RestateError:
    return RestateError(400, f"cannot read body: invalid {what}: {detail}")
