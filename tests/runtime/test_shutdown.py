"""Closing the runtime never waits on attempts that are still open."""

from __future__ import annotations

import time
from datetime import timedelta

import restate

from restate_lab import LocalRestate

holder = restate.VirtualObject("Holder")


@holder.handler()
async def hold(ctx: restate.ObjectContext, seconds: float) -> str:
    await ctx.sleep(timedelta(seconds=seconds))
    return "held"


@holder.handler()
async def add(ctx: restate.ObjectContext, n: int) -> int:
    return n


def test_close_during_an_open_bidirectional_attempt_is_prompt() -> None:
    """An attempt still streaming (bidi, sleeping, with a cancelled invocation queued behind it) ends on close."""
    lab = LocalRestate()
    lab.register(restate.app([holder]), http2=True)
    lab.send("Holder", "hold", 30, key="k")
    queued = lab.send("Holder", "add", 1, key="k")
    time.sleep(0.3)
    lab.cancel(queued.invocation_id)
    started = time.monotonic()
    lab.close()
    assert time.monotonic() - started < 5.0
