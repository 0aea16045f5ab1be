"""An attempt's request body, as every transport reads it: chunks, then ``None``."""

from __future__ import annotations

from typing import Protocol


class RequestBody(Protocol):
    """Where an attempt's request body comes from: chunks, then ``None`` (an ``asyncio.Queue`` is one)."""

    async def get(self) -> bytes | None: ...

    def get_nowait(self) -> bytes | None: ...


class ClosedBody:
    """A request body known in full up front, as in request-response mode; cheaper than a queue."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data

    def get_nowait(self) -> bytes | None:
        data, self._data = self._data, None
        return data

    async def get(self) -> bytes | None:
        return self.get_nowait()
