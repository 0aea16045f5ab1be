"""Virtual time: sleeps, delayed sends, back-offs and retentions pass at once, with the wall clock's answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from restate_lab import LocalRestate
from restate_lab.protocol.messages import MessageType
from restate_lab.rules.retry import RetryPolicy
from restate_lab.runtime.virtual import VirtualClock

from .apps import DAY_MS, make_app


def tag() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def vlab() -> Iterator[LocalRestate]:
    """Virtual time that skips ahead whenever nothing runs (``clock="virtual"``)."""
    with LocalRestate(make_app(), clock="virtual") as lab:
        yield lab


@pytest.fixture
def wall() -> Iterator[LocalRestate]:
    """The same app on the wall clock, with a fast retry policy, for comparison."""
    with LocalRestate(make_app(), retry_policy=RetryPolicy(initial_interval_ms=1, factor=1.0)) as lab:
        yield lab


def journal_shape(lab: LocalRestate, invocation_id: str) -> list[tuple[str, str]]:
    """A journal's entry types and names: what must not depend on the clock."""
    frame = lab.journal(invocation_id)
    return [(str(t), str(n)) for t, n in zip(frame["entry_type"], frame["name"], strict=True)]


def test_a_workflow_sleeping_30_days_completes_at_once_with_the_wall_clocks_journal(
    vlab: LocalRestate, wall: LocalRestate
) -> None:
    """30 virtual days pass for ctx.sleep; result, state and journal are those of a short sleep on the wall clock."""
    key = tag()
    start = vlab.now_ms()
    assert vlab.call("Trial", "run", 30 * DAY_MS, key=key) == f"{key} billed after {30 * DAY_MS} ms"
    elapsed = vlab.now_ms() - start
    assert elapsed == 30 * DAY_MS  # a round duration comes back exactly (clock.host_duration_ms)
    assert vlab.state("Trial", key) == {"stage": "billed"}
    [inv_id] = vlab.invocations(service="Trial")["id"]
    inv = vlab.engine.find(inv_id)
    assert inv is not None
    [wake_up] = [f.message().wake_up_time for f in inv.journal if f.type == MessageType.SLEEP_COMMAND]
    assert wake_up == inv.created_at_ms + elapsed  # the journal speaks virtual time, as the clock does
    assert wall.call("Trial", "run", 20, key=key) == f"{key} billed after 20 ms"
    [wall_id] = wall.invocations(service="Trial")["id"]
    assert journal_shape(vlab, inv_id) == journal_shape(wall, wall_id)


def test_a_send_delayed_by_a_week_runs_a_virtual_week_later(vlab: LocalRestate) -> None:
    """A handler's delayed ctx.service_send is scheduled a virtual week ahead and runs when time skips there."""
    start = vlab.now_ms()
    assert vlab.call("Mailer", "remind", 7 * DAY_MS) == "scheduled"
    vlab.run_until_idle()  # auto-skip may already have jumped there: then this returns at once
    frame = vlab.invocations(service="Mailer")
    delivered = frame[frame["target_handler_name"] == "deliver"]
    assert list(delivered["status"]) == ["completed"]
    [inv_id] = delivered["id"]
    assert vlab.output(inv_id) == "delivered: see you next week"
    inv = vlab.engine.find(inv_id)
    assert inv is not None and inv.execution_time_ms is not None and inv.completed_at_ms is not None
    assert inv.execution_time_ms - start == 7 * DAY_MS
    assert inv.completed_at_ms == inv.execution_time_ms  # ran at its virtual instant, no later


def test_an_ingress_send_delayed_by_a_week_reports_its_virtual_execution_time(vlab: LocalRestate) -> None:
    """executionTime is virtual now + delay, exactly, and the result is there after the skip."""
    start = vlab.now_ms()
    receipt = vlab.send("Mailer", "deliver", "hi", delay="7d")
    assert receipt.execution_time is not None
    assert vlab.attach(receipt.invocation_id) == "delivered: hi"
    assert vlab.now_ms() - start == 7 * DAY_MS


def test_twenty_retries_with_exponential_back_off_take_the_policys_virtual_time(
    vlab: LocalRestate, wall: LocalRestate
) -> None:
    """20 failed attempts back off 500 ms doubling to 60 s: 843.5 virtual seconds, the wall clock's answer."""
    policy = RetryPolicy()
    key = tag()
    start = vlab.now_ms()
    assert vlab.call("Flaky", "fail_then_succeed", {"tag": key, "failures": 20}) == "ok after 21 attempts"
    assert vlab.now_ms() - start == sum(policy.delay_ms(n) for n in range(1, 21)) == 843_500
    [inv_id] = vlab.invocations(service="Flaky")["id"]
    wall_key = tag()
    assert wall.call("Flaky", "fail_then_succeed", {"tag": wall_key, "failures": 20}) == "ok after 21 attempts"
    [wall_id] = wall.invocations(service="Flaky")["id"]
    assert journal_shape(vlab, inv_id) == journal_shape(wall, wall_id)


def test_an_idempotency_key_expires_after_its_retention_on_virtual_time() -> None:
    """Within the 24 h retention a resend gets the stored answer; one virtual day later it runs anew."""
    name = tag()
    with LocalRestate(make_app(), clock=VirtualClock()) as lab:
        first = lab.call("Mailer", "greet", name, idempotency_key="order-1")
        assert first == f"hello {name} #1"
        lab.advance("23h")
        assert lab.call("Mailer", "greet", name, idempotency_key="order-1") == first
        lab.advance("1h")
        assert lab.call("Mailer", "greet", name, idempotency_key="order-1") == f"hello {name} #2"


def test_a_manual_virtual_clock_moves_only_when_asked() -> None:
    """VirtualClock() without auto-skip: a sleeping workflow waits until advance() passes its wake-up."""
    key = tag()
    with LocalRestate(make_app(), clock=VirtualClock()) as lab:
        start = lab.now_ms()
        lab.send("Trial", "run", 3 * DAY_MS, key=key)
        lab.advance("1d")
        assert lab.state("Trial", key) == {"stage": "trial"}
        assert lab.now_ms() - start == DAY_MS
        lab.advance("2d")
        assert lab.output_workflow("Trial", key) == f"{key} billed after {3 * DAY_MS} ms"
        assert lab.run_until_idle() == 0  # nothing waits for time any more


def test_run_until_idle_skips_to_each_timer_and_returns_the_virtual_time_passed() -> None:
    """run_until_idle() jumps from timer to timer until no invocation waits for one, and stops there."""
    key = tag()
    with LocalRestate(make_app(), clock=VirtualClock()) as lab:
        lab.send("Trial", "run", 30 * DAY_MS, key=key)
        passed = lab.run_until_idle()
        assert passed == 30 * DAY_MS
        assert lab.output_workflow("Trial", key) == f"{key} billed after {30 * DAY_MS} ms"


def test_virtual_time_needs_a_virtual_clock() -> None:
    """advance() on the wall clock is a clear error; an unknown clock name too."""
    with LocalRestate(make_app()) as lab, pytest.raises(ValueError, match="wall clock"):
        lab.advance("1s")
    with pytest.raises(ValueError, match="unknown clock"):
        LocalRestate(make_app(), clock="sundial")


def test_run_until_idle_stops_at_max_duration() -> None:
    """max_duration bounds the skip: a 30-day sleep is still asleep after run_until_idle(max_duration="1d")."""
    key = tag()
    with LocalRestate(make_app(), clock=VirtualClock()) as lab:
        lab.send("Trial", "run", 30 * DAY_MS, key=key)
        assert lab.run_until_idle(max_duration="1d") == DAY_MS
        assert lab.state("Trial", key) == {"stage": "trial"}
