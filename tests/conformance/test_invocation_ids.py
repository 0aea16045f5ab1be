"""Invocation ids and partition keys as Restate Server 1.7.12 derives them, compared raw (not as tokens).

A workflow run's id and an idempotent request's id are hashes of the target (and key), so both servers
must give the very same text; a keyed target's partition key is a hash of its key. A plain ingress
request is stored under a generated ULID idempotency key that works as one: attach by it, resend with it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from restate_lab.rules.ids import InvocationId, partition_key_for
from tests.conformance.test_sql_conformance import Endpoint, lab, real  # noqa: F401 - the two servers

TIMEOUT_S = 20.0


def _query(endpoint: Endpoint, sql: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{endpoint.admin_url}/query", json={"query": sql}, headers={"accept": "application/json"}, timeout=TIMEOUT_S
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def _send(endpoint: Endpoint, path: str, body: Any, headers: dict[str, str] | None = None) -> str:
    response = httpx.post(endpoint.ingress_url + path, json=body, headers=headers or {}, timeout=TIMEOUT_S)
    assert response.status_code == 202, response.text
    invocation_id: str = response.json()["invocationId"]
    return invocation_id


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("/Signup/{key}/run/send", "Ann", {}),
        ("/Greeter/greet/send", "Ann", {"idempotency-key": "{key}"}),
        ("/Greeter/echo/send", 1, {"idempotency-key": "{key}, a b/c"}),
        ("/Counter/{key}/add/send", 1, {"idempotency-key": "k1"}),
        ("/Counter/{key}/add/send?delay=PT1H", 1, {"idempotency-key": "later"}),
    ],
    ids=[
        "workflow-run",
        "idempotent-service",
        "idempotent-service-odd-key",
        "idempotent-object",
        "delayed",
    ],
)
def test_derived_invocation_ids_are_the_servers_own(
    path: str,
    body: Any,
    headers: dict[str, str],
    real: Endpoint,  # noqa: F811
    lab: Endpoint,  # noqa: F811
) -> None:
    """The same workflow id or idempotency key gives the same ``inv_1…`` text on both servers."""
    key = uuid.uuid4().hex
    filled = {name: value.replace("{key}", key) for name, value in headers.items()}
    expected = _send(real, path.replace("{key}", key), body, filled)
    actual = _send(lab, path.replace("{key}", key), body, filled)
    assert actual == expected


def test_partition_keys_of_object_state_are_the_servers_own(real: Endpoint, lab: Endpoint) -> None:  # noqa: F811
    """``state.partition_key`` of an object key is the same number on both servers (a hash of the key)."""
    key = f"pk-{uuid.uuid4().hex}"
    rows = []
    for endpoint in (real, lab):
        httpx.post(f"{endpoint.ingress_url}/Counter/{key}/add", json=2, timeout=TIMEOUT_S).raise_for_status()
        rows.append(_query(endpoint, f"select partition_key from state where service_key = '{key}'"))
    assert rows[1] == rows[0]
    assert rows[0] == [{"partition_key": partition_key_for("Counter", key)}]


def _plain_request_answers(endpoint: Endpoint) -> dict[str, Any]:
    """A plain call's stored key, what attach and output by it answer, and whether a resend with it is a repeat."""
    response = httpx.post(f"{endpoint.ingress_url}/Greeter/greet", json="Eve", timeout=TIMEOUT_S)
    invocation_id = response.headers["x-restate-id"]
    deadline = time.monotonic() + 10
    rows: list[dict[str, Any]] = []
    while not rows and time.monotonic() < deadline:
        rows = _query(endpoint, f"select idempotency_key from sys_invocation where id = '{invocation_id}'")
    assert rows, f"{invocation_id} is not in sys_invocation"
    generated = rows[0]["idempotency_key"]
    seen: dict[str, Any] = {"key length": len(generated)}
    for action in ("attach", "output"):
        answer = httpx.get(
            f"{endpoint.ingress_url}/restate/invocation/Greeter/greet/{generated}/{action}", timeout=TIMEOUT_S
        )
        seen[action] = (answer.status_code, answer.text, answer.headers.get("x-restate-id") == invocation_id)
    again = httpx.post(
        f"{endpoint.ingress_url}/Greeter/greet", json="Bob", headers={"idempotency-key": generated}, timeout=TIMEOUT_S
    )
    seen["resend"] = (again.status_code, again.text, again.headers.get("x-restate-id") == invocation_id)
    # The id derives from the generated key exactly as an idempotent request's does.
    seen["id from key"] = str(InvocationId.parse(invocation_id)) == invocation_id and _derived(generated) == (
        invocation_id
    )
    return seen


def _derived(generated_key: str) -> str:
    from restate_lab.rules.ids import invocation_id_for

    return str(invocation_id_for("Greeter", "greet", None, generated_key, False))


def test_a_plain_call_is_kept_under_a_generated_idempotency_key(real: Endpoint, lab: Endpoint) -> None:  # noqa: F811
    """Attach and output by the generated key find the call, and a resend with it is answered as a repeat."""
    expected = _plain_request_answers(real)
    assert expected["id from key"], "the real server no longer derives a plain call's id from its generated key"
    assert _plain_request_answers(lab) == expected


@pytest.mark.parametrize(
    ("service", "handler", "key"),
    [
        ("Signup", "run", "absent"),
        ("Signup", "run", None),
        ("Signup", "run", "w1"),
        ("Signup", "run", ""),
        ("Signup", "status", "w1"),
        ("Counter", "add", "c1"),
        ("Counter", "add", "absent"),
        ("Greeter", "greet", "absent"),
        ("Greeter", "greet", "g1"),
        ("Nope", "nope", "absent"),
    ],
)
def test_a_lookup_of_an_idempotent_request_derives_the_servers_id_whatever_the_handler(
    service: str,
    handler: str,
    key: str | None,
    real: Endpoint,  # noqa: F811
    lab: Endpoint,  # noqa: F811
) -> None:
    """``POST /restate/lookup`` and ``/restate/attach`` of an ``idempotentInvocation`` answer the same id on both.

    Even on a workflow's run handler the id is an idempotent request's (a hash of the target and key),
    not the workflow run's; with no key there that once crashed the lab's ingress (found by the fuzzer).
    """
    spec: dict[str, Any] = {
        "target": "idempotentInvocation",
        "service": service,
        "handler": handler,
        "idempotencyKey": f"ik-{uuid.uuid4().hex}",
    }
    if key != "absent":
        spec["key"] = key
    answers = []
    for endpoint in (real, lab):
        looked_up = httpx.post(f"{endpoint.ingress_url}/restate/lookup", json=spec, timeout=TIMEOUT_S)
        attached = httpx.post(f"{endpoint.ingress_url}/restate/attach", json=spec, timeout=TIMEOUT_S)
        answers.append(
            (looked_up.status_code, looked_up.text, attached.status_code, attached.headers.get("x-restate-id"))
        )
    assert answers[1] == answers[0]
