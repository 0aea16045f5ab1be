"""Invocation requests on the ingress: validate, submit, and render results as Restate does."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from restate_lab.ingress.asgi import JSON_HEADERS, Receive, Scope, Send, read_body, send_reply
from restate_lab.ingress.replies import Reply, json_bytes
from restate_lab.protocol.messages import Failure, Result, Value
from restate_lab.rules.durations import InvalidDuration, fits_execution_time, format_rfc3339, parse_duration_ms
from restate_lab.rules.errors import RestateError
from restate_lab.rules.targets import HandlerType, Target
from restate_lab.runtime import operations as ops
from restate_lab.runtime.engine import Engine
from restate_lab.runtime.invocation import Invocation
from restate_lab.runtime.registry import HandlerMeta

METHOD_NOT_ALLOWED = RestateError(405, "method not allowed")

#: Request headers not passed to handlers: Restate Server 1.7.12 drops only these (``expect``, ``te`` and
#: the other hop-by-hop headers reach the handler, ``content-length`` too).
_DROPPED_HEADERS = {b"host", b"connection", b"idempotency-key"}


#: A byte the server's HTTP library does not accept in a header string (visible ASCII, space, tab are).
_NOT_VISIBLE = re.compile(rb"[^\t\x20-\x7e]")


def _visible_ascii(value: bytes) -> bool:
    """What the server's HTTP library accepts as a header string (visible ASCII, space, tab)."""
    return _NOT_VISIBLE.search(value) is None


def _bad_header(name: bytes) -> RestateError:
    return RestateError(400, f"bad header {name.decode('latin-1')}: ToStrError {{ _priv: () }}")


def first_header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header, refused (400) unless it is a visible-ASCII string."""
    for key, value in scope.get("headers", ()):
        if key == name:
            if not _visible_ascii(value):
                raise _bad_header(name)
            return str(value.decode("latin-1")).strip(" \t")  # HTTP's optional whitespace is not the value
    return None


def http_status(code: int) -> int:
    """The HTTP status a failure's code becomes: the code itself when it is one, else 500."""
    return code if 200 <= code <= 999 else 500


def idempotency_expires(inv: Invocation) -> str | None:
    """The ``idempotency-expires`` value: when the stored result is forgotten, at ms precision."""
    if inv.completed_at_ms is None or not inv.retention_ms:
        return None
    when = datetime.fromtimestamp((inv.completed_at_ms + inv.retention_ms) / 1000, tz=UTC)
    return when.isoformat(timespec="milliseconds")


def result_reply(engine: Engine, inv: Invocation, result: Result, *, stored: bool) -> Reply:
    """The answer to a call with ``result``; ``stored`` when it was already completed as the request arrived."""
    headers: list[tuple[bytes, bytes]] = [(b"x-restate-id", inv.id_str.encode())]
    expires = idempotency_expires(inv) if stored else None
    if expires is not None:
        headers.append((b"idempotency-expires", expires.encode()))
    if isinstance(result, Failure):
        if 100 <= result.code < 200:
            # No 1xx status can end an answer: the real server answers a bare 500 (no headers, no body).
            return Reply(500, bare=True)
        headers += [(b"x-restate-error-source", b"invocation"), *JSON_HEADERS]
        error = RestateError(result.code, result.message, "invocation", metadata=dict(result.metadata))
        body = json_bytes(error.to_json())
        return Reply(http_status(result.code), body, headers)
    content = result.content if isinstance(result, Value) else b""
    if content:
        headers.append((b"content-type", _output_content_type(engine, inv).encode()))
    return Reply(200, content, headers)


async def respond_result(send: Send, engine: Engine, inv: Invocation, result: Result, *, stored: bool) -> None:
    """Answer with a result (see :func:`result_reply`)."""
    await send_reply(send, result_reply(engine, inv, result, stored=stored))


def _output_content_type(engine: Engine, inv: Invocation) -> str:
    service = engine.services.get(inv.target.service)
    handler = service.handlers.get(inv.target.handler) if service else None
    if handler is None:
        return "application/json"
    return str(handler.manifest.get("output", {}).get("contentType") or "application/json")


def _media_matches(content_type: str, pattern: str) -> bool:
    """Whether a request content-type matches a handler's accepted one: case-sensitive, parameters ignored,
    ``*`` in the accepted type or subtype matching anything (``text/*``, ``*/*``)."""
    media = content_type.split(";", 1)[0].strip(" \t")
    wanted = pattern.split(";", 1)[0].strip(" \t")
    kind, _, sub = media.partition("/")
    want_kind, _, want_sub = wanted.partition("/")
    return "/" in media and want_kind in ("*", kind) and want_sub in ("*", sub)


def _debug_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_input(handler: HandlerMeta, content_type: str | None, body: bytes) -> None:
    """Refuse bodies the handler's declared input does not accept, as the real ingress does."""
    spec = handler.manifest.get("input") or {}
    expected = spec.get("contentType")
    if not expected:
        if body or content_type is not None:
            shown = f"Some({_debug_str(content_type)})" if content_type is not None else "None"
            raise RestateError(
                400,
                f"input validation error: Expected body and content-type to be empty, "
                f"but wasn't with content-type '{shown}'",
            )
        return
    if content_type is None:
        if body:
            raise RestateError(400, "input validation error: Empty content-type")
        return
    if not _media_matches(content_type, expected):
        raise RestateError(400, f"input validation error: Content-type '{content_type}' does not match '{expected}'")
    if not body:
        raise RestateError(400, "input validation error: Empty body not allowed")


def handler_headers(scope: Scope) -> list[tuple[str, str]]:
    """The headers a handler sees, as Restate Server 1.7.12 passes them.

    The request path first (outer slashes trimmed, query string kept) as ``x-restate-ingress-path``; then
    the first value of every header but ``host``, ``connection`` and ``idempotency-key``; a value that is not a visible
    ASCII string is a 400.
    """
    path = b"/" + (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0].strip(b"/")
    query = scope.get("query_string") or b""
    target = path + (b"?" + query if query else b"")
    headers = [("x-restate-ingress-path", target.decode("latin-1"))]
    seen: set[bytes] = set()
    for name, value in scope.get("headers", ()):
        if name in seen:
            continue
        seen.add(name)
        if name in _DROPPED_HEADERS:
            continue
        if not _visible_ascii(value):
            raise _bad_header(name)
        headers.append((name.decode("latin-1"), value.decode("latin-1").strip(" \t")))
    return headers


def delay_parameter(scope: Scope) -> str | None:
    """The first ``delay`` query parameter, its name compared case-insensitively (form-urlencoded)."""
    query = scope.get("query_string", b"")
    if not query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace"):
        if name.lower() == "delay":
            return str(value)
    return None


def check_call(engine: Engine, scope: Scope, target: Target) -> tuple[HandlerMeta, str | None]:
    """What is refused before the body is read: the handler, its visibility, a key on a workflow, the
    method. Returns the handler and the request's idempotency key."""
    meta, handler = engine.resolve(target.service, target.handler)
    if handler.ingress_private:
        raise RestateError(400, "the invoked service is not public")
    # An empty ``idempotency-key:`` header is a key like any other on Restate Server 1.7.12.
    idempotency_key = first_header(scope, b"idempotency-key")
    if idempotency_key is not None and handler.ty is HandlerType.WORKFLOW:
        raise RestateError(
            400,
            "cannot use the idempotency key with workflow handlers. "
            "The handler invocation will already be idempotent by the workflow key itself.",
        )
    if scope["method"] not in ("GET", "POST"):
        raise METHOD_NOT_ALLOWED
    return handler, idempotency_key


def accept_call(
    engine: Engine,
    scope: Scope,
    target: Target,
    handler: HandlerMeta,
    idempotency_key: str | None,
    body: bytes,
    *,
    is_send: bool,
) -> Reply | tuple[Invocation, bool]:
    """Validate the body and query and submit: a send's 202 answer, or a call's invocation to wait for and
    whether it had completed before this request (its answer then carries ``idempotency-expires``)."""
    _check_input(handler, first_header(scope, b"content-type"), body)
    delay_ms = None
    delay = delay_parameter(scope)
    if delay is not None:
        try:
            delay_ms = parse_duration_ms(delay)
        except InvalidDuration as exc:
            raise RestateError(400, f"bad delay query parameter, must be a ISO8601 duration: {exc}") from exc
    headers = handler_headers(scope)
    if delay_ms is not None:
        if not is_send:
            raise RestateError(
                400, "cannot use the delay query parameter with calls. The delay is supported only with sends"
            )
        if not fits_execution_time(engine.now_ms(), delay_ms):
            # The real server drops the connection here; a clear 400 loses nothing (README, deliberate).
            raise RestateError(
                400,
                f"bad delay query parameter, must be a ISO8601 duration: the execution time "
                f"of '{delay}' would be after the year 9999",
            )
    if is_send:
        accepted = ops.send(engine, target, body, headers, idempotency_key, delay_ms)
        inv = accepted.invocation
        payload: dict[str, str] = {"invocationId": inv.id_str}
        execution_time = accepted.execution_time
        if execution_time is None and accepted.status == "PreviouslyAccepted" and inv.execution_time_ms is not None:
            # A repeat of a delayed send answers the first send's execution time, with or without a delay.
            execution_time = format_rfc3339(inv.execution_time_ms)
        if execution_time is not None:
            payload["executionTime"] = execution_time
        payload["status"] = accepted.status
        body_out = json_bytes(payload)
        return Reply(202, body_out, [*JSON_HEADERS, (b"x-restate-id", inv.id_str.encode())])
    inv = ops.submit_call(engine, target, body, headers, idempotency_key).invocation
    return inv, inv.completed


async def invoke(engine: Engine, scope: Scope, receive: Receive, send: Send, target: Target, *, is_send: bool) -> None:
    """Handle ``/{Service}/{handler}`` and its keyed, ``/send`` and versioned forms."""
    handler, idempotency_key = check_call(engine, scope, target)
    body = await read_body(receive)
    accepted = accept_call(engine, scope, target, handler, idempotency_key, body, is_send=is_send)
    if isinstance(accepted, Reply):
        await send_reply(send, accepted)
        return
    inv, stored = accepted
    result = await engine.wait(inv)
    await respond_result(send, engine, inv, result, stored=stored)
