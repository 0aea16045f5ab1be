"""The restate-sdk services the parity suite runs on LocalRestate and the real server.

Each handler has a twin in :mod:`tests.parity.models`, a simulator behaviour that does the same
thing in virtual time (fails the same attempts, sleeps, raises the same terminal error), so one
scenario table can drive all three targets. Retry policies are short so the suite stays fast.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import restate
from restate.retry_policy import InvocationRetryPolicy

#: Failed-attempt back-off of the flaky handlers (also the simulator's), in milliseconds.
RETRY_MS = 20
#: Back-off long enough for a scenario to see ``backing-off`` before the next attempt.
SLOW_RETRY_MS = 1_500
#: How long the ``hold``/``nap`` handlers sleep: far beyond a scenario, which kills or cancels them.
LONG_SLEEP_S = 60
#: How long ``busy`` computes (plain asyncio sleep, no journal entry) so a scenario sees ``running``.
BUSY_S = 0.8
#: Idempotency retention of ``Lifecycle/greet_brief``.
BRIEF_RETENTION_MS = 1_000

#: Attempts seen per invocation id, by handler code (the SDK app runs in the test process).
ATTEMPTS: Counter[str] = Counter()


def _quick(max_attempts: int, on_max: str, interval_ms: int = RETRY_MS) -> InvocationRetryPolicy:
    return InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=interval_ms),
        exponentiation_factor=1.0,
        max_interval=timedelta(milliseconds=interval_ms),
        max_attempts=max_attempts,
        on_max_attempts=on_max,  # type: ignore[arg-type]
    )


def _attempt(ctx: restate.Context) -> int:
    invocation_id = ctx.request().id
    ATTEMPTS[invocation_id] += 1
    return ATTEMPTS[invocation_id]


lifecycle = restate.Service("Lifecycle")


@lifecycle.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}!"


@lifecycle.handler(idempotency_retention=timedelta(milliseconds=BRIEF_RETENTION_MS))
async def greet_brief(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}!"


@lifecycle.handler(invocation_retry_policy=_quick(5, "pause"))
async def fail_twice(ctx: restate.Context) -> str:
    if _attempt(ctx) <= 2:
        raise ValueError("flaky")
    return "ok"


@lifecycle.handler(invocation_retry_policy=_quick(2, "pause"))
async def always_pause(ctx: restate.Context) -> str:
    raise ValueError("always fails")


@lifecycle.handler(invocation_retry_policy=_quick(2, "kill"))
async def always_kill(ctx: restate.Context) -> str:
    raise ValueError("always fails")


@lifecycle.handler()
async def teapot(ctx: restate.Context) -> str:
    raise restate.TerminalError("custom failure", status_code=418)


@lifecycle.handler()
async def terminal_default(ctx: restate.Context) -> str:
    raise restate.TerminalError("plain terminal failure")


@lifecycle.handler()
async def nap(ctx: restate.Context) -> str:
    await ctx.sleep(timedelta(seconds=LONG_SLEEP_S))
    return "rested"


@lifecycle.handler()
async def short_nap(ctx: restate.Context) -> str:
    await ctx.sleep(timedelta(milliseconds=50))
    return "rested"


@lifecycle.handler()
async def busy(ctx: restate.Context) -> str:
    await asyncio.sleep(BUSY_S)
    await ctx.sleep(timedelta(milliseconds=10))
    return "done"


@lifecycle.handler(invocation_retry_policy=_quick(5, "pause", SLOW_RETRY_MS))
async def fail_then_nap(ctx: restate.Context) -> str:
    if _attempt(ctx) == 1:
        raise ValueError("first attempt fails")
    await ctx.sleep(timedelta(seconds=LONG_SLEEP_S))
    return "rested"


@lifecycle.handler(invocation_retry_policy=_quick(1, "pause"))
async def pause_then_nap(ctx: restate.Context) -> str:
    if _attempt(ctx) == 1:
        raise ValueError("first attempt fails")
    await ctx.sleep(timedelta(seconds=LONG_SLEEP_S))
    return "rested"


@lifecycle.handler(invocation_retry_policy=_quick(3, "kill"))
async def fail_around_sleep(ctx: restate.Context) -> str:
    """Fails twice, sleeps (a suspension), fails twice more, then succeeds: 4 failures, 3 allowed."""
    attempt = _attempt(ctx)
    if attempt <= 2:
        raise ValueError(f"before sleep {attempt}")
    await ctx.sleep(timedelta(milliseconds=50))
    if attempt <= 5:
        raise ValueError(f"after sleep {attempt}")
    return "made it"


locker = restate.VirtualObject("Locker")


@locker.handler()
async def hold(ctx: restate.ObjectContext) -> str:
    await ctx.sleep(timedelta(seconds=LONG_SLEEP_S))
    return "held"


@locker.handler()
async def quick(ctx: restate.ObjectContext) -> str:
    return "quick"


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> str:
    return f"signed up {email}"


SERVICES = [lifecycle, locker, signup]
app = restate.app(SERVICES)
