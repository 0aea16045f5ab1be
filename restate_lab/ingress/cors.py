"""CORS on every ingress answer, as Restate Server 1.7.12's ingress layer adds it.

Every answer, errors included, carries ``access-control-allow-credentials: true`` and the ``vary``
list; with an ``Origin`` header the origin is mirrored in ``access-control-allow-origin``. Any
``OPTIONS`` request is a preflight: 200, empty, mirroring the requested method and headers.
Only the first value of a repeated request header counts.
"""

from __future__ import annotations

from restate_lab.ingress.asgi import ASGIApp, Message, Receive, Scope, Send, header

VARY = b"origin, access-control-request-method, access-control-request-headers"


def _first(scope: Scope, name: bytes) -> bytes | None:
    value = header(scope, name)
    return value.encode("latin-1") if value is not None else None


def cors_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The headers added to every answer of this request."""
    headers = [(b"vary", VARY), (b"access-control-allow-credentials", b"true")]
    origin = _first(scope, b"origin")
    if origin is not None:
        headers.append((b"access-control-allow-origin", origin))
    return headers


async def preflight(scope: Scope, send: Send) -> None:
    """Answer an ``OPTIONS`` request: 200, empty, mirroring what the request asked for."""
    headers = cors_headers(scope)
    for asked, allowed in (
        (b"access-control-request-method", b"access-control-allow-methods"),
        (b"access-control-request-headers", b"access-control-allow-headers"),
    ):
        value = _first(scope, asked)
        if value is not None:
            headers.append((allowed, value))
    headers.append((b"content-length", b"0"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def with_cors(app: ASGIApp) -> ASGIApp:
    """Wrap the ingress app: preflights answered here, CORS headers added to every other answer."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await preflight(scope, send)
            return
        extra = cors_headers(scope)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and not message.get("restate_lab.bare"):
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await app(scope, receive, send_with_cors)

    return wrapped
