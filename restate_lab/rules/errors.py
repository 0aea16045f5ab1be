"""Errors with the shape Restate Server gives them: ``{"code", "message", "source"}``."""

from __future__ import annotations

from dataclasses import dataclass
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

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def to_json(self) -> dict[str, object]:
        """The body Restate Server sends for this error."""
        return {"code": self.code, "message": self.message, "source": self.source}
