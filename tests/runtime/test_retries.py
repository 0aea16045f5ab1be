"""Failed attempts: exponential back-off, max attempts then pause or kill, explicit retry delays, terminal errors."""

from __future__ import annotations

import time

import pytest

from restate_lab import LocalRestate, RestateError
from restate_lab.runtime.clock import ManualClock

from .apps import ATTEMPTS, invocation_rows, wait_until


def _next_retry_at(lab: LocalRestate, invocation_id: str) -> int | None:
    inv = lab.engine.find(invocation_id)
    assert inv is not None
    return inv.next_retry_at_ms


def test_failing_handler_is_retried_with_growing_backoff(
    manual_lab: LocalRestate, clock: ManualClock, tag: str
) -> None:
    """A handler failing 3 times succeeds on attempt 4; each retry waits 40, 80, 160 ms of the engine clock, no less."""
    receipt = manual_lab.send("Basics", "flaky", {"tag": tag, "failures": 3})
    for attempt, delay in ((1, 40), (2, 80), (3, 160)):
        wait_until(lambda: manual_lab.status(receipt.invocation_id) == "backing-off")
        assert len(ATTEMPTS[tag]) == attempt
        assert _next_retry_at(manual_lab, receipt.invocation_id) == clock.now_ms() + delay
        clock.advance(delay - 1)
        assert manual_lab.status(receipt.invocation_id) == "backing-off" and len(ATTEMPTS[tag]) == attempt
        clock.advance(1)
        wait_until(lambda: len(ATTEMPTS[tag]) == attempt + 1)  # noqa: B023 - read at once, in this iteration
    assert manual_lab.attach(receipt.invocation_id) == 4


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


def test_retryable_error_with_retry_after_sets_the_next_delay(
    manual_lab: LocalRestate, clock: ManualClock, tag: str
) -> None:
    """RetryableError(retry_after=300 ms) overrides the back-off: the next attempt comes 300 ms later."""
    receipt = manual_lab.send("Basics", "retry_after", tag)
    wait_until(lambda: manual_lab.status(receipt.invocation_id) == "backing-off")
    assert _next_retry_at(manual_lab, receipt.invocation_id) == clock.now_ms() + 300
    clock.advance(299)
    assert len(ATTEMPTS[tag]) == 1
    clock.advance(1)
    assert manual_lab.attach(receipt.invocation_id) == 2


@pytest.mark.parametrize("code", [400, 404, 409, 500, 503])
def test_terminal_error_ends_the_invocation_with_its_status_code(lab: LocalRestate, code: int) -> None:
    """A TerminalError is not retried and reaches the caller with its status code and message."""
    with pytest.raises(RestateError) as err:
        lab.call("Basics", "terminal", code)
    assert err.value.code == code
    assert err.value.message == f"refused with {code}"
