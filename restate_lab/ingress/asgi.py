"""Minimal ASGI plumbing for the ingress and admin apps: read bodies, write JSON and errors."""

from __future__ import annotations

from typing import Any

from restate_lab.ingress.replies import Reply, json_bytes

# The ASGI types are declared once, in the protocol package; the ingress modules take them from here.
from restate_lab.protocol.asgi import ASGIApp as ASGIApp
from restate_lab.protocol.asgi import Message as Message
from restate_lab.protocol.asgi import Receive as Receive
from restate_lab.protocol.asgi import Scope as Scope
from restate_lab.protocol.asgi import Send as Send
from restate_lab.rules.errors import RestateError

#: Restate Server refuses request bodies over 32 MiB.
MAX_BODY_BYTES = 32 * 1024 * 1024
JSON_HEADERS = [(b"content-type", b"application/json")]


class BodyTooLarge(Exception):
    """The request body passed the size limit."""


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read the whole request body, refusing more than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge()
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def header(scope: Scope, name: bytes) -> str | None:
    """The first request header called ``name`` (lower-case bytes), decoded."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def respond(
    send: Send,
    status: int,
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    head_only: bool = False,
    bare: bool = False,
) -> None:
    """Send a whole answer with its ``content-length`` (as the real ingress does; HTTP/1.0 needs it).

    204 and 304 answers carry no body; ``head_only`` (a HEAD request) sends the length but no body;
    ``bare`` answers below the CORS layer (no CORS headers added).
    """
    if status in (204, 304):
        body = b""
    start: Message = {"type": "http.response.start", "status": status, "headers": framed(status, body, headers)}
    if bare:
        start["restate_lab.bare"] = True
    await send(start)
    await send({"type": "http.response.body", "body": b"" if head_only else body})


def framed(status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None) -> list[tuple[bytes, bytes]]:
    """``headers`` and the answer's ``content-length`` after them (none on 204 and 304, which have no body)."""
    if status in (204, 304):
        return list(headers or [])
    return [*(headers or []), (b"content-length", b"%d" % len(body))]


async def send_reply(send: Send, reply: Reply, *, head_only: bool = False) -> None:
    """Send a :class:`Reply` whole (see :func:`respond`)."""
    await respond(send, reply.status, reply.body, reply.headers, head_only=head_only, bare=reply.bare)


async def respond_json(send: Send, status: int, payload: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json_bytes(payload)
    await respond(send, status, body, [*JSON_HEADERS, *(headers or [])])


def error_reply(error: RestateError) -> Reply:
    """An ingress error: ``{"code","message","source"}`` with ``x-restate-error-source``."""
    headers = [(b"x-restate-error-source", error.source.encode()), *JSON_HEADERS]
    if error.invocation_id is not None:
        headers.insert(0, (b"x-restate-id", error.invocation_id.encode()))
    return Reply(error.code, json_bytes(error.to_json()), headers)


async def respond_error(send: Send, error: RestateError, *, head_only: bool = False) -> None:
    """Send :func:`error_reply`."""
    await send_reply(send, error_reply(error), head_only=head_only)


async def lifespan(receive: Receive, send: Send) -> None:
    """Accept ASGI lifespan events so servers start and stop cleanly."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
