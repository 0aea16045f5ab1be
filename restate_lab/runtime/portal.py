"""A private event loop in a worker thread, reached synchronously or from another loop.

The engine and the SDK run here, so a Jupyter kernel keeps its own loop and signal
handling, and synchronous calls work inside a running kernel with no nest-asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class Mailbox:
    """Runs callbacks posted from any thread on ``loop``, waking it once per batch rather than once per post.

    ``loop.call_soon_threadsafe`` writes to the loop's self-pipe on every call; under load most posts
    find the mailbox already scheduled and cost only an append.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._items: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            self._items.append((fn, args))
            if self._scheduled:
                return
            self._scheduled = True
        self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            items, self._items = self._items, deque()
            self._scheduled = False
        for fn, args in items:
            try:
                fn(*args)
            except Exception as exc:  # one failing callback must not drop the rest of the batch
                self.loop.call_exception_handler({"message": "error in a posted callback", "exception": exc})


class PortalAnswer(Generic[T]):
    """One answer handed from the portal's loop to a thread blocked waiting for it: a value or an exception.

    Lighter than a ``concurrent.futures.Future`` (no condition, no waiter lock per wait): one lock,
    held until the answer is there. The first answer counts; later ones are ignored.
    """

    __slots__ = ("_lock", "_value", "_error", "_set")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._value: T | None = None
        self._error: BaseException | None = None
        self._set = False

    def set_result(self, value: T) -> None:
        if not self._set:
            self._set = True
            self._value = value
            self._lock.release()

    def set_exception(self, error: BaseException) -> None:
        if not self._set:
            self._set = True
            self._error = error
            self._lock.release()

    def result(self, timeout: float | None = None) -> T:
        """The answer (or its exception raised); ``TimeoutError`` after ``timeout`` seconds without one."""
        if not self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            raise TimeoutError
        self._lock.release()  # a second reader sees the answer too
        if self._error is not None:
            raise self._error
        return cast(T, self._value)


class Channel:
    """Carries callbacks from one loop's thread to another loop, one wake-up per batch.

    ``send`` must be called on the source loop's thread: it queues the callback and, once per
    iteration of the source loop, hands the whole batch over with a single ``call_soon_threadsafe``.
    Completions produced in one portal iteration thus reach the caller's loop together.
    """

    def __init__(self, source: asyncio.AbstractEventLoop, target: asyncio.AbstractEventLoop) -> None:
        # Weak: a caller's loop that has finished must be free to go (the runtime keys channels by loop).
        self._source = weakref.ref(source)
        self._target = weakref.ref(target)
        self._pending: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def send(self, fn: Callable[..., Any], *args: Any) -> None:
        source = self._source()
        if source is None:
            return
        if not self._pending:
            source.call_soon(self._flush)
        self._pending.append((fn, args))

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        target = self._target()
        if batch and target is not None:
            # a closed target loop means nobody waits for these any more
            with contextlib.suppress(RuntimeError):
                target.call_soon_threadsafe(_run_batch, target, batch)


#: Timers fire up to the clock's resolution early (as asyncio schedules them); a deadline that close is due.
_CLOCK_RESOLUTION = time.get_clock_info("monotonic").resolution


class Deadlines:
    """Futures of one loop that give up ``limit`` seconds after they were added: one timer, not one each.

    A timer per awaited answer is armed and cancelled for almost every call, and a cancelled timer stays
    in the loop's heap (holding its future) until the heap is cleaned. Futures with the same limit fall
    due in the order they were added, so one timer armed for the oldest is enough; ``give_up`` is called
    with each future whose time is up and that was not discarded before.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: float, give_up: Callable[[Any], None]) -> None:
        # Weak, as a channel's: kept per caller loop, this must not keep a finished loop alive.
        self._loop = weakref.ref(loop)
        self.limit = limit
        self._give_up = give_up
        self._due: dict[Any, float] = {}
        # Whether a timer is armed; not the handle itself, which holds its loop (see ``_loop``).
        self._armed = False

    def add(self, future: Any) -> None:
        loop = self._loop()
        if loop is None:
            return
        at = loop.time() + self.limit
        self._due[future] = at
        if not self._armed:
            self._armed = True
            loop.call_at(at, self._fire)

    def discard(self, future: Any) -> None:
        self._due.pop(future, None)

    def _fire(self) -> None:
        self._armed = False
        loop = self._loop()
        if loop is None:
            return
        due = self._due
        now = loop.time() + _CLOCK_RESOLUTION
        while due:
            future = next(iter(due))
            at = due[future]
            if at > now:
                self._armed = True
                loop.call_at(at, self._fire)
                return
            del due[future]
            self._give_up(future)


def _run_batch(loop: asyncio.AbstractEventLoop, batch: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
    for fn, args in batch:
        try:
            fn(*args)
        except Exception as exc:  # one failing callback must not drop the rest of the batch
            loop.call_exception_handler({"message": "error in a batched callback", "exception": exc})


class Portal:
    """Owns an event loop running forever in a daemon thread."""

    def __init__(self, name: str = "restate-lab") -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        self.mailbox = Mailbox(self.loop)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    @property
    def in_portal(self) -> bool:
        return threading.current_thread() is self._thread

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the portal's loop and block until it finishes."""
        if self.in_portal:
            coro.close()
            raise RuntimeError("blocking call from inside the runtime's own loop; use the async variant")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def acall(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the portal's loop from any loop (or directly when already on it)."""
        if self.in_portal:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()
