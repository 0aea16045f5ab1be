"""The runtime's clock: what time it is (ms since the epoch) and running a callback at a time.

Every timer, delay, back-off, retention and timeout of the runtime, and every timestamp it
reports, reads the engine's clock. ``WallClock`` (the default) is the asyncio loop against
wall time; ``ManualClock`` stands still until a test (or a virtual-time driver) advances it,
and then fires the timers that fell due, in time order, as simpy's ``Environment`` does.
One limit: a handler's ``ctx.sleep`` wake-up time is computed by the SDK from its own wall
clock, so with a manual clock that has been advanced a sleep ends at that wall-based time.

>>> clock = ManualClock(start_ms=1_000)
>>> fired = []
>>> _ = clock.call_at(1_500, lambda: fired.append(clock.now_ms()))
>>> clock.advance(400); fired
[]
>>> clock.advance(100); fired
[1500]
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Protocol

#: How long ``ManualClock.advance`` waits for a timer to run on another thread's loop.
FIRE_TIMEOUT_S = 10.0


class Timer(Protocol):
    """A scheduled callback that can still be called off (an ``asyncio.TimerHandle`` is one)."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Now, and callbacks at a given time; the engine reads nothing else about time."""

    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch."""
        ...

    def call_at(self, epoch_ms: int, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` on the running loop once the clock reaches ``epoch_ms`` (soon if it has)."""
        ...


class WallClock:
    """Wall time, with timers on the running asyncio loop."""

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def call_at(self, epoch_ms: int, callback: Callable[[], None]) -> Timer:
        delay = max(0.0, (epoch_ms - self.now_ms()) / 1000)
        return asyncio.get_running_loop().call_later(delay, callback)


class _ManualTimer:
    __slots__ = ("callback", "cancelled", "loop")

    def __init__(self, callback: Callable[[], None], loop: asyncio.AbstractEventLoop | None) -> None:
        self.callback = callback
        self.loop = loop
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def _run(self) -> None:
        if not self.cancelled:
            self.callback()

    def soon(self) -> None:
        """Run at the owning loop's next turn (a timer set in the past, as ``call_later(0)``)."""
        if self.loop is None or self.loop.is_closed():
            self._run()
        else:
            self.loop.call_soon_threadsafe(self._run)

    def fire(self) -> None:
        """Run now: here if this is the owning loop's thread, else on that loop, waiting for it."""
        if self.cancelled:
            return
        loop = self.loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or loop is running or loop.is_closed() or not loop.is_running():
            self._run()
            return
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            try:
                self._run()
            finally:
                done.set_result(None)

        loop.call_soon_threadsafe(run)
        done.result(timeout=FIRE_TIMEOUT_S)


class ManualClock:
    """A clock that moves only when told to: ``advance(ms)`` fires every timer due by then.

    Timers run on the loop that scheduled them (the engine's, which may run in another thread:
    ``advance`` then waits for each), one by one in due-time order with ``now_ms()`` at their due
    time; a timer set at or before ``now`` runs at its loop's next turn, as ``call_later(0)`` does.
    """

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = int(time.time() * 1000) if start_ms is None else start_ms
        self._timers: list[tuple[int, int, _ManualTimer]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return self._now

    def call_at(self, epoch_ms: int, callback: Callable[[], None]) -> Timer:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        timer = _ManualTimer(callback, loop)
        with self._lock:
            due = epoch_ms <= self._now
            if not due:
                heapq.heappush(self._timers, (epoch_ms, next(self._order), timer))
        if due:
            timer.soon()
        return timer

    def peek(self) -> int | None:
        """When the next timer falls due (None if there is none)."""
        with self._lock:
            while self._timers and self._timers[0][2].cancelled:
                heapq.heappop(self._timers)
            return self._timers[0][0] if self._timers else None

    def advance(self, ms: int) -> None:
        """Move the clock ``ms`` forward, firing each timer that falls due on the way, in order."""
        if ms < 0:
            raise ValueError(f"a clock cannot go back ({ms} ms)")
        target = self._now + ms
        while True:
            with self._lock:
                if not self._timers or self._timers[0][0] > target:
                    self._now = target
                    return
                due, _order, timer = heapq.heappop(self._timers)
                self._now = max(self._now, due)
            timer.fire()
