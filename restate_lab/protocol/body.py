"""An attempt's request body, as every transport reads it: chunks, then ``None``."""

from __future__ import annotations

import asyncio
from collections import deque
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


class LiveBody:
    """An open request body, fed while a bidirectional attempt runs; cheaper than an ``asyncio.Queue``.

    Chunks wait in a deque and at most one reader waits for the next (a transport reads the body
    from one task). ``get_nowait`` raises ``asyncio.QueueEmpty`` when nothing is there, as a queue
    does; ``interrupt`` cancels the waiting read, so that a reader left behind by an attempt that
    has ended stops waiting.
    """

    __slots__ = ("_chunks", "_waiter")

    def __init__(self, *chunks: bytes | None) -> None:
        self._chunks: deque[bytes | None] = deque(chunks)
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, chunk: bytes | None) -> None:
        self._chunks.append(chunk)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> bytes | None:
        if not self._chunks:
            raise asyncio.QueueEmpty
        return self._chunks.popleft()

    async def get(self) -> bytes | None:
        while not self._chunks:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        return self._chunks.popleft()

    def interrupt(self) -> None:
        """End a pending ``get`` with ``asyncio.CancelledError``."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.cancel()
