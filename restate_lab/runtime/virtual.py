"""Virtual time for the in-process runtime: time moves only when asked, or skips ahead when idle.

A :class:`VirtualClock` is a :class:`~restate_lab.runtime.clock.ManualClock` that a
:class:`TimeSkipper` drives on the engine's loop. ``advance_to(t)`` fires the timers due by ``t`` one
instant at a time, and after each instant lets the runtime *settle* (run every attempt that instant
started, to its end or its next wait) before time moves on, so a back-off that follows a failed retry
is measured from the virtual instant of that retry, as on the wall clock. ``run_until_idle()`` skips
from one timer an invocation waits for (a sleep, a delayed send, a back-off) to the next until none is
left. With ``auto_skip`` the skipper does that by itself whenever the runtime is idle (no attempt in
flight, nothing ready), the way Temporal's time-skipping test server does: a workflow that sleeps 30
days completes at once, and its journal, state and answers are those of the wall clock.

Housekeeping timers (completion and idempotency retention, the inactivity watchdog) are never jumped
to; they fire when time passes them for another reason, or on an explicit ``advance``.

What cannot be virtual, because it is not the runtime's to move:

- time a handler reads from the host itself: ``time.time()``, ``datetime.now()``, or restate-sdk's
  ``ctx.time()`` (a ``ctx.run`` of ``time.time``): the host's wall time, journaled as read;
- wall time a handler spends: ``asyncio.sleep``, real I/O, CPU inside ``ctx.run``: virtual time stands
  still while code runs, and the runtime waits for it;
- limits the SDK enforces with its own clock (a ``ctx.run`` retry policy's ``max_retry_duration``);
- external inputs: HTTP requests, Kafka records, awakeables resolved from outside arrive in wall time
  (with auto-skip, time may jump past a delayed send before a next request arrives);
- bidirectional (HTTP/2) deployments: an attempt that waits there without suspending keeps the runtime
  busy, so time does not skip (in-process deployments are request-response and suspend).

A sleep's length reaches the engine only as the SDK's wall-clock wake-up time (restate-sdk's VM takes
no "now"); the engine keeps its distance from the host time at which the command arrived, so a virtual
sleep can come out up to a millisecond short (the command's travel time).

>>> clock = VirtualClock(start_ms=0)
>>> clock.auto_skip
False
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from restate_lab.runtime.clock import ManualClock

if TYPE_CHECKING:
    from restate_lab.runtime.engine import Engine

#: Settling waits this many loop turns before polling less eagerly (ms between polls, up to the cap).
_EAGER_TURNS = 200
_POLL_CAP_S = 0.01


class VirtualClock(ManualClock):
    """Virtual time for ``LocalRestate``: a manual clock, plus what time-skipping needs.

    ``auto_skip``: jump to the next due timer whenever the runtime is idle. ``parked`` counts attempts
    that wait on virtual time themselves (a load driver's service time, a deployment slot): they do not
    keep the runtime busy. ``sleep`` is such a wait.
    """

    def __init__(self, start_ms: int | None = None, *, auto_skip: bool = False) -> None:
        super().__init__(start_ms)
        self.auto_skip = auto_skip
        self.parked = 0

    async def sleep(self, ms: float) -> None:
        """Wait ``ms`` of virtual time on the running loop, parked meanwhile."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        woken = False

        def wake() -> None:
            nonlocal woken
            woken = True
            self.parked -= 1
            if not fut.done():
                fut.set_result(None)

        self.parked += 1
        timer = self.call_at(self.now_ms() + max(0, round(ms)), wake)
        try:
            await fut
        except asyncio.CancelledError:
            timer.cancel()
            if not woken:
                self.parked -= 1
            raise


class TimeSkipper:
    """Drives a manual or virtual clock for one engine, on the engine's loop (all methods run there)."""

    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        self.engine = engine
        self.clock = clock
        self._lock = asyncio.Lock()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def idle(self) -> bool:
        """No attempt in flight but those parked on virtual time, and no due timer waiting to run."""
        parked = getattr(self.clock, "parked", 0)
        return self.clock.soon_pending <= 0 and self.engine.attempts_in_flight() <= parked

    async def settle(self, timeout_s: float | None = None, *, deadline: float | None = None) -> None:
        """Return once the runtime is idle (two loop turns in a row).

        ``TimeoutError`` after ``timeout_s`` wall seconds (or at ``deadline``, in the loop's time).
        """
        loop = asyncio.get_running_loop()
        if timeout_s is not None:
            deadline = loop.time() + timeout_s if deadline is None else min(deadline, loop.time() + timeout_s)
        quiet = turns = 0
        while quiet < 2:
            quiet = quiet + 1 if self.idle() else 0
            if deadline is not None and loop.time() > deadline:
                raise TimeoutError(
                    f"virtual time did not get there in the wall time allowed: {self.engine.attempts_in_flight()} "
                    "attempt(s) still running (virtual time stands still while handler code runs)"
                )
            turns += 1
            await asyncio.sleep(0 if turns < _EAGER_TURNS else min(_POLL_CAP_S, (turns - _EAGER_TURNS) / 10_000))

    def _move_to(self, epoch_ms: int) -> None:
        now = self.clock.now_ms()
        if epoch_ms > now:
            self.clock.advance(epoch_ms - now)

    @staticmethod
    def _deadline(timeout_s: float | None) -> float | None:
        return None if timeout_s is None else asyncio.get_running_loop().time() + timeout_s

    async def advance_to(self, epoch_ms: int, timeout_s: float | None = None, *, deadline: float | None = None) -> None:
        """Move to ``epoch_ms`` instant by instant, letting the runtime settle after each due timer.

        ``timeout_s``: wall seconds the whole move may take (``TimeoutError`` then; time stays where it got).
        """
        if deadline is None:
            deadline = self._deadline(timeout_s)
        async with self._lock:
            await self.settle(deadline=deadline)
            while True:
                due = self.clock.peek()
                if due is None or due > epoch_ms:
                    break
                self._move_to(due)
                await self.settle(deadline=deadline)
            self._move_to(epoch_ms)
            await self.settle(deadline=deadline)

    async def run_until_idle(self, *, max_ms: int | None = None, timeout_s: float | None = None) -> int:
        """Skip from timer to timer while an invocation waits for one; returns the virtual ms that passed.

        ``max_ms`` bounds the jump (a handler that retries forever would otherwise never let it end);
        ``timeout_s`` the wall seconds it may take in all.
        """
        deadline = self._deadline(timeout_s)
        start = self.clock.now_ms()
        limit = None if max_ms is None else start + max_ms
        while True:
            await self.settle(deadline=deadline)
            due = self.clock.peek(background=False)
            if due is None:
                break
            if limit is not None and due > limit:
                await self.advance_to(limit, deadline=deadline)
                break
            await self.advance_to(due, deadline=deadline)
        return self.clock.now_ms() - start

    # ---- auto-skip ----

    def start(self) -> None:
        """Skip ahead by itself whenever the runtime is idle and an invocation waits for a timer."""
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.clock.on_progress_timer = self._poke
        self._task = self._loop.create_task(self._skip())
        self.engine.on_close(self.stop)

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    async def _skip(self) -> None:
        assert self._wake is not None
        while True:
            await self.settle()
            due = self.clock.peek(background=False)
            if due is None:
                self._wake.clear()
                if self.clock.peek(background=False) is None:
                    await self._wake.wait()
                continue
            await self.advance_to(due)

    async def stop(self) -> None:
        """Stop skipping (the engine calls this as it closes)."""
        task, self._task = self._task, None
        self.clock.on_progress_timer = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
