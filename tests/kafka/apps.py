"""The services Kafka records are delivered to, in both the real server and restate_lab.

``Log`` (virtual object) appends each record's value to a state list and remembers the headers
its handler saw; a value with ``"fail": n`` raises on its first ``n`` attempts, so the records
behind it on the same key wait (head-of-line). ``Sink`` (service) only remembers what it saw.
The app runs in this process in both cases, so ``SEEN`` collects every handler run.
"""

from __future__ import annotations

from typing import Any

import restate

#: (service, key, value, headers) for every handler run, in the order they ran.
SEEN: list[tuple[str, str | None, Any, dict[str, str]]] = []
_ATTEMPTS: dict[str, int] = {}

log = restate.VirtualObject("Log")


@log.handler()
async def append(ctx: restate.ObjectContext, value: Any) -> None:
    SEEN.append(("Log", ctx.key(), value, dict(ctx.request().headers)))
    if isinstance(value, dict) and value.get("fail"):
        tag = f"{ctx.key()}/{value.get('n')}"
        _ATTEMPTS[tag] = _ATTEMPTS.get(tag, 0) + 1
        if _ATTEMPTS[tag] <= int(value["fail"]):
            raise ValueError(f"record {tag} fails on attempt {_ATTEMPTS[tag]}")
    items = await ctx.get("items", type_hint=list) or []
    items.append(value)
    ctx.set("items", items)


@log.handler(kind="shared")
async def items(ctx: restate.ObjectSharedContext) -> list[Any]:
    return await ctx.get("items", type_hint=list) or []


sink = restate.Service("Sink")


@sink.handler()
async def record(ctx: restate.Context, value: Any) -> None:
    SEEN.append(("Sink", None, value, dict(ctx.request().headers)))


services = [log, sink]
app = restate.app(services)


def reset() -> None:
    SEEN.clear()
    _ATTEMPTS.clear()
