"""Calls between handlers: request-response, one-way, delayed, generic; combinators; attach and cancel."""

from __future__ import annotations

import time

from restate_lab import LocalRestate

from .apps import invocation_rows, wait_for_awakeable, wait_until


def test_service_object_workflow_and_generic_calls_and_sends(lab: LocalRestate, tag: str) -> None:
    """Every call and send flavour of the context reaches its target and reports the callee's id."""
    out = lab.call("Basics", "calls", tag)
    assert out["service"] == "svc"
    assert out["object"] == 5
    assert out["generic"] == '"gen"'
    assert out["workflow"] == "ada:clicked"
    assert out["send_id"].startswith("inv_1")
    assert lab.attach(out["send_id"]) == "sent"
    wait_until(lambda: lab.state("Counter", tag).get("total") == 16)
    row = invocation_rows(lab)[out["send_id"]]
    assert row["invoked_by"] == "service"


def test_delayed_send_from_a_handler_runs_after_the_delay(lab: LocalRestate, tag: str) -> None:
    """A send with send_delay is scheduled and runs once the delay has passed."""
    started = time.monotonic()
    callee = lab.call("Basics", "delayed", {"key": tag, "ms": 300})
    assert lab.status(callee) == "scheduled"
    assert lab.attach(callee) == 1
    assert time.monotonic() - started >= 0.29


def test_delayed_send_from_the_api_reports_its_execution_time(lab: LocalRestate, tag: str) -> None:
    """send(delay=...) answers at once with the execution time and runs the handler later."""
    started = time.monotonic()
    receipt = lab.send("Counter", "add", 3, key=tag, delay=0.3)
    assert receipt.status == "Accepted"
    assert receipt.execution_time is not None and receipt.execution_time.endswith("Z")
    assert lab.status(receipt.invocation_id) == "scheduled"
    assert lab.attach(receipt.invocation_id) == 3
    assert time.monotonic() - started >= 0.29


def test_gather_waits_for_every_call(lab: LocalRestate) -> None:
    """restate.gather completes when all its futures have."""
    assert lab.call("Basics", "fan_out", 5) == [0, 1, 2, 3, 4]


def test_select_returns_the_first_completed_future(lab: LocalRestate, tag: str) -> None:
    """restate.select picks whichever future completes first: here the timer, as nobody resolves the awakeable."""
    assert lab.call("Basics", "race", tag) == ["timeout", None]


def test_select_prefers_an_awakeable_resolved_before_the_timer(lab: LocalRestate, tag: str) -> None:
    """restate.select picks the awakeable when it completes first."""
    receipt = lab.send("Basics", "race", tag)
    lab.resolve_awakeable(wait_for_awakeable(tag), "early")
    winner = lab.attach(receipt.invocation_id)
    assert winner in (["awakeable", "early"], ["timeout", None])


def test_as_completed_yields_futures_in_completion_order(lab: LocalRestate) -> None:
    """restate.as_completed yields the fast call before the slow one."""
    assert lab.call("Basics", "in_order_of_completion") == ["fast", "awake"]


def test_attach_invocation_from_a_handler_waits_for_the_result(lab: LocalRestate) -> None:
    """ctx.attach_invocation returns the attached invocation's result once it completes."""
    target = lab.send("Basics", "sleep_then", 100)
    assert lab.call("Basics", "attach_to", target.invocation_id) == "awake"


def test_cancel_invocation_from_a_handler_cancels_the_target(lab: LocalRestate, tag: str) -> None:
    """ctx.cancel_invocation delivers the cancel signal: the target ends with a 409 cancellation."""
    target = lab.send("Basics", "long_sleep", tag)
    wait_until(lambda: lab.status(target.invocation_id) == "suspended")
    lab.call("Basics", "cancel_other", target.invocation_id)
    try:
        lab.attach(target.invocation_id)
    except Exception as err:  # noqa: BLE001 - the type is checked below
        assert getattr(err, "code", None) == 409
    else:
        raise AssertionError("the cancelled invocation should fail")
