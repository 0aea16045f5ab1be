"""The inactivity timeout of bidirectional attempts: one timer per timeout length, not one per attempt.

Restate Server closes a stream's input once nothing has happened on it for the handler's
``inactivity_timeout``, and the SDK then suspends. Most attempts end long before that, so arming
and cancelling a timer for each of them is wasted work: attempts are kept here in start order
instead, one engine timer for each timeout length watches the oldest, and only an attempt still
open at its first deadline gets a timer of its own (re-armed from its last activity, as before).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from restate_lab.protocol.body import LiveBody
from restate_lab.runtime.clock import Timer
from restate_lab.runtime.invocation import Invocation


class _Clocked(Protocol):
    def now_ms(self) -> int: ...

    def at(self, inv: Invocation | None, epoch_ms: int, callback: Callable[[], None]) -> Timer: ...


#: An open attempt: its input, the activity time its first deadline counts from, and its own timers.
_Watched = tuple[LiveBody, int, list[Timer]]


class IdleWatch:
    """Closes the input of bidirectional attempts that have been inactive for their timeout."""

    def __init__(self, engine: _Clocked) -> None:
        self._engine = engine
        #: Per timeout length, the open attempts in start order (so their first deadlines are in order).
        self._open: dict[int, dict[Invocation, _Watched]] = {}
        self._timers: dict[int, Timer] = {}

    def watch(self, inv: Invocation, body: LiveBody, timeout_ms: int, timers: list[Timer]) -> None:
        """Close ``body`` once ``inv`` has been inactive for ``timeout_ms``; ``timers`` gets any timer made."""
        group = self._open.get(timeout_ms)
        if group is None:
            group = self._open[timeout_ms] = {}
        group[inv] = (body, inv.modified_at_ms, timers)
        if timeout_ms not in self._timers:
            self._arm(timeout_ms, inv.modified_at_ms + timeout_ms)

    def unwatch(self, inv: Invocation, timeout_ms: int) -> None:
        """The attempt has ended: forget it (its own timers are the attempt's to cancel)."""
        group = self._open.get(timeout_ms)
        if group is not None:
            group.pop(inv, None)

    def _arm(self, timeout_ms: int, at_ms: int) -> None:
        self._timers[timeout_ms] = self._engine.at(None, at_ms, lambda: self._due(timeout_ms))

    def _due(self, timeout_ms: int) -> None:
        del self._timers[timeout_ms]
        group = self._open.get(timeout_ms)
        now = self._engine.now_ms()
        while group:
            inv = next(iter(group))
            body, since, timers = group[inv]
            if since + timeout_ms > now:
                self._arm(timeout_ms, since + timeout_ms)
                return
            del group[inv]
            close_when_idle(self._engine, inv, body, timeout_ms, timers, since)

    def close(self) -> None:
        """Stop watching (the engine is closing)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._open.clear()


def close_when_idle(
    engine: _Clocked, inv: Invocation, body: LiveBody, timeout_ms: int, timers: list[Timer], seen: int
) -> None:
    """Close ``body`` if ``inv`` has had no activity since ``seen``, else look again ``timeout_ms`` after its last.

    ``timers`` holds the one pending look, so that the attempt can call it off when it ends. The
    timeout counts from the last activity (``modified_at_ms``).
    """
    timers.clear()
    if inv.live_input is not body:
        return
    if inv.modified_at_ms == seen:
        inv.live_input = None
        body.put_nowait(None)
        return
    seen = inv.modified_at_ms

    def check() -> None:
        close_when_idle(engine, inv, body, timeout_ms, timers, seen)

    timers.append(engine.at(None, seen + timeout_ms, check))
