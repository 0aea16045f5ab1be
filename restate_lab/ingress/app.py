"""The ingress ASGI app (Restate's port 8080): routes requests to invocations and ``/restate`` verbs."""

from __future__ import annotations

import logging
from urllib.parse import unquote

from restate_lab.ingress import restate_routes
from restate_lab.ingress.asgi import (
    MAX_BODY_BYTES,
    ASGIApp,
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    header,
    lifespan,
    respond,
    respond_error,
)
from restate_lab.ingress.invoke import invoke
from restate_lab.rules.admission import service_not_found
from restate_lab.rules.errors import RestateError
from restate_lab.rules.targets import Target
from restate_lab.runtime.engine import Engine

log = logging.getLogger("restate_lab.ingress")
INVOCATION_PATH = "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler"


def split_path(scope: Scope) -> list[str]:
    """Path segments, percent-decoded one by one so an encoded ``/`` stays inside a key."""
    raw = scope.get("raw_path") or scope["path"].encode()
    text = raw.decode("latin-1").split("?", 1)[0]
    parts = [unquote(p) for p in text.split("/")[1:]]
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return parts


def _invocation_target(engine: Engine, path: str, parts: list[str]) -> tuple[Target, bool]:
    if len(parts) < 2 or not parts[0]:
        raise RestateError(400, f"bad path: {path}")
    meta = engine.services.get(parts[0])
    if meta is None:
        raise service_not_found(parts[0])
    rest = parts[1:]
    is_send = rest[-1] == "send" and len(rest) == (3 if meta.keyed else 2)
    if is_send:
        rest = rest[:-1]
    if meta.keyed and len(rest) == 2:
        return Target(meta.name, rest[1], rest[0]), is_send
    if not meta.keyed and len(rest) == 1:
        return Target(meta.name, rest[0]), is_send
    raise RestateError(400, INVOCATION_PATH)


def make_ingress_app(engine: Engine) -> ASGIApp:
    """Build the ingress app over ``engine``; it must run on the engine's event loop."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method = scope["method"]
        try:
            if method == "OPTIONS":
                await _preflight(scope, send)
                return
            parts = split_path(scope)
            if parts and parts[0] == "restate":
                await restate_routes.handle(engine, scope, receive, send, parts[1:])
                return
            target, is_send = _invocation_target(engine, scope["path"], parts)
            if method not in ("GET", "POST"):
                raise restate_routes.METHOD_NOT_ALLOWED
            await invoke(engine, scope, receive, send, target, is_send=is_send)
        except RestateError as err:
            await respond_error(send, err, head_only=method == "HEAD")
        except BodyTooLarge:
            if _declared_length(scope) > MAX_BODY_BYTES:
                # A declared content-length over the limit is refused before the body is read,
                # in plain text (Restate Server 1.7.12); a streamed body gets the JSON error.
                await respond(send, 413, b"length limit exceeded", [(b"content-type", b"text/plain; charset=utf-8")])
            else:
                await respond_error(send, RestateError(413, "cannot read body: LengthLimitError"))
        except Exception as exc:  # never let a bug take the ingress down
            log.exception("ingress failed on %s %s", method, scope.get("path"))
            await respond_error(send, RestateError(500, f"internal error in restate_lab: {exc!r}"))

    return app


def _declared_length(scope: Scope) -> int:
    value = header(scope, b"content-length")
    return int(value) if value and value.isdigit() else -1


async def _preflight(scope: Scope, send: Send) -> None:
    """Answer CORS preflight requests permissively, as Restate's ingress does."""
    headers: list[tuple[bytes, bytes]] = []
    requested = header(scope, b"access-control-request-method")
    if requested:
        headers.append((b"access-control-allow-methods", requested.encode()))
    origin = header(scope, b"origin")
    if origin:
        headers.append((b"access-control-allow-origin", origin.encode()))
    wanted_headers = header(scope, b"access-control-request-headers")
    if wanted_headers:
        headers.append((b"access-control-allow-headers", wanted_headers.encode()))
    await respond(send, 200, b"", headers)
