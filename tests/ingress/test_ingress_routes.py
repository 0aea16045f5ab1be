"""Every ingress route over a real uvicorn ``LabServer``, asserted against docs/observed-restate-1.7.12.md."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import httpx

from .conftest import ingress_error, invocation_error

EXPIRES = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
EXECUTION_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000000Z$")


def _execution_time(payload: dict[str, str]) -> datetime:
    return datetime.strptime(payload["executionTime"][:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


def _ok(response: httpx.Response, body: object) -> str:
    assert response.status_code == 200, response.text
    assert response.json() == body
    assert response.headers["content-type"] == "application/json"
    return response.headers["x-restate-id"]


def _accepted(response: httpx.Response, status: str = "Accepted") -> str:
    assert response.status_code == 202, response.text
    payload = response.json()
    assert payload["status"] == status
    assert response.headers["x-restate-id"] == payload["invocationId"]
    assert payload["invocationId"].startswith("inv_")
    return str(payload["invocationId"])


def _wait_output(http: httpx.Client, path: str, timeout: float = 10.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = http.get(path)
        if response.status_code != 470 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


# -- calls -----------------------------------------------------------------------------------


def test_service_call_answers_200_json_with_invocation_id(http: httpx.Client) -> None:
    """POST /{Service}/{handler} answers the handler's JSON with x-restate-id and no idempotency-expires."""
    response = http.post("/Greeter/greet", json="Ada")
    assert _ok(response, "Hello Ada!").startswith("inv_")
    assert "idempotency-expires" not in response.headers


def test_content_type_with_parameters_is_accepted(http: httpx.Client) -> None:
    """application/json; charset=utf-8 is accepted as JSON."""
    headers = {"content-type": "application/json; charset=utf-8"}
    response = http.post("/Greeter/greet", content=b'"Ada"', headers=headers)
    _ok(response, "Hello Ada!")


def test_handler_without_input_takes_no_body(http: httpx.Client) -> None:
    """A handler without input is called with neither body nor content-type."""
    _ok(http.post("/Greeter/no_input"), "no input needed")


def test_none_result_is_empty_body_without_content_type(http: httpx.Client) -> None:
    """A handler returning None answers 200 with an empty body and no content-type."""
    response = http.post("/Greeter/echo", json=None)
    assert response.status_code == 200
    assert response.content == b""
    assert "content-type" not in response.headers
    assert response.headers["x-restate-id"].startswith("inv_")


def test_no_body_no_content_type_gives_handler_none(http: httpx.Client) -> None:
    """No body and no content-type to a handler with input is accepted (the handler gets None)."""
    response = http.post("/Greeter/echo")
    assert response.status_code == 200 and response.content == b""


def test_echo_returns_structured_json(http: httpx.Client) -> None:
    """Structured JSON goes through unchanged."""
    _ok(http.post("/Greeter/echo", json={"a": [1, 2, None]}), {"a": [1, 2, None]})


def test_get_on_a_handler_is_a_call_with_empty_body(http: httpx.Client) -> None:
    """GET /Greeter/greet is a call with an empty body, as on the real server."""
    _ok(http.get("/Greeter/greet"), "Hello None!")


def test_object_call_uses_the_key(http: httpx.Client, tag: str) -> None:
    """/{Object}/{key}/{handler}: exclusive add and shared get see the same key's state."""
    _ok(http.post(f"/Counter/{tag}/add", json=5), 5)
    _ok(http.post(f"/Counter/{tag}/add", json=2), 7)
    _ok(http.post(f"/Counter/{tag}/get"), 7)
    _ok(http.post(f"/Counter/{tag}/get/"), 7)


def test_encoded_slash_stays_in_the_key(http: httpx.Client, tag: str) -> None:
    """%2F in a key is decoded into the key, not a path separator."""
    _ok(http.post(f"/Counter/{tag}%2F1/add", json=1), 1)
    _ok(http.post(f"/Counter/{tag}%2F1/get"), 1)
    _ok(http.post(f"/Counter/{tag}/get"), 0)


def test_request_headers_reach_the_handler(http: httpx.Client) -> None:
    """Request headers are visible in ctx.request().headers."""
    response = http.post("/Greeter/headers", headers={"x-custom": "1", "x-other": "two"})
    assert response.status_code == 200, response.text
    seen = {k.lower(): v for k, v in response.json().items()}
    assert seen["x-custom"] == "1"
    assert seen["x-other"] == "two"


def test_handler_terminal_error_keeps_its_status_code(http: httpx.Client) -> None:
    """TerminalError(status_code=418) answers 418 with source invocation."""
    invocation_error(http.post("/Greeter/terminal"), 418, "custom failure")


# -- sends and delays ------------------------------------------------------------------------


def test_service_send_answers_202_accepted(http: httpx.Client) -> None:
    """/{Service}/{handler}/send → 202 {"invocationId","status":"Accepted"} with x-restate-id, key order kept."""
    response = http.post("/Greeter/greet/send", json="S")
    inv = _accepted(response)
    assert list(response.json()) == ["invocationId", "status"]
    assert _wait_output(http, f"/restate/invocation/{inv}/output").json() == "Hello S!"


def test_object_send_answers_202(http: httpx.Client, tag: str) -> None:
    """/{Object}/{key}/{handler}/send runs the handler on that key."""
    inv = _accepted(http.post(f"/Counter/{tag}/add/send", json=3))
    _ok(http.get(f"/restate/invocation/{inv}/attach"), 3)


def test_workflow_send_answers_202_then_previously_accepted(http: httpx.Client, tag: str) -> None:
    """/{Workflow}/{id}/run/send → Accepted, again → PreviouslyAccepted with the same id."""
    inv = _accepted(http.post(f"/Signup/{tag}/run/send", json="Ada"))
    assert _accepted(http.post(f"/Signup/{tag}/run/send", json="Ada"), "PreviouslyAccepted") == inv
    http.post(f"/Signup/{tag}/approve", json="Boss")
    _ok(http.get(f"/restate/workflow/Signup/{tag}/attach"), "Ada approved by Boss")


def test_delayed_send_humantime_adds_execution_time(http: httpx.Client) -> None:
    """?delay=1h 2m (humantime) adds executionTime, 9 fractional digits at ms resolution, keys in order."""
    before = datetime.now(UTC)
    response = http.post("/Greeter/greet/send", params={"delay": "1h 2m"}, json="spaced")
    _accepted(response)
    payload = response.json()
    assert list(payload) == ["invocationId", "executionTime", "status"]
    assert EXECUTION_TIME.match(payload["executionTime"])
    expected = before + timedelta(hours=1, minutes=2)
    assert abs((_execution_time(payload) - expected).total_seconds()) < 5


def test_delay_spellings_are_accepted(http: httpx.Client) -> None:
    """Humantime (1500ms, 1h2m) and case-insensitive ISO-8601 (PT10S, pt2s, P1D) are valid delays."""
    for delay, seconds in (("1500ms", 1.5), ("1h2m", 3720), ("PT10S", 10), ("pt2s", 2), ("P1D", 86400)):
        before = datetime.now(UTC)
        response = http.post(f"/Greeter/greet/send?delay={delay}", json="d")
        _accepted(response)
        got = (_execution_time(response.json()) - before).total_seconds()
        assert abs(got - seconds) < 5, (delay, got)


def test_zero_delay_still_adds_execution_time(http: httpx.Client) -> None:
    """delay=0s still answers with executionTime."""
    response = http.post("/Greeter/greet/send?delay=0s", json="zero")
    _accepted(response)
    assert "executionTime" in response.json()


def test_unknown_query_parameters_are_ignored(http: httpx.Client) -> None:
    """?delay=2s&foo=bar is a delayed send; foo is ignored."""
    response = http.post("/Greeter/greet/send?delay=2s&foo=bar", json="q")
    _accepted(response)
    assert "executionTime" in response.json()


# The delayed send's 470-then-attach on the runtime's clock: tests/ingress/test_ingress_clock.py.


# -- idempotency -----------------------------------------------------------------------------


def test_idempotent_repeat_returns_first_result_with_expires(http: httpx.Client, tag: str) -> None:
    """Same Idempotency-Key: same id, first result (body not compared), idempotency-expires ~ now + 1 day."""
    first = http.post("/Greeter/greet", json="Ada", headers={"idempotency-key": tag})
    inv = _ok(first, "Hello Ada!")
    assert "idempotency-expires" not in first.headers
    again = http.post("/Greeter/greet", json="Eve", headers={"idempotency-key": tag})
    assert _ok(again, "Hello Ada!") == inv
    expires = again.headers["idempotency-expires"]
    assert EXPIRES.match(expires), expires
    when = datetime.fromisoformat(expires)
    assert abs((when - datetime.now(UTC) - timedelta(days=1)).total_seconds()) < 60


def test_send_with_completed_calls_key_is_previously_accepted(http: httpx.Client, tag: str) -> None:
    """A send with the key of a completed call → 202 PreviouslyAccepted, same id."""
    inv = _ok(http.post("/Greeter/greet", json="Ada", headers={"idempotency-key": tag}), "Hello Ada!")
    response = http.post("/Greeter/greet/send", json="Ada", headers={"idempotency-key": tag})
    assert _accepted(response, "PreviouslyAccepted") == inv


def test_call_with_a_sends_key_attaches(http: httpx.Client, tag: str) -> None:
    """Send twice with one key (Accepted, PreviouslyAccepted), then a call with it answers the result."""
    inv = _accepted(http.post("/Greeter/greet/send", json="S", headers={"idempotency-key": tag}))
    assert (
        _accepted(http.post("/Greeter/greet/send", json="S", headers={"idempotency-key": tag}), "PreviouslyAccepted")
        == inv
    )
    _wait_output(http, f"/restate/invocation/{inv}/output")
    response = http.post("/Greeter/greet", json="S", headers={"idempotency-key": tag})
    assert _ok(response, "Hello S!") == inv
    assert "idempotency-expires" in response.headers


def test_idempotency_key_is_scoped_by_handler_and_object_key(http: httpx.Client, tag: str) -> None:
    """The same key on another handler is a new invocation; a keyed repeat does not run twice."""
    inv = _ok(http.post("/Greeter/greet", json="A", headers={"idempotency-key": tag}), "Hello A!")
    assert _ok(http.post("/Greeter/no_input", headers={"idempotency-key": tag}), "no input needed") != inv
    obj = _ok(http.post(f"/Counter/{tag}/add", json=1, headers={"idempotency-key": tag}), 1)
    again = http.post(f"/Counter/{tag}/add", json=1, headers={"idempotency-key": tag})
    assert _ok(again, 1) == obj
    assert "idempotency-expires" in again.headers
    _ok(http.post(f"/Counter/{tag}/get"), 1)


def test_empty_idempotency_key_call_is_answered(http: httpx.Client) -> None:
    """A call with an empty idempotency-key header answers the result, without idempotency-expires."""
    response = http.post("/Greeter/greet", json="E", headers={"idempotency-key": ""})
    _ok(response, "Hello E!")
    assert "idempotency-expires" not in response.headers


def test_repeat_of_failed_idempotent_call_replays_failure(http: httpx.Client, tag: str) -> None:
    """A repeat of a terminally failed call replays the failure with idempotency-expires."""
    invocation_error(http.post("/Greeter/terminal", headers={"idempotency-key": tag}), 418, "custom failure")
    again = http.post("/Greeter/terminal", headers={"idempotency-key": tag})
    invocation_error(again, 418, "custom failure")
    assert "idempotency-expires" in again.headers


# -- attach and output ------------------------------------------------------------------------


def test_attach_and_output_by_invocation_id(http: httpx.Client) -> None:
    """/restate/invocation/{id}/attach|output answer the stored result with idempotency-expires."""
    inv = _accepted(http.post("/Greeter/greet/send", json="Out"))
    attached = http.get(f"/restate/invocation/{inv}/attach")
    assert _ok(attached, "Hello Out!") == inv
    output = http.get(f"/restate/invocation/{inv}/output")
    assert _ok(output, "Hello Out!") == inv
    assert EXPIRES.match(output.headers["idempotency-expires"])


def test_output_of_plain_call_is_stored(http: httpx.Client) -> None:
    """A plain call (no key) can be read back by id, with idempotency-expires."""
    inv = _ok(http.post("/Greeter/greet", json="NoKey"), "Hello NoKey!")
    output = http.get(f"/restate/invocation/{inv}/output")
    assert _ok(output, "Hello NoKey!") == inv
    assert "idempotency-expires" in output.headers


def test_output_before_completion_is_470_and_attach_waits(http: httpx.Client) -> None:
    """Output of a running invocation → 470; attach waits and answers without idempotency-expires."""
    inv = _accepted(http.post("/Greeter/slow/send", json=1))
    ingress_error(http.get(f"/restate/invocation/{inv}/output"), 470, "the invocation exists but has not completed yet")
    attached = http.get(f"/restate/invocation/{inv}/attach")
    _ok(attached, "slept 1s" if attached.json() == "slept 1s" else "slept 1.0s")
    assert "idempotency-expires" not in attached.headers


def test_output_of_terminal_failure_is_the_failure(http: httpx.Client) -> None:
    """Output and attach of a failed invocation answer its failure, source invocation."""
    inv = _accepted(http.post("/Greeter/terminal/send"))
    _wait_output(http, f"/restate/invocation/{inv}/output")
    for action in ("output", "attach"):
        response = http.get(f"/restate/invocation/{inv}/{action}")
        invocation_error(response, 418, "custom failure")
        assert response.headers["x-restate-id"] == inv
        assert "idempotency-expires" in response.headers


def test_attach_and_output_by_idempotency_key_for_a_service(http: httpx.Client, tag: str) -> None:
    """/restate/invocation/{Service}/{handler}/{key}/attach|output find the idempotent call."""
    inv = _ok(http.post("/Greeter/greet", json="Ada", headers={"idempotency-key": tag}), "Hello Ada!")
    for action in ("attach", "output"):
        response = http.get(f"/restate/invocation/Greeter/greet/{tag}/{action}")
        assert _ok(response, "Hello Ada!") == inv
        assert "idempotency-expires" in response.headers


def test_attach_and_output_by_idempotency_key_for_a_keyed_object(http: httpx.Client, tag: str) -> None:
    """/restate/invocation/{Object}/{key}/{handler}/{idem}/attach|output find the keyed call."""
    inv = _ok(http.post(f"/Counter/{tag}/add", json=1, headers={"idempotency-key": "k1"}), 1)
    for action in ("attach", "output"):
        assert _ok(http.get(f"/restate/invocation/Counter/{tag}/add/k1/{action}"), 1) == inv


def test_unknown_idempotency_key_output_404_attach_404_with_id(http: httpx.Client, tag: str) -> None:
    """Unknown key: output → 404 ingress 'invocation not found'; attach → 404 invocation 'not found' + id."""
    ingress_error(http.get(f"/restate/invocation/Greeter/greet/{tag}/output"), 404, "invocation not found")
    invocation_error(http.get(f"/restate/invocation/Greeter/greet/{tag}/attach"), 404, "not found")
    ingress_error(http.get(f"/restate/invocation/Greeter/nope/{tag}/output"), 404, "invocation not found")


# -- workflows -------------------------------------------------------------------------------


def test_workflow_lifecycle_over_http(http: httpx.Client, tag: str) -> None:
    """Run/send, 470 before completion, 409 on a second run, status, approve, attach/output, 409 on re-approve."""
    inv = _accepted(http.post(f"/Signup/{tag}/run/send", json="Ada"))
    ingress_error(
        http.get(f"/restate/workflow/Signup/{tag}/output"), 470, "the invocation exists but has not completed yet"
    )
    again = http.post(f"/Signup/{tag}/run", json="Ada")
    invocation_error(again, 409, "the workflow method was already invoked")
    assert again.headers["x-restate-id"] == inv
    _ok(http.post(f"/Signup/{tag}/status"), "waiting")
    approved = http.post(f"/Signup/{tag}/approve", json="Boss")
    assert approved.status_code == 200 and approved.content == b""
    for action in ("attach", "output"):
        response = http.get(f"/restate/workflow/Signup/{tag}/{action}")
        assert _ok(response, "Ada approved by Boss") == inv
        assert "idempotency-expires" in response.headers
    _ok(http.get(f"/restate/invocation/{inv}/output"), "Ada approved by Boss")
    invocation_error(http.post(f"/Signup/{tag}/run", json="Ada"), 409, "the workflow method was already invoked")
    assert _accepted(http.post(f"/Signup/{tag}/run/send", json="Ada"), "PreviouslyAccepted") == inv


def test_resolving_a_promise_twice_is_409(http: httpx.Client, tag: str) -> None:
    """Resolving a completed durable promise again → 409 'promise was already completed' (source invocation)."""
    _accepted(http.post(f"/Signup/{tag}/run/send", json="Ada"))
    http.post(f"/Signup/{tag}/approve", json="Boss")
    invocation_error(http.post(f"/Signup/{tag}/approve", json="Again"), 409, "promise was already completed")


def test_workflow_call_runs_to_completion(http: httpx.Client, tag: str) -> None:
    """A workflow run called (not sent) answers when the promise is resolved."""
    import threading

    result: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: result.append(http.post(f"/Signup/{tag}/run", json="Bo")))
    thread.start()
    deadline = time.monotonic() + 10
    while http.post(f"/Signup/{tag}/status").content != b'"waiting"' and time.monotonic() < deadline:
        time.sleep(0.05)
    http.post(f"/Signup/{tag}/approve", json="Al")
    thread.join(10)
    _ok(result[0], "Bo approved by Al")


def test_shared_workflow_handler_before_run_answers_empty(http: httpx.Client, tag: str) -> None:
    """A shared workflow handler before run → 200 with an empty body."""
    response = http.post(f"/Signup/{tag}/status")
    assert response.status_code == 200 and response.content == b""


def test_unknown_workflow_output_404_attach_404_with_id(http: httpx.Client, tag: str) -> None:
    """Unknown workflow id: output 404 'invocation not found' (ingress), attach 404 'not found' (invocation)."""
    ingress_error(http.get(f"/restate/workflow/Signup/{tag}/output"), 404, "invocation not found")
    invocation_error(http.get(f"/restate/workflow/Signup/{tag}/attach"), 404, "not found")
    ingress_error(http.get("/restate/workflow/Greeter/x/output"), 404, "invocation not found")
    ingress_error(http.get("/restate/workflow/Nope/x/output"), 404, "invocation not found")


# -- awakeables ------------------------------------------------------------------------------


def _awakeable_id(http: httpx.Client, key: str) -> tuple[str, str]:
    inv = _accepted(http.post(f"/Counter/{key}/wait_awakeable/send"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = http.post(f"/Counter/{key}/awakeable")
        if response.content:
            return inv, str(response.json())
        time.sleep(0.05)
    raise AssertionError("the awakeable id never reached state")


def test_awakeable_resolve_answers_202_and_completes_the_handler(http: httpx.Client, tag: str) -> None:
    """POST /restate/awakeables/{id}/resolve → 202, empty body, no content-type; the handler gets the value."""
    inv, awk = _awakeable_id(http, tag)
    response = http.post(f"/restate/awakeables/{awk}/resolve", json={"ok": True})
    assert response.status_code == 202
    assert response.content == b""
    assert "content-type" not in response.headers
    _ok(http.get(f"/restate/invocation/{inv}/attach"), {"ok": True})
    again = http.post(f"/restate/awakeables/{awk}/resolve", json={"ok": False})
    assert again.status_code == 202


def test_awakeable_reject_answers_202_and_fails_the_handler(http: httpx.Client, tag: str) -> None:
    """POST /restate/awakeables/{id}/reject → 202; the waiting handler fails terminally."""
    inv, awk = _awakeable_id(http, tag)
    response = http.post(f"/restate/awakeables/{awk}/reject", content=b"nope", headers={"content-type": "text/plain"})
    assert response.status_code == 202 and response.content == b""
    attached = http.get(f"/restate/invocation/{inv}/attach")
    assert attached.status_code >= 400
    assert attached.json()["source"] == "invocation"


# -- health and versioned families ----------------------------------------------------------


def test_health_lists_the_services(http: httpx.Client) -> None:
    """GET /restate/health → 200 {"services":[...]} (order varies)."""
    response = http.get("/restate/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert sorted(response.json()["services"]) == ["Counter", "Greeter", "Signup"]


def test_versioned_call_and_send(http: httpx.Client, tag: str) -> None:
    """/restate/call and /restate/send for services and keyed objects, ?delay= allowed on send, GET call."""
    _ok(http.post("/restate/call/Greeter/greet", json="V"), "Hello V!")
    _ok(http.post(f"/restate/call/Counter/{tag}/add", json=1), 1)
    _ok(http.get("/restate/call/Greeter/greet"), "Hello None!")
    inv = _accepted(http.post("/restate/send/Greeter/greet", json="V"))
    delayed = http.post("/restate/send/Greeter/greet?delay=1s", json="V")
    _accepted(delayed)
    assert "executionTime" in delayed.json()
    _accepted(http.post(f"/restate/send/Counter/{tag}/add", json=1))
    _wait_output(http, f"/restate/output/{inv}")
    for action in ("attach", "output"):
        response = http.get(f"/restate/{action}/{inv}")
        assert _ok(response, "Hello V!") == inv
        assert "idempotency-expires" in response.headers


def test_versioned_attach_output_unknown_id(http: httpx.Client, tag: str) -> None:
    """GET /restate/output/{unknown} → 404 ingress; /restate/attach/{unknown} → 404 invocation with that id."""
    target = {"target": "workflow", "workflowName": "Signup", "workflowKey": tag}
    unknown = http.post("/restate/lookup", json=target).json()["invocationId"]
    ingress_error(http.get(f"/restate/output/{unknown}"), 404, "invocation not found")
    ingress_error(http.get(f"/restate/invocation/{unknown}/output"), 404, "invocation not found")
    for path in (f"/restate/attach/{unknown}", f"/restate/invocation/{unknown}/attach"):
        response = http.get(path)
        invocation_error(response, 404, "not found")
        assert response.headers["x-restate-id"] == unknown


def test_post_lookup_attach_output_by_invocation_id(http: httpx.Client) -> None:
    """POST /restate/lookup|output|attach with {"target":"invocation"} answer the id and the result."""
    inv = _accepted(http.post("/restate/send/Greeter/greet", json="L"))
    _wait_output(http, f"/restate/output/{inv}")
    target = {"target": "invocation", "invocationId": inv}
    lookup = http.post("/restate/lookup", json=target)
    assert lookup.status_code == 200 and lookup.json() == {"invocationId": inv}
    assert lookup.headers["content-type"] == "application/json"
    for verb in ("output", "attach"):
        response = http.post(f"/restate/{verb}", json=target)
        assert _ok(response, "Hello L!") == inv
        assert "idempotency-expires" in response.headers


def test_post_lookup_by_idempotency_key_service_and_object(http: httpx.Client, tag: str) -> None:
    """POST /restate/lookup|output|attach with an idempotentInvocation target, with and without object key."""
    inv = _ok(http.post("/Greeter/greet", json="Ada", headers={"idempotency-key": tag}), "Hello Ada!")
    target = {"target": "idempotentInvocation", "service": "Greeter", "handler": "greet", "idempotencyKey": tag}
    assert http.post("/restate/lookup", json=target).json() == {"invocationId": inv}
    for verb in ("output", "attach"):
        assert _ok(http.post(f"/restate/{verb}", json=target), "Hello Ada!") == inv
    obj = _ok(http.post(f"/Counter/{tag}/add", json=1, headers={"idempotency-key": "k1"}), 1)
    target = {
        "target": "idempotentInvocation",
        "service": "Counter",
        "key": tag,
        "handler": "add",
        "idempotencyKey": "k1",
    }
    assert http.post("/restate/lookup", json=target).json() == {"invocationId": obj}
    for verb in ("output", "attach"):
        assert _ok(http.post(f"/restate/{verb}", json=target), 1) == obj


def test_post_lookup_by_workflow(http: httpx.Client, tag: str) -> None:
    """POST /restate/lookup|output|attach with a workflow target; lookup of a never-run id still answers 200."""
    inv = _accepted(http.post(f"/Signup/{tag}/run/send", json="W"))
    http.post(f"/Signup/{tag}/approve", json="X")
    target = {"target": "workflow", "workflowName": "Signup", "workflowKey": tag}
    assert http.post("/restate/lookup", json=target).json() == {"invocationId": inv}
    _ok(http.post("/restate/attach", json=target), "W approved by X")
    _ok(http.post("/restate/output", json=target), "W approved by X")
    missing = http.post("/restate/lookup", json={**target, "workflowKey": tag + "-never"})
    assert missing.status_code == 200
    assert missing.json()["invocationId"].startswith("inv_")
    assert missing.json()["invocationId"] != inv


def test_lookup_id_is_computed_for_unknown_idempotent_target(http: httpx.Client, tag: str) -> None:
    """Lookup of an idempotent target that never ran answers 200 with a computed id, stable across asks."""
    target = {"target": "idempotentInvocation", "service": "Greeter", "handler": "greet", "idempotencyKey": tag}
    first = http.post("/restate/lookup", json=target)
    assert first.status_code == 200
    assert first.json() == http.post("/restate/lookup", json=target).json()
    inv = _ok(http.post("/Greeter/greet", json="later", headers={"idempotency-key": tag}), "Hello later!")
    assert first.json() == {"invocationId": inv}
