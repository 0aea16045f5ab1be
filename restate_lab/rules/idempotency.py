"""The idempotency table: one invocation per (target, idempotency key) until its retention expires."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

#: Restate Server keeps idempotent results for 24 hours unless the handler says otherwise.
DEFAULT_IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000

K = TypeVar("K", bound=Hashable)


@dataclass(slots=True)
class IdempotencyEntry:
    invocation_id: str
    expires_at_ms: float | None = None  # None while the invocation is still running


class IdempotencyTable(Generic[K]):
    """Maps an idempotency key to the invocation it started; retention runs from completion.

    >>> t = IdempotencyTable[str]()
    >>> t.claim("k", "inv_a", now_ms=0), t.claim("k", "inv_b", now_ms=5)
    (('inv_a', True), ('inv_a', False))
    >>> t.completed("k", now_ms=10, retention_ms=100); t.lookup("k", now_ms=111) is None
    True
    """

    def __init__(self) -> None:
        self._entries: dict[K, IdempotencyEntry] = {}

    def claim(self, key: K, invocation_id: str, now_ms: float) -> tuple[str, bool]:
        """Return the invocation owning ``key`` and whether ``invocation_id`` just became it."""
        entries = self._entries
        entry = entries.get(key)  # lookup(), inlined: a live entry owns the key, an expired one is replaced
        if entry is not None and (entry.expires_at_ms is None or now_ms < entry.expires_at_ms):
            return entry.invocation_id, False
        entries[key] = IdempotencyEntry(invocation_id)
        return invocation_id, True

    def lookup(self, key: K, now_ms: float) -> IdempotencyEntry | None:
        """The live entry for ``key``, forgetting it first if its retention has run out."""
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at_ms is not None and now_ms >= entry.expires_at_ms:
            del self._entries[key]
            return None
        return entry

    def completed(self, key: K, now_ms: float, retention_ms: float) -> None:
        """Start the retention window of ``key``'s invocation, which has just completed."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.expires_at_ms = now_ms + retention_ms

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def expire(self, now_ms: float) -> list[K]:
        """Drop every entry whose retention has run out; return their keys."""
        gone = [k for k, e in self._entries.items() if e.expires_at_ms is not None and now_ms >= e.expires_at_ms]
        for key in gone:
            del self._entries[key]
        return gone

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[K]:
        return iter(self._entries)
