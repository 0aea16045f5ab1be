"""Errors with the shape Restate Server gives them: ``{"code", "message", "source"}``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ErrorSource = Literal["ingress", "invocation"]


@dataclass
class RestateError(Exception):
    """An error answered to a client, with its HTTP status code and its source."""

    code: int
    message: str
    source: ErrorSource = "ingress"
    #: The invocation the error concerns, when there is one (answered as ``x-restate-id``).
    invocation_id: str | None = None
    #: A handler's ``TerminalError(metadata=...)``, which Restate Server answers as ``metadata``.
    metadata: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def to_json(self) -> dict[str, object]:
        """The body Restate Server sends for this error (``metadata`` only when there is some)."""
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.metadata:
            body["metadata"] = dict(self.metadata)
        body["source"] = self.source
        return body
