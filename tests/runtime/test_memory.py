"""What a suspended invocation keeps alive: its record and journal, never the SDK's attempt state.

An attempt's SDK context (its VM, queues, locks and buffers; some 15 kB) is garbage once the attempt
has suspended. Anything the engine schedules from inside an attempt (a sleep's timer, a callee's
attempt) must not hold it through the context variables it was scheduled from.
"""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import Iterator

import pytest
import restate
from restate.server_context import ServerInvocationContext

from restate_lab import LocalRestate

from .apps import make_app, wait_for_awakeable, wait_until

#: A bound on every blocking call here, in seconds.
LIMIT_S = 30.0


@pytest.fixture(params=["bidi", "request-response"])
def short_lived_attempts(request: pytest.FixtureRequest) -> Iterator[LocalRestate]:
    """Both protocol modes; the default one suspends an idle attempt after 300 ms instead of a minute."""
    http2 = None if request.param == "bidi" else False
    with LocalRestate(make_app(), http2=http2, inactivity_timeout_ms=300, timeout=LIMIT_S) as local:
        yield local


def _live_sdk_contexts(invocation_ids: set[str]) -> list[str]:
    """The invocations among ``invocation_ids`` whose SDK attempt context is still reachable."""
    gc.collect()
    return [
        obj.invocation.invocation_id
        for obj in gc.get_objects()
        if isinstance(obj, ServerInvocationContext) and obj.invocation.invocation_id in invocation_ids
    ]


def test_suspended_invocations_hold_no_sdk_attempt_context(short_lived_attempts: LocalRestate) -> None:
    """Waiting on a long sleep, an awakeable, a signal or a sleeping callee: once suspended, the attempt is gone."""
    lab = short_lived_attempts
    tag = uuid.uuid4().hex
    receipts = [
        lab.send("Basics", "long_sleep", tag),
        lab.send("Basics", "await_awakeable", tag),
        lab.send("Basics", "wait_signal"),
        lab.send("Basics", "parent", tag + "-parent"),
    ]
    wait_for_awakeable(tag, timeout=LIMIT_S)
    ids = {r.invocation_id for r in receipts}
    # The parent's callee sleeps too; it is one more suspended invocation to check.
    wait_until(lambda: len(lab.invocations(status="suspended")) >= len(ids) + 1, timeout=LIMIT_S)
    suspended = set(lab.invocations(status="suspended")["id"])
    assert ids <= suspended
    assert _live_sdk_contexts(suspended) == []


busy = restate.Service("Busy")


@busy.handler()
async def work(ctx: restate.Context, seconds: float) -> str:
    """Keeps its attempt open (running, not suspended) for ``seconds``."""

    async def effect() -> str:
        await asyncio.sleep(seconds)
        return "done"

    return await ctx.run_typed("effect", effect)


@busy.handler()
async def delegate(ctx: restate.Context, seconds: float) -> str:
    return await ctx.service_call(work, seconds)


def test_a_caller_suspended_on_a_running_callee_holds_no_sdk_attempt_context() -> None:
    """The callee's attempt, spawned from inside the caller's, does not keep the caller's SDK state alive."""
    with LocalRestate(restate.app([busy]), inactivity_timeout_ms=300, timeout=LIMIT_S) as lab:
        caller = lab.send("Busy", "delegate", 3.0).invocation_id
        wait_until(lambda: lab.status(caller) == "suspended", timeout=LIMIT_S)
        callees = set(lab.invocations(service="Busy")["id"]) - {caller}
        assert [lab.status(callee) for callee in callees] == ["running"]
        assert _live_sdk_contexts({caller}) == []
        assert lab.attach(caller) == "done"
