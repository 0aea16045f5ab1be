"""Admin ``PATCH /invocations/{id}/restart-as-new``, as docs/observed-restate-1.7.12.md ("Restart as new") says."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import restate

from restate_lab import LocalRestate, RestateError
from restate_lab.rules.ids import InvocationId

from .conftest import services
from .test_admin import Admin, admin_error

UNKNOWN = "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz"


@pytest.fixture(scope="module")
def lab() -> Iterator[LocalRestate]:
    with LocalRestate(restate.app(services)) as lab:
        yield lab


@pytest.fixture(scope="module")
def admin(lab: LocalRestate) -> Admin:
    return Admin(lab)


@pytest.fixture
def key() -> str:
    return uuid.uuid4().hex[:10]


def _completed(lab: LocalRestate, service: str, handler: str, body: object, key: str | None = None) -> str:
    receipt = lab.send(service, handler, body, key=key)
    lab.attach(receipt.invocation_id, timeout=10)
    return receipt.invocation_id


def _restart(admin: Admin, inv_id: str, query: str = "") -> str:
    response = admin.request("PATCH", f"/invocations/{inv_id}/restart-as-new{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    new_id = response.json()["new_invocation_id"]
    assert isinstance(new_id, str)
    return new_id


def _wait_status(lab: LocalRestate, inv_id: str, wanted: str) -> None:
    deadline = time.monotonic() + 5
    while lab.status(inv_id) != wanted:
        assert time.monotonic() < deadline, f"{inv_id} is {lab.status(inv_id)}, not {wanted}"
        time.sleep(0.02)


def test_restart_runs_the_handler_again_with_the_original_input(lab: LocalRestate, admin: Admin, key: str) -> None:
    """A completed object call restarts as a new invocation on its partition; the original stays as it was."""
    old = _completed(lab, "Counter", "add", 5, key=key)
    new = _restart(admin, old)
    assert new != old
    assert InvocationId.parse(new).partition_key == InvocationId.parse(old).partition_key
    assert lab.attach(new, timeout=10) == 10
    assert lab.output(old) == 5
    assert lab.state("Counter", key) == {"count": 10}
    rows = lab.query(f"SELECT invoked_by, restarted_from, status FROM sys_invocation WHERE id = '{new}'")
    assert rows.to_dict("records") == [{"invoked_by": "restart_as_new", "restarted_from": old, "status": "completed"}]


def test_restart_of_a_restarted_and_of_a_failed_invocation(lab: LocalRestate, admin: Admin) -> None:
    """Every restart of the same original makes another invocation; a failure restarts and fails again."""
    old = lab.send("Greeter", "terminal").invocation_id
    with pytest.raises(RestateError):
        lab.attach(old, timeout=10)
    first, second = _restart(admin, old), _restart(admin, old)
    assert len({old, first, second}) == 3
    for inv_id in (first, second):
        with pytest.raises(RestateError) as failure:
            lab.attach(inv_id, timeout=10)
        assert failure.value.code == 418
    again = _restart(admin, first)
    with pytest.raises(RestateError) as failure:
        lab.attach(again, timeout=10)
    assert failure.value.code == 418


def test_restart_refused_in_each_unfinished_status(lab: LocalRestate, admin: Admin, key: str) -> None:
    """Scheduled and inboxed are 425; running is 409 (a query error still comes first)."""
    scheduled = lab.send("Greeter", "greet", "later", delay="10s").invocation_id
    admin_error(
        admin.request("PATCH", f"/invocations/{scheduled}/restart-as-new"),
        425,
        f"The invocation '{scheduled}' cannot be restarted because it's not running yet.",
    )
    running = lab.send("Greeter", "slow", 5).invocation_id
    _wait_status(lab, running, "running")
    admin_error(
        admin.request("PATCH", f"/invocations/{running}/restart-as-new?from=100"),
        409,
        f"The invocation '{running}' is still running.",
    )
    bad = admin.request("PATCH", f"/invocations/{running}/restart-as-new?from=abc")
    assert (bad.status_code, bad.text) == (
        400,
        "Failed to deserialize query string: from: invalid digit found in string",
    )
    lab.kill(running)
    lab.cancel(scheduled)


def test_restart_refused_for_workflows_gone_journals_and_unknown_ids(lab: LocalRestate, admin: Admin, key: str) -> None:
    """A workflow is 422, a purged journal 410, an unknown id 404, a malformed one 400."""
    status = _completed(lab, "Signup", "status", None, key=key)
    admin_error(
        admin.request("PATCH", f"/invocations/{status}/restart-as-new"),
        422,
        f"Restarting the invocation '{status}' is not supported. Restarting workflows is not supported, "
        "and restarting invocations created using the old service protocol.",
    )
    greeted = _completed(lab, "Greeter", "greet", "J")
    assert admin.request("PATCH", f"/invocations/{greeted}/purge-journal").status_code == 200
    admin_error(
        admin.request("PATCH", f"/invocations/{greeted}/restart-as-new"),
        410,
        f"The invocation '{greeted}' cannot be restarted because the input is not available. "
        "This indicates that the journal was already purged, or not retained at all.",
    )
    admin_error(
        admin.request("PATCH", f"/invocations/{UNKNOWN}/restart-as-new"),
        404,
        f"The requested invocation '{UNKNOWN}' does not exist",
    )
    admin_error(
        admin.request("PATCH", "/invocations/not-an-id/restart-as-new"),
        400,
        "The request field 'invocation_id' is invalid. Reason: bad format",
    )


def test_restart_from_replays_the_journal_prefix(lab: LocalRestate, admin: Admin, key: str) -> None:
    """from=1 keeps the input and the state read (0), so add(1) answers 1 again; past the end is 400."""
    old = _completed(lab, "Counter", "add", 1, key=key)
    assert lab.attach(_restart(admin, old, "?from=1"), timeout=10) == 1
    assert lab.attach(_restart(admin, old, "?from=3"), timeout=10) == 1  # the copied output answers
    assert lab.state("Counter", key) == {"count": 1}
    admin_error(
        admin.request("PATCH", f"/invocations/{old}/restart-as-new?from=4"),
        400,
        f"The prefix of the journal '{old}' up to 'from' (included) contains some Commands without "
        "respective Completions.",
    )


def test_restart_query_parameters_as_the_server_reads_them(lab: LocalRestate, admin: Admin) -> None:
    """Repeats and non-u32 ``from`` are plain-text 400s; ``deployment`` takes latest, keep or a known id."""
    old = _completed(lab, "Greeter", "greet", "Q")
    plain = {
        "from=1&from=2": "duplicate field `from`",
        "from=": "from: cannot parse integer from empty string",
        "from=4294967296": "from: number too large to fit in target type",
        "from=%2B1&deployment=a&deployment=b": "duplicate field `deployment`",
    }
    for query, reason in plain.items():
        response = admin.request("PATCH", f"/invocations/{old}/restart-as-new?{query}")
        assert (response.status_code, response.text) == (400, f"Failed to deserialize query string: {reason}")
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
    for spelling, reason in {
        "garbage": "bad format",
        "": "bad length",
        "xy_1": "unrecognized resource type: xy",
    }.items():
        admin_error(
            admin.request("PATCH", f"/invocations/{old}/restart-as-new?deployment={spelling}"),
            400,
            f"The query parameter 'deployment' is invalid. Reason: {reason}",
        )
    admin_error(
        admin.request("PATCH", f"/invocations/{old}/restart-as-new?from=1&deployment=dp_10000000000000000000000"),
        400,
        f"The given deployment was not found when trying to restart as new the invocation '{old}'.",
    )
    deployment = admin.request("GET", "/deployments").json()["deployments"][0]["id"]
    for query in ("FROM=100&x=1", "deployment=latest", "from=0&deployment=Keep", f"from=1&deployment={deployment}"):
        assert lab.attach(_restart(admin, old, "?" + query), timeout=10) == "Hello Q!"
