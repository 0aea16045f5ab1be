"""One script of operations run on every target; each test expects the same answer whatever the target.

The expected values are what the real Restate Server 1.7.12 answers (docs/observed-restate-1.7.12.md);
where the simulator cannot do a thing, the test pins that it says so with ``NotSupportedByTarget``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pandas as pd
import pytest

from restate_lab import InvocationTimeout, NotSupportedByTarget, RestateError
from restate_lab.api import STATUSES, IngressApi
from restate_lab.catalogue import Catalogue
from restate_lab.runtime.frames import INVOCATION_COLUMNS, JOURNAL_COLUMNS
from tests.api.conftest import wait_until

# ---- invoke ----


def test_call_returns_the_handler_result(target: IngressApi) -> None:
    """A call answers the handler's JSON result."""
    assert target.call("Greeter", "greet", "Ada") == "Hello Ada!"


def test_send_is_accepted_and_attach_returns_the_result(target: IngressApi) -> None:
    """A send answers Accepted with an ``inv_`` id at once; attaching to it gives the result."""
    receipt = target.send("Greeter", "greet", "Bob")
    assert receipt.status == "Accepted" and receipt.invocation_id.startswith("inv_")
    assert receipt.execution_time is None
    assert target.attach(receipt.invocation_id) == "Hello Bob!"
    assert target.output(receipt.invocation_id) == "Hello Bob!"


def test_delayed_send_has_an_execution_time_and_runs_later(target: IngressApi) -> None:
    """A delayed send carries its RFC 3339 execution time; the invocation is scheduled until then."""
    receipt = target.send("Greeter", "greet", "Cy", delay="1s")
    assert receipt.execution_time is not None
    assert datetime.fromisoformat(receipt.execution_time.replace("Z", "+00:00")).tzinfo is not None
    assert target.status(receipt.invocation_id) == "scheduled"
    assert target.attach(receipt.invocation_id, timeout=20) == "Hello Cy!"


def test_idempotent_resend_is_previously_accepted_with_the_same_id(target: IngressApi, tag: str) -> None:
    """The same idempotency key again answers PreviouslyAccepted and the first invocation's id."""
    first = target.send("Greeter", "greet", "Di", idempotency_key=tag)
    again = target.send("Greeter", "greet", "other body", idempotency_key=tag)
    assert (first.status, again.status) == ("Accepted", "PreviouslyAccepted")
    assert again.invocation_id == first.invocation_id
    assert target.attach_idempotent("Greeter", "greet", tag) == "Hello Di!"
    assert target.output_idempotent("Greeter", "greet", tag) == "Hello Di!"


def test_idempotent_call_answers_the_first_result(target: IngressApi, tag: str) -> None:
    """A call with a used idempotency key answers the first invocation's result, not a new one."""
    assert target.call("Greeter", "greet", "Ed", idempotency_key=tag) == "Hello Ed!"
    assert target.call("Greeter", "greet", "Fay", idempotency_key=tag) == "Hello Ed!"


def test_awaitable_forms_answer_as_the_blocking_ones(target: IngressApi) -> None:
    """``acall``, ``asend``, ``aattach`` and ``aoutput`` give what their blocking forms give."""

    async def script() -> tuple[object, object, object]:
        called = await target.acall("Greeter", "greet", "Gus")
        receipt = await target.asend("Greeter", "greet", "Hal")
        attached = await target.aattach(receipt.invocation_id)
        return called, attached, await target.aoutput(receipt.invocation_id)

    assert asyncio.run(script()) == ("Hello Gus!", "Hello Hal!", "Hello Hal!")


# ---- results ----


def test_output_before_completion_is_a_470(target: IngressApi) -> None:
    """Output of a running invocation is 470 'not completed yet' (source ingress)."""
    receipt = target.send("Greeter", "slow", 30)
    try:
        with pytest.raises(RestateError) as caught:
            target.output(receipt.invocation_id)
        assert (caught.value.code, caught.value.source) == (470, "ingress")
    finally:
        target.kill(receipt.invocation_id)


def test_workflow_results_by_workflow_id(target: IngressApi, tag: str) -> None:
    """A workflow run is attached to and read by its workflow id; a second run is refused with 409."""
    receipt = target.send("Signup", "run", "ada@example.com", key=tag)
    assert receipt.status == "Accepted"
    assert target.attach_workflow("Signup", tag) == "welcome ada@example.com"
    assert target.output_workflow("Signup", tag) == "welcome ada@example.com"
    with pytest.raises(RestateError) as caught:
        target.call("Signup", "run", "again@example.com", key=tag)
    assert caught.value.code == 409


def test_unknown_workflow_id_is_a_404(target: IngressApi, tag: str) -> None:
    """Attaching to a workflow id never run is 404."""
    with pytest.raises(RestateError) as caught:
        target.output_workflow("Signup", tag)
    assert caught.value.code == 404


# ---- manage ----


def test_cancel_ends_the_invocation_with_409_cancelled(target: IngressApi) -> None:
    """A cancelled invocation's result is the terminal error 409 ``cancelled``."""
    receipt = target.send("Greeter", "slow", 30)
    target.cancel(receipt.invocation_id)
    with pytest.raises(RestateError) as caught:
        target.attach(receipt.invocation_id, timeout=20)
    assert (caught.value.code, caught.value.message) == (409, "cancelled")
    assert target.status(receipt.invocation_id) == "completed"


def test_kill_ends_the_invocation_with_409_killed(target: IngressApi) -> None:
    """A killed invocation's result is the terminal error 409 ``killed``."""
    receipt = target.send("Greeter", "slow", 30)
    target.kill(receipt.invocation_id)
    with pytest.raises(RestateError) as caught:
        target.attach(receipt.invocation_id, timeout=20)
    assert (caught.value.code, caught.value.message) == (409, "killed")


def test_cancel_or_kill_of_a_completed_invocation_is_409(target: IngressApi) -> None:
    """Cancelling or killing an invocation that has completed is refused with 409."""
    receipt = target.send("Greeter", "greet", "Una")
    target.attach(receipt.invocation_id)
    for manage in (target.cancel, target.kill):
        with pytest.raises(RestateError) as caught:
            manage(receipt.invocation_id)
        assert caught.value.code == 409


def test_purge_forgets_a_completed_invocation(target: IngressApi) -> None:
    """After purge the invocation is unknown: its output is 404."""
    receipt = target.send("Greeter", "greet", "Ivy")
    assert target.attach(receipt.invocation_id) == "Hello Ivy!"
    target.purge(receipt.invocation_id)
    wait_until(lambda: _output_code(target, receipt.invocation_id) == 404)


def _output_code(target: IngressApi, invocation_id: str) -> int:
    try:
        target.output(invocation_id)
    except RestateError as exc:
        return exc.code
    return 200


def test_awakeables_resolve_on_servers_and_are_not_supported_by_the_simulator(
    target: IngressApi, is_sim: bool, tag: str
) -> None:
    """Resolving an awakeable completes the handler waiting on it; the simulator says it has none."""
    if is_sim:
        with pytest.raises(NotSupportedByTarget) as caught:
            target.resolve_awakeable("sign_1abc", "go")
        assert caught.value.code == 501 and "awakeable" in caught.value.message
        with pytest.raises(NotSupportedByTarget):
            target.reject_awakeable("sign_1abc", "no")
        return
    receipt = target.send("Counter", "wait_for_signal", key=tag)
    wait_until(lambda: "awakeable" in target.state("Counter", tag))
    target.resolve_awakeable(target.state("Counter", tag)["awakeable"], "go")
    assert target.attach(receipt.invocation_id, timeout=20) == "go"


def test_resume_of_an_unpaused_invocation_is_refused(target: IngressApi, is_sim: bool) -> None:
    """Resume needs a paused invocation: a completed one is refused (409); the simulator does not resume."""
    receipt = target.send("Greeter", "greet", "Jo")
    target.attach(receipt.invocation_id)
    with pytest.raises(RestateError) as caught:
        target.resume(receipt.invocation_id)
    assert caught.value.code == (501 if is_sim else 409)


# ---- state ----


def test_state_is_decoded_json(target: IngressApi, is_sim: bool, tag: str) -> None:
    """An object's state reads back as decoded JSON values; the simulator keeps no state."""
    if is_sim:
        with pytest.raises(NotSupportedByTarget):
            target.state("Counter", tag)
        return
    assert target.call("Counter", "add", 2, key=tag) == 2
    assert target.call("Counter", "add", 3, key=tag) == 5
    assert target.state("Counter", tag) == {"count": 5}
    assert target.state("Counter", tag + "-never") == {}


# ---- frames ----


def test_invocations_frame_has_the_sys_invocation_columns_and_utc_datetimes(target: IngressApi) -> None:
    """``invocations()`` has sys_invocation's columns in order, timestamps as UTC datetimes, newest first."""
    receipt = target.send("Greeter", "greet", "Kim")
    target.attach(receipt.invocation_id)
    frame = target.invocations(service="Greeter")
    assert tuple(frame.columns) == INVOCATION_COLUMNS
    assert str(frame["created_at"].dt.tz) == "UTC"
    assert pd.api.types.is_datetime64_any_dtype(frame["completed_at"])
    assert set(frame["target_service_name"]) == {"Greeter"}
    assert frame["created_at"].is_monotonic_decreasing
    row = frame.set_index("id").loc[receipt.invocation_id]
    assert (row["target"], row["status"], row["completion_result"]) == ("Greeter/greet", "completed", "success")
    assert set(frame["status"]) <= set(STATUSES)


def test_invocations_filters_by_status_and_limit(target: IngressApi) -> None:
    """``status=`` keeps only that status; ``limit=`` caps the rows."""
    target.call("Greeter", "greet", "Lu")
    completed = target.invocations(status="completed", limit=2)
    assert tuple(completed.columns) == INVOCATION_COLUMNS
    assert 1 <= len(completed) <= 2 and set(completed["status"]) == {"completed"}


def test_journal_frame_has_the_sys_journal_columns(target: IngressApi, is_sim: bool) -> None:
    """``journal(id)`` has sys_journal's columns plus ``value``; it starts with the input command."""
    receipt = target.send("Greeter", "slow", 0.01)
    if is_sim:
        with pytest.raises(NotSupportedByTarget):
            target.journal(receipt.invocation_id)
        return
    target.attach(receipt.invocation_id, timeout=20)
    journal = target.journal(receipt.invocation_id)
    assert tuple(journal.columns) == JOURNAL_COLUMNS
    assert list(journal["index"]) == list(range(len(journal)))
    assert journal["entry_type"].iloc[0] == "Command: Input"
    assert "Command: Sleep" in set(journal["entry_type"])
    assert journal["entry_type"].iloc[-1] == "Command: Output"
    assert (journal["value"].iloc[0], journal["value"].iloc[-1]) == (0.01, "slept 0.01s")


def test_query_answers_a_frame_with_utc_timestamps(target: IngressApi) -> None:
    """``query(sql)`` runs SQL over sys_invocation; timestamp columns are datetimes."""
    receipt = target.send("Greeter", "greet", "Mo")
    target.attach(receipt.invocation_id)
    frame = target.query(f"select id, status, created_at from sys_invocation where id = '{receipt.invocation_id}'")
    assert list(frame["id"]) == [receipt.invocation_id]
    assert list(frame["status"]) == ["completed"]
    assert str(frame["created_at"].dt.tz) == "UTC"


# ---- catalogue ----


def test_catalogue_has_kinds_and_schemas(target: IngressApi) -> None:
    """The catalogue names every service with its kind, handler kinds and JSON schemas."""
    names = {s["name"] for s in target.services()}
    assert {"Greeter", "Flaky", "Counter", "Signup"} <= names
    cat = target.catalogue()
    assert isinstance(cat, Catalogue)
    kinds = {s.name: s.kind for s in cat}
    assert {k: kinds[k] for k in ("Greeter", "Counter", "Signup")} == {
        "Greeter": "Service",
        "Counter": "VirtualObject",
        "Signup": "Workflow",
    }
    assert sorted((h.name, h.kind) for h in cat.handlers("Counter")) == [
        ("add", "Exclusive"),
        ("get", "Shared"),
        ("wait_for_signal", "Exclusive"),
    ]
    assert cat.handler("Signup", "run").kind == "Workflow"
    assert cat.handler("Greeter", "greet").kind is None
    assert cat.handler("Greeter", "greet").input_schema == {"type": "string"}
    assert cat.handler("Counter", "add").output_schema == {"type": "integer"}


# ---- errors ----


def test_unknown_service_is_the_servers_404(target: IngressApi) -> None:
    """An unknown service is 404 with the real server's message, source ingress."""
    with pytest.raises(RestateError) as caught:
        target.call("Nope", "greet", "x")
    assert (caught.value.code, caught.value.source) == (404, "ingress")
    assert caught.value.message == ("service 'Nope' not found, make sure to register the service before calling it.")


def test_unknown_handler_is_the_servers_404(target: IngressApi) -> None:
    """An unknown handler of a known service is 404 with the real server's message."""
    with pytest.raises(RestateError) as caught:
        target.send("Greeter", "nope", "x")
    assert caught.value.code == 404
    assert caught.value.message == (
        "the service 'Greeter' exists, but the handler 'nope' was not found, "
        "check that the handler exists in the latest registered service version."
    )


def test_unknown_invocation_status_is_a_404(target: IngressApi) -> None:
    """The status of an id nobody knows is a 404."""
    receipt = target.send("Greeter", "greet", "Ned")
    target.attach(receipt.invocation_id)
    target.purge(receipt.invocation_id)
    wait_until(lambda: _status_code(target, receipt.invocation_id) == 404)


def _status_code(target: IngressApi, invocation_id: str) -> int:
    try:
        target.status(invocation_id)
    except RestateError as exc:
        return exc.code
    return 200


# ---- timeouts ----


def test_call_to_a_handler_failing_retryably_times_out_and_says_why(target: IngressApi) -> None:
    """A call that keeps failing raises InvocationTimeout naming its status, retry count and last failure."""
    with pytest.raises(InvocationTimeout) as caught:
        target.call("Flaky", "fail", timeout=3)
    error = caught.value
    assert isinstance(error, TimeoutError)
    assert error.invocation_id is not None and error.invocation_id.startswith("inv_")
    try:
        assert error.status in ("backing-off", "running", "ready")
        assert error.retry_count is not None and error.retry_count >= 1
        assert error.last_failure is not None
        assert error.status in str(error) and f"retry_count {error.retry_count}" in str(error)
    finally:
        target.kill(error.invocation_id)


def test_attach_times_out_with_the_invocations_status(target: IngressApi) -> None:
    """Attach gives up after its timeout and says what the invocation is doing."""
    receipt = target.send("Greeter", "slow", 30)
    try:
        with pytest.raises(InvocationTimeout) as caught:
            target.attach(receipt.invocation_id, timeout=1)
        assert caught.value.invocation_id == receipt.invocation_id
        assert caught.value.status in ("running", "suspended")
    finally:
        target.kill(receipt.invocation_id)
