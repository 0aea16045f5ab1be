"""The lifecycle rules: what follows a failed attempt, cancel and kill in every status, the statuses."""

from __future__ import annotations

import pytest

from restate_lab.rules.lifecycle import (
    CancelAction,
    InvocationStatus,
    Kill,
    KillAction,
    Pause,
    Retry,
    after_failure,
    cancel_action,
    failures_after_resume,
    failures_after_suspension,
    kill_action,
)
from restate_lab.rules.retry import RetryPolicy


def test_statuses_are_restates_names_only() -> None:
    """The status set is exactly sys_invocation's: no killed, failed or cancelled status."""
    assert {s.value for s in InvocationStatus} == {
        "pending",
        "scheduled",
        "ready",
        "running",
        "backing-off",
        "suspended",
        "paused",
        "completed",
    }


def test_default_policy_retries_with_restate_17_backoff() -> None:
    """Restate 1.7 defaults: 500 ms doubling up to 60 s, 70 attempts, then pause."""
    policy = RetryPolicy()
    assert [after_failure(policy, n) for n in (1, 2, 3, 8)] == [Retry(500), Retry(1000), Retry(2000), Retry(60_000)]
    assert after_failure(policy, 69) == Retry(60_000)
    assert after_failure(policy, 70) == Pause()


def test_last_attempt_kills_when_the_policy_says_kill() -> None:
    """on_max_attempts='kill' ends the invocation after max_attempts failed attempts."""
    policy = RetryPolicy(initial_interval_ms=10, max_attempts=3, on_max_attempts="kill")
    assert [after_failure(policy, n) for n in (1, 2, 3, 4)] == [Retry(10), Retry(20), Kill(), Kill()]


def test_unlimited_attempts_never_stop_retrying() -> None:
    """max_attempts=None retries forever, capped at the max interval."""
    policy = RetryPolicy(initial_interval_ms=100, max_interval_ms=1_000, max_attempts=None)
    assert after_failure(policy, 10_000) == Retry(1_000)


def test_a_delay_the_sdk_asks_for_wins_over_the_policy() -> None:
    """A failure carrying its own next-retry delay is retried after that delay."""
    assert after_failure(RetryPolicy(), 1, requested_delay_ms=42) == Retry(42)
    assert after_failure(RetryPolicy(max_attempts=1), 1, requested_delay_ms=42) == Pause()


def test_suspension_and_resume_start_the_failure_count_again() -> None:
    """After a suspension (progress) or a resume the retry budget is whole again."""
    assert failures_after_suspension(5) == 0
    assert failures_after_resume(70) == 0


@pytest.mark.parametrize(
    ("status", "attempts", "action"),
    [
        ("pending", 0, CancelAction.DROP),
        ("scheduled", 0, CancelAction.DROP),
        ("ready", 0, CancelAction.END),
        ("ready", 2, CancelAction.SIGNAL),
        ("running", 1, CancelAction.SIGNAL),
        ("suspended", 1, CancelAction.SIGNAL),
        ("backing-off", 1, CancelAction.SIGNAL),
        ("paused", 2, CancelAction.SIGNAL_AND_RESUME),
        ("completed", 1, CancelAction.ALREADY_COMPLETED),
    ],
)
def test_cancel_in_every_status(status: str, attempts: int, action: CancelAction) -> None:
    """Cancel drops what never ran, signals what runs, resumes what is paused, refuses what completed."""
    assert cancel_action(status, attempts) is action


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("pending", KillAction.DROP),
        ("scheduled", KillAction.DROP),
        ("ready", KillAction.END),
        ("running", KillAction.END),
        ("suspended", KillAction.END),
        ("backing-off", KillAction.END),
        ("paused", KillAction.END),
        ("completed", KillAction.ALREADY_COMPLETED),
    ],
)
def test_kill_in_every_status(status: str, action: KillAction) -> None:
    """Kill drops what never ran, ends everything else at once, refuses what completed."""
    assert kill_action(status) is action


def test_unknown_status_is_refused() -> None:
    """A status Restate does not have (e.g. killed) is an error, not a silent default."""
    with pytest.raises(ValueError):
        cancel_action("killed", 1)
    with pytest.raises(ValueError):
        kill_action("failed")


def test_backoff_after_thousands_of_failures_stays_at_the_cap() -> None:
    """delay_ms never overflows: past the cap every back-off is max_interval_ms."""
    policy = RetryPolicy(initial_interval_ms=500, factor=2.0, max_interval_ms=60_000, max_attempts=None)
    assert [policy.delay_ms(n) for n in (7, 8, 9, 5_000)] == [32_000, 60_000, 60_000, 60_000]
