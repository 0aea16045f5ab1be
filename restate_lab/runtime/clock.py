"""The runtime's clock: what time it is (ms since the epoch) and running a callback at a time.

Every timer, delay, back-off, retention and timeout of the runtime, and every timestamp it
reports, reads the engine's clock. ``WallClock`` (the default) is the asyncio loop against
wall time; ``ManualClock`` stands still until a test (or a virtual-time driver) advances it,
and then fires the timers that fell due, in time order, as simpy's ``Environment`` does.
Times the SDK computes from the host's wall clock (a ``ctx.sleep`` wake-up time, a delayed
``ctx.send``'s invoke time: restate-sdk's VM takes no "now") are translated by
``from_host_ms``: on the wall clock they stand as they are; on any other clock the engine keeps
their distance from the host time at which the command arrived and lays it on its own clock.
The SDK read the host clock somewhere between the attempt's start and the command's arrival; of the
durations that window allows, the roundest is taken (``host_duration_ms``), so a 30-day sleep is 30
days exactly, while an unround one can come out short by the command's travel time (a millisecond or so).

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
import contextvars
import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

#: How long ``ManualClock.advance`` waits for a timer to run on another thread's loop.
FIRE_TIMEOUT_S = 10.0


#: Units a duration read back from a host-clock stamp is rounded to, roundest first.
_ROUND_UNITS_MS = (86_400_000, 3_600_000, 60_000, 1_000, 100, 10, 1)


def host_duration_ms(host_epoch_ms: int, now_host_ms: float, since_host_ms: float | None) -> int:
    """How far ahead of its own clock reading the SDK set ``host_epoch_ms`` (a wake-up, an invoke time).

    The SDK read its clock (truncated to the ms) at some instant between ``since_host_ms`` (the attempt's
    start) and ``now_host_ms`` (the command's arrival), so the duration it added lies in
    ``[host_epoch_ms - now, host_epoch_ms - since + 1]``. When a unit at least 20 times that window's
    width has a multiple in it, that multiple is taken, the roundest unit first (durations are written
    as whole days, hours, seconds; a window that narrow rarely holds a round number by chance), else
    the window's start: short by the command's travel time.

    >>> host_duration_ms(1_000_000 + 2_592_000_000 - 3, 1_000_000.0, 999_990.0)  # 30 days, 3 ms late
    2592000000
    >>> host_duration_ms(5_000 + 1_234, 5_000.5, 4_999.9)
    1234
    >>> host_duration_ms(10_000 + 250, 10_000.0, 8_000.0)  # after 2 s of work: too wide to round
    250
    """
    low = max(0, math.ceil(host_epoch_ms - now_host_ms))
    if since_host_ms is None:
        return low
    high = max(low, math.floor(host_epoch_ms - since_host_ms) + 1)
    for unit in _ROUND_UNITS_MS:
        if unit < 20 * (high - low):
            break
        candidate = -(-low // unit) * unit
        if candidate <= high:
            return candidate
    return low


class Timer(Protocol):
    """A scheduled callback that can still be called off (an ``asyncio.TimerHandle`` is one)."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Now, and callbacks at a given time; the engine reads nothing else about time."""

    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch."""
        ...

    def call_at(self, epoch_ms: int, callback: Callable[[], None], *, background: bool = False) -> Timer:
        """Run ``callback`` on the running loop once the clock reaches ``epoch_ms`` (soon if it has).

        ``background`` marks housekeeping (retention expiry, inactivity watchdogs): a timer no
        invocation waits for, which time-skipping does not jump to.
        """
        ...

    def from_host_ms(self, host_epoch_ms: int, since_host_ms: float | None = None) -> int:
        """A time the SDK computed from the host's wall clock, on this clock (see the module doc).

        ``since_host_ms``: host time at which the attempt that computed it started (the SDK read its
        clock between then and now).
        """
        ...


class WallClock:
    """Wall time, with timers on the running asyncio loop."""

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def call_at(self, epoch_ms: int, callback: Callable[[], None], *, background: bool = False) -> Timer:
        delay = max(0.0, (epoch_ms - self.now_ms()) / 1000)
        # A fresh context, not a copy of the caller's: the SDK keeps its whole invocation context
        # in a context variable, and an hour's sleep timer set from an attempt would hold it (the
        # attempt's VM, queues and buffers) long after the attempt suspended and ended.
        return asyncio.get_running_loop().call_later(delay, callback, context=contextvars.Context())

    def from_host_ms(self, host_epoch_ms: int, since_host_ms: float | None = None) -> int:
        return host_epoch_ms


def _nothing() -> None:
    """The callback of a cancelled timer."""


class _ManualTimer:
    __slots__ = ("callback", "cancelled", "loop", "due", "background", "clock")

    def __init__(
        self,
        callback: Callable[[], None],
        loop: asyncio.AbstractEventLoop | None,
        due: int,
        background: bool,
        clock: ManualClock,
    ) -> None:
        self.callback = callback
        self.loop = loop
        self.cancelled = False
        self.due = due
        self.background = background
        self.clock = clock

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self.callback = _nothing  # what the callback holds (an attempt's queue, ...) is freed now
            self.clock._cancelled_one()

    def _run(self) -> None:
        if not self.cancelled:
            self.cancelled = True  # a timer runs once: it leaves the clock's heaps as a cancelled one does
            self.callback()

    def _run_soon(self) -> None:
        self.clock.soon_pending -= 1
        self._run()

    def soon(self) -> None:
        """Run at the owning loop's next turn (a timer set in the past, as ``call_later(0)``)."""
        if self.loop is None or self.loop.is_closed():
            self._run()
        else:
            self.clock.soon_pending += 1
            self.loop.call_soon_threadsafe(self._run_soon)

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
        #: Timers already due that wait for their loop's next turn.
        self.soon_pending = 0
        #: The timers an invocation waits for (not ``background``), also in ``_timers``.
        self._progress: list[tuple[int, int, _ManualTimer]] = []
        #: Called (on the scheduling thread) whenever a timer an invocation waits for is set.
        self.on_progress_timer: Callable[[], None] | None = None
        #: Cancelled timers still in the heaps (they leave when due, or when they are half the heap).
        self._cancelled = 0

    def _cancelled_one(self) -> None:
        """Count a cancellation; once cancelled timers are most of the heap, rebuild it without them, as asyncio
        does with its scheduled handles (a clock that is not advanced far would otherwise keep them all)."""
        with self._lock:
            self._cancelled += 1
            if self._cancelled > 64 and self._cancelled * 2 > len(self._timers):
                self._timers = [entry for entry in self._timers if not entry[2].cancelled]
                self._progress = [entry for entry in self._progress if not entry[2].cancelled]
                heapq.heapify(self._timers)
                heapq.heapify(self._progress)
                self._cancelled = 0

    def now_ms(self) -> int:
        return self._now

    def call_at(self, epoch_ms: int, callback: Callable[[], None], *, background: bool = False) -> Timer:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        timer = _ManualTimer(callback, loop, epoch_ms, background, self)
        with self._lock:
            due = epoch_ms <= self._now
            if not due:
                entry = (epoch_ms, next(self._order), timer)
                heapq.heappush(self._timers, entry)
                if not background:
                    heapq.heappush(self._progress, entry)
        if due:
            timer.soon()
        elif not background and self.on_progress_timer is not None:
            self.on_progress_timer()
        return timer

    def from_host_ms(self, host_epoch_ms: int, since_host_ms: float | None = None) -> int:
        return self._now + host_duration_ms(host_epoch_ms, time.time() * 1000, since_host_ms)

    def peek(self, *, background: bool = True) -> int | None:
        """When the next timer falls due (None if there is none); ``background=False``: the next
        one an invocation waits for (a sleep, a delayed send, a back-off), skipping housekeeping."""
        with self._lock:
            heap = self._timers if background else self._progress
            while heap and heap[0][2].cancelled:
                heapq.heappop(heap)
            return heap[0][0] if heap else None

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
