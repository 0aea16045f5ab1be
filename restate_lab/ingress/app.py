"""The ingress ASGI app (Restate's port 8080): routes requests to invocations and ``/restate`` verbs.

Path rules live in :mod:`restate_lab.ingress.paths`, CORS in :mod:`restate_lab.ingress.cors`. The order
of checks follows Restate Server 1.7.12: the path is parsed (and the service looked up) first, then the
handler, then the method, then headers, body and query.
"""

from __future__ import annotations

import logging

from restate_lab.ingress import restate_routes
from restate_lab.ingress.asgi import (
    MAX_BODY_BYTES,
    ASGIApp,
    BodyTooLarge,
    Message,
    Receive,
    Scope,
    Send,
    header,
    lifespan,
    respond_error,
)
from restate_lab.ingress.cors import with_cors
from restate_lab.ingress.invoke import invoke
from restate_lab.ingress.paths import decode_key, request_path, segment_text
from restate_lab.rules.admission import service_not_found
from restate_lab.rules.errors import RestateError
from restate_lab.rules.targets import Target
from restate_lab.runtime.engine import Engine

log = logging.getLogger("restate_lab.ingress")
INVOCATION_PATH = "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler"


def invocation_target(engine: Engine, parts: list[str]) -> tuple[Target, bool]:
    """``/{Service}/{handler}[/send]`` or ``/{Object}/{key}/{handler}[/send]``."""
    service = segment_text(parts[0])
    meta = engine.services.get(service)
    if meta is None:
        raise service_not_found(service)
    rest = iter(parts[1:])
    key = None
    if meta.keyed:
        key_segment = next(rest, None)
        if key_segment is None:
            raise RestateError(400, INVOCATION_PATH)
        key = decode_key(key_segment)
    handler = next(rest, None)
    if handler is None:
        raise RestateError(400, INVOCATION_PATH)
    last = next(rest, None)
    if last not in (None, "send") or next(rest, None) is not None:
        raise RestateError(400, INVOCATION_PATH)
    return Target(meta.name, segment_text(handler), key), last == "send"


def make_ingress_app(engine: Engine) -> ASGIApp:
    """Build the ingress app over ``engine``; it must run on the engine's event loop."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method = scope["method"]
        if method == "HEAD":
            send = _without_body(send)
        try:
            raw = scope.get("raw_path") or scope["path"].encode()
            _shown, parts = request_path(raw)
            if parts[0] == "restate":
                await restate_routes.handle(engine, scope, receive, send, parts[1:])
                return
            if parts[0] == "openapi":
                raise restate_routes.NOT_FOUND
            target, is_send = invocation_target(engine, parts)
            await invoke(engine, scope, receive, send, target, is_send=is_send)
        except RestateError as err:
            await respond_error(send, err)
        except BodyTooLarge:
            if _declared_length(scope) > MAX_BODY_BYTES:
                # A declared content-length over the limit is refused before the body is read, in plain
                # text and below the CORS layer (Restate Server 1.7.12); a streamed body gets the JSON error.
                body = b"length limit exceeded"
                headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))]
                await send({"type": "http.response.start", "status": 413, "headers": headers, "restate_lab.bare": True})
                await send({"type": "http.response.body", "body": body})
            else:
                await respond_error(send, RestateError(413, "cannot read body: LengthLimitError"))
        except Exception as exc:  # never let a bug take the ingress down
            log.exception("ingress failed on %s %s", method, scope.get("path"))
            await respond_error(send, RestateError(500, f"internal error in restate_lab: {exc!r}"))

    return with_cors(app)


def _without_body(send: Send) -> Send:
    """A HEAD answer: the same status and headers (``content-length`` included), no body bytes."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head


def _declared_length(scope: Scope) -> int:
    value = header(scope, b"content-length")
    return int(value) if value and value.isdigit() else -1
