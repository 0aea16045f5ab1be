"""``PATCH /invocations/{id}/restart-as-new`` of the admin API, answering as Restate Server 1.7.12's does.

The query (``from``, ``deployment``) is read the way the server's framework reads it: parameter by
parameter in order, names case-sensitive, unknown ones ignored, a repeated one or a ``from`` that is
not a ``u32`` refused in plain text before anything else. Then come the id, the ``deployment``
spelling, and whatever the engine refuses (:mod:`restate_lab.runtime.restart`); the body is ignored.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

from restate_lab.ingress.asgi import Scope
from restate_lab.ingress.replies import Reply, error_reply, json_reply, text_reply
from restate_lab.rules.errors import RestateError, invalid_invocation_id_field, invalid_query_parameter
from restate_lab.rules.id_errors import id_error, invocation_id_error

if TYPE_CHECKING:
    from restate_lab.runtime.engine import Engine

_U32_MAX = 2**32 - 1
#: ``?deployment=`` spellings that are not an id (``Latest`` is also what no parameter means).
_KEEP = ("keep", "Keep")
_LATEST = ("latest", "Latest")


def _u32_error(text: str) -> str | None:
    """Why ``text`` is not a ``u32`` as Rust's ``str::parse`` says it, or ``None``."""
    if not text:
        return "cannot parse integer from empty string"
    digits = text[1:] if text[0] == "+" else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return "invalid digit found in string"
    if int(digits) > _U32_MAX:
        return "number too large to fit in target type"
    return None


def parse_query(query_string: bytes) -> tuple[int | None, str | None] | Reply:
    """``(from, deployment)`` of a restart-as-new query, or the 400 the server's query parser answers."""
    values: dict[str, str] = {}
    text = query_string.decode("latin-1")
    for name, value in urllib.parse.parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"):
        if name not in ("from", "deployment"):
            continue
        if name in values:
            return text_reply(400, f"Failed to deserialize query string: duplicate field `{name}`")
        if name == "from" and (reason := _u32_error(value)) is not None:
            return text_reply(400, f"Failed to deserialize query string: from: {reason}")
        values[name] = value
    from_index = int(values["from"]) if "from" in values else None
    return from_index, values.get("deployment")


def _deployment_error(value: str) -> str | None:
    if value in _KEEP or value in _LATEST:
        return None
    return id_error(value, "dp")


def restart_as_new(engine: Engine, invocation_id: str, scope: Scope) -> Reply:
    """Restart a completed invocation as a new one: 200 ``{"new_invocation_id"}`` or the server's refusal."""
    parsed = parse_query(scope.get("query_string", b""))
    if isinstance(parsed, Reply):
        return parsed
    from_index, deployment = parsed
    reason = invocation_id_error(invocation_id)
    if reason is not None:
        return _refused(invalid_invocation_id_field(reason))
    known = deployment in engine.deployments  # also an id stored by an older restate_lab
    if deployment is not None and not known and (reason := _deployment_error(deployment)) is not None:
        return _refused(invalid_query_parameter("deployment", reason))
    # ``keep`` is the deployment the original ran on; restate_lab runs every attempt on the latest.
    named = deployment if deployment is not None and deployment not in _KEEP + _LATEST else None
    try:
        new = engine.restart_as_new(invocation_id, from_index=from_index, deployment_id=named)
    except RestateError as err:
        return _refused(err)
    return json_reply(200, {"new_invocation_id": new.id_str})


def _refused(err: RestateError) -> Reply:
    return error_reply(err.code, err.message)
