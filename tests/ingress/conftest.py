"""A real uvicorn ingress over the probe-like test services, shared by the module's tests.

The services mirror the probe app of ``scripts/probe_real_server.py`` (the oracle's source), so the
observed table in ``docs/observed-restate-1.7.12.md`` applies row by row. ``app`` is also the target
``restate-lab serve tests/ingress/conftest.py:app`` in the CLI tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import restate

greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}!"


@greeter.handler()
async def no_input(ctx: restate.Context) -> str:
    return "no input needed"


@greeter.handler()
async def echo(ctx: restate.Context, value: Any) -> Any:
    return value


@greeter.handler()
async def slow(ctx: restate.Context, seconds: float) -> str:
    await ctx.sleep(timedelta(seconds=seconds))
    return f"slept {seconds}s"


@greeter.handler()
async def terminal(ctx: restate.Context) -> str:
    raise restate.TerminalError("custom failure", status_code=418)


@greeter.handler()
async def headers(ctx: restate.Context) -> dict[str, str]:
    return dict(ctx.request().headers)


@greeter.handler(ingress_private=True)
async def secret(ctx: restate.Context) -> str:
    return "private"


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: restate.ObjectContext, delta: int) -> int:
    value = (await ctx.get("count", type_hint=int) or 0) + delta
    ctx.set("count", value)
    return value


@counter.handler(kind="shared")
async def get(ctx: restate.ObjectSharedContext) -> int:
    return await ctx.get("count", type_hint=int) or 0


@counter.handler()
async def wait_awakeable(ctx: restate.ObjectContext) -> Any:
    awakeable_id, promise = ctx.awakeable(type_hint=dict)
    ctx.set("awakeable", awakeable_id)
    return await promise


@counter.handler(kind="shared")
async def awakeable(ctx: restate.ObjectSharedContext) -> str | None:
    return await ctx.get("awakeable", type_hint=str)


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: restate.WorkflowContext, name: str) -> str:
    ctx.set("status", "waiting")
    approver = await ctx.promise("approval", type_hint=str).value()
    ctx.set("status", "approved")
    return f"{name} approved by {approver}"


@signup.handler()
async def approve(ctx: restate.WorkflowSharedContext, by: str) -> None:
    await ctx.promise("approval", type_hint=str).resolve(by)


@signup.handler()
async def status(ctx: restate.WorkflowSharedContext) -> str | None:
    return await ctx.get("status", type_hint=str)


services = [greeter, counter, signup]
app = restate.app(services)


@pytest.fixture(scope="module")
def ingress_url() -> Iterator[str]:
    """A ``LabServer`` (uvicorn, loopback, free port, no admin) over a fresh runtime."""
    from restate_lab import LocalRestate
    from restate_lab.ingress.server import LabServer

    lab = LocalRestate(restate.app(services))
    server = LabServer(lab, port=0, admin_port=None).start()
    try:
        yield server.ingress_url
    finally:
        server.stop()
        lab.close()


@pytest.fixture(scope="module")
def http(ingress_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ingress_url, timeout=15.0) as client:
        yield client


@pytest.fixture
def tag() -> str:
    """A name no other test uses, for keys, idempotency keys and workflow ids."""
    return uuid.uuid4().hex[:12]


def ingress_error(response: httpx.Response, code: int, message: str) -> None:
    """Assert an ingress-sourced error exactly as Restate 1.7.12 writes it."""
    assert response.status_code == code, response.text
    assert response.json() == {"code": code, "message": message, "source": "ingress"}
    assert response.headers["x-restate-error-source"] == "ingress"
    assert response.headers["content-type"] == "application/json"
    assert "x-restate-id" not in response.headers


def invocation_error(response: httpx.Response, code: int, message: str) -> None:
    """Assert a handler-sourced error: source ``invocation`` and an ``x-restate-id``."""
    assert response.status_code == code, response.text
    assert response.json() == {"code": code, "message": message, "source": "invocation"}
    assert response.headers["x-restate-error-source"] == "invocation"
    assert response.headers["x-restate-id"].startswith("inv_")
