"""restate-sdk services the runtime tests drive; side effects are recorded in module globals keyed by a test tag."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

import restate
from restate import InvocationRetryPolicy, TerminalError
from restate.exceptions import RetryableError

#: Side-effect counters and per-attempt notes, keyed by a tag each test picks.
COUNTS: defaultdict[str, int] = defaultdict(int)
ATTEMPTS: defaultdict[str, list[float]] = defaultdict(list)
NOTES: defaultdict[str, list[Any]] = defaultdict(list)
#: Awakeable ids handlers publish, keyed by tag; tests wait on them with ``wait_for_awakeable``.
AWAKEABLES: dict[str, str] = {}
_published = threading.Condition()

FAST_RETRY = InvocationRetryPolicy(
    initial_interval=timedelta(milliseconds=20), exponentiation_factor=2.0, max_interval=timedelta(seconds=1)
)


def publish_awakeable(tag: str, awakeable_id: str) -> None:
    with _published:
        AWAKEABLES[tag] = awakeable_id
        _published.notify_all()


def wait_for_awakeable(tag: str, timeout: float = 5.0) -> str:
    """Block until the handler tagged ``tag`` published its awakeable id."""
    with _published:
        if not _published.wait_for(lambda: tag in AWAKEABLES, timeout):
            raise TimeoutError(f"no awakeable published for {tag!r} within {timeout}s")
        return AWAKEABLES[tag]


def wait_until(predicate: Any, timeout: float = 5.0, interval: float = 0.01) -> None:
    """Poll ``predicate`` until it holds, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)


def invocation_rows(lab: Any) -> dict[str, dict[str, Any]]:
    """Every invocation of ``lab`` described field by field (``attempts`` too), keyed by id, read on its loop."""
    from restate_lab.runtime.describe import describe_invocation

    async def read() -> dict[str, dict[str, Any]]:
        return {i.id_str: describe_invocation(i) for i in lab.engine.invocations.values()}

    rows: dict[str, dict[str, Any]] = lab.portal.call(read())
    return rows


# ---- a plain service: journal, timers, determinism, failures ----

basics = restate.Service("Basics")


@basics.handler()
async def echo(ctx: restate.Context, value: Any) -> Any:
    return value


@basics.handler(invocation_retry_policy=FAST_RETRY)
async def run_once(ctx: restate.Context, tag: str) -> int:
    def effect() -> int:
        COUNTS[tag] += 1
        return COUNTS[tag]

    seen = await ctx.run_typed("effect", effect)
    ATTEMPTS[tag].append(time.monotonic())
    if len(ATTEMPTS[tag]) <= 2:
        raise ValueError(f"transient failure after the run, attempt {len(ATTEMPTS[tag])}")
    return seen


@basics.handler()
async def sleep_then(ctx: restate.Context, ms: int) -> str:
    await ctx.sleep(timedelta(milliseconds=ms))
    return "awake"


@basics.handler()
async def headers(ctx: restate.Context) -> dict[str, str]:
    return dict(ctx.request().headers)


@basics.handler()
async def deterministic(ctx: restate.Context, tag: str) -> list[Any]:
    drawn = [ctx.random().random(), str(ctx.uuid()), await ctx.time()]
    NOTES[tag].append(drawn)
    await ctx.sleep(timedelta(milliseconds=5))
    return drawn


@basics.handler()
async def terminal(ctx: restate.Context, code: int) -> str:
    raise TerminalError(f"refused with {code}", status_code=code)


@basics.handler(
    invocation_retry_policy=InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=40), exponentiation_factor=2.0, max_interval=timedelta(seconds=2)
    )
)
async def flaky(ctx: restate.Context, args: dict[str, Any]) -> int:
    tag, failures = args["tag"], args["failures"]
    ATTEMPTS[tag].append(time.monotonic())
    if len(ATTEMPTS[tag]) <= failures:
        raise ValueError(f"flaky attempt {len(ATTEMPTS[tag])}")
    return len(ATTEMPTS[tag])


@basics.handler(
    invocation_retry_policy=InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=10), max_attempts=3, on_max_attempts="pause"
    )
)
async def always_fails(ctx: restate.Context, tag: str) -> None:
    ATTEMPTS[tag].append(time.monotonic())
    raise ValueError(f"boom #{len(ATTEMPTS[tag])}")


@basics.handler(
    invocation_retry_policy=InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=10), max_attempts=2, on_max_attempts="kill"
    )
)
async def fails_then_killed(ctx: restate.Context, tag: str) -> None:
    ATTEMPTS[tag].append(time.monotonic())
    raise ValueError(f"boom #{len(ATTEMPTS[tag])}")


@basics.handler()
async def retry_after(ctx: restate.Context, tag: str) -> int:
    ATTEMPTS[tag].append(time.monotonic())
    if len(ATTEMPTS[tag]) == 1:
        raise RetryableError("come back later", retry_after=timedelta(milliseconds=300))
    return len(ATTEMPTS[tag])


@basics.handler(idempotency_retention=timedelta(seconds=1))
async def idem(ctx: restate.Context, value: str) -> str:
    COUNTS["idem:" + value] += 1
    return f"first:{value}"


# ---- awakeables, signals, attach and cancel ----


@basics.handler()
async def await_awakeable(ctx: restate.Context, tag: str) -> Any:
    awakeable_id, promise = ctx.awakeable()
    publish_awakeable(tag, awakeable_id)
    try:
        return await promise
    except TerminalError as err:
        return {"rejected": err.message, "code": err.status_code}


@basics.handler()
async def resolve_other(ctx: restate.Context, args: dict[str, Any]) -> None:
    if "reject" in args:
        ctx.reject_awakeable(args["id"], args["reject"])
    else:
        ctx.resolve_awakeable(args["id"], args["value"])


@basics.handler()
async def resolve_own(ctx: restate.Context, then: str) -> Any:
    """Resolve this invocation's own awakeable (or signal it, ``then`` ending in ``signal``) and go on."""
    if then.endswith("signal"):
        ctx.resolve_signal(ctx.request().id, "self", "by itself")
        pending = ctx.signal("self", type_hint=str)
    else:
        awakeable_id, pending = ctx.awakeable(type_hint=str)
        ctx.resolve_awakeable(awakeable_id, "by itself")
    if then.startswith("await"):
        return await pending
    if then.startswith("sleep"):
        await ctx.sleep(timedelta(milliseconds=20))
    return then


@basics.handler()
async def wait_signal(ctx: restate.Context) -> Any:
    return await ctx.signal("go")


@basics.handler()
async def send_signal(ctx: restate.Context, args: dict[str, Any]) -> None:
    ctx.resolve_signal(args["id"], "go", args["value"])


@basics.handler()
async def attach_to(ctx: restate.Context, invocation_id: str) -> Any:
    return await ctx.attach_invocation(invocation_id)


@basics.handler()
async def cancel_other(ctx: restate.Context, invocation_id: str) -> None:
    ctx.cancel_invocation(invocation_id)


@basics.handler()
async def long_sleep(ctx: restate.Context, tag: str) -> str:
    try:
        await ctx.sleep(timedelta(seconds=60))
    except TerminalError as err:
        NOTES[tag].append(("callee", err.status_code))
        raise
    return "slept"


@basics.handler()
async def parent(ctx: restate.Context, tag: str) -> str:
    try:
        return await ctx.service_call(long_sleep, tag)
    except TerminalError as err:
        NOTES[tag].append(("parent", err.status_code))
        await ctx.run_typed("compensate", lambda: NOTES[tag].append("compensated"))
        raise


# ---- combinators ----


@basics.handler()
async def fan_out(ctx: restate.Context, n: int) -> list[int]:
    futures = [ctx.service_call(echo, i) for i in range(n)]
    await restate.gather(*futures)
    return [await f for f in futures]


@basics.handler()
async def race(ctx: restate.Context, tag: str) -> list[Any]:
    awakeable_id, promise = ctx.awakeable()
    publish_awakeable(tag, awakeable_id)
    first = await restate.select(timeout=ctx.sleep(timedelta(milliseconds=30)), awakeable=promise)
    return [first[0], first[1]]


@basics.handler()
async def in_order_of_completion(ctx: restate.Context) -> list[str]:
    slow = ctx.service_call(sleep_then, 150)
    fast = ctx.service_call(echo, "fast")
    done = []
    async for future in restate.as_completed(slow, fast):
        done.append(await future)
    return done


# ---- calls and sends of every kind ----


@basics.handler()
async def calls(ctx: restate.Context, key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["service"] = await ctx.service_call(echo, "svc")
    out["object"] = await ctx.object_call(add, key=key, arg=5)
    out["generic"] = (await ctx.generic_call("Basics", "echo", b'"gen"')).decode()
    ctx.object_send(add, key=key, arg=1)
    ctx.generic_send("Counter", "add", b"10", key=key)
    handle = ctx.service_send(echo, "sent")
    out["send_id"] = await handle.invocation_id()
    wf_id = f"wf-{key}"
    ctx.workflow_send(signup_click, wf_id, "clicked")
    out["workflow"] = await ctx.workflow_call(signup_run, wf_id, "ada")
    return out


@basics.handler()
async def delayed(ctx: restate.Context, args: dict[str, Any]) -> str:
    handle = ctx.object_send(add, key=args["key"], arg=1, send_delay=timedelta(milliseconds=args["ms"]))
    return await handle.invocation_id()


# ---- a virtual object: state, exclusive and shared handlers ----

counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: restate.ObjectContext, n: int) -> int:
    total = (await ctx.get("total", type_hint=int)) or 0
    ctx.set("total", total + n)
    return total + n


@counter.handler(kind="shared")
async def total(ctx: restate.ObjectSharedContext) -> int:
    return (await ctx.get("total", type_hint=int)) or 0


@counter.handler(kind="shared")
async def keys(ctx: restate.ObjectSharedContext) -> list[str]:
    return sorted(await ctx.state_keys())


@counter.handler()
async def put(ctx: restate.ObjectContext, entries: dict[str, Any]) -> None:
    for name, value in entries.items():
        ctx.set(name, value)


@counter.handler()
async def clear(ctx: restate.ObjectContext, name: str) -> list[str]:
    ctx.clear(name)
    return sorted(await ctx.state_keys())


@counter.handler()
async def clear_all(ctx: restate.ObjectContext) -> list[str]:
    ctx.clear_all()
    return sorted(await ctx.state_keys())


@counter.handler()
async def append(ctx: restate.ObjectContext, item: str) -> list[str]:
    items = (await ctx.get("items", type_hint=list[str])) or []
    await ctx.sleep(timedelta(milliseconds=10))
    items.append(item)
    ctx.set("items", items)
    return items


@counter.handler()
async def block(ctx: restate.ObjectContext, tag: str) -> str:
    awakeable_id, promise = ctx.awakeable()
    publish_awakeable(tag, awakeable_id)
    return await promise


lazy = restate.VirtualObject("LazyCounter", enable_lazy_state=True)


@lazy.handler("add")
async def lazy_add(ctx: restate.ObjectContext, n: int) -> int:
    total = (await ctx.get("total", type_hint=int)) or 0
    ctx.set("total", total + n)
    return total + n


@lazy.handler("keys", kind="shared")
async def lazy_keys(ctx: restate.ObjectSharedContext) -> list[str]:
    return sorted(await ctx.state_keys())


# ---- a workflow: run once, durable promises ----

signup = restate.Workflow("Signup")


@signup.main("run")
async def signup_run(ctx: restate.WorkflowContext, name: str) -> str:
    ctx.set("name", name)
    try:
        clicked = await ctx.promise("email", type_hint=str).value()
    except TerminalError as err:
        return f"{name}:rejected:{err.message}"
    return f"{name}:{clicked}"


@signup.handler("click")
async def signup_click(ctx: restate.WorkflowSharedContext, value: str) -> None:
    await ctx.promise("email", type_hint=str).resolve(value)


@signup.handler("reject")
async def signup_reject(ctx: restate.WorkflowSharedContext, message: str) -> None:
    await ctx.promise("email", type_hint=str).reject(message)


@signup.handler("peek")
async def signup_peek(ctx: restate.WorkflowSharedContext) -> Any:
    return await ctx.promise("email", type_hint=str).peek()


@signup.handler("name")
async def signup_name(ctx: restate.WorkflowSharedContext) -> Any:
    return await ctx.get("name", type_hint=str)


SERVICES = [basics, counter, lazy, signup]


def make_app(**options: Any) -> Any:
    """A fresh ASGI app over every test service (one per LocalRestate, so no SDK state is shared)."""
    return restate.app(SERVICES, **options)


# ---- deployments that misbehave ----

fragile = restate.Service("Fragile")


@fragile.handler(invocation_retry_policy=FAST_RETRY)
async def work(ctx: restate.Context, tag: str) -> str:
    def effect() -> int:
        COUNTS[tag] += 1
        return COUNTS[tag]

    await ctx.run_typed("effect", effect)
    await ctx.sleep(timedelta(milliseconds=5))
    return f"worked:{tag}"


def make_fragile_app() -> Any:
    return restate.app([fragile])


class BrokenDeployment:
    """An ASGI app that discovers like ``inner`` but breaks the protocol on every invocation.

    ``mode`` says how: ``garbage`` bytes, a frame of an ``unknown`` type, a command with a ``malformed``
    payload, a ``truncated`` frame, an HTTP ``500``, or an app that ``raises``.
    """

    def __init__(self, inner: Any, mode: str) -> None:
        self.inner = inner
        self.mode = mode

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/invoke/"):
            await self.inner(scope, receive, send)
            return
        if self.mode == "raises":
            raise RuntimeError("deployment exploded")
        content_type = dict(scope["headers"]).get(b"content-type", b"application/octet-stream")
        status = 500 if self.mode == "500" else 200
        body = {
            "garbage": b"\xde\xad\xbe\xef" * 8,
            "unknown": b"\x7f\x00\x00\x00\x00\x00\x00\x02\x08\x01",
            "malformed": b"\x04\x0c\x00\x00\x00\x00\x00\x02\x08\xff",
            "truncated": b"\x04\x01\x00\x00\x00\x00\x00\x40\x0a",
            "500": b"internal error",
        }[self.mode]
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": body, "more_body": False})


class GarbageManifest:
    """An ASGI app whose discovery answer is not a usable manifest."""

    def __init__(self, status: int, content_type: bytes, body: bytes) -> None:
        self.status, self.content_type, self.body = status, content_type, body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": self.status, "headers": [(b"content-type", self.content_type)]}
        )
        await send({"type": "http.response.body", "body": self.body, "more_body": False})
