"""The services the target-interface script runs on every target (also ``restate-lab serve tests/api/apps.py``)."""

from __future__ import annotations

from datetime import timedelta

import restate

greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}!"


@greeter.handler()
async def slow(ctx: restate.Context, seconds: float) -> str:
    await ctx.sleep(timedelta(seconds=seconds))
    return f"slept {seconds}s"


flaky = restate.Service("Flaky")


@flaky.handler()
async def fail(ctx: restate.Context) -> str:
    raise ValueError("always fails")


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
async def wait_for_signal(ctx: restate.ObjectContext) -> str:
    """Parks on an awakeable whose id it keeps in state, so a test can read it and resolve it."""
    awakeable_id, promise = ctx.awakeable(type_hint=str)
    ctx.set("awakeable", awakeable_id)
    return await promise


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> str:
    return f"welcome {email}"


#: What ``restate-lab serve`` and ``LocalRestate`` are given: a list of services, as a new user would.
services = [greeter, flaky, counter, signup]
app = restate.app(services)
