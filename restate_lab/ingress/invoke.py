"""Invocation requests on the ingress: validate, submit, and render results as Restate does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

from restate_lab.ingress.asgi import JSON_HEADERS, Receive, Scope, Send, header, read_body, respond, respond_json
from restate_lab.protocol.messages import Failure, Result, Value
from restate_lab.rules.durations import InvalidDuration, parse_duration_ms
from restate_lab.rules.errors import RestateError
from restate_lab.rules.targets import HandlerType, Target
from restate_lab.runtime import operations as ops
from restate_lab.runtime.engine import Engine
from restate_lab.runtime.invocation import Invocation
from restate_lab.runtime.registry import HandlerMeta

#: Request headers that describe the HTTP exchange itself and are not passed to handlers.
#: Restate Server 1.7.12 keeps the others, ``content-length`` included (seen in ``sys_journal``).
_HOP_HEADERS = {b"host", b"connection", b"transfer-encoding", b"keep-alive", b"upgrade",
                b"te", b"trailer", b"proxy-connection", b"expect"}


def idempotency_expires(inv: Invocation) -> str | None:
    """The ``idempotency-expires`` value: when the stored result is forgotten, at ms precision."""
    if inv.completed_at_ms is None or not inv.retention_ms:
        return None
    when = datetime.fromtimestamp((inv.completed_at_ms + inv.retention_ms) / 1000, tz=UTC)
    return when.isoformat(timespec="milliseconds")


async def respond_result(send: Send, engine: Engine, inv: Invocation, result: Result, *, stored: bool) -> None:
    """Answer with a result; ``stored`` when it was already completed as the request arrived."""
    headers: list[tuple[bytes, bytes]] = [(b"x-restate-id", inv.id_str.encode())]
    expires = idempotency_expires(inv) if stored else None
    if expires is not None:
        headers.append((b"idempotency-expires", expires.encode()))
    if isinstance(result, Failure):
        headers += [(b"x-restate-error-source", b"invocation"), *JSON_HEADERS]
        error = RestateError(result.code, result.message, "invocation", metadata=dict(result.metadata))
        body = json.dumps(error.to_json(), separators=(",", ":")).encode()
        status = result.code if 400 <= result.code <= 599 or result.code == 470 else 500
        await respond(send, status, body, headers)
        return
    content = result.content if isinstance(result, Value) else b""
    if content:
        headers.append((b"content-type", _output_content_type(engine, inv).encode()))
    await respond(send, 200, content, headers)


def _output_content_type(engine: Engine, inv: Invocation) -> str:
    service = engine.services.get(inv.target.service)
    handler = service.handlers.get(inv.target.handler) if service else None
    if handler is None:
        return "application/json"
    return str(handler.manifest.get("output", {}).get("contentType") or "application/json")


def _check_input(handler: HandlerMeta, content_type: str | None, body: bytes) -> None:
    """Refuse bodies the handler's declared input does not accept, as the real ingress does."""
    spec = handler.manifest.get("input") or {}
    expected = spec.get("contentType")
    if not expected:
        if body:
            shown = f'Some("{content_type}")' if content_type is not None else "None"
            raise RestateError(
                400, f"input validation error: Expected body and content-type to be empty, "
                f"but wasn't with content-type '{shown}'"
            )
        return
    if not body:
        if content_type:
            raise RestateError(400, "input validation error: Empty body not allowed")
        return
    if not content_type:
        raise RestateError(400, "input validation error: Empty content-type")
    media = content_type.split(";", 1)[0].strip().lower()
    if expected != "*/*" and media != expected.split(";", 1)[0].strip().lower():
        raise RestateError(400, f"input validation error: Content-type '{content_type}' does not match '{expected}'")


def handler_headers(scope: Scope) -> list[tuple[str, str]]:
    """The headers a handler sees: the request path first as ``x-restate-ingress-path``, as the real server does."""
    path = scope.get("raw_path") or scope["path"].encode()
    headers = [("x-restate-ingress-path", path.decode("latin-1").split("?", 1)[0])]
    for name, value in scope.get("headers", ()):
        if name not in _HOP_HEADERS:
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
    return headers


async def invoke(engine: Engine, scope: Scope, receive: Receive, send: Send, target: Target, *, is_send: bool) -> None:
    """Handle ``/{Service}/{handler}`` and its keyed, ``/send`` and versioned forms."""
    meta, handler = engine.resolve(target.service, target.handler)
    if handler.ingress_private:
        raise RestateError(400, "the invoked service is not public")
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    delay_ms = None
    if "delay" in query:
        if not is_send:
            raise RestateError(
                400, "cannot use the delay query parameter with calls. The delay is supported only with sends"
            )
        try:
            delay_ms = parse_duration_ms(query["delay"][0])
        except InvalidDuration as exc:
            raise RestateError(400, f"bad delay query parameter, must be a ISO8601 duration: {exc}") from exc
    # An empty ``idempotency-key:`` header is a key like any other on Restate Server 1.7.12.
    idempotency_key = header(scope, b"idempotency-key")
    if idempotency_key is not None and handler.ty is HandlerType.WORKFLOW:
        raise RestateError(
            400, "cannot use the idempotency key with workflow handlers. "
            "The handler invocation will already be idempotent by the workflow key itself."
        )
    body = await read_body(receive)
    _check_input(handler, header(scope, b"content-type"), body)
    headers = handler_headers(scope)
    if is_send:
        accepted = ops.send(engine, target, body, headers, idempotency_key, delay_ms)
        payload: dict[str, str] = {"invocationId": accepted.invocation.id_str}
        if accepted.execution_time is not None:
            payload["executionTime"] = accepted.execution_time
        payload["status"] = accepted.status
        await respond_json(send, 202, payload, [(b"x-restate-id", accepted.invocation.id_str.encode())])
        return
    inv = ops.submit_call(engine, target, body, headers, idempotency_key).invocation
    stored = inv.completed
    result = await engine.wait(inv)
    await respond_result(send, engine, inv, result, stored=stored)
