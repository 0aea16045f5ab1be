"""Workflows: run once per id, durable promises, shared handlers, output by workflow id."""

from __future__ import annotations

import pytest

from restate_lab import LocalRestate, RestateError

from .apps import wait_until


def test_workflow_run_is_accepted_once_per_id(lab: LocalRestate, tag: str) -> None:
    """A second send of run for the same id is PreviouslyAccepted with the same invocation id."""
    first = lab.send("Signup", "run", "ada", key=tag)
    second = lab.send("Signup", "run", "bob", key=tag)
    assert first.status == "Accepted"
    assert second.status == "PreviouslyAccepted"
    assert second.invocation_id == first.invocation_id
    lab.call("Signup", "click", "yes", key=tag)
    assert lab.attach(first.invocation_id) == "ada:yes"


def test_second_workflow_call_is_a_409(lab: LocalRestate, tag: str) -> None:
    """Calling run again for an id that already ran answers 409, the workflow method was already invoked."""
    lab.send("Signup", "run", "ada", key=tag)
    lab.call("Signup", "click", "ok", key=tag)
    assert lab.attach_workflow("Signup", tag) == "ada:ok"
    with pytest.raises(RestateError) as err:
        lab.call("Signup", "run", "again", key=tag)
    assert err.value.code == 409
    assert "already invoked" in err.value.message


def test_promise_peek_value_and_resolve(lab: LocalRestate, tag: str) -> None:
    """peek sees nothing before resolve and the value after; value() resumes the waiting run."""
    receipt = lab.send("Signup", "run", "ada", key=tag)
    assert lab.call("Signup", "peek", key=tag) is None
    wait_until(lambda: lab.status(receipt.invocation_id) == "suspended")
    lab.call("Signup", "click", "clicked", key=tag)
    assert lab.call("Signup", "peek", key=tag) == "clicked"
    assert lab.attach_workflow("Signup", tag) == "ada:clicked"
    assert lab.output_workflow("Signup", tag) == "ada:clicked"


def test_promise_reject_reaches_the_run_as_a_terminal_error(lab: LocalRestate, tag: str) -> None:
    """Rejecting a durable promise makes value() raise a TerminalError in the run handler."""
    lab.send("Signup", "run", "ada", key=tag)
    lab.call("Signup", "reject", "bounced", key=tag)
    assert lab.attach_workflow("Signup", tag) == "ada:rejected:bounced"


def test_promise_resolved_twice_keeps_the_first_value(lab: LocalRestate, tag: str) -> None:
    """A durable promise completes once; a second resolve fails and the run sees the first value."""
    lab.call("Signup", "click", "first", key=tag)
    with pytest.raises(RestateError):
        lab.call("Signup", "click", "second", key=tag)
    lab.send("Signup", "run", "ada", key=tag)
    assert lab.attach_workflow("Signup", tag) == "ada:first"


def test_workflow_shared_handler_reads_run_state(lab: LocalRestate, tag: str) -> None:
    """Shared workflow handlers read the state the run handler set, while it still runs."""
    receipt = lab.send("Signup", "run", "grace", key=tag)
    wait_until(lambda: lab.status(receipt.invocation_id) == "suspended")
    assert lab.call("Signup", "name", key=tag) == "grace"
    lab.call("Signup", "click", "x", key=tag)
    assert lab.attach(receipt.invocation_id) == "grace:x"


def test_workflow_output_before_completion_is_a_470(lab: LocalRestate, tag: str) -> None:
    """Asking for a running workflow's output answers 470."""
    lab.send("Signup", "run", "ada", key=tag)
    with pytest.raises(RestateError) as err:
        lab.output_workflow("Signup", tag)
    assert err.value.code == 470
    lab.call("Signup", "click", "done", key=tag)
    assert lab.attach_workflow("Signup", tag) == "ada:done"
