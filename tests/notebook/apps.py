"""restate-sdk services the widget tests drive: a greeter, a counter object, a sign-up workflow, failures."""

from __future__ import annotations

from datetime import timedelta

import restate
from pydantic import BaseModel
from restate import InvocationRetryPolicy, TerminalError

greeter = restate.Service("Greeter")


class Person(BaseModel):
    name: str
    age: int


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    """Say hello, through a journaled ctx.run."""

    async def compose() -> str:
        return f"Hello {name}!"

    return await ctx.run_typed("compose", compose)


@greeter.handler()
async def introduce(ctx: restate.Context, person: Person) -> str:
    """Takes an object: its schema prefills the body editor."""
    return f"{person.name} is {person.age}"


@greeter.handler()
async def nap(ctx: restate.Context, seconds: float) -> str:
    """Sleep durably, then answer."""
    await ctx.sleep(timedelta(seconds=seconds))
    return "rested"


@greeter.handler()
async def header(ctx: restate.Context, name: str) -> str:
    """Echo one request header back."""
    return ctx.request().headers.get(name, "")


@greeter.handler()
async def teapot(ctx: restate.Context) -> str:
    raise TerminalError("I am a teapot", status_code=418)


@greeter.handler(
    invocation_retry_policy=InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=50), exponentiation_factor=1.0, max_interval=timedelta(seconds=1)
    )
)
async def stuck(ctx: restate.Context) -> str:
    """Fails retryably forever: a call to it only ends by its timeout."""
    raise ValueError("the database is down")


@greeter.handler(
    invocation_retry_policy=InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=10), max_attempts=2, on_max_attempts="pause"
    )
)
async def pauses(ctx: restate.Context) -> str:
    """Fails twice, then is paused (resume makes it try again)."""
    raise ValueError("still broken")


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: restate.ObjectContext, delta: int) -> int:
    """Add to this key's count."""
    count = (await ctx.get("count", type_hint=int) or 0) + delta
    ctx.set("count", count)
    return count


@counter.handler(kind="shared")
async def get(ctx: restate.ObjectSharedContext) -> int:
    return await ctx.get("count", type_hint=int) or 0


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> str:
    """Wait for the approval promise."""
    ctx.set("status", "waiting")
    approver = await ctx.promise("approval", type_hint=str).value()
    return f"{email} approved by {approver}"


@signup.handler()
async def approve(ctx: restate.WorkflowSharedContext, approver: str) -> None:
    await ctx.promise("approval", type_hint=str).resolve(approver)


SERVICES = [greeter, counter, signup]
APP = restate.app(SERVICES)


def make_app() -> object:
    """A fresh ASGI app of the test services (one per runtime)."""
    return restate.app(SERVICES)
