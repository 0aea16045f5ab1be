"""The restate-sdk app both servers serve in the conformance suite.

Every handler is deterministic given its key, so the same scenario gives the same answers on
Restate Server and on restate_lab. Side effects of ``Flaky/run`` are counted in module globals,
keyed by object key (scenarios use a fresh key per run), and read back through ``Flaky/effects``.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import restate
from restate.retry_policy import InvocationRetryPolicy

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
async def terminal(ctx: restate.Context) -> str:
    raise restate.TerminalError("custom failure", status_code=418)


@greeter.handler(ingress_private=True)
async def secret(ctx: restate.Context) -> str:
    return "private"


@greeter.handler()
async def slow(ctx: restate.Context, seconds: float) -> str:
    await ctx.sleep(timedelta(seconds=seconds))
    return f"slept {seconds}s"


@greeter.handler()
async def headers(ctx: restate.Context) -> str | None:
    """The ``x-custom`` request header as the handler sees it."""
    return dict(ctx.request().headers).get("x-custom")


@greeter.handler()
async def all_headers(ctx: restate.Context, value: Any) -> dict[str, str]:
    """Every request header as the handler sees it (names, order and values)."""
    return dict(ctx.request().headers)


@greeter.handler()
async def fail_with(ctx: restate.Context, code: int) -> str:
    """A terminal failure with the status code given in the body."""
    raise restate.TerminalError(f"failed with {code}", status_code=code)


@greeter.handler(
    accept="text/*",
    content_type="text/plain",
    input_serde=restate.serde.BytesSerde(),
    output_serde=restate.serde.BytesSerde(),
)
async def text(ctx: restate.Context, value: bytes) -> bytes:
    """Accepts any ``text/*`` body and answers it back as ``text/plain``."""
    return value


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: restate.ObjectContext, delta: int) -> int:
    value = (await ctx.get("count", type_hint=int) or 0) + delta
    ctx.set("count", value)
    return value


@counter.handler()
async def hold(ctx: restate.ObjectContext, seconds: float) -> str:
    await ctx.sleep(timedelta(seconds=seconds))
    return "held"


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


#: Side effects and attempts of ``Flaky/run``, by object key.
EFFECTS: dict[str, int] = {}
ATTEMPTS: dict[str, int] = {}

flaky = restate.VirtualObject("Flaky")


@flaky.handler(
    invocation_retry_policy=InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=50), max_interval=timedelta(milliseconds=100), max_attempts=10
    )
)
async def attempt(ctx: restate.ObjectContext) -> str:
    key = ctx.key()

    def effect() -> int:
        EFFECTS[key] = EFFECTS.get(key, 0) + 1
        return EFFECTS[key]

    ran = await ctx.run_typed("effect", effect)
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] < 3:
        raise ValueError(f"flaky attempt {ATTEMPTS[key]}")
    return f"effect {ran} after {ATTEMPTS[key]} attempts"


@flaky.handler(kind="shared")
async def effects(ctx: restate.ObjectSharedContext) -> dict[str, int]:
    key = ctx.key()
    return {"effects": EFFECTS.get(key, 0), "attempts": ATTEMPTS.get(key, 0)}


# ---- runtime fidelity probes (issue 13, items 10-13) ----

#: Attempts of ``RtProbe`` handlers' non-journaled code, by object key and handler.
RT_RUNS: dict[str, int] = {}

rt_probe = restate.VirtualObject("RtProbe")
once_flow = restate.Workflow("OnceFlow")


def _bump(name: str) -> int:
    RT_RUNS[name] = RT_RUNS.get(name, 0) + 1
    return RT_RUNS[name]


@once_flow.main()
async def once_run(ctx: restate.WorkflowContext, name: str) -> str:
    return f"ran {name}"


@rt_probe.handler()
async def run_attempts(ctx: restate.ObjectContext, limit: int) -> str:
    """A ``ctx.run`` that always fails, with ``max_attempts=limit``: a TerminalError once they are spent."""
    key = ctx.key()

    def always_fails() -> str:
        raise ValueError(f"attempt {_bump(key + '/run_attempts')} failed")

    options: restate.RunOptions[str] = restate.RunOptions(
        max_attempts=limit, initial_retry_interval=timedelta(milliseconds=20)
    )
    return await ctx.run_typed("fails", always_fails, options)


@rt_probe.handler()
async def run_duration(ctx: restate.ObjectContext, millis: int) -> str:
    """A ``ctx.run`` that always fails, with ``max_duration=millis``: a TerminalError once it is spent."""
    key = ctx.key()

    def always_fails() -> str:
        _bump(key + "/run_duration")
        raise ValueError("always fails")

    options: restate.RunOptions[str] = restate.RunOptions(
        max_duration=timedelta(milliseconds=millis),
        initial_retry_interval=timedelta(milliseconds=50),
        max_retry_interval=timedelta(milliseconds=100),
    )
    return await ctx.run_typed("fails", always_fails, options)


@rt_probe.handler(kind="shared")
async def runs(ctx: restate.ObjectSharedContext, name: str) -> int:
    """How often ``name``'s non-journaled code ran, for this key."""
    return RT_RUNS.get(ctx.key() + "/" + name, 0)


@rt_probe.handler()
async def workflow_twice(ctx: restate.ObjectContext, workflow_id: str) -> dict[str, Any]:
    """Call ``OnceFlow/run`` twice on one workflow id; say what each call gave."""
    answers: dict[str, Any] = {}
    for name in ("first", "second"):
        try:
            answers[name] = await ctx.workflow_call(once_run, key=workflow_id, arg=name)
        except restate.TerminalError as exc:
            answers[name] = {"code": exc.status_code, "message": exc.message}
    return answers


@rt_probe.handler()
async def workflow_send_twice(ctx: restate.ObjectContext, workflow_id: str) -> list[Any]:
    """Send to ``OnceFlow/run`` twice on one workflow id, then call it: what each step gave."""
    steps: list[Any] = []
    for name in ("first", "second"):
        try:
            handle = ctx.workflow_send(once_run, key=workflow_id, arg=name)
            steps.append(len(await handle.invocation_id()) > 0)
        except restate.TerminalError as exc:
            steps.append({"code": exc.status_code, "message": exc.message})
    try:
        steps.append(await ctx.workflow_call(once_run, key=workflow_id, arg="third"))
    except restate.TerminalError as exc:
        steps.append({"code": exc.status_code, "message": exc.message})
    return steps


@rt_probe.handler()
async def fail_with_metadata(ctx: restate.ObjectContext) -> str:
    raise restate.TerminalError("with metadata", status_code=422, metadata={"reason": "quota", "retry": "never"})


@rt_probe.handler()
async def call_failing(ctx: restate.ObjectContext) -> dict[str, Any]:
    """Call ``fail_with_metadata`` and return what the caller sees of the failure."""
    try:
        await ctx.object_call(fail_with_metadata, key=ctx.key() + "-callee", arg=None)
    except restate.TerminalError as exc:
        return {"code": exc.status_code, "message": exc.message, "metadata": exc.metadata}
    return {"code": None}


@rt_probe.handler()
async def count_around_call(ctx: restate.ObjectContext) -> int:
    """Non-journaled code before and after an awaited call: how often it ran in this attempt."""
    key = ctx.key()
    _bump(key + "/count_around_call")
    await ctx.service_call(greet, arg="probe")
    return _bump(key + "/count_around_call")


# ---- restart-as-new probes (issue 13): invocations held in each status ----

stuck = restate.VirtualObject("Stuck")


@stuck.handler(invocation_retry_policy=InvocationRetryPolicy(initial_interval=timedelta(seconds=30), max_attempts=100))
async def fail_slowly(ctx: restate.ObjectContext) -> str:
    """Fails every attempt and waits 30 s before the next: ``backing-off`` meanwhile."""
    raise ValueError("always fails")


@stuck.handler(invocation_retry_policy=InvocationRetryPolicy(max_attempts=1, on_max_attempts="pause"))
async def fail_then_pause(ctx: restate.ObjectContext) -> str:
    """Fails its only attempt and is ``paused``."""
    raise ValueError("fails once, then pauses")


@stuck.handler(inactivity_timeout=timedelta(milliseconds=500))
async def nap(ctx: restate.ObjectContext, seconds: float) -> str:
    """Sleeps; half a second of inactivity suspends the stream: ``suspended`` while it sleeps."""
    count = (await ctx.get("naps", type_hint=int) or 0) + 1
    ctx.set("naps", count)
    await ctx.sleep(timedelta(seconds=seconds))
    return f"nap {count}"


journal = restate.VirtualObject("Journal")


@journal.handler()
async def every_entry(ctx: restate.ObjectContext, name: str) -> str:
    """One handler that journals most command types, so ``sys_journal.entry_json`` can be compared."""
    await ctx.get("missing", type_hint=str)
    ctx.set("count", 3)
    await ctx.get("count", type_hint=int)
    await ctx.state_keys()
    ctx.clear("count")
    ctx.clear_all()
    await ctx.sleep(timedelta(milliseconds=10))
    greeting = await ctx.service_call(greet, name)
    handle = ctx.service_send(greet, name)
    await handle.invocation_id()
    await ctx.run_typed("step", lambda: "x")
    return greeting


@journal.handler()
async def complete_awakeable(ctx: restate.ObjectContext, reason: str | None) -> None:
    """Resolve the awakeable ``Counter/{same key}/wait_awakeable`` waits on, or reject it with ``reason``."""
    awakeable_id = await ctx.object_call(awakeable, ctx.key(), None)
    assert awakeable_id is not None
    if reason is None:
        ctx.resolve_awakeable(awakeable_id, {"by": "journal"})
    else:
        ctx.reject_awakeable(awakeable_id, reason)


@journal.handler()
async def failing_call(ctx: restate.ObjectContext) -> str:
    """A call whose callee fails terminally, and a run that fails terminally."""
    with contextlib.suppress(restate.TerminalError):
        await ctx.service_call(terminal, None)
    with contextlib.suppress(restate.TerminalError):
        await ctx.run_typed("boom", _boom)
    return "done"


def _boom() -> str:
    raise restate.TerminalError("boom", status_code=409)


@journal.handler()
async def attach(ctx: restate.ObjectContext, name: str) -> str:
    """Send a call, then attach to it and read its output."""
    handle = ctx.service_send(greet, name)
    invocation_id = await handle.invocation_id()
    return await ctx.attach_invocation(invocation_id, type_hint=str)


@journal.handler()
async def keyed_calls(ctx: restate.ObjectContext) -> int:
    """Calls and a delayed send to a virtual object, and a signal sent to itself."""
    value = await ctx.object_call(add, f"{ctx.key()}-callee", 1)
    ctx.object_send(add, f"{ctx.key()}-callee", 1, send_delay=timedelta(milliseconds=50))
    ctx.resolve_signal(ctx.request().id, "ping", "pong")
    await ctx.signal("ping", type_hint=str)
    return value


@journal.handler()
async def own_awakeable(ctx: restate.ObjectContext, then: str) -> str:
    """Resolve an awakeable of this very invocation, then ``return`` at once, ``await`` it, or ``sleep`` first."""
    awakeable_id, promise = ctx.awakeable(type_hint=str)
    ctx.resolve_awakeable(awakeable_id, "by itself")
    if then == "await":
        return await promise
    if then == "sleep":
        await ctx.sleep(timedelta(milliseconds=100))
    return then


@journal.handler()
async def own_signal(ctx: restate.ObjectContext, then: str) -> str:
    """Send a named signal to this very invocation, then ``return`` at once or ``await`` it."""
    ctx.resolve_signal(ctx.request().id, "ping", "pong")
    if then == "await":
        return await ctx.signal("ping", type_hint=str)
    return then


@journal.handler()
async def own_cancel(ctx: restate.ObjectContext, then: str) -> str:
    """Cancel this very invocation, then ``return`` at once or ``sleep`` (where the cancellation lands)."""
    ctx.cancel_invocation(ctx.request().id)
    if then == "sleep":
        await ctx.sleep(timedelta(milliseconds=100))
    return then


journal_flow = restate.Workflow("JournalFlow")


@journal_flow.main()
async def flow(ctx: restate.WorkflowContext) -> str:
    """Peek, resolve and read one of the workflow's own promises."""
    await ctx.promise("p", type_hint=str).peek()
    await ctx.promise("p", type_hint=str).resolve("v")
    await ctx.promise("q", type_hint=str).reject("no")
    return await ctx.promise("p", type_hint=str).value()


SERVICES = [greeter, counter, signup, flaky, rt_probe, once_flow, stuck, journal, journal_flow]


def make_app() -> Any:
    """A fresh ASGI app over the suite's services."""
    return restate.app(SERVICES)
