"""Services for the kill -9 test: every ``ctx.run`` appends its tag to a side-effect log.

The log's path comes from ``RESTATE_LAB_SIDE_EFFECTS`` so the test can read it after the
server process is gone.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import restate

side_effects = restate.Service(
    "SideEffects",
    invocation_retry_policy=restate.InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=100), max_interval=timedelta(milliseconds=400), max_attempts=1000
    ),
)


def _record(tag: str) -> str:
    with open(os.environ["RESTATE_LAB_SIDE_EFFECTS"], "a", encoding="utf-8") as log:
        log.write(tag + "\n")
    return tag


@side_effects.handler()
async def sleepy(ctx: restate.Context, tag: str) -> str:
    """One side effect, then a durable sleep that outlives the crash."""
    await ctx.run_typed("record", _record, tag=tag)
    await ctx.sleep(timedelta(seconds=2))
    return f"slept {tag}"


@side_effects.handler()
async def flaky(ctx: restate.Context, tag: str) -> str:
    """One side effect, then retryable failures until three seconds after it ran."""
    started = await ctx.run_typed("started", lambda: (_record(tag), time.time())[1])
    if time.time() < started + 3:
        raise RuntimeError(f"{tag} not ready yet")
    return f"retried {tag}"


approval = restate.Workflow("Approval")


@approval.main()
async def run(ctx: restate.WorkflowContext, tag: str) -> str:
    """One side effect, then wait for a promise resolved after the restart."""
    await ctx.run_typed("record", _record, tag=tag)
    who = await ctx.promise("approved", type_hint=str).value()
    return f"{tag} approved by {who}"


@approval.handler()
async def approve(ctx: restate.WorkflowSharedContext, who: str) -> None:
    await ctx.promise("approved", type_hint=str).resolve(who)


app = restate.app([side_effects, approval])
