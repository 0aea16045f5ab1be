"""Bad input: invalid manifests, unknown targets, failing handlers, broken or vanished deployments."""

from __future__ import annotations

import json

import pytest

from restate_lab import LocalRestate, RestateError
from restate_lab.protocol.transport import DeploymentError
from restate_lab.server.harness import AppServer

from .apps import (
    ATTEMPTS,
    COUNTS,
    BrokenDeployment,
    GarbageManifest,
    invocation_rows,
    make_app,
    make_fragile_app,
    wait_until,
)

MANIFEST_JSON = b"application/vnd.restate.endpointmanifest.v3+json"


@pytest.mark.parametrize(
    ("app", "words"),
    [
        (GarbageManifest(200, MANIFEST_JSON, b"{not json"), "not JSON"),
        (GarbageManifest(200, b"text/html", b"<html></html>"), "not a manifest"),
        (GarbageManifest(500, MANIFEST_JSON, b"oops"), "HTTP 500"),
        (GarbageManifest(200, MANIFEST_JSON, b"[1, 2]"), "not an object"),
        (
            GarbageManifest(
                200,
                MANIFEST_JSON,
                json.dumps({"minProtocolVersion": 5, "maxProtocolVersion": 6, "services": []}).encode(),
            ),
            "no services",
        ),
        (
            GarbageManifest(
                200,
                MANIFEST_JSON,
                json.dumps(
                    {"minProtocolVersion": 1, "maxProtocolVersion": 2, "services": [{"name": "X", "ty": "SERVICE"}]}
                ).encode(),
            ),
            "protocol",
        ),
        (
            GarbageManifest(
                200,
                MANIFEST_JSON,
                json.dumps(
                    {"minProtocolVersion": 5, "maxProtocolVersion": 6, "services": [{"name": "X", "ty": "GADGET"}]}
                ).encode(),
            ),
            "unknown type",
        ),
    ],
    ids=["not-json", "not-a-manifest", "http-500", "not-an-object", "no-services", "old-protocol", "bad-type"],
)
def test_invalid_manifest_is_refused_with_a_clear_error(lab: LocalRestate, app: GarbageManifest, words: str) -> None:
    """Registering a deployment whose discovery answer is unusable fails and registers nothing."""
    before = {s["name"] for s in lab.services()}
    with pytest.raises(DeploymentError, match=words):
        lab.register(app)
    assert {s["name"] for s in lab.services()} == before
    assert lab.call("Basics", "echo", "still here") == "still here"


def test_unreachable_url_is_refused_at_registration(lab: LocalRestate) -> None:
    """Registering a URL nobody listens on fails with a clear error."""
    server = AppServer(make_app()).start()
    url = server.url
    server.stop()
    with pytest.raises(DeploymentError, match="cannot reach"):
        lab.register(url)


def test_unknown_service_or_handler_is_a_404(lab: LocalRestate) -> None:
    """Calling a service or handler nobody registered answers 404 with Restate's message."""
    with pytest.raises(RestateError) as err:
        lab.call("Nope", "greet")
    assert err.value.code == 404
    assert "service 'Nope' not found" in err.value.message
    with pytest.raises(RestateError) as err:
        lab.send("Basics", "nope")
    assert err.value.code == 404


def test_keyed_service_without_a_key_is_a_400(lab: LocalRestate) -> None:
    """A virtual object call without a key is refused."""
    with pytest.raises(RestateError) as err:
        lab.call("Counter", "add", 1)
    assert err.value.code == 400


def test_handler_raising_is_retried_and_reported_while_others_are_served(lab: LocalRestate, tag: str) -> None:
    """A handler raising a plain exception is retried with its error recorded; other invocations run."""
    receipt = lab.send("Basics", "always_fails", tag)
    wait_until(lambda: lab.status(receipt.invocation_id) == "paused")
    row = invocation_rows(lab)[receipt.invocation_id]
    assert "boom #3" in row["last_failure"]
    assert lab.call("Basics", "echo", 1) == 1
    lab.kill(receipt.invocation_id)
    assert len(ATTEMPTS[tag]) == 3


@pytest.mark.parametrize("mode", ["garbage", "unknown", "malformed", "truncated", "500", "raises"])
def test_broken_deployment_fails_attempts_and_loses_nothing(lab: LocalRestate, tag: str, mode: str) -> None:
    """A deployment that breaks the protocol fails each attempt with a clear error; other services keep
    running; once a working deployment is registered the accepted invocation completes, side effect once."""
    lab.register(BrokenDeployment(make_fragile_app(), mode))
    receipt = lab.send("Fragile", "work", tag)
    wait_until(lambda: (invocation_rows(lab)[receipt.invocation_id]["retry_count"] or 0) >= 2)
    row = invocation_rows(lab)[receipt.invocation_id]
    assert row["status"] in ("backing-off", "running", "ready")
    assert row["last_failure"]
    assert lab.call("Basics", "echo", "unaffected") == "unaffected"
    lab.register(make_fragile_app())
    assert lab.attach(receipt.invocation_id) == f"worked:{tag}"
    assert COUNTS[tag] == 1


def test_deployment_that_goes_away_is_retried_until_it_is_back(tag: str) -> None:
    """A URL deployment whose server stops: attempts fail, and the invocation completes once it is back."""
    first = AppServer(make_fragile_app()).start()
    second: AppServer | None = None
    with LocalRestate(make_app()) as lab:
        try:
            lab.register(first.url)
            assert lab.call("Fragile", "work", tag + "-warm") == f"worked:{tag}-warm"
            first.stop()
            receipt = lab.send("Fragile", "work", tag)
            wait_until(lambda: (invocation_rows(lab)[receipt.invocation_id]["retry_count"] or 0) >= 2)
            assert invocation_rows(lab)[receipt.invocation_id]["last_failure"]
            assert lab.call("Basics", "echo", "unaffected") == "unaffected"
            second = AppServer(make_fragile_app()).start()
            lab.register(second.url)
            assert lab.attach(receipt.invocation_id) == f"worked:{tag}"
            assert COUNTS[tag] == 1
        finally:
            first.stop()
            if second is not None:
                second.stop()
