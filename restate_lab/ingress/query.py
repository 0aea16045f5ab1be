"""``/query`` on the admin port, answered as Restate Server 1.7.12 answers it.

``POST`` only (else 405 with ``allow: POST``); a JSON body ``{"query": SQL}`` with ``content-type:
application/json`` (else 415); body errors in serde's words (400 unparsable, 422 wrong shape, both
``text/plain``). The answer is JSON rows when ``accept`` is exactly ``application/json`` and an Arrow IPC
stream otherwise; engine errors are ``{"message": "Datafusion error: ..."}`` with 400 or 500. The snapshot is
taken on the engine's loop in one step; DataFusion then runs in a worker thread so the engine keeps going.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

from restate_lab.ingress.asgi import ASGIApp, Receive, Scope, Send, header, read_body, respond
from restate_lab.ingress.serde_errors import describe_unexpected as _describe
from restate_lab.ingress.serde_errors import serde_json_error
from restate_lab.runtime.engine import Engine
from restate_lab.runtime.introspection import Snapshot, SqlError, execute, snapshot
from restate_lab.runtime.sql.render import ARROW_CONTENT_TYPE, JSON_CONTENT_TYPE, arrow_stream, json_body

_DESERIALIZE = "Failed to deserialize the JSON body into the target type: "


class BodyError(Exception):
    """The request body is not a ``QueryRequest``: status and the server's plain-text message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1)
    return f"line {line} column {column}"


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _value_end(text: str, start: int, value: Any) -> int:
    """Where serde reports a wrong value: after a scalar, at the opening bracket of a map or sequence."""
    if isinstance(value, dict | list):
        return start
    return json.JSONDecoder().raw_decode(text, start)[1]


def parse_query_request(body: bytes) -> str:
    """The ``query`` of a ``QueryRequest`` body; :class:`BodyError` as the server's extractor says."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BodyError(400, f"Failed to parse the request body as JSON: {serde_json_error(body, exc)}") from exc
    start = _skip(text, 0)
    if isinstance(data, list):
        # serde reads a struct from a sequence of its fields, in order.
        if not data:
            where = _position(text, _skip(text, start + 1) + 1)
            message = f"invalid length 0, expected struct QueryRequest with 1 element at {where}"
            raise BodyError(422, _DESERIALIZE + message)
        first = _skip(text, start + 1)
        if not isinstance(data[0], str):
            where = _position(text, _value_end(text, first, data[0]))
            message = f"[0]: invalid type: {_describe(data[0])}, expected a string at {where}"
            raise BodyError(422, _DESERIALIZE + message)
        return data[0]
    if not isinstance(data, dict):
        where = _position(text, _value_end(text, start, data))
        raise BodyError(422, _DESERIALIZE + f"invalid type: {_describe(data)}, expected struct QueryRequest at {where}")
    decoder = json.JSONDecoder()
    i = _skip(text, start + 1)
    query: str | None = None
    while i < len(text) and text[i] == '"':
        key, key_end = decoder.raw_decode(text, i)
        value_start = _skip(text, _skip(text, key_end) + 1)
        value, value_end = decoder.raw_decode(text, value_start)
        if key == "query":
            if query is not None:
                raise BodyError(422, _DESERIALIZE + f"duplicate field `query` at {_position(text, key_end)}")
            if not isinstance(value, str):
                where = _position(text, _value_end(text, value_start, value))
                message = f"query: invalid type: {_describe(value)}, expected a string at {where}"
                raise BodyError(422, _DESERIALIZE + message)
            query = value
        i = _skip(text, value_end)
        i = _skip(text, i + 1) if i < len(text) and text[i] == "," else i
    if query is None:
        raise BodyError(422, _DESERIALIZE + f"missing field `query` at {_position(text, len(text.rstrip()))}")
    return query


def _answer(snap: Snapshot, sql: str, as_json: bool) -> bytes:
    """Run and encode the query (off the engine's loop: it reads only the snapshot)."""
    table = execute(snap, sql)
    return json_body(table) if as_json else arrow_stream(table)


async def _reply(
    scope: Scope,
    send: Send,
    status: int,
    body: bytes,
    content_type: str | None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = list(extra or [])
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    if body and "gzip" in (header(scope, b"accept-encoding") or ""):
        body = gzip.compress(body)
        headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", str(len(body)).encode()))
    await respond(send, status, body, headers)


def make_query_app(engine: Engine) -> ASGIApp:
    """An ASGI app for ``/query`` over ``engine`` (served on the engine's loop)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _reply(scope, send, 405, b"", None, [(b"allow", b"POST")])
            return
        body = await read_body(receive)
        ctype = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            await _reply(
                scope, send, 415, b"Expected request with `Content-Type: application/json`", "text/plain; charset=utf-8"
            )
            return
        try:
            sql = parse_query_request(body)
        except BodyError as err:
            await _reply(scope, send, err.status, err.message.encode(), "text/plain; charset=utf-8")
            return
        as_json = header(scope, b"accept") == JSON_CONTENT_TYPE
        try:
            snap = snapshot(engine, sql)  # one instant: no await while copying
            answer = await asyncio.to_thread(_answer, snap, sql, as_json)
        except SqlError as err:
            payload = json.dumps({"message": err.message}, ensure_ascii=False, separators=(",", ":")).encode()
            await _reply(scope, send, err.code, payload, JSON_CONTENT_TYPE)
            return
        await _reply(scope, send, 200, answer, JSON_CONTENT_TYPE if as_json else ARROW_CONTENT_TYPE)

    return app
