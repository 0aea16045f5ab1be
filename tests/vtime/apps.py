"""Handlers the virtual-time tests run: a 30-day workflow, a delayed send, a flaky handler, an idempotent one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import restate

DAY_MS = 86_400_000

#: Attempts each ``Flaky/run`` tag has seen (a handler's own state would be rolled back by a failure).
ATTEMPTS: dict[str, int] = {}

trial = restate.Workflow("Trial")


@trial.main()
async def run(ctx: restate.WorkflowContext, sleep_ms: int) -> str:
    ctx.set("stage", "trial")
    await ctx.sleep(timedelta(milliseconds=sleep_ms))
    ctx.set("stage", "billed")
    return f"{ctx.key()} billed after {sleep_ms} ms"


mailer = restate.Service("Mailer")


@mailer.handler()
async def remind(ctx: restate.Context, delay_ms: int) -> str:
    ctx.service_send(deliver, "see you next week", send_delay=timedelta(milliseconds=delay_ms))
    return "scheduled"


@mailer.handler()
async def deliver(ctx: restate.Context, text: str) -> str:
    return f"delivered: {text}"


@mailer.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    ATTEMPTS[name] = ATTEMPTS.get(name, 0) + 1
    return f"hello {name} #{ATTEMPTS[name]}"


flaky = restate.Service("Flaky")


@flaky.handler()
async def fail_then_succeed(ctx: restate.Context, spec: dict[str, object]) -> str:
    tag, failures = str(spec["tag"]), int(str(spec["failures"]))
    ATTEMPTS[tag] = ATTEMPTS.get(tag, 0) + 1
    if ATTEMPTS[tag] <= failures:
        raise RuntimeError(f"attempt {ATTEMPTS[tag]} fails")
    return f"ok after {ATTEMPTS[tag]} attempts"


def make_app() -> Any:
    return restate.app([trial, mailer, flaky])


#: What `restate-lab serve tests/vtime/apps.py:app` serves.
app = make_app()
