"""A greeter service, a counter virtual object and a sign-up workflow: the demo ``restate-lab`` serves.

Serve them with ``restate-lab demo`` (or ``restate-lab serve restate_lab.examples.demo:app``).
"""

from __future__ import annotations

from datetime import timedelta

import restate

greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    """Say hello; the greeting is recorded in the journal with ``ctx.run``."""

    async def compose() -> str:
        return f"Hello {name}!"

    return await ctx.run_typed("compose", compose)


@greeter.handler()
async def greet_later(ctx: restate.Context, name: str) -> str:
    """Sleep durably for a second, then greet."""
    await ctx.sleep(timedelta(seconds=1))
    return f"Hello {name}, a second later!"


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: restate.ObjectContext, delta: int) -> int:
    """Add ``delta`` to this key's count; exclusive, so adds on one key never interleave."""
    count = (await ctx.get("count", type_hint=int) or 0) + delta
    ctx.set("count", count)
    return count


@counter.handler(kind="shared")
async def get(ctx: restate.ObjectSharedContext) -> int:
    """Read the count without taking the key's lock."""
    return await ctx.get("count", type_hint=int) or 0


@counter.handler()
async def reset(ctx: restate.ObjectContext) -> None:
    """Forget this key's count."""
    ctx.clear("count")


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> str:
    """Wait for the ``approval`` promise, then finish the sign-up."""
    ctx.set("status", "waiting for approval")
    approver = await ctx.promise("approval", type_hint=str).value()
    ctx.set("status", "approved")
    return f"{email} approved by {approver}"


@signup.handler()
async def approve(ctx: restate.WorkflowSharedContext, approver: str) -> None:
    """Resolve the workflow's ``approval`` promise."""
    await ctx.promise("approval", type_hint=str).resolve(approver)


@signup.handler()
async def status(ctx: restate.WorkflowSharedContext) -> str:
    """The sign-up's progress."""
    return await ctx.get("status", type_hint=str) or "not started"


services: list[restate.Service | restate.VirtualObject | restate.Workflow] = [greeter, counter, signup]
app = restate.app(services)
