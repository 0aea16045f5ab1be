"""Answers before encoding; the admin API's, worded as Restate Server 1.7.12's admin handlers word them.

Shared by ``restate_lab.ingress.admin`` and the Kafka routes (``restate_lab.ingress.kafka_routes``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

_JSON_CT = (b"content-type", b"application/json")
_TEXT_CT = (b"content-type", b"text/plain; charset=utf-8")


@dataclass(slots=True)
class Reply:
    """One answer before encoding (admin answers, and the ingress's answers to invocation requests)."""

    status: int
    body: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    #: Answered below the CORS layer, as Restate Server answers a few failures (no CORS headers added).
    bare: bool = False


def json_bytes(payload: Any) -> bytes:
    """Compact JSON with non-ASCII text as raw UTF-8, as serde_json writes it (a lone surrogate escaped)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode(errors="backslashreplace")


def json_reply(status: int, payload: Any, *extra: tuple[bytes, bytes]) -> Reply:
    return Reply(status, json_bytes(payload), [_JSON_CT, *extra])


def error_reply(status: int, message: str, code: str | None = None) -> Reply:
    """The admin handlers' error body: ``{"message", "restate_code"}``."""
    return json_reply(status, {"message": message, "restate_code": code})


def text_reply(status: int, message: str) -> Reply:
    """Request-parsing failures answer in plain text, as the server's HTTP framework does."""
    return Reply(status, message.encode(), [_TEXT_CT])


def not_allowed(allow: str) -> Reply:
    return Reply(405, b"", [(b"allow", allow.encode())])


NOT_FOUND = Reply(404)
