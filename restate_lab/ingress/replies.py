"""The admin API's answers before encoding, worded as Restate Server 1.7.12's admin handlers word them.

Shared by ``restate_lab.ingress.admin`` and the Kafka routes (``restate_lab.ingress.kafka_routes``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

_JSON_CT = (b"content-type", b"application/json")
_TEXT_CT = (b"content-type", b"text/plain; charset=utf-8")


@dataclass
class Reply:
    """One admin answer before encoding."""

    status: int
    body: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def json_reply(status: int, payload: Any, *extra: tuple[bytes, bytes]) -> Reply:
    return Reply(status, json.dumps(payload, separators=(",", ":")).encode(), [_JSON_CT, *extra])


def error_reply(status: int, message: str, code: str | None = None) -> Reply:
    """The admin handlers' error body: ``{"message", "restate_code"}``."""
    return json_reply(status, {"message": message, "restate_code": code})


def text_reply(status: int, message: str) -> Reply:
    """Request-parsing failures answer in plain text, as the server's HTTP framework does."""
    return Reply(status, message.encode(), [_TEXT_CT])


def not_allowed(allow: str) -> Reply:
    return Reply(405, b"", [(b"allow", allow.encode())])


NOT_FOUND = Reply(404)


def serde_json_error(body: bytes, exc: json.JSONDecodeError) -> str:
    """A JSON syntax error in serde_json's words (the server's parser), for the common cases."""
    text = exc.doc
    line = text.count("\n", 0, exc.pos) + 1
    column = exc.pos - (text.rfind("\n", 0, exc.pos) + 1)
    if not text[exc.pos :].strip():
        end = len(text.rstrip())
        line = text.count("\n", 0, end) + 1
        column = end - (text.rfind("\n", 0, end) + 1)
        stack: list[str] = []
        in_string = escaped = False
        for char in text:
            if in_string:
                in_string = not (char == '"' and not escaped)
                escaped = char == "\\" and not escaped
            elif char == '"':
                in_string = True
            elif char in "[{":
                stack.append(char)
            elif char in "]}" and stack:
                stack.pop()
        what = "a string" if in_string else {"{": "an object", "[": "a list"}.get(stack[-1] if stack else "", "a value")
        return f"EOF while parsing {what} at line {line} column {column}"
    if exc.msg.startswith("Extra data"):
        return f"trailing characters at line {line} column {column + 1}"
    return f"expected value at line {line} column {column + 1}"
