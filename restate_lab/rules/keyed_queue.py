"""Per-key exclusive scheduling for virtual objects and workflows: one runs, the rest wait FIFO."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class KeyedQueue(Generic[K, T]):
    """An exclusive lock and an inbox per key.

    >>> q = KeyedQueue[str, str]()
    >>> q.offer("k", "a"), q.offer("k", "b"), q.release("k"), q.release("k")
    (True, False, 'b', None)
    """

    def __init__(self) -> None:
        self._holder: dict[K, T] = {}
        self._inbox: dict[K, deque[T]] = {}

    def offer(self, key: K, item: T) -> bool:
        """Queue ``item`` on ``key``; True when it holds the lock at once and may run now."""
        if key in self._holder:
            self._inbox.setdefault(key, deque()).append(item)
            return False
        self._holder[key] = item
        return True

    def release(self, key: K) -> T | None:
        """The holder of ``key`` finished: hand the lock to the next in line and return it."""
        waiting = self._inbox.get(key)
        if waiting:
            nxt = waiting.popleft()
            if not waiting:
                del self._inbox[key]
            self._holder[key] = nxt
            return nxt
        self._holder.pop(key, None)
        return None

    def remove(self, key: K, item: T) -> bool:
        """Take a waiting ``item`` out of ``key``'s inbox (cancelled before it ran)."""
        waiting = self._inbox.get(key)
        if waiting and item in waiting:
            waiting.remove(item)
            if not waiting:
                del self._inbox[key]
            return True
        return False

    def holder(self, key: K) -> T | None:
        return self._holder.get(key)

    def waiting(self, key: K) -> list[T]:
        return list(self._inbox.get(key, ()))

    def depth(self, key: K) -> int:
        """Invocations on ``key``: the running one plus those in its inbox."""
        return (key in self._holder) + len(self._inbox.get(key, ()))

    def locked_keys(self) -> list[K]:
        return list(self._holder)
