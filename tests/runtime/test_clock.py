"""The runtime reads time only from its clock: a manual clock moves back-offs, retentions, delays and sleeps."""

from __future__ import annotations

import asyncio

import pytest

from restate_lab import LocalRestate, RestateError
from restate_lab.protocol.messages import MessageType
from restate_lab.rules.durations import format_rfc3339
from restate_lab.runtime.clock import ManualClock

from .apps import wait_until
from .conftest import MANUAL_COMPLETION_RETENTION_MS


def test_manual_clock_fires_due_timers_in_time_order_at_their_due_time() -> None:
    """advance() runs every timer due by the new time, earliest first, each seeing now == its due time."""
    clock = ManualClock(start_ms=0)
    fired: list[tuple[str, int]] = []
    clock.call_at(30, lambda: fired.append(("c", clock.now_ms())))
    clock.call_at(10, lambda: fired.append(("a", clock.now_ms())))
    clock.call_at(20, lambda: fired.append(("b", clock.now_ms())))
    clock.call_at(99, lambda: fired.append(("late", clock.now_ms())))
    clock.advance(30)
    assert fired == [("a", 10), ("b", 20), ("c", 30)]
    assert clock.now_ms() == 30 and clock.peek() == 99


def test_manual_clock_skips_cancelled_timers_and_refuses_to_go_back() -> None:
    """A cancelled timer never fires; a negative advance is an error that leaves the time as it was."""
    clock = ManualClock(start_ms=0)
    fired: list[int] = []
    clock.call_at(5, lambda: fired.append(5)).cancel()
    clock.advance(10)
    assert fired == [] and clock.peek() is None
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.now_ms() == 10


def test_manual_clock_runs_a_timer_set_in_the_past_on_the_loops_next_turn() -> None:
    """Like call_later(0): a timer already due does not run inside call_at, but at the loop's next turn."""
    clock = ManualClock(start_ms=100)
    fired: list[int] = []

    async def main() -> list[int]:
        clock.call_at(50, lambda: fired.append(clock.now_ms()))
        assert fired == []
        await asyncio.sleep(0)
        return fired

    assert asyncio.run(main()) == [100]


def test_completed_invocation_is_forgotten_when_the_clock_passes_completion_retention(
    manual_lab: LocalRestate, clock: ManualClock
) -> None:
    """A completed invocation's output is kept for completion_retention, measured on the engine clock."""
    receipt = manual_lab.send("Basics", "echo", "kept")
    assert manual_lab.attach(receipt.invocation_id) == "kept"
    completed_at = manual_lab.engine.find(receipt.invocation_id).completed_at_ms  # type: ignore[union-attr]
    assert completed_at == clock.now_ms()
    clock.advance(MANUAL_COMPLETION_RETENTION_MS - 1)
    assert manual_lab.output(receipt.invocation_id) == "kept"
    clock.advance(1)
    with pytest.raises(RestateError) as gone:
        manual_lab.status(receipt.invocation_id)
    assert gone.value.code == 404


def test_delayed_send_runs_when_the_clock_reaches_its_execution_time(
    manual_lab: LocalRestate, clock: ManualClock
) -> None:
    """executionTime is the engine clock plus the delay, and the invocation stays scheduled until then."""
    receipt = manual_lab.send("Basics", "echo", "later", delay="10s")
    due = clock.now_ms() + 10_000
    assert receipt.execution_time == format_rfc3339(due)
    assert manual_lab.status(receipt.invocation_id) == "scheduled"
    clock.advance(9_999)
    assert manual_lab.status(receipt.invocation_id) == "scheduled"
    clock.advance(1)
    assert manual_lab.attach(receipt.invocation_id) == "later"


def test_sleep_wakes_only_when_the_clock_passes_its_wake_up_time(manual_lab: LocalRestate, clock: ManualClock) -> None:
    """ctx.sleep suspends the invocation until the engine clock reaches the journaled wake-up time.

    The SDK computes that time from its own wall clock; the engine lays the sleep's length on its own
    clock and journals that, so the wake-up is the manual clock's now + 60 s.
    """
    receipt = manual_lab.send("Basics", "sleep_then", 60_000)
    wait_until(lambda: manual_lab.status(receipt.invocation_id) == "suspended")
    inv = manual_lab.engine.find(receipt.invocation_id)
    assert inv is not None
    [wake_up] = [f.message().wake_up_time for f in inv.journal if f.type == MessageType.SLEEP_COMMAND]
    assert wake_up == clock.now_ms() + 60_000
    clock.advance(wake_up - clock.now_ms() - 1)
    assert manual_lab.status(receipt.invocation_id) == "suspended"
    clock.advance(1)
    assert manual_lab.attach(receipt.invocation_id) == "awake"
