"""Bad input on the ingress answers as Restate 1.7.12 does, never 500 from the ingress, and the server keeps serving."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .conftest import ingress_error, invocation_error

INVOCATION_PATH = "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler"
RESTATE_INVOCATION_PATH = (
    "bad path, expected either /restate/invocation/:invocation_id/output or /restate/invocation/:invocation_id/attach"
    " or /restate/invocation/:invocation_target/:idempotency_key/output or "
    "/restate/invocation/:invocation_target/:idempotency_key/attach"
)
VERSIONED_PATH = (
    "bad path, expected /restate/call/:service/:handler, /restate/send/:service/:handler, "
    "/restate/scope/:scope/call/:service/:handler, /restate/attach/:invocation_id, /restate/output/:invocation_id,"
    " or /restate/lookup"
)
DELAY = "bad delay query parameter, must be a ISO8601 duration: "
NOT_COMPLETED = "the invocation exists but has not completed yet"


@pytest.fixture(autouse=True)
def still_serving(http: httpx.Client) -> Iterator[None]:
    """After every bad input the ingress still answers a good call."""
    yield
    response = http.post("/Greeter/greet", json="after")
    assert response.status_code == 200 and response.json() == "Hello after!"


def test_malformed_json_fails_in_the_sdk_not_the_ingress(http: httpx.Client) -> None:
    """Malformed JSON is not checked by the ingress: the SDK fails it terminally (500, source invocation)."""
    response = http.post("/Greeter/greet", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 500
    body = response.json()
    assert body["source"] == "invocation"
    assert body["message"].startswith("Unable to parse an input argument.")
    assert response.headers["x-restate-error-source"] == "invocation"
    assert response.headers["x-restate-id"].startswith("inv_")


def test_body_without_content_type_is_400(http: httpx.Client) -> None:
    """A body without content-type → 400 'input validation error: Empty content-type'."""
    response = http.post("/Greeter/greet", content=b'"Ada"')
    ingress_error(response, 400, "input validation error: Empty content-type")


def test_wrong_content_type_is_400(http: httpx.Client) -> None:
    """text/plain to a JSON handler → 400 'Content-type ... does not match'."""
    response = http.post("/Greeter/greet", content=b'"Ada"', headers={"content-type": "text/plain"})
    ingress_error(response, 400, "input validation error: Content-type 'text/plain' does not match 'application/json'")


def test_body_to_handler_without_input_is_400(http: httpx.Client) -> None:
    """A body sent to a handler without input → 400."""
    ingress_error(
        http.post("/Greeter/no_input", json="unexpected"),
        400,
        "input validation error: Expected body and content-type to be empty, but wasn't with content-type "
        "'Some(\"application/json\")'",
    )


def test_empty_body_with_json_content_type_is_400(http: httpx.Client) -> None:
    """An empty body with a JSON content-type → 400 'Empty body not allowed'."""
    response = http.post("/Greeter/echo", content=b"", headers={"content-type": "application/json"})
    ingress_error(response, 400, "input validation error: Empty body not allowed")


def test_unknown_service_is_404(http: httpx.Client) -> None:
    """An unknown first segment → 404 'service ... not found'."""
    message = "service 'Nope' not found, make sure to register the service before calling it."
    ingress_error(http.post("/Nope/greet", json="x"), 404, message)
    ingress_error(http.post("/restate/call/Nope/greet", json="x"), 404, message)
    ingress_error(http.get("/restate/invocation/Nope/greet/k1/output"), 404, message)


def test_unknown_handler_is_404(http: httpx.Client) -> None:
    """An unknown handler of a known service → 404 with source ingress."""
    response = http.post("/Greeter/nope", json="x")
    assert response.status_code == 404, response.text
    assert response.json()["source"] == "ingress"
    assert response.headers["x-restate-error-source"] == "ingress"


def test_bad_paths_are_400(http: httpx.Client) -> None:
    """Object/workflow without key, key on a service, extra segment, /sendx → 400 bad path."""
    ingress_error(http.post("/Greeter", json="x"), 400, "bad path: /Greeter")
    for path in ("/Counter/add", "/Signup/run", "/Greeter/k/greet", "/Counter/c1/add/extra", "/Greeter/greet/sendx"):
        ingress_error(http.post(path, json=1), 400, INVOCATION_PATH)


def test_ingress_has_no_openapi_route(http: httpx.Client) -> None:
    """GET /openapi → 400 bad path; GET /restate/openapi → 404 not found."""
    ingress_error(http.get("/openapi"), 400, "bad path: /openapi")
    ingress_error(http.get("/restate/openapi"), 404, "not found")


def test_versioned_bad_paths_are_400(http: httpx.Client) -> None:
    """Object without key and a /send suffix under /restate/call → 400 with the versioned message."""
    ingress_error(http.post("/restate/call/Counter/add", json=1), 400, VERSIONED_PATH)
    ingress_error(http.post("/restate/call/Greeter/greet/send", json="x"), 400, VERSIONED_PATH)
    ingress_error(http.post("/restate/call/Signup/wf3/run/send", json="x"), 400, VERSIONED_PATH)


def test_scoped_invocations_are_refused(http: httpx.Client) -> None:
    """/restate/scope/... → 400 'scoped invocations require vqueues to be enabled'."""
    ingress_error(
        http.post("/restate/scope/s1/call/Greeter/greet", json="x"),
        400,
        "scoped invocations require vqueues to be enabled",
    )


@pytest.mark.parametrize(
    ("delay", "detail"),
    [
        (
            "2",
            'failed to parse input in the "friendly" duration format: expected to find unit designator suffix '
            "(e.g., 'years' or 'secs') after parsing integer",
        ),
        (
            "2S",
            'failed to parse input in the "friendly" duration format: expected to find unit designator suffix '
            "(e.g., 'years' or 'secs') after parsing integer",
        ),
        (
            "abc",
            'failed to parse input in the "friendly" duration format: expected duration to start with a unit '
            "value (a decimal integer) after an optional sign, but no integer was found",
        ),
        ("-1s", "negative signed durations cannot be converted to an unsigned duration"),
        ("", 'an empty string is not a valid duration in either the ISO 8601 format or Jiff\'s "friendly" format'),
    ],
)
def test_invalid_delay_is_400_with_parser_message(http: httpx.Client, delay: str, detail: str) -> None:
    """An invalid ?delay= → 400 'bad delay query parameter, ...: <parser message>'."""
    response = http.post("/Greeter/greet/send", params={"delay": delay}, json="x")
    assert response.status_code == 400
    assert response.headers["x-restate-error-source"] == "ingress"
    # The oracle's Markdown table shows jiff's backquotes as single quotes; accept either spelling.
    body = response.json()
    assert {**body, "message": body["message"].replace("`", "'")} == {
        "code": 400,
        "message": DELAY + detail,
        "source": "ingress",
    }


def test_enormous_delay_is_a_clear_400(http: httpx.Client) -> None:
    """An enormous ?delay= is a 400 (the real server drops the connection: a documented difference)."""
    response = http.post("/Greeter/greet/send?delay=99999999999999999999999h", json="x")
    assert response.status_code == 400, response.text
    assert response.json()["source"] == "ingress"
    assert response.json()["message"].startswith(DELAY)


def test_delay_on_a_call_is_400(http: httpx.Client) -> None:
    """?delay= on a call → 400 'cannot use the delay query parameter with calls'."""
    ingress_error(
        http.post("/Greeter/greet?delay=1s", json="x"),
        400,
        "cannot use the delay query parameter with calls. The delay is supported only with sends",
    )


def test_idempotency_key_on_workflow_run_is_400(http: httpx.Client, tag: str) -> None:
    """idempotency-key on a workflow run → 400."""
    ingress_error(
        http.post(f"/Signup/{tag}/run", json="Ann", headers={"idempotency-key": "w"}),
        400,
        "cannot use the idempotency key with workflow handlers. The handler invocation will already be "
        "idempotent by the workflow key itself.",
    )


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_on_a_handler_are_405(http: httpx.Client, method: str) -> None:
    """PUT/DELETE/PATCH on a handler → 405 JSON error without an allow header."""
    response = http.request(method, "/Greeter/greet", json="x")
    ingress_error(response, 405, "method not allowed")
    assert "allow" not in response.headers


def test_head_on_a_handler_is_405_empty(http: httpx.Client) -> None:
    """HEAD on a handler → 405 with an empty body."""
    response = http.head("/Greeter/greet")
    assert response.status_code == 405 and response.content == b""


def test_cors_preflight_is_200(http: httpx.Client) -> None:
    """OPTIONS preflight → 200 with access-control-allow-methods."""
    response = http.options("/Greeter/greet", headers={"origin": "http://x", "access-control-request-method": "POST"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == "POST"


def test_post_on_get_only_restate_routes_is_405(http: httpx.Client) -> None:
    """POST /restate/invocation/{id}/output and POST /restate/attach/{id} → 405."""
    inv = http.post("/Greeter/greet", json="m").headers["x-restate-id"]
    ingress_error(http.post(f"/restate/invocation/{inv}/output"), 405, "method not allowed")
    ingress_error(http.post(f"/restate/attach/{inv}"), 405, "method not allowed")


def test_ingress_private_handler_is_400(http: httpx.Client) -> None:
    """An ingress-private handler → 400 'the invoked service is not public' (call and send)."""
    ingress_error(http.post("/Greeter/secret"), 400, "the invoked service is not public")
    ingress_error(http.post("/Greeter/secret/send"), 400, "the invoked service is not public")


def test_malformed_invocation_ids_are_400(http: httpx.Client) -> None:
    """Bad id syntax: 'bad format', 'bad length', 'base62 decode error' → 400."""
    ingress_error(http.get("/restate/invocation/not-an-id/attach"), 400, "bad invocation id 'not-an-id': bad format")
    ingress_error(http.get("/restate/invocation/inv_123/output"), 400, "bad invocation id 'inv_123': bad length")
    ingress_error(http.get("/restate/output/garbage"), 400, "bad invocation id 'garbage': bad format")
    inv = http.post("/Greeter/greet", json="c").headers["x-restate-id"]
    broken = inv[:-1] + ("0" if inv[-1] != "0" else "1")
    response = http.get(f"/restate/invocation/{broken}/output")
    assert response.status_code in (400, 404)
    assert response.json()["source"] == "ingress"


def test_unknown_well_formed_invocation_id_is_404(http: httpx.Client, tag: str) -> None:
    """A well-formed id nobody ran: output 404 'invocation not found', attach 404 'not found' with the id."""
    unknown = http.post(
        "/restate/lookup", json={"target": "workflow", "workflowName": "Signup", "workflowKey": tag}
    ).json()["invocationId"]
    ingress_error(http.get(f"/restate/invocation/{unknown}/output"), 404, "invocation not found")
    invocation_error(http.get(f"/restate/invocation/{unknown}/attach"), 404, "not found")


def test_restate_invocation_path_shapes(http: httpx.Client) -> None:
    """/restate/invocation/{id} without action → 400; unknown action → 404; object without key → 400."""
    inv = http.post("/Greeter/greet", json="p").headers["x-restate-id"]
    ingress_error(http.get(f"/restate/invocation/{inv}"), 400, RESTATE_INVOCATION_PATH)
    ingress_error(http.get(f"/restate/invocation/{inv}/bogus"), 404, "not found")
    ingress_error(http.get("/restate/invocation/Counter/add/k1/output"), 400, RESTATE_INVOCATION_PATH)
    ingress_error(http.get("/restate/bogus"), 404, "not found")


def test_output_before_completion_is_470(http: httpx.Client) -> None:
    """Output of a running invocation → 470 'the invocation exists but has not completed yet'."""
    inv = http.post("/Greeter/slow/send", json=0.5).json()["invocationId"]
    ingress_error(http.get(f"/restate/invocation/{inv}/output"), 470, NOT_COMPLETED)
    ingress_error(http.get(f"/restate/output/{inv}"), 470, NOT_COMPLETED)


def test_bad_awakeable_ids_are_400(http: httpx.Client) -> None:
    """A malformed awakeable id → 400 from the ingress."""
    response = http.post("/restate/awakeables/garbage/resolve", json=1)
    assert response.status_code == 400
    assert response.json()["source"] == "ingress"


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"target": "nope"}', b'{"target": "invocation"}', b""])
def test_malformed_lookup_body_is_a_clear_400(http: httpx.Client, body: bytes) -> None:
    """A malformed POST /restate/lookup body → 400 (the real server answers 500: a documented difference)."""
    for verb in ("lookup", "attach", "output"):
        response = http.post(f"/restate/{verb}", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        # The real server says "lookup body" for lookup and "request body" for attach and output.
        what = "lookup body" if verb == "lookup" else "request body"
        assert response.json()["message"].startswith(f"cannot read body: invalid {what}: ")
        assert response.json()["source"] == "ingress"


def _chunks(total: int, size: int = 1 << 20) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        step = min(size, total - sent)
        sent += step
        yield b" " * step


def test_body_over_32_mib_is_413_and_ingress_keeps_serving(http: httpx.Client) -> None:
    """A streamed body over 32 MiB → 413 'cannot read body: LengthLimitError'; the next request still works."""
    try:
        response = http.post(
            "/Greeter/echo", content=_chunks(33 * 1024 * 1024), headers={"content-type": "application/json"}
        )
    except httpx.HTTPError:  # the server may close before the client finishes writing
        pytest.fail("the ingress dropped the connection instead of answering 413")
    ingress_error(response, 413, "cannot read body: LengthLimitError")


def test_body_just_under_the_limit_is_read(http: httpx.Client) -> None:
    """A body under 32 MiB is accepted (here: a large JSON string echoed back)."""
    payload = b'"' + b"a" * (4 * 1024 * 1024) + b'"'
    response = http.post("/Greeter/echo", content=payload, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert len(response.content) == len(payload)


def test_ingress_never_answers_500_on_garbage_paths(http: httpx.Client) -> None:
    """Odd paths and methods never make the ingress itself answer 500."""
    for method, path in [
        ("GET", "/"),
        ("POST", "//"),
        ("GET", "/restate"),
        ("POST", "/restate/"),
        ("GET", "/restate/workflow/Signup"),
        ("POST", "/restate/awakeables/x"),
        ("GET", "/%ff/%00"),
        ("POST", "/Counter//get"),
        ("DELETE", "/restate/health"),
    ]:
        response = http.request(method, path)
        assert response.status_code < 500 or response.json()["source"] != "ingress", (method, path, response.text)
