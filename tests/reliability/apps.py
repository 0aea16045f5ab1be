"""restate-sdk services the reliability tests drive; side effects are counted in a module global.

The runtime runs handlers on its own loop thread in this process, so ``ctx.run`` actions write straight
into ``EFFECTS`` and a test reads the counts afterwards: a count above 1 is a side effect run twice.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import restate
from pydantic import BaseModel

#: How many times each request id's ``ctx.run`` side effect ran.
EFFECTS: Counter[str] = Counter()
_effects_lock = threading.Lock()


def record_effect(request_id: str) -> str:
    with _effects_lock:
        EFFECTS[request_id] += 1
    return request_id


def effect_count(request_id: str) -> int:
    with _effects_lock:
        return EFFECTS[request_id]


def forget_effects(prefix: str) -> None:
    """Drop the counts of request ids starting with ``prefix`` (a test that runs twice in one process)."""
    with _effects_lock:
        for request_id in [r for r in EFFECTS if r.startswith(prefix)]:
            del EFFECTS[request_id]


# ---- load and memory: a service with one journaled side effect, a virtual object that appends ----

work = restate.Service("Work")


@work.handler()
async def do(ctx: restate.Context, request: dict[str, Any]) -> str:
    """Run the side effect of ``request["id"]`` once (journaled) and answer with the id."""
    request_id = str(request["id"])
    return await ctx.run_typed("effect", record_effect, request_id=request_id)


@work.handler(idempotency_retention=timedelta(seconds=1))
async def brief(ctx: restate.Context, request: dict[str, Any]) -> str:
    """As ``do``, with idempotent results kept for one second only (the memory test's retention)."""
    request_id = str(request["id"])
    return await ctx.run_typed("effect", record_effect, request_id=request_id)


sequencer = restate.VirtualObject("Sequencer")


@sequencer.handler()
async def append(ctx: restate.ObjectContext, seq: int) -> int:
    """Append ``seq`` to this key's list; exclusive handlers of one key run one at a time, in order."""
    seen = await ctx.get("seen", type_hint=list[int]) or []
    seen.append(seq)
    ctx.set("seen", seen)
    return len(seen)


@sequencer.handler(kind="shared")
async def seen(ctx: restate.ObjectSharedContext) -> list[int]:
    return await ctx.get("seen", type_hint=list[int]) or []


@sequencer.handler()
async def reset(ctx: restate.ObjectContext) -> None:
    """Take this key's lock and clear its state: afterwards the runtime should hold nothing for the key."""
    ctx.clear_all()


def load_app() -> Any:
    return restate.app([work, sequencer])


# ---- fuzz: a small app with typed inputs of every handler kind ----

#: An unexpected handler exception is retried; three quick attempts, then killed, so no fuzzed call waits forever.
BOUNDED_RETRY = restate.InvocationRetryPolicy(
    initial_interval=timedelta(milliseconds=10),
    max_interval=timedelta(milliseconds=50),
    max_attempts=3,
    on_max_attempts="kill",
)


class Order(BaseModel):
    item: str
    quantity: int
    note: str | None = None


class Receipt(BaseModel):
    item: str
    total: int


shop = restate.Service("Shop", invocation_retry_policy=BOUNDED_RETRY)


@shop.handler()
async def order(ctx: restate.Context, order: Order) -> Receipt:
    if order is None:  # an empty body reaches the handler as None
        raise restate.TerminalError("an order is required", status_code=400)
    if order.quantity < 0:
        raise restate.TerminalError("negative quantity", status_code=400)
    return Receipt(item=order.item, total=order.quantity * 3)


@shop.handler()
async def echo(ctx: restate.Context, value: Any) -> Any:
    return value


@shop.handler()
async def ping(ctx: restate.Context) -> str:
    return "pong"


@shop.handler()
async def fail(ctx: restate.Context, message: str) -> str:
    """A handler error: a 5xx with source ``invocation``, which the fuzz test allows."""
    raise restate.TerminalError(str(message or "failed"), status_code=500)


cart = restate.VirtualObject("Cart", invocation_retry_policy=BOUNDED_RETRY)


@cart.handler()
async def add(ctx: restate.ObjectContext, order: Order) -> int:
    if order is None:
        raise restate.TerminalError("an order is required", status_code=400)
    count = (await ctx.get("count", type_hint=int) or 0) + 1
    ctx.set("count", count)
    return count


@cart.handler(kind="shared")
async def count(ctx: restate.ObjectSharedContext) -> int:
    return await ctx.get("count", type_hint=int) or 0


@cart.handler()
async def clear(ctx: restate.ObjectContext) -> None:
    ctx.clear_all()


checkout = restate.Workflow("Checkout", invocation_retry_policy=BOUNDED_RETRY)


@checkout.main()
async def run(ctx: restate.WorkflowContext, order: Order) -> str:
    if order is None:
        raise restate.TerminalError("an order is required", status_code=400)
    ctx.set("status", "done")
    return f"{order.quantity} x {order.item}"


@checkout.handler()
async def status(ctx: restate.WorkflowSharedContext) -> str | None:
    return await ctx.get("status", type_hint=str)


FUZZ_SERVICES = ("Shop", "Cart", "Checkout")


def fuzz_app() -> Any:
    return restate.app([shop, cart, checkout])
