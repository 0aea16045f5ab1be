"""The admin API ASGI app, asserted against the Admin sections of docs/observed-restate-1.7.12.md."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import restate

from restate_lab import LocalRestate
from restate_lab.ingress.admin import make_admin_app
from restate_lab.rules.errors import RestateError
from restate_lab.rules.id_errors import invocation_id_error
from restate_lab.server.harness import AppServer

from .conftest import services

INGRESS = "http://127.0.0.1:18080/"
UNKNOWN_INVOCATION = "inv_1000000000000000000000000000000000"


class Admin:
    """Sends requests to the admin app on the lab's own loop, as uvicorn would run it."""

    def __init__(self, lab: LocalRestate) -> None:
        self.lab = lab
        self.app = make_admin_app(lab, ingress_url=INGRESS)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://admin", timeout=30) as client:
                return await client.request(method, path, **kwargs)

        return self.lab.portal.call(go())


@pytest.fixture(scope="module")
def lab() -> Iterator[LocalRestate]:
    """Request-response mode: these tests pin its deployment fields and its suspensions (bidi is the default)."""
    with LocalRestate(restate.app(services), http2=False) as lab:
        yield lab


@pytest.fixture(scope="module")
def admin(lab: LocalRestate) -> Admin:
    return Admin(lab)


def admin_error(response: httpx.Response, status: int, message: str, code: str | None = None) -> None:
    """Assert an admin error: JSON ``{"message", "restate_code"}``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": message, "restate_code": code}


def _status(lab: LocalRestate, inv_id: str, wanted: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while lab.status(inv_id) != wanted:
        assert time.monotonic() < deadline, f"{inv_id} is {lab.status(inv_id)}, not {wanted}"
        time.sleep(0.02)


# -- health, version, unknown paths, methods -----------------------------------------------


def test_health_answers_200_with_empty_body(admin: Admin) -> None:
    """GET /health → 200, empty body."""
    response = admin.request("GET", "/health")
    assert (response.status_code, response.content) == (200, b"")


def test_version_mirrors_the_real_server_shape(admin: Admin) -> None:
    """GET /version → version 1.7.12, admin API versions 2..4, our ingress URL, all features false."""
    body = admin.request("GET", "/version").json()
    assert body["version"] == "1.7.12"
    assert (body["min_admin_api_version"], body["max_admin_api_version"]) == (2, 4)
    assert body["ingress_endpoint"] == INGRESS
    assert len(body["features"]) == 12 and not any(body["features"].values())


def test_unknown_admin_path_is_an_empty_404(admin: Admin) -> None:
    """Unknown admin paths (and trailing slashes) → 404 with no body."""
    for path in ("/nope", "/services/", "/deployments/", "/invocations", "/services/Greeter/handlers/"):
        response = admin.request("GET", path)
        assert (response.status_code, response.content) == (404, b""), path


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/health", "GET,HEAD"),
        ("POST", "/version", "GET,HEAD"),
        ("POST", "/services", "GET,HEAD"),
        ("PUT", "/deployments", "GET,HEAD,POST"),
        ("POST", "/services/Greeter/openapi", "GET,HEAD"),
        ("POST", "/services/Greeter/handlers/greet", "GET,HEAD"),
        ("POST", f"/invocations/{UNKNOWN_INVOCATION}/cancel", "PATCH"),
        ("GET", "/invocations/garbage", "DELETE"),
    ],
)
def test_wrong_method_is_405_with_allow(admin: Admin, method: str, path: str, allow: str) -> None:
    """A known path with the wrong method → 405, empty body, ``allow`` listing the methods."""
    response = admin.request(method, path)
    assert (response.status_code, response.content) == (405, b"")
    assert response.headers["allow"] == allow


def test_head_answers_like_get_without_body(admin: Admin) -> None:
    """HEAD /health → 200 and no body."""
    response = admin.request("HEAD", "/health")
    assert (response.status_code, response.content) == (200, b"")


def test_json_bodies_are_gzipped_when_accepted(admin: Admin) -> None:
    """With accept-encoding gzip, JSON answers carry content-encoding gzip, as the server's do."""
    response = admin.request("GET", "/services/Greeter", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["name"] == "Greeter"
    raw = admin.request("GET", "/services/Greeter", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert gzip.compress(raw.content)  # the identity answer is plain JSON
    assert raw.json() == response.json()


def test_query_is_served_by_default(admin: Admin) -> None:
    """POST /query answers SQL over the introspection tables unless another hook replaces it."""
    response = admin.request(
        "POST", "/query", json={"query": "select 1 as one"}, headers={"accept": "application/json"}
    )
    assert (response.status_code, response.json()) == (200, {"rows": [{"one": 1}]})


def test_query_hook_receives_the_request(lab: LocalRestate) -> None:
    """POST /query goes to the ``query_handler`` ASGI app when one is given."""

    async def query(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    app = make_admin_app(lab, query_handler=query)

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as client:
            return await client.post("/query", json={"query": "select 1"})

    assert lab.portal.call(go()).text == "/query"


# -- services and handlers ---------------------------------------------------------------------


def test_services_lists_every_service(admin: Admin) -> None:
    """GET /services → {"services": [...]} with each service's name and type."""
    body = admin.request("GET", "/services").json()
    assert {s["name"]: s["ty"] for s in body["services"]} == {
        "Greeter": "Service",
        "Counter": "VirtualObject",
        "Signup": "Workflow",
    }


def test_service_fields_follow_the_real_server(admin: Admin) -> None:
    """GET /services/{name}: field order, defaults and the request-response inactivity timeout of 0s."""
    body = admin.request("GET", "/services/Signup").json()
    assert list(body) == [
        "name",
        "ty",
        "handlers",
        "deployment_id",
        "revision",
        "public",
        "idempotency_retention",
        "workflow_completion_retention",
        "journal_retention",
        "inactivity_timeout",
        "abort_timeout",
        "enable_lazy_state",
        "retry_policy",
    ]
    assert body["idempotency_retention"] == body["workflow_completion_retention"] == "1d"
    assert (body["inactivity_timeout"], body["abort_timeout"], body["public"]) == ("0s", "10m", True)
    assert body["retry_policy"] == {
        "initial_interval": "500ms",
        "exponentiation_factor": 2.0,
        "max_attempts": 70,
        "max_interval": "1m",
        "on_max_attempts": "Pause",
    }


def test_unknown_service_is_404_with_message(admin: Admin) -> None:
    """GET /services/Nope (and its handlers and openapi) → 404 "The requested service 'Nope' does not exist"."""
    for path in ("/services/Nope", "/services/Nope/handlers", "/services/Nope/openapi"):
        admin_error(admin.request("GET", path), 404, "The requested service 'Nope' does not exist")


def test_service_name_is_percent_decoded(admin: Admin) -> None:
    """GET /services/Gree%74er finds Greeter."""
    assert admin.request("GET", "/services/Gree%74er").json()["name"] == "Greeter"


def test_handler_descriptions_match_observed(admin: Admin) -> None:
    """GET /services/{s}/handlers/{h} → the exact JSON observed for greet, secret, Counter/get and Signup/run."""
    assert admin.request("GET", "/services/Greeter/handlers/greet").json() == {
        "name": "greet",
        "public": True,
        "input_description": "JSON string",
        "output_description": "JSON string",
        "input_json_schema": {"type": "string"},
        "output_json_schema": {"type": "string"},
        "retry_policy": {"max_attempts": None},
    }
    assert admin.request("GET", "/services/Greeter/handlers/secret").json() == {
        "name": "secret",
        "public": False,
        "input_description": "none",
        "output_description": "JSON string",
        "output_json_schema": {"type": "string"},
        "retry_policy": {"max_attempts": None},
    }
    assert admin.request("GET", "/services/Counter/handlers/get").json() == {
        "name": "get",
        "ty": "Shared",
        "public": True,
        "input_description": "none",
        "output_description": "JSON integer",
        "output_json_schema": {"type": "integer"},
        "retry_policy": {"max_attempts": None},
    }
    assert admin.request("GET", "/services/Signup/handlers/run").json() == {
        "name": "run",
        "ty": "Workflow",
        "public": True,
        "input_description": "JSON string",
        "output_description": "JSON string",
        "input_json_schema": {"type": "string"},
        "output_json_schema": {"type": "string"},
        "retry_policy": {"max_attempts": None},
    }


def test_untyped_handler_is_described_by_content_type(admin: Admin) -> None:
    """A handler taking ``Any`` has schema ``true`` and is described as "application/json"."""
    body = admin.request("GET", "/services/Greeter/handlers/echo").json()
    assert (body["input_description"], body["input_json_schema"]) == ("application/json", True)


def test_unknown_handler_is_404_with_message(admin: Admin) -> None:
    """Unknown handler (also on an unknown service) → 404 naming handler and service."""
    admin_error(
        admin.request("GET", "/services/Greeter/handlers/nope"),
        404,
        "The requested handler 'nope' on service 'Greeter' does not exist",
    )
    admin_error(
        admin.request("GET", "/services/Nope/handlers/x"),
        404,
        "The requested handler 'x' on service 'Nope' does not exist",
    )


def test_handlers_lists_all_handlers(admin: Admin) -> None:
    """GET /services/{s}/handlers → {"handlers": [...]}, private ones included."""
    names = {h["name"] for h in admin.request("GET", "/services/Greeter/handlers").json()["handlers"]}
    assert {"greet", "echo", "secret", "no_input"} <= names


def test_service_openapi_is_served(admin: Admin) -> None:
    """GET /services/{s}/openapi → the OpenAPI 3.1 document, with our ingress URL as server."""
    body = admin.request("GET", "/services/Counter/openapi").json()
    assert body["openapi"] == "3.1.0" and body["info"]["title"] == "Counter"
    assert body["servers"] == [{"description": "Restate Ingress URL", "url": INGRESS}]


def test_admin_openapi_describes_our_routes(admin: Admin) -> None:
    """GET /openapi → the admin API's own OpenAPI document, listing the routes served here."""
    body = admin.request("GET", "/openapi").json()
    assert body["openapi"] == "3.1.0" and body["info"]["title"] == "Admin API"
    assert {"/deployments", "/services/{service}/openapi", "/invocations/{invocation_id}/cancel"} <= set(body["paths"])
    assert "/query" not in body["paths"]


# -- deployments -------------------------------------------------------------------------------


def test_deployments_list_shape(admin: Admin) -> None:
    """GET /deployments → id, uri, protocol_type, http_version, created_at, protocol range, sdk, services."""
    deployment = admin.request("GET", "/deployments").json()["deployments"][0]
    assert list(deployment) == [
        "id",
        "uri",
        "protocol_type",
        "http_version",
        "created_at",
        "min_protocol_version",
        "max_protocol_version",
        "sdk_version",
        "services",
    ]
    assert deployment["sdk_version"].startswith("restate-sdk-python/")
    assert deployment["created_at"].endswith("000000Z")
    assert {s["name"] for s in deployment["services"]} == {"Greeter", "Counter", "Signup"}


def test_deployment_detail_has_full_services(admin: Admin) -> None:
    """GET /deployments/{id} → the deployment with full service descriptions."""
    dp_id = admin.request("GET", "/deployments").json()["deployments"][0]["id"]
    body = admin.request("GET", f"/deployments/{dp_id}").json()
    assert body["id"] == dp_id
    assert {s["name"] for s in body["services"]} == {"Greeter", "Counter", "Signup"}
    assert all("handlers" in s for s in body["services"])


def test_unknown_deployment_is_404_and_malformed_id_is_400_text(admin: Admin) -> None:
    """Well-formed unknown dp id → 404 JSON; malformed → 400 text/plain "Cannot parse `deployment`"."""
    admin_error(
        admin.request("GET", "/deployments/dp_10DxNu1lQZ8jLNH0gIrbWyp"),
        404,
        "The requested deployment 'dp_10DxNu1lQZ8jLNH0gIrbWyp' does not exist",
    )
    response = admin.request("GET", "/deployments/garbage")
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "Invalid URL: Cannot parse `deployment` with value `garbage`: bad format"


def test_delete_deployment_without_force_is_501(admin: Admin) -> None:
    """DELETE /deployments/{id} without force → 501, empty body; unknown with force → 404."""
    dp_id = admin.request("GET", "/deployments").json()["deployments"][0]["id"]
    assert admin.request("DELETE", f"/deployments/{dp_id}").status_code == 501
    admin_error(
        admin.request("DELETE", "/deployments/dp_10DxNu1lQZ8jLNH0gIrbWyp?force=true"),
        404,
        "not found in the schema registry: deployment with id 'dp_10DxNu1lQZ8jLNH0gIrbWyp'",
    )


@pytest.mark.parametrize(
    ("content", "status", "text"),
    [
        (
            b'{"nope": 1}',
            422,
            "Failed to deserialize the JSON body into the target type: data did not match any "
            "variant of untagged enum RegisterDeploymentRequest",
        ),
        (
            b'{"uri": "not a uri"}',
            422,
            "Failed to deserialize the JSON body into the target type: data did not "
            "match any variant of untagged enum RegisterDeploymentRequest",
        ),
        (
            b"[1]",
            422,
            "Failed to deserialize the JSON body into the target type: data did not match any variant "
            "of untagged enum RegisterDeploymentRequest",
        ),
        (b"{", 400, "Failed to parse the request body as JSON: EOF while parsing an object at line 1 column 1"),
        (b"", 400, "Failed to parse the request body as JSON: EOF while parsing a value at line 1 column 0"),
    ],
)
def test_register_bad_body(admin: Admin, content: bytes, status: int, text: str) -> None:
    """POST /deployments with a bad body → 422/400 in plain text, as observed."""
    response = admin.request("POST", "/deployments", content=content, headers={"content-type": "application/json"})
    assert (response.status_code, response.text) == (status, text)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_register_needs_json_content_type(admin: Admin) -> None:
    """POST /deployments without content-type application/json → 415 text."""
    response = admin.request("POST", "/deployments", content=b'{"uri": "http://x/"}')
    assert (response.status_code, response.text) == (415, "Expected request with `Content-Type: application/json`")


@pytest.mark.parametrize(
    ("use_http_11", "reason"),
    [
        (False, "h2 pool connection error: Connection refused (os error 111)"),
        (
            True,
            "unable to reach the remote endpoint.\nReason: client error (Connect) caused by: tcp connect error "
            "caused by: Connection refused (os error 111)",
        ),
    ],
)
def test_register_unreachable_is_500_meta0003(admin: Admin, use_http_11: bool, reason: str) -> None:
    """POST /deployments to a closed port → 500 META0003 with the server's wording, and the API keeps serving."""
    response = admin.request("POST", "/deployments", json={"uri": "http://127.0.0.1:9/", "use_http_11": use_http_11})
    admin_error(response, 500, f"[META0003] [META0003] error when calling 'http://127.0.0.1:9/': {reason}", "META0003")
    assert admin.request("GET", "/health").status_code == 200


def test_register_remote_deployment_201_then_200_same_id() -> None:
    """POST /deployments {"uri"} → 201 with location; the same uri again → 200 and the same id; force keeps it."""
    greeter = restate.Service("RemoteGreeter")

    @greeter.handler()
    async def hello(ctx: restate.Context, name: str) -> str:
        return f"hi {name}"

    app_server = AppServer(restate.app([greeter])).start()
    try:
        with LocalRestate() as lab:
            admin = Admin(lab)
            first = admin.request("POST", "/deployments", json={"uri": app_server.url})
            assert first.status_code == 201, first.text
            body = first.json()
            assert first.headers["location"] == f"deployments/{body['id']}"
            assert list(body) == ["id", "services", "min_protocol_version", "max_protocol_version", "sdk_version"]
            assert body["sdk_version"].startswith("restate-sdk-python/")
            assert [s["name"] for s in body["services"]] == ["RemoteGreeter"]
            again = admin.request("POST", "/deployments", json={"uri": app_server.url + "/"})
            assert (again.status_code, again.json()["id"]) == (200, body["id"])
            forced = admin.request("POST", "/deployments", json={"uri": app_server.url, "force": True})
            assert (forced.status_code, forced.json()["id"]) == (200, body["id"])
            listed = admin.request("GET", "/deployments").json()["deployments"]
            assert [(d["id"], d["protocol_type"], d["http_version"]) for d in listed] == [
                (body["id"], "BidiStream", "HTTP/2.0")
            ]
            assert listed[0]["uri"] == app_server.url.rstrip("/") + "/"
            assert lab.call("RemoteGreeter", "hello", "Ada") == "hi Ada"
    finally:
        app_server.stop()


# -- invocations -------------------------------------------------------------------------------


def test_invocation_id_errors_name_the_reason(admin: Admin) -> None:
    """Malformed invocation ids → 400 "The request field 'invocation_id' is invalid. Reason: ..."."""
    cases = {
        "garbage": "bad format",
        "inv_1abc": "bad length",
        "inv_": "bad length",
        "inv_1zXvZGiD8LTO4kM1DG8XJdEbcVTqECUDEr": "base62 decode error",
        "xyz_1kXvZGiD8LTO4kM1DG8XJdEbcVTqECUDEr": "unrecognized resource type: xyz",
        "dp_1kXvZGiD8LTO4kM1DG8XJdEbcVTqECUDEr": "id doesn't match the expected type",
        "inv_2kXvZGiD8LTO4kM1DG8XJdEbcVTqECUDEr": "unrecognized codec version",
    }
    for text, reason in cases.items():
        assert invocation_id_error(text) == reason, text
        admin_error(
            admin.request("PATCH", f"/invocations/{text}/cancel"),
            400,
            f"The request field 'invocation_id' is invalid. Reason: {reason}",
        )


@pytest.mark.parametrize("op", ["cancel", "kill", "purge", "pause", "resume"])
def test_unknown_invocation_is_404(admin: Admin, op: str) -> None:
    """A well-formed id nobody issued → 404 "The requested invocation '…' does not exist"."""
    admin_error(
        admin.request("PATCH", f"/invocations/{UNKNOWN_INVOCATION}/{op}"),
        404,
        f"The requested invocation '{UNKNOWN_INVOCATION}' does not exist",
    )


def test_unknown_invocation_command_is_empty_404(admin: Admin) -> None:
    """PATCH /invocations/{id}/nope → 404 with no body."""
    response = admin.request("PATCH", "/invocations/garbage/nope")
    assert (response.status_code, response.content) == (404, b"")


def test_completed_invocation_cancel_kill_409_purge_200_then_404(admin: Admin, lab: LocalRestate) -> None:
    """Completed: cancel/kill → 409 "was already completed."; purge → 200; purge again → 404."""
    lab.call("Greeter", "greet", "P", idempotency_key="purge-me")
    frame = lab.invocations()
    inv_id = frame.loc[frame["idempotency_key"] == "purge-me", "id"].iloc[0]
    for op in ("cancel", "kill"):
        admin_error(
            admin.request("PATCH", f"/invocations/{inv_id}/{op}"),
            409,
            f"The invocation '{inv_id}' was already completed.",
        )
    admin_error(
        admin.request("PATCH", f"/invocations/{inv_id}/pause"),
        409,
        f"The invocation '{inv_id}' is not running, cannot be paused.",
    )
    admin_error(
        admin.request("PATCH", f"/invocations/{inv_id}/resume"),
        409,
        f"The invocation '{inv_id}' is completed, cannot be resumed.",
    )
    response = admin.request("PATCH", f"/invocations/{inv_id}/purge")
    assert (response.status_code, response.content) == (200, b"")
    admin_error(
        admin.request("PATCH", f"/invocations/{inv_id}/purge"),
        404,
        f"The requested invocation '{inv_id}' does not exist",
    )


def test_running_invocation_purge_409_pause_202_resume_200(admin: Admin, lab: LocalRestate) -> None:
    """Running: purge → 409 "is not yet completed."; pause → 202 (paused), again 200; resume → 200."""
    inv_id = lab.send("Greeter", "slow", 0.5).invocation_id
    _status(lab, inv_id, "suspended")
    admin_error(
        admin.request("PATCH", f"/invocations/{inv_id}/purge"), 409, f"The invocation '{inv_id}' is not yet completed."
    )
    assert admin.request("PATCH", f"/invocations/{inv_id}/pause").status_code == 202
    assert lab.status(inv_id) == "paused"
    assert admin.request("PATCH", f"/invocations/{inv_id}/pause").status_code == 200
    assert admin.request("PATCH", f"/invocations/{inv_id}/resume").status_code == 200
    assert lab.attach(inv_id) == "slept 0.5s"


def test_scheduled_invocation_resume_425_kill_200(admin: Admin, lab: LocalRestate) -> None:
    """Scheduled: pause → 409, resume → 425 "either inboxed or scheduled"; kill → 200 and it is gone."""
    inv_id = lab.send("Greeter", "greet", "later", delay="10s").invocation_id
    admin_error(
        admin.request("PATCH", f"/invocations/{inv_id}/pause"),
        409,
        f"The invocation '{inv_id}' is not running, cannot be paused.",
    )
    admin_error(
        admin.request("PATCH", f"/invocations/{inv_id}/resume"),
        425,
        f"The invocation '{inv_id}' is either inboxed or scheduled, cannot be resumed.",
    )
    response = admin.request("PATCH", f"/invocations/{inv_id}/kill")
    assert (response.status_code, response.content) == (200, b"")
    # Restate Server 1.7.12 drops a killed scheduled invocation, as a cancelled one: output then 404.
    with pytest.raises(RestateError) as gone:
        lab.output(inv_id)
    assert (gone.value.code, gone.value.message) == (404, "invocation not found")


def test_cancel_inboxed_invocation_is_200_and_removes_it(admin: Admin, lab: LocalRestate) -> None:
    """Cancel of an invocation queued behind its key's lock → 200, and it is gone (conformance suite)."""
    first = lab.send("Counter", "wait_awakeable", key="inbox").invocation_id
    queued = lab.send("Counter", "add", 1, key="inbox").invocation_id
    _status(lab, queued, "pending")
    response = admin.request("PATCH", f"/invocations/{queued}/cancel")
    assert (response.status_code, response.content) == (200, b"")
    assert queued not in set(lab.invocations()["id"])
    assert admin.request("PATCH", f"/invocations/{first}/kill").status_code == 200


def test_legacy_delete_is_202_and_checks_mode(admin: Admin, lab: LocalRestate) -> None:
    """DELETE /invocations/{id} → 202 (cancel by default; ?mode=purge purges); a bad mode → 400 text."""
    lab.call("Greeter", "greet", "D", idempotency_key="delete-me")
    frame = lab.invocations()
    inv_id = frame.loc[frame["idempotency_key"] == "delete-me", "id"].iloc[0]
    assert admin.request("DELETE", f"/invocations/{inv_id}").status_code == 202
    bad = admin.request("DELETE", f"/invocations/{inv_id}?mode=nope")
    assert bad.status_code == 400 and bad.text.startswith("Failed to deserialize query string: mode: unknown variant")
    assert admin.request("DELETE", f"/invocations/{inv_id}?mode=purge").status_code == 202
    assert inv_id not in set(lab.invocations()["id"])


def test_admin_runs_on_the_engine_loop(lab: LocalRestate) -> None:
    """The app is driven on the lab's loop, where the engine lives."""

    async def loop_id() -> int:
        return id(asyncio.get_running_loop())

    assert lab.portal.call(loop_id()) == id(lab.portal.loop)
