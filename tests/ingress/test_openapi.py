"""Per-service OpenAPI documents, compared structurally with Restate Server 1.7.12's (docs/examples)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import restate
from restate.retry_policy import InvocationRetryPolicy

from restate_lab import LocalRestate
from restate_lab.ingress.openapi import service_openapi

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

# The probe app of scripts/probe_real_server.py: same handler names, kinds and type hints, hence the
# same manifest schemas as the services the example documents were taken from.
greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return name


@greeter.handler()
async def no_input(ctx: restate.Context) -> str:
    return ""


@greeter.handler()
async def echo(ctx: restate.Context, value: Any) -> Any:
    return value


@greeter.handler()
async def slow(ctx: restate.Context, seconds: float) -> str:
    return ""


@greeter.handler()
async def terminal(ctx: restate.Context) -> str:
    return ""


@greeter.handler()
async def terminal_default(ctx: restate.Context) -> str:
    return ""


@greeter.handler(
    invocation_retry_policy=InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=100), max_attempts=3, on_max_attempts="kill"
    )
)
async def flaky_kill(ctx: restate.Context) -> str:
    return ""


@greeter.handler(
    invocation_retry_policy=InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=100), max_attempts=2, on_max_attempts="pause"
    )
)
async def flaky_pause(ctx: restate.Context) -> str:
    return ""


@greeter.handler()
async def failing(ctx: restate.Context) -> str:
    return ""


@greeter.handler(ingress_private=True)
async def secret(ctx: restate.Context) -> str:
    return ""


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: restate.ObjectContext, delta: int) -> int:
    return delta


@counter.handler(kind="shared")
async def get(ctx: restate.ObjectSharedContext) -> int:
    return 0


@counter.handler()
async def hold(ctx: restate.ObjectContext, seconds: float) -> str:
    return ""


@counter.handler()
async def wait_awakeable(ctx: restate.ObjectContext) -> Any:
    return None


@counter.handler(kind="shared")
async def awakeable(ctx: restate.ObjectSharedContext) -> str | None:
    return None


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: restate.WorkflowContext, name: str) -> str:
    return name


@signup.handler()
async def approve(ctx: restate.WorkflowSharedContext, by: str) -> None:
    return None


@signup.handler()
async def status(ctx: restate.WorkflowSharedContext) -> str | None:
    return None


#: The structure of the real server's Signup document (GET /services/Signup/openapi on 1.7.12).
SIGNUP_PATHS = {
    ("post", "/restate/call/Signup/{key}/approve"): ("approve", ["key"], ["200", "default"], True),
    ("post", "/restate/call/Signup/{key}/run"): ("run", ["key"], ["200", "default"], True),
    ("post", "/restate/call/Signup/{key}/status"): ("status", ["key"], ["200", "default"], False),
    ("post", "/restate/send/Signup/{key}/approve"): ("approveSend", ["key", "delay"], ["200", "202", "default"], True),
    ("post", "/restate/send/Signup/{key}/run"): ("runSend", ["key", "delay"], ["200", "202", "default"], True),
    ("post", "/restate/send/Signup/{key}/status"): ("statusSend", ["key", "delay"], ["200", "202", "default"], False),
    ("get", "/restate/workflow/Signup/{key}/attach"): ("runAttach", ["key"], ["200", "404", "default"], False),
    ("get", "/restate/workflow/Signup/{key}/output"): ("runOutput", ["key"], ["200", "404", "470", "default"], False),
}


@pytest.fixture(scope="module")
def documents() -> Iterator[dict[str, dict[str, Any]]]:
    with LocalRestate(restate.app([greeter, counter, signup])) as lab:
        yield {name: service_openapi(meta) for name, meta in lab.engine.services.items()}


def _refname(item: dict[str, Any]) -> str:
    return str(item["$ref"]).rsplit("/", 1)[-1]


def structure(document: dict[str, Any]) -> dict[str, Any]:
    """Everything but prose: paths, methods, operation ids, parameters, bodies, responses, tags, components."""
    operations = {}
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody")
            operations[(method, path)] = {
                "operationId": op["operationId"],
                "summary": op["summary"],
                "parameters": [_refname(p) for p in op.get("parameters", [])],
                "requestBody": None
                if body is None
                else ({ct: _refname(c["schema"]) for ct, c in body["content"].items()}, body["required"]),
                "responses": {
                    code: _refname(r)
                    if "$ref" in r
                    else {ct: _refname(c["schema"]) for ct, c in r.get("content", {}).items()}
                    for code, r in op["responses"].items()
                },
                "tags": op.get("tags"),
                "deprecated": op.get("deprecated", False),
            }
    components = document["components"]
    return {
        "keys": list(document),
        "openapi": document["openapi"],
        "title": document["info"]["title"],
        "tags": [t["name"] for t in document["tags"]],
        "operations": operations,
        "parameters": {
            k: (v["name"], v["in"], v["required"], v["schema"]) for k, v in components["parameters"].items()
        },
        "responses": {k: sorted(v["content"]) for k, v in components["responses"].items()},
        "schemas": {k: v for k, v in components["schemas"].items() if k != "RestateError"},
        "error_schema": _strip_prose(components["schemas"]["RestateError"]),
        "send_schema": _strip_prose(components["responses"]["Send"]["content"]["application/json"]["schema"]),
    }


def _strip_prose(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_prose(v) for k, v in value.items() if k != "description"}
    return value


@pytest.mark.parametrize("name", ["Greeter", "Counter"])
def test_service_openapi_has_the_real_servers_structure(documents: dict[str, dict[str, Any]], name: str) -> None:
    """Same paths, operation ids, parameters, bodies, response codes, tags and components as Restate 1.7.12's."""
    real = json.loads((EXAMPLES / f"openapi-1.7.12-{name}.json").read_text())
    ours = documents[name]
    ours_with_server = dict(ours, servers=real["servers"])
    assert structure(dict(sorted(ours_with_server.items()))) == structure(real)


def test_workflow_openapi_looks_up_by_workflow_id(documents: dict[str, dict[str, Any]]) -> None:
    """A workflow has no idempotency-key parameters; its run is looked up by /restate/workflow/{key}."""
    ops = structure(documents["Signup"])["operations"]
    assert {
        key: (op["operationId"], op["parameters"], list(op["responses"]), op["requestBody"] is not None)
        for key, op in ops.items()
    } == SIGNUP_PATHS
    assert ops[("post", "/restate/call/Signup/{key}/approve")]["responses"]["200"] == {}
    assert documents["Signup"]["paths"]["/restate/call/Signup/{key}/approve"]["post"]["responses"]["200"] == {
        "description": "Empty"
    }


def test_ingress_private_handlers_are_left_out(documents: dict[str, dict[str, Any]]) -> None:
    """A handler marked ingress-private has no paths and no schemas."""
    text = json.dumps(documents["Greeter"])
    assert "secret" not in text


def test_untyped_request_schema_is_empty_object(documents: dict[str, dict[str, Any]]) -> None:
    """Schema ``true`` becomes ``{}`` for requests and stays ``true`` for responses, as the server writes it."""
    schemas = documents["Greeter"]["components"]["schemas"]
    assert (schemas["echoRequest"], schemas["echoResponse"]) == ({}, True)


def test_info_carries_revision_documentation_and_metadata() -> None:
    """info.version is the revision; documentation and metadata become description and x-restate-extensions."""
    shapes = restate.Service("Shapes", description="Shape test", metadata={"team": "x"})

    @shapes.handler(accept="text/plain", content_type="text/plain")
    async def texty(ctx: restate.Context, x: str) -> str:
        return x

    with LocalRestate(restate.app([shapes])) as lab:
        lab.register(restate.app([shapes]))
        document = service_openapi(lab.engine.services["Shapes"], ingress_url="http://x/")
    assert document["info"] == {
        "description": "Shape test",
        "title": "Shapes",
        "version": "2",
        "x-restate-extensions": {"team": "x"},
    }
    assert document["servers"] == [{"description": "Restate Ingress URL", "url": "http://x/"}]
    call = document["paths"]["/restate/call/Shapes/texty"]["post"]
    assert list(call["requestBody"]["content"]) == ["text/plain"]
    assert list(call["responses"]["200"]["content"]) == ["text/plain"]


def test_keys_are_sorted_like_the_server(documents: dict[str, dict[str, Any]]) -> None:
    """Object keys are sorted at every level, as in the server's JSON."""

    def check(value: Any) -> None:
        if isinstance(value, dict):
            assert list(value) == sorted(value)
            for item in value.values():
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)

    for document in documents.values():
        check(document)
