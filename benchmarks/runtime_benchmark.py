"""Invocations per second of a trivial handler through LocalRestate, next to the floor cost of the SDK alone.

The floor calls the SDK's ASGI app directly, on a worker-thread loop like the runtime's, with a
prepared start message and input command and nothing around it: no journal, no ids, no portal.
The runtime figures go through the public Python API: ``acall`` from N concurrent tasks on the
caller's loop, and the blocking ``call`` one after another.

    python benchmarks/runtime_benchmark.py [--seconds 1.5] [--rounds 4] [--concurrency 16] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import restate

from restate_lab import LocalRestate
from restate_lab.protocol.messages import FrameDecoder, MessageType, input_command, start_message
from restate_lab.rules.ids import InvocationId
from restate_lab.runtime.portal import Portal

bench = restate.Service("Bench")


@bench.handler()
async def noop(ctx: restate.Context, value: int) -> int:
    return value


@bench.handler()
async def nap(ctx: restate.Context, value: int) -> int:
    await ctx.sleep(timedelta(hours=1))
    return value


sleeper = restate.VirtualObject("Sleeper")


@sleeper.handler()
async def poke(ctx: restate.ObjectContext, value: int) -> int:
    return value


CONTENT_TYPE = "application/vnd.restate.invocation.v6"


def prepared_request() -> bytes:
    """Start message + input command for one invocation, as the server would send them."""
    inv_id = InvocationId.new(1)
    start = start_message(
        invocation_id=inv_id.raw,
        debug_id=str(inv_id),
        known_entries=1,
        state=[],
        key=None,
        retry_count=0,
        duration_since_last_stored_entry_ms=0,
        random_seed=42,
    )
    return start.encode() + input_command([], b"1").encode()


async def direct_invoke(app: Any, body: bytes) -> None:
    """One invocation straight into the SDK's ASGI app; checks that it answered Output + End."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/invoke/Bench/noop",
        "raw_path": b"/invoke/Bench/noop",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", CONTENT_TYPE.encode()), (b"accept", CONTENT_TYPE.encode())],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }
    sent = False
    out = bytearray()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            out.extend(message.get("body", b""))

    await app(scope, receive, send)
    types = [f.type for f in FrameDecoder().feed(bytes(out))]
    if types[-2:] != [MessageType.OUTPUT_COMMAND, MessageType.END]:
        raise RuntimeError(f"unexpected answer from the SDK: {[hex(t) for t in types]}")


async def run_for(seconds: float, concurrency: int, once: Callable[[], Awaitable[Any]]) -> tuple[int, float]:
    """Run ``once`` from ``concurrency`` tasks for ``seconds``; return (invocations, elapsed wall time)."""
    deadline = time.perf_counter() + seconds
    count = 0

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await once()
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count, time.perf_counter() - started


@dataclass(frozen=True)
class Rate:
    """Invocations done, wall seconds, and CPU seconds of the whole process (every thread)."""

    n: int
    wall: float
    cpu: float

    @property
    def per_s(self) -> float:
        return self.n / self.wall

    @property
    def per_cpu_s(self) -> float:
        """Invocations per CPU second: less sensitive than wall time to other load on the machine."""
        return self.n / self.cpu if self.cpu else float("nan")


class Floor:
    """The bare SDK app on a worker-thread loop, invoked with prepared requests."""

    def __init__(self) -> None:
        self.portal = Portal("floor")
        self.app = restate.app([bench])
        self.bodies = [prepared_request() for _ in range(64)]
        self.i = 0

    async def once(self) -> None:
        self.i += 1
        await direct_invoke(self.app, self.bodies[self.i % len(self.bodies)])

    def concurrent(self, seconds: float, concurrency: int) -> Rate:
        cpu = time.process_time()
        n, t = self.portal.call(run_for(seconds, concurrency, self.once))
        return Rate(n, t, time.process_time() - cpu)

    def sequential(self, seconds: float) -> Rate:
        cpu = time.process_time()
        n, t = self.portal.call(run_for(seconds, 1, self.once))
        return Rate(n, t, time.process_time() - cpu)

    def close(self) -> None:
        self.portal.stop()


class Runtime:
    """LocalRestate through its public API: ``acall`` from tasks on this thread's loop, blocking ``call``."""

    def __init__(self, http2: bool | None = None) -> None:
        # Unset: the in-process default (a bidirectional stream); False: request-response mode.
        self.lab = LocalRestate(restate.app([bench, sleeper]), http2=http2)

    async def once(self) -> None:
        await self.lab.acall("Bench", "noop", 1)

    def concurrent(self, seconds: float, concurrency: int) -> Rate:
        cpu = time.process_time()
        n, t = asyncio.run(run_for(seconds, concurrency, self.once))
        rate = Rate(n, t, time.process_time() - cpu)
        self.forget()
        return rate

    def sequential(self, seconds: float) -> Rate:
        cpu = time.process_time()
        deadline = time.perf_counter() + seconds
        n = 0
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            self.lab.call("Bench", "noop", 1)
            n += 1
        rate = Rate(n, time.perf_counter() - started, time.process_time() - cpu)
        self.forget()
        return rate

    def sends(self, seconds: float, keys: int = 64) -> Rate:
        """Blocking ``send`` to a trivial object handler (``keys`` keys in turn), counted once all have run."""
        cpu = time.process_time()
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        last = None
        n = 0
        while time.perf_counter() < deadline:
            last = self.lab.send("Sleeper", "poke", 1, key=str(n % keys))
            n += 1
        for key in range(keys):  # each key runs its sends in order: its last one done means all are
            self.lab.call("Sleeper", "poke", 1, key=str(key))
        assert last is not None
        rate = Rate(n, time.perf_counter() - started, time.process_time() - cpu)
        self.forget()
        return rate

    def forget(self) -> None:
        """Drop completed invocations between rounds so memory does not grow with the run."""
        self.lab.portal.call(self._forget())

    async def _forget(self) -> None:
        self.lab.engine.invocations.clear()

    def close(self) -> None:
        self.lab.close()


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc``)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def suspended_memory(count: int, http2: bool | None = None) -> tuple[int, float]:
    """RSS growth per invocation while ``count`` invocations are suspended on a one-hour sleep.

    In the default (bidirectional) mode a sleeping handler's attempt stays open until the inactivity
    timeout (a minute) before it suspends, so the figure there is the high-water mark of open attempts;
    ``http2=False`` (request-response) suspends at once.
    """
    lab = LocalRestate(restate.app([bench]), http2=http2)
    try:
        lab.call("Bench", "noop", 1)
        gc.collect()
        before = rss_bytes()
        for _ in range(count):
            lab.send("Bench", "nap", 1)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if lab.portal.call(_count_suspended(lab)) >= count:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("the invocations did not all suspend within 120 s")
        gc.collect()
        return count, (rss_bytes() - before) / count
    finally:
        lab.close()


def held_heap(count: int, http2: bool | None = None) -> float:
    """Python heap still allocated per invocation once ``count`` invocations have suspended on a sleep.

    What a suspended invocation itself keeps, without RSS's high-water mark of the attempts it had open
    (the allocator keeps those pages). Traced with ``tracemalloc``; a short inactivity timeout lets the
    default mode suspend within a second, which changes nothing a suspended invocation holds.
    """
    lab = LocalRestate(restate.app([bench]), http2=http2, inactivity_timeout_ms=500)
    try:
        lab.call("Bench", "noop", 1)
        gc.collect()
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(count):
            lab.send("Bench", "nap", 1)
        deadline = time.monotonic() + 120
        while lab.portal.call(_count_suspended(lab)) < count:
            if time.monotonic() > deadline:
                raise RuntimeError("the invocations did not all suspend within 120 s")
            time.sleep(0.2)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
        return (after - before) / count
    finally:
        tracemalloc.stop()
        lab.close()


async def _count_suspended(lab: LocalRestate) -> int:
    return sum(1 for inv in lab.engine.invocations.values() if inv.status.value == "suspended")


def measure(seconds: float, concurrency: int, rounds: int) -> dict[str, list[Rate]]:
    """Alternate floor and runtime for ``rounds`` rounds, so both see the same machine load."""
    floor, rt, rr = Floor(), Runtime(), Runtime(http2=False)
    figures: dict[str, list[Rate]] = {
        "floor_conc": [],
        "rt_conc": [],
        "rr_conc": [],
        "floor_seq": [],
        "rt_seq": [],
        "rr_seq": [],
        "rt_send": [],
    }
    try:
        floor.concurrent(0.3, concurrency)
        rt.concurrent(0.3, concurrency)
        rr.concurrent(0.3, concurrency)
        for _ in range(rounds):
            figures["floor_conc"].append(floor.concurrent(seconds, concurrency))
            figures["rt_conc"].append(rt.concurrent(seconds, concurrency))
            figures["rr_conc"].append(rr.concurrent(seconds, concurrency))
            figures["floor_seq"].append(floor.sequential(seconds))
            figures["rt_seq"].append(rt.sequential(seconds))
            figures["rr_seq"].append(rr.sequential(seconds))
            figures["rt_send"].append(rt.sends(seconds))
    finally:
        floor.close()
        rt.close()
        rr.close()
    return figures


def report(figures: dict[str, list[Rate]], seconds: float, rounds: int, concurrency: int) -> str:
    wall = {k: max(r.per_s for r in v) for k, v in figures.items()}
    cpu = {k: max(r.per_cpu_s for r in v) for k, v in figures.items()}
    rows = [("concurrent (acall x " + str(concurrency) + ")", "conc"), ("sequential (blocking call)", "seq")]
    header = f"{'':32}{'floor (SDK app alone)':>22}{'LocalRestate':>15}{'ratio':>8}{'request-response':>18}{'ratio':>8}"
    lines = [
        f"restate_lab runtime benchmark: trivial handler, best of {rounds} alternating rounds of "
        f"{seconds:g} s, {concurrency} concurrent tasks",
        f"python {platform.python_version()}, restate-sdk {restate_version()}, {os.cpu_count()} cpus, "
        f"{time.strftime('%Y-%m-%d %H:%M')}",
        "",
        "LocalRestate: the default (bidirectional stream); request-response: LocalRestate(..., http2=False)",
        "",
        "invocations per wall-clock second",
        header,
    ]
    for label, kind in rows:
        f, r, q = wall[f"floor_{kind}"], wall[f"rt_{kind}"], wall[f"rr_{kind}"]
        lines.append(f"{label:32}{f:>20.0f}/s{r:>13.0f}/s{r / f:>8.0%}{q:>16.0f}/s{q / f:>8.0%}")
    lines += ["", "invocations per CPU second of the process (all threads; steadier under foreign load)", header]
    for label, kind in rows:
        f, r, q = cpu[f"floor_{kind}"], cpu[f"rt_{kind}"], cpu[f"rr_{kind}"]
        lines.append(f"{label:32}{f:>20.0f}/s{r:>13.0f}/s{r / f:>8.0%}{q:>16.0f}/s{q / f:>8.0%}")
    lines += [
        "",
        "blocking send to a trivial object handler (64 keys), counted once every invocation has run",
        f"{'':32}{'per wall s':>12}{'per CPU s':>12}{'/ blocking call (wall, CPU)':>30}",
        f"{'send (blocking)':32}{wall['rt_send']:>10.0f}/s{cpu['rt_send']:>10.0f}/s"
        f"{wall['rt_send'] / wall['rt_seq']:>15.0%}{cpu['rt_send'] / cpu['rt_seq']:>8.0%}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=4, help="alternating floor/runtime rounds; best is kept")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--suspended",
        type=int,
        default=20_000,
        help="invocations suspended on a sleep for the memory figure (0: skip it)",
    )
    parser.add_argument("--out", default=None, help="write the report here too")
    parser.add_argument(
        "--serve-gc",
        action="store_true",
        help="tune the collector as `restate-lab serve` does (restate_lab.cli.tune_gc_for_serving)",
    )
    args = parser.parse_args()
    if args.serve_gc:
        from restate_lab.cli import tune_gc_for_serving

        tune_gc_for_serving()
    text = report(measure(args.seconds, args.concurrency, args.rounds), args.seconds, args.rounds, args.concurrency)
    if args.suspended:
        # Request-response first: RSS does not shrink again after the default mode's open attempts.
        count, rr_per_inv = suspended_memory(args.suspended, http2=False)
        count, per_inv = suspended_memory(args.suspended)
        text += f"\n\nmemory: {count} invocations suspended on a sleep, RSS grew {per_inv / 1024:.2f} kB each"
        text += f"\nrequest-response: the same, RSS grew {rr_per_inv / 1024:.2f} kB each"
        held = min(count, 5_000)
        text += (
            f"\nPython heap still held once {held} have suspended (tracemalloc): "
            f"{held_heap(held) / 1024:.2f} kB each in the default mode, "
            f"{held_heap(held, http2=False) / 1024:.2f} kB in request-response"
        )
    text += "\ncollector: " + ("tuned as `restate-lab serve` tunes it" if args.serve_gc else "Python's defaults")
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")


def restate_version() -> str:
    from importlib.metadata import version

    return version("restate-sdk")


if __name__ == "__main__":
    main()
