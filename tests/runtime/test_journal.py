"""Durable execution: ctx.run recorded once, timers, deterministic random/uuid/time, request headers."""

from __future__ import annotations

import time

from restate_lab import LocalRestate

from .apps import ATTEMPTS, COUNTS, NOTES


def test_run_result_is_recorded_once_and_never_rerun(lab: LocalRestate, tag: str) -> None:
    """A ctx.run side effect runs once even when later code fails and the attempt is retried."""
    assert lab.call("Basics", "run_once", tag) == 1
    assert COUNTS[tag] == 1
    assert len(ATTEMPTS[tag]) == 3


def test_sleep_suspends_and_resumes_after_the_delay(lab: LocalRestate) -> None:
    """ctx.sleep completes no earlier than its duration and the handler resumes after it."""
    started = time.monotonic()
    assert lab.call("Basics", "sleep_then", 120) == "awake"
    assert time.monotonic() - started >= 0.11


def test_random_uuid_and_time_are_stable_across_replays(lab: LocalRestate, tag: str) -> None:
    """ctx.random(), ctx.uuid() and ctx.time() give the same values when the journal is replayed."""
    result = lab.call("Basics", "deterministic", tag)
    assert len(NOTES[tag]) == 2, "the sleep should suspend and replay the handler once"
    assert NOTES[tag][0] == NOTES[tag][1] == result
    assert abs(result[2] - time.time()) < 5


def test_random_seed_differs_between_invocations(lab: LocalRestate, tag: str) -> None:
    """Each invocation gets its own random seed."""
    a = lab.call("Basics", "deterministic", tag + "a")
    b = lab.call("Basics", "deterministic", tag + "b")
    assert a[0] != b[0] and a[1] != b[1]


def test_request_headers_reach_the_handler(lab: LocalRestate) -> None:
    """Headers given with a call show up in ctx.request().headers."""
    seen = lab.call("Basics", "headers", headers={"x-trace": "abc", "x-other": "1"})
    assert seen["x-trace"] == "abc" and seen["x-other"] == "1"
