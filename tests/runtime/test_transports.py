"""Transports: a deployment URL over HTTP/1.1 (request-response) and h2c (bidirectional), and in-process bidi."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from restate_lab import LocalRestate, RestateError
from restate_lab.server.harness import AppServer

from .apps import COUNTS, NOTES, invocation_rows, make_app, make_fragile_app, wait_for_awakeable, wait_until


@pytest.fixture(scope="module")
def served() -> Iterator[AppServer]:
    server = AppServer(make_app()).start()
    yield server
    server.stop()


def _attempts(lab: LocalRestate, invocation_id: str) -> int:
    return int(invocation_rows(lab)[invocation_id]["attempts"])


def test_http11_url_deployment_runs_in_request_response_mode(served: AppServer, tag: str) -> None:
    """A URL registered over HTTP/1.1 negotiates REQUEST_RESPONSE and its handlers suspend and resume."""
    with LocalRestate() as lab:
        deployment = lab.register(served.url)
        assert deployment.protocol_mode == "REQUEST_RESPONSE"
        receipt = lab.send("Basics", "run_once", tag)
        assert lab.attach(receipt.invocation_id) == 1
        assert COUNTS[tag] == 1
        assert lab.call("Basics", "sleep_then", 20) == "awake"
        assert lab.call("Counter", "add", 3, key=tag) == 3
        assert lab.call("Basics", "calls", tag)["workflow"] == "ada:clicked"


def test_h2c_url_deployment_runs_bidirectionally_in_one_attempt(tag: str) -> None:
    """A URL registered over HTTP/2 (h2c) negotiates BIDI_STREAM; run + sleep completes in one attempt."""
    server = AppServer(make_fragile_app()).start()
    try:
        with LocalRestate() as lab:
            deployment = lab.register(server.url, http2=True)
            assert deployment.protocol_mode == "BIDI_STREAM"
            receipt = lab.send("Fragile", "work", tag)
            assert lab.attach(receipt.invocation_id) == f"worked:{tag}"
            assert _attempts(lab, receipt.invocation_id) == 1
            assert COUNTS[tag] == 1
    finally:
        server.stop()


def test_in_process_bidi_runs_in_one_attempt(tag: str) -> None:
    """register(app, http2=True) streams in memory: run + sleep completes in one attempt."""
    with LocalRestate() as lab:
        deployment = lab.register(make_app(), http2=True)
        assert deployment.protocol_mode == "BIDI_STREAM"
        receipt = lab.send("Basics", "sleep_then", 30)
        assert lab.attach(receipt.invocation_id) == "awake"
        assert _attempts(lab, receipt.invocation_id) == 1
        lab.register(make_fragile_app(), http2=True)
        receipt = lab.send("Fragile", "work", tag)
        assert lab.attach(receipt.invocation_id) == f"worked:{tag}"
        assert _attempts(lab, receipt.invocation_id) == 1
        assert COUNTS[tag] == 1


@pytest.fixture(params=["asgi", "h2c"])
def bidi_lab(request: pytest.FixtureRequest) -> Iterator[LocalRestate]:
    """A LocalRestate whose test services run bidirectionally, in memory or over h2c."""
    server = AppServer(make_app()).start() if request.param == "h2c" else None
    try:
        with LocalRestate() as lab:
            lab.register(server.url if server else make_app(), http2=True)
            yield lab
    finally:
        if server is not None:
            server.stop()


def test_bidi_calls_state_and_workflows(bidi_lab: LocalRestate, tag: str) -> None:
    """Calls of every kind, state and workflow promises work over a bidirectional stream."""
    out = bidi_lab.call("Basics", "calls", tag)
    assert out["workflow"] == "ada:clicked" and out["object"] == 5
    assert bidi_lab.call("Basics", "fan_out", 3) == [0, 1, 2]
    assert bidi_lab.call("Basics", "in_order_of_completion") == ["fast", "awake"]


def test_bidi_awakeable_resolved_while_the_attempt_is_open(bidi_lab: LocalRestate, tag: str) -> None:
    """An awakeable resolved while the bidirectional attempt waits is streamed in; no second attempt."""
    receipt = bidi_lab.send("Basics", "await_awakeable", tag)
    bidi_lab.resolve_awakeable(wait_for_awakeable(tag), "streamed")
    assert bidi_lab.attach(receipt.invocation_id) == "streamed"
    assert _attempts(bidi_lab, receipt.invocation_id) == 1


def test_bidi_cancel_reaches_parent_and_callee(bidi_lab: LocalRestate, tag: str) -> None:
    """Cancelling a parent blocked on a call over bidi cancels both, and the parent compensates."""
    parent = bidi_lab.send("Basics", "parent", tag)
    wait_until(lambda: any(r.get("invoked_by_id") == parent.invocation_id for r in invocation_rows(bidi_lab).values()))
    bidi_lab.cancel(parent.invocation_id)
    with pytest.raises(RestateError) as err:
        bidi_lab.attach(parent.invocation_id)
    assert err.value.code == 409
    assert "compensated" in NOTES[tag]


def test_bidi_run_failure_is_retried_without_rerunning_the_side_effect(bidi_lab: LocalRestate, tag: str) -> None:
    """Over bidi too, a recorded ctx.run survives failed attempts."""
    assert bidi_lab.call("Basics", "run_once", tag) == 1
    assert COUNTS[tag] == 1
