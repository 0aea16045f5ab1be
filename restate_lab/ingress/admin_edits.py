"""Admin routes that change services and deployments: ``PATCH /services/{name}``,
``POST /services/{name}/state``, ``PUT``/``PATCH /deployments/{id}``.

Request parsing answers as the real server's HTTP framework does (Restate Server 1.7.12, measured by
``tests/fidelity``): a wrong content-type is 415 text, bad JSON 400 text, a body of the wrong shape 422
text ``Failed to deserialize the JSON body into the target type: <field>: <reason> at line L column C``
(C is where the offending value ends), and only then the handler's own JSON errors.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from restate_lab.ingress.register_request import (
    HttpUpdate,
    LambdaUpdate,
    lambda_failure,
    read_update_body,
    update_refusal,
)
from restate_lab.ingress.replies import Reply, error_reply, json_reply, text_reply
from restate_lab.ingress.serde_errors import describe_unexpected as _shown_type
from restate_lab.rules.durations import InvalidDuration, parse_duration_ms
from restate_lab.runtime.describe import describe_service

if TYPE_CHECKING:
    from restate_lab.runtime.engine import Engine

#: The fields ``POST /deployments`` and ``PUT /deployments/{id}`` take (others are a 422).


class AdminRoutes(Protocol):
    """What these routes need of the admin app: the engine, and discovery of a deployment URI."""

    @property
    def engine(self) -> Engine: ...

    async def _discover(self, uri: str, http2: bool) -> Reply | tuple[str | None, dict[str, Any]]: ...


#: Where a service remembers its handlers' own privacy once ``public`` has been patched.
_OWN_PRIVACY = "x-restate-lab-handler-privacy"
_DESERIALIZE = "Failed to deserialize the JSON body into the target type: "
#: ``PATCH /services/{name}`` duration fields and the manifest key each one is kept under.
_DURATION_FIELDS = {
    "idempotency_retention": "idempotencyRetention",
    "workflow_completion_retention": "workflowCompletionRetention",
    "journal_retention": "journalRetention",
    "inactivity_timeout": "inactivityTimeout",
    "abort_timeout": "abortTimeout",
}


def value_spans(text: str) -> dict[str, tuple[int, int]]:
    """For a top-level JSON object, where each key's value starts and ends (0-based, end exclusive)."""
    decoder = json.JSONDecoder()
    spans: dict[str, tuple[int, int]] = {}
    pos = text.index("{") + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "}":
            return spans
        key, pos = decoder.raw_decode(text, pos)
        pos = text.index(":", pos) + 1
        while text[pos] in " \t\r\n":
            pos += 1
        start = pos
        _value, pos = decoder.raw_decode(text, pos)
        spans[str(key)] = (start, pos)


def value_ends(text: str) -> dict[str, int]:
    """Where each top-level value ends: serde's column for a scalar of the wrong type or value."""
    return {key: end for key, (_start, end) in value_spans(text).items()}


def type_error_columns(text: str) -> dict[str, int]:
    """serde's column for a value of the wrong type: a scalar's end, the column before a map or list."""
    return {key: start if text[start] in "{[" else end for key, (start, end) in value_spans(text).items()}


def content_type_refusal(scope: Any) -> Reply | None:
    """The 415 of a JSON admin route whose request is not ``application/json``, or None."""
    from restate_lab.ingress.asgi import header

    ctype = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        return text_reply(415, "Expected request with `Content-Type: application/json`")
    return None


def parse_json_request(app: AdminRoutes, scope: Any, body: bytes) -> Reply | tuple[str, Any]:
    """The content-type and JSON checks every JSON admin route makes first."""
    from restate_lab.ingress.serde_errors import serde_json_error

    refused = content_type_refusal(scope)
    if refused is not None:
        return refused
    text = body.decode("utf-8", errors="replace")
    try:
        return text, json.loads(text)
    except json.JSONDecodeError as exc:
        detail = serde_json_error(body, exc, path_prefix=True)
        return text_reply(400, f"Failed to parse the request body as JSON: {detail}")


async def patch_service(app: AdminRoutes, name: str, scope: Any, body: bytes) -> Reply:
    """``PATCH /services/{name}``: ``public`` and the retention and timeout durations."""

    parsed = parse_json_request(app, scope, body)
    if not isinstance(parsed, tuple):
        return parsed
    text, request = parsed
    if not isinstance(request, dict):
        return text_reply(
            422,
            f"{_DESERIALIZE}invalid type: {_shown_type(request)}, expected struct "
            f"ModifyServiceRequest at line 1 column {len(text.rstrip())}",
        )
    ends = type_error_columns(text)
    updates: dict[str, Any] = {}
    for field, value in request.items():
        where = f"at line 1 column {ends.get(field, len(text))}"
        if field == "public":
            if value is not None and not isinstance(value, bool):
                return text_reply(
                    422, f"{_DESERIALIZE}public: invalid type: {_shown_type(value)}, expected a boolean {where}"
                )
            if value is not None:
                updates["ingressPrivate"] = not value
        elif field in _DURATION_FIELDS and value is not None:
            if not isinstance(value, str):
                return text_reply(
                    422,
                    f"{_DESERIALIZE}{field}: invalid type: {_shown_type(value)}, "
                    f"expected a human-friendly duration string {where}",
                )
            try:
                updates[_DURATION_FIELDS[field]] = parse_duration_ms(value)
            except InvalidDuration as exc:
                return text_reply(422, f"{_DESERIALIZE}{field}: {exc} {where}")
    service = app.engine.services.get(name)
    if service is None and updates:
        return error_reply(404, f"not found in the schema registry: service with name '{name}'")
    if service is None:
        return error_reply(404, f"The requested service '{name}' does not exist")
    if "workflowCompletionRetention" in updates and service.ty.value != "WORKFLOW":
        kind = {"SERVICE": "Service", "VIRTUAL_OBJECT": "VirtualObject"}[service.ty.value]
        return error_reply(400, f"modifying retention time for service type {kind} is unsupported")
    service.manifest.update(updates)
    if "ingressPrivate" in updates:
        own = service.manifest.setdefault(_OWN_PRIVACY, {h.name: h.ingress_private for h in service.handlers.values()})
        for handler in service.handlers.values():
            handler.ingress_private = bool(updates["ingressPrivate"]) or bool(own.get(handler.name, False))
    for handler in service.handlers.values():
        if "idempotencyRetention" in updates:
            handler.idempotency_retention_ms = updates["idempotencyRetention"]
        if "journalRetention" in updates:
            handler.journal_retention_ms = updates["journalRetention"]
        if "workflowCompletionRetention" in updates:
            handler.workflow_completion_retention_ms = updates["workflowCompletionRetention"]
    return json_reply(200, describe_service(service))


def _bad_state_entry(text: str, state_end: int, state: dict[str, Any]) -> str | None:
    """The first ``new_state`` entry that is neither a list of bytes nor a string, in serde's words and place."""
    decoder = json.JSONDecoder()
    start = text.rfind("{", 0, state_end)
    depth, pos = 0, state_end - 1
    while pos >= 0:  # the ``{`` that opens new_state's object
        depth += {"}": 1, "{": -1}.get(text[pos], 0)
        if depth == 0:
            start = pos
            break
        pos -= 1
    entry_ends = value_ends(text[start:state_end])
    entry_columns = type_error_columns(text[start:state_end])
    for name, value in state.items():
        end = start + entry_ends.get(name, state_end - start)
        column = start + entry_columns.get(name, state_end - start)
        if isinstance(value, str):
            continue  # a string is taken as its UTF-8 bytes (measured: 202, the handler reads them)
        if not isinstance(value, list):
            return (
                f"new_state.{name}: invalid type: {_shown_type(value)}, expected byte array at line 1 column {column}"
            )
        pos = text.index("[", text.rfind(json.dumps(name), start, end)) + 1
        for index, item in enumerate(value):
            while text[pos] in " \t\r\n,":
                pos += 1
            _item, pos = decoder.raw_decode(text, pos)
            if isinstance(item, int) and not isinstance(item, bool):
                if not 0 <= item <= 255:
                    return (
                        f"new_state.{name}[{index}]: invalid value: integer `{item}`, expected u8 "
                        f"at line 1 column {pos}"
                    )
            else:
                return (
                    f"new_state.{name}[{index}]: invalid type: {_shown_type(item)}, expected u8 at line 1 column {pos}"
                )
    return None


def _state_field_problem(
    text: str, field: str, value: Any, ends: dict[str, int], columns: dict[str, int]
) -> str | None:
    """What serde says about one field of a ``POST /services/{name}/state`` body, or None when it is fine."""
    if field == "object_key" and not isinstance(value, str):
        return f"object_key: invalid type: {_shown_type(value)}, expected a string at line 1 column {columns[field]}"
    if field == "version" and value is not None and not isinstance(value, str):
        return f"version: invalid type: {_shown_type(value)}, expected a string at line 1 column {columns[field]}"
    if field == "new_state":
        if not isinstance(value, dict):
            return f"new_state: invalid type: {_shown_type(value)}, expected a map at line 1 column {columns[field]}"
        return _bad_state_entry(text, ends[field], value)
    return None


def _state_bytes(value: str | list[int]) -> bytes:
    """A ``new_state`` value as stored: a string's UTF-8 bytes, or the listed byte values."""
    return value.encode() if isinstance(value, str) else bytes(value)


async def set_state(app: AdminRoutes, name: str, scope: Any, body: bytes) -> Reply:
    """``POST /services/{name}/state``: replace one object's whole state (202), as the real server does."""

    parsed = parse_json_request(app, scope, body)
    if not isinstance(parsed, tuple):
        return parsed
    text, request = parsed
    end = len(text.rstrip())
    if not isinstance(request, dict):
        return text_reply(
            422,
            f"{_DESERIALIZE}invalid type: {_shown_type(request)}, expected struct "
            f"ModifyServiceStateRequest at line 1 column {end}",
        )
    ends = value_ends(text)
    columns = type_error_columns(text)
    key, state = request.get("object_key"), request.get("new_state")
    for field, value in request.items():  # serde reads the fields in the order they are written
        problem = _state_field_problem(text, field, value, ends, columns)
        if problem is not None:
            return text_reply(422, f"{_DESERIALIZE}{problem}")
    for field in ("object_key", "new_state"):
        if field not in request:
            return text_reply(422, f"{_DESERIALIZE}missing field `{field}` at line 1 column {end}")
    service = app.engine.services.get(name)
    if service is None and state:
        return error_reply(404, f"The requested service '{name}' does not exist")
    if service is not None and not service.keyed:
        return error_reply(400, "Cannot modify state for service type Service")
    if service is not None:
        assert isinstance(state, dict) and isinstance(key, str)
        sid = (name, key)
        app.engine.state.clear_all(sid)
        for entry, raw in state.items():
            app.engine.state.set(sid, str(entry).encode(), _state_bytes(raw))
    return Reply(202)


async def edit_deployment(app: AdminRoutes, method: str, dp_id: str, scope: Any, body: bytes) -> Reply:
    """``PUT`` (deprecated: 405 once the body is valid) and ``PATCH /deployments/{id}``."""
    from restate_lab.runtime.describe import describe_deployment

    refused = content_type_refusal(scope)
    if refused is not None:
        return refused
    request = read_update_body(body)
    if isinstance(request, Reply):
        return request
    if method == "PUT":
        return error_reply(405, "PUT deployment is deprecated, use PATCH instead")
    deployment = app.engine.deployments.get(dp_id)
    if deployment is None:
        return error_reply(404, f"The requested deployment '{dp_id}' does not exist")
    refusal = update_refusal(request)
    if refusal is not None:
        return error_reply(400, refusal)
    if isinstance(request, LambdaUpdate) and request.arn is not None:
        return error_reply(500, lambda_failure(request.arn), "META0003")  # the server would call AWS here
    if isinstance(request, HttpUpdate):
        found = await app._discover(str(request.uri), not request.use_http_11)
        if not isinstance(found, tuple):
            return found
    # An update with nothing to discover (no readable uri, no arn) changes nothing: 200 with the deployment.
    return json_reply(200, describe_deployment(deployment, app.engine.services.values(), detailed=True))
