"""Managing invocations: cancel (propagating to callees), kill, purge, and the invocation listing."""

from __future__ import annotations

import pytest

from restate_lab import LocalRestate, RestateError

from .apps import NOTES, invocation_rows, wait_for_awakeable, wait_until


def _callee_of(lab: LocalRestate, parent_id: str) -> str:
    rows = [r for r in invocation_rows(lab).values() if r.get("invoked_by_id") == parent_id]
    assert len(rows) == 1
    return str(rows[0]["id"])


def test_cancel_reaches_the_handler_and_its_callee(lab: LocalRestate, tag: str) -> None:
    """Cancel: the callee sees a 409 cancellation, the parent sees it too, compensates and fails with 409."""
    parent = lab.send("Basics", "parent", tag)
    wait_until(lambda: any(r.get("invoked_by_id") == parent.invocation_id for r in invocation_rows(lab).values()))
    callee = _callee_of(lab, parent.invocation_id)
    wait_until(lambda: lab.status(callee) == "suspended")
    lab.cancel(parent.invocation_id)
    with pytest.raises(RestateError) as err:
        lab.attach(parent.invocation_id)
    assert err.value.code == 409
    with pytest.raises(RestateError):
        lab.attach(callee)
    assert ("callee", 409) in NOTES[tag]
    assert ("parent", 409) in NOTES[tag]
    assert "compensated" in NOTES[tag]


def test_cancel_of_a_pending_invocation_completes_it_without_running(lab: LocalRestate, tag: str) -> None:
    """An invocation still queued behind a key's lock is cancelled without ever running.

    Restate Server drops such an invocation altogether, so afterwards its id is unknown (404).
    """
    blocker = lab.send("Counter", "block", tag, key=tag)
    awakeable = wait_for_awakeable(tag)
    queued = lab.send("Counter", "add", 1, key=tag)
    assert lab.status(queued.invocation_id) == "pending"
    lab.cancel(queued.invocation_id)
    with pytest.raises(RestateError) as err:
        lab.attach(queued.invocation_id)
    assert err.value.code in (404, 409)
    lab.resolve_awakeable(awakeable, "done")
    assert lab.attach(blocker.invocation_id) == "done"
    assert lab.state("Counter", tag) == {}


def test_kill_stops_at_once_and_kills_callees(lab: LocalRestate, tag: str) -> None:
    """Kill ends the invocation and its callees without running handler code again."""
    parent = lab.send("Basics", "parent", tag)
    wait_until(lambda: any(r.get("invoked_by_id") == parent.invocation_id for r in invocation_rows(lab).values()))
    callee = _callee_of(lab, parent.invocation_id)
    wait_until(lambda: lab.status(callee) == "suspended")
    lab.kill(parent.invocation_id)
    with pytest.raises(RestateError):
        lab.attach(parent.invocation_id)
    assert lab.status(callee) == "completed"
    assert NOTES[tag] == []


def test_kill_frees_the_key_for_the_next_invocation(lab: LocalRestate, tag: str) -> None:
    """Killing the lock holder lets the queued invocation on that key run."""
    blocker = lab.send("Counter", "block", tag, key=tag)
    wait_for_awakeable(tag)
    queued = lab.send("Counter", "add", 2, key=tag)
    lab.kill(blocker.invocation_id)
    assert lab.attach(queued.invocation_id) == 2


def test_purge_forgets_a_completed_invocation(lab: LocalRestate) -> None:
    """Purge removes a completed invocation; its id is then unknown (404)."""
    receipt = lab.send("Basics", "echo", 1)
    assert lab.attach(receipt.invocation_id) == 1
    lab.purge(receipt.invocation_id)
    with pytest.raises(RestateError) as err:
        lab.output(receipt.invocation_id)
    assert err.value.code == 404


def test_purge_of_a_running_invocation_is_refused(lab: LocalRestate, tag: str) -> None:
    """Only completed invocations can be purged."""
    receipt = lab.send("Basics", "await_awakeable", tag)
    wait_for_awakeable(tag)
    with pytest.raises(RestateError) as err:
        lab.purge(receipt.invocation_id)
    assert err.value.code == 409
    lab.kill(receipt.invocation_id)


def test_invocation_listing_reports_status_target_and_ids(lab: LocalRestate, tag: str) -> None:
    """invocations() lists rows shaped like sys_invocation, filterable by status."""
    done = lab.send("Basics", "echo", "x")
    lab.attach(done.invocation_id)
    waiting = lab.send("Basics", "await_awakeable", tag)
    wait_for_awakeable(tag)
    wait_until(lambda: lab.status(waiting.invocation_id) == "suspended")
    rows = invocation_rows(lab)
    assert rows[done.invocation_id]["status"] == "completed"
    assert rows[waiting.invocation_id]["status"] == "suspended"
    assert rows[waiting.invocation_id]["target_service_name"] == "Basics"
    suspended = {r["id"] for r in (r for r in invocation_rows(lab).values() if r["status"] == "suspended")}
    assert waiting.invocation_id in suspended and done.invocation_id not in suspended
    lab.kill(waiting.invocation_id)


def test_output_of_a_running_invocation_is_a_470(lab: LocalRestate, tag: str) -> None:
    """output() before completion answers 470."""
    receipt = lab.send("Basics", "await_awakeable", tag)
    with pytest.raises(RestateError) as err:
        lab.output(receipt.invocation_id)
    assert err.value.code == 470
    lab.resolve_awakeable(wait_for_awakeable(tag), 5)
    assert lab.attach(receipt.invocation_id) == 5
    assert lab.output(receipt.invocation_id) == 5


def test_services_listing_shows_types_and_handlers(lab: LocalRestate) -> None:
    """services() lists each registered service with its type and handlers."""
    by_name = {s["name"]: s for s in lab.services()}
    assert {"Basics", "Counter", "LazyCounter", "Signup"} <= set(by_name)
    assert by_name["Counter"]["ty"] == "VirtualObject"
    assert by_name["Signup"]["ty"] == "Workflow"
