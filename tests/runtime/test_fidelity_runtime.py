"""Runtime behaviours checked against Restate Server 1.7.12 (issue 13, items 10-13).

The handlers are the conformance app's ``RtProbe`` and ``OnceFlow``, which the conformance suite runs
on both servers; here the runtime is driven through the Python API, in both protocol modes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from restate_lab import LocalRestate, RestateError
from restate_lab.runtime.clock import ManualClock
from tests.conformance.app import make_app

from .apps import wait_until

#: A bound on every blocking call here, in seconds.
LIMIT_S = 30.0


@pytest.fixture(scope="module", params=["bidi", "request-response"])
def probe_lab(request: pytest.FixtureRequest) -> Iterator[LocalRestate]:
    """The conformance app, in the default mode (bidirectional) and in request-response mode."""
    http2 = None if request.param == "bidi" else False
    with LocalRestate(make_app(), http2=http2, timeout=LIMIT_S) as local:
        yield local


def _key() -> str:
    return uuid.uuid4().hex[:12]


def test_run_gives_up_with_a_terminal_error_once_max_attempts_are_spent(probe_lab: LocalRestate) -> None:
    """ctx.run with max_attempts=3 fails terminally after exactly three attempts of the action."""
    key = _key()
    with pytest.raises(RestateError) as failure:
        probe_lab.call("RtProbe", "run_attempts", 3, key=key)
    assert failure.value.code == 500
    assert "attempt 3 failed" in failure.value.message
    assert probe_lab.call("RtProbe", "runs", "run_attempts", key=key) == 3


def test_run_gives_up_with_a_terminal_error_once_max_duration_is_spent(probe_lab: LocalRestate) -> None:
    """ctx.run with max_duration gives up: the SDK learns the time since the journal last grew."""
    key = _key()
    with pytest.raises(RestateError) as failure:
        probe_lab.call("RtProbe", "run_duration", 300, key=key)
    assert "always fails" in failure.value.message
    assert probe_lab.status(failure.value.invocation_id or _invocation_of(probe_lab, key)) == "completed"
    assert probe_lab.call("RtProbe", "runs", "run_duration", key=key) >= 2


def _invocation_of(lab: LocalRestate, key: str) -> str:
    frame = lab.invocations(service="RtProbe")
    rows = frame[(frame["target_service_key"] == key) & (frame["target_handler_name"] == "run_duration")]
    return str(rows["id"].iloc[0])


def test_second_workflow_call_from_a_handler_is_refused_with_409(probe_lab: LocalRestate) -> None:
    """A handler calling a workflow's run twice on one id gets the result, then a 409 TerminalError."""
    answers = probe_lab.call("RtProbe", "workflow_twice", "wf-" + _key(), key=_key())
    assert answers == {
        "first": "ran first",
        "second": {"code": 409, "message": "the workflow method was already invoked"},
    }


def test_workflow_sends_are_accepted_and_a_later_call_is_refused(probe_lab: LocalRestate) -> None:
    """Two sends to one workflow id both get an invocation id; a call after them is refused with 409."""
    steps = probe_lab.call("RtProbe", "workflow_send_twice", "wf-" + _key(), key=_key())
    assert steps == [True, True, {"code": 409, "message": "the workflow method was already invoked"}]


def test_terminal_error_metadata_reaches_the_python_caller(probe_lab: LocalRestate) -> None:
    """TerminalError(metadata=...) arrives in the RestateError the caller catches."""
    with pytest.raises(RestateError) as failure:
        probe_lab.call("RtProbe", "fail_with_metadata", key=_key())
    assert (failure.value.code, failure.value.message) == (422, "with metadata")
    assert failure.value.metadata == {"reason": "quota", "retry": "never"}


def test_terminal_error_metadata_reaches_a_calling_handler(probe_lab: LocalRestate) -> None:
    """A handler whose callee fails with metadata sees the metadata on its TerminalError."""
    seen = probe_lab.call("RtProbe", "call_failing", key=_key())
    assert seen == {"code": 422, "message": "with metadata", "metadata": {"reason": "quota", "retry": "never"}}


def test_in_process_default_runs_non_journaled_code_once_around_an_awaited_call() -> None:
    """Bidirectional by default: code around an awaited call runs once; request-response replays it."""
    with LocalRestate(make_app(), timeout=LIMIT_S) as bidi:
        assert bidi.engine.deployments and all(d.bidi for d in bidi.engine.deployments.values())
        assert bidi.call("RtProbe", "count_around_call", key=_key()) == 2
    with LocalRestate(make_app(), http2=False, timeout=LIMIT_S) as replaying:
        assert not any(d.bidi for d in replaying.engine.deployments.values())
        assert replaying.call("RtProbe", "count_around_call", key=_key()) == 3


def test_waiting_handler_is_running_until_the_inactivity_timeout_then_suspended() -> None:
    """In the default mode an awaiting handler stays ``running``; after the inactivity timeout it suspends."""
    clock = ManualClock()
    with LocalRestate(make_app(), clock=clock, inactivity_timeout_ms=60_000, timeout=LIMIT_S) as lab:
        key = _key()
        receipt = lab.send("Counter", "wait_awakeable", key=key)
        wait_until(lambda: lab.call("Counter", "awakeable", key=key) is not None)
        awakeable = lab.call("Counter", "awakeable", key=key)
        assert lab.status(receipt.invocation_id) == "running"
        clock.advance(59_000)
        assert lab.status(receipt.invocation_id) == "running"
        clock.advance(2_000)
        wait_until(lambda: lab.status(receipt.invocation_id) == "suspended")
        lab.resolve_awakeable(awakeable, {"ok": 1})
        assert lab.attach(receipt.invocation_id) == {"ok": 1}


def test_cancel_and_kill_reach_a_handler_waiting_in_an_open_stream() -> None:
    """In the default mode, cancel and kill end a handler whose attempt is still open (status running)."""
    with LocalRestate(make_app(), timeout=LIMIT_S) as lab:
        cancelled = lab.send("Greeter", "slow", 30).invocation_id
        killed = lab.send("Counter", "hold", 30, key=_key()).invocation_id
        wait_until(lambda: lab.status(cancelled) == "running" and lab.status(killed) == "running")
        lab.cancel(cancelled)
        lab.kill(killed)
        for invocation_id in (cancelled, killed):
            with pytest.raises(RestateError) as failure:
                lab.attach(invocation_id)
            assert failure.value.code == 409
        assert lab.status(cancelled) == lab.status(killed) == "completed"


def test_http_client_reads_terminal_error_metadata() -> None:
    """RestateClient's error from an ingress answer keeps the ``metadata`` Restate Server sends."""
    import httpx

    from restate_lab.server.client import error_from_response

    body = b'{"code":422,"message":"with metadata","metadata":{"reason":"quota"},"source":"invocation"}'
    error = error_from_response(httpx.Response(422, content=body, headers={"content-type": "application/json"}))
    assert (error.code, error.message, error.source, error.metadata) == (
        422,
        "with metadata",
        "invocation",
        {"reason": "quota"},
    )
    assert error.to_json() == {
        "code": 422,
        "message": "with metadata",
        "metadata": {"reason": "quota"},
        "source": "invocation",
    }
