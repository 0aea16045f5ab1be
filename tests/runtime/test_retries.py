"""Failed attempts: exponential back-off, max attempts then pause or kill, explicit retry delays, terminal errors."""

from __future__ import annotations

import time

import pytest

from restate_lab import LocalRestate, RestateError

from .apps import ATTEMPTS, invocation_rows, wait_until


def test_failing_handler_is_retried_with_growing_backoff(lab: LocalRestate, tag: str) -> None:
    """A handler failing 3 times succeeds on attempt 4, the gaps roughly doubling from 40 ms."""
    assert lab.call("Basics", "flaky", {"tag": tag, "failures": 3}) == 4
    times = ATTEMPTS[tag]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) == 3
    assert gaps[0] >= 0.035 and gaps[1] >= 0.075 and gaps[2] >= 0.155
    assert gaps[0] < gaps[1] < gaps[2]


def test_retry_status_is_backing_off_with_the_last_failure(lab: LocalRestate, tag: str) -> None:
    """Between attempts the invocation is backing-off and reports the error that ended the last attempt."""
    receipt = lab.send("Basics", "flaky", {"tag": tag, "failures": 5})
    wait_until(lambda: lab.status(receipt.invocation_id) == "backing-off")
    row = invocation_rows(lab)[receipt.invocation_id]
    assert "flaky attempt" in row["last_failure"]
    assert lab.attach(receipt.invocation_id) == 6


def test_max_attempts_then_the_invocation_is_paused(lab: LocalRestate, tag: str) -> None:
    """After max_attempts failures with on_max_attempts=pause the invocation pauses and can be resumed."""
    receipt = lab.send("Basics", "always_fails", tag)
    wait_until(lambda: lab.status(receipt.invocation_id) == "paused")
    assert len(ATTEMPTS[tag]) == 3
    time.sleep(0.1)
    assert len(ATTEMPTS[tag]) == 3, "a paused invocation must not run again by itself"
    lab.resume(receipt.invocation_id)
    wait_until(lambda: len(ATTEMPTS[tag]) >= 4)
    lab.kill(receipt.invocation_id)


def test_max_attempts_with_kill_ends_the_invocation_with_the_error(lab: LocalRestate, tag: str) -> None:
    """With on_max_attempts=kill the last failure becomes the invocation's terminal result."""
    with pytest.raises(RestateError) as err:
        lab.call("Basics", "fails_then_killed", tag)
    assert len(ATTEMPTS[tag]) == 2
    assert "boom #2" in err.value.message


def test_retryable_error_with_retry_after_sets_the_next_delay(lab: LocalRestate, tag: str) -> None:
    """RetryableError(retry_after=300 ms) overrides the back-off: the next attempt comes ~300 ms later."""
    assert lab.call("Basics", "retry_after", tag) == 2
    gap = ATTEMPTS[tag][1] - ATTEMPTS[tag][0]
    assert 0.28 <= gap < 1.5


@pytest.mark.parametrize("code", [400, 404, 409, 500, 503])
def test_terminal_error_ends_the_invocation_with_its_status_code(lab: LocalRestate, code: int) -> None:
    """A TerminalError is not retried and reaches the caller with its status code and message."""
    with pytest.raises(RestateError) as err:
        lab.call("Basics", "terminal", code)
    assert err.value.code == code
    assert err.value.message == f"refused with {code}"
