"""Fixtures for tests against the real Restate Server; they skip (never pass) when it is absent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import restate

from restate_lab.server import RestateServer, RestateServerNotInstalled
from restate_lab.server.binary import find_restate_server

greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}!"


@greeter.handler()
async def slow(ctx: restate.Context, seconds: float) -> str:
    await ctx.sleep(timedelta(seconds=seconds))
    return "done"


@greeter.handler()
async def teapot(ctx: restate.Context) -> str:
    raise restate.TerminalError("I am a teapot", status_code=418)


@greeter.handler()
async def wait_for(ctx: restate.Context) -> str:
    awakeable_id, promise = ctx.awakeable(type_hint=str)
    _published.append(awakeable_id)
    return await promise


#: Awakeable ids published by ``wait_for`` (the app runs in this process, in a thread).
_published: list[str] = []

counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: restate.ObjectContext, delta: int) -> int:
    value = (await ctx.get("count", type_hint=int) or 0) + delta
    ctx.set("count", value)
    return value


APP = restate.app([greeter, counter])


@pytest.fixture(scope="session")
def restate_binary() -> Path:
    """The real server binary, or a skip that says how to install it."""
    try:
        return find_restate_server()
    except RestateServerNotInstalled as exc:
        pytest.skip(f"real Restate Server not installed: {exc}")


@pytest.fixture(scope="module")
def real_server(restate_binary: Path) -> Iterator[RestateServer]:
    """One real server per test module with the test app registered."""
    with RestateServer.start(APP, binary=restate_binary) as srv:
        yield srv


@pytest.fixture
def test_app() -> object:
    """The SDK app (Greeter, Counter) these tests register."""
    return APP


@pytest.fixture
def published() -> list[str]:
    _published.clear()
    return _published
