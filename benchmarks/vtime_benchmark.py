"""Invocations per wall-clock second of the runtime on the virtual clock, next to the wall clock, same run.

One restate-sdk app (an object handler that reads and writes state, on 50 Zipf keys) gets the same
simulated workload, N Poisson arrivals at RATE per second:

- ``virtual``: ``restate_lab.sim.real_load.RealLoad`` on the virtual clock (time skips between events);
- ``wall, paced``: the same runtime on the wall clock, the arrivals paced in real time (what the
  workload costs without virtual time);
- ``wall, burst``: the same runtime on the wall clock, all N submitted at once (its raw capacity, no
  clock waits at all).

Ratios are virtual / wall. Also timed: the time-skipping cases of ``tests/vtime`` (a 30-day workflow, a
send delayed by a week, 20 retries with back-off, an idempotency key outliving its retention).
Run by hand (not a test): ``python benchmarks/vtime_benchmark.py [--n 4000]``; results go to
``benchmarks/results/vtime.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import time
from pathlib import Path

import restate

from restate_lab import LocalRestate
from restate_lab.rules.targets import Target
from restate_lab.sim import Poisson, Workload
from restate_lab.sim.keys import Zipf
from restate_lab.sim.real_load import RealLoad

counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: restate.ObjectContext) -> int:
    count = (await ctx.get("count", type_hint=int) or 0) + 1
    ctx.set("count", count)
    return count


KEYS = Zipf(50, 1.1)


def virtual(n: int, rate: float) -> float:
    start = time.perf_counter()
    load = RealLoad(restate.app([counter]), [Workload("Counter", "add", Poisson(rate), count=n, keys=KEYS)]).run()
    elapsed = time.perf_counter() - start
    assert int(load.summary_frame().loc["all", "completed"]) == n
    return n / elapsed


def wall(n: int, rate: float | None) -> float:
    """On the wall clock; ``rate`` paces arrivals (Poisson) in real time, None submits all at once."""
    lab = LocalRestate(restate.app([counter]))
    rng = random.Random(0)
    gaps = Poisson(rate).gaps(rng) if rate else None

    async def go() -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        left = [n]

        def finished(_inv: object, _result: object) -> None:
            left[0] -= 1
            if left[0] == 0 and not done.done():
                done.set_result(None)

        def submit() -> None:
            key = KEYS.name(KEYS.sample(rng))
            inv = lab.engine.submit(Target("Counter", "add", key), b"", []).invocation
            lab.engine.when_complete(inv, finished)

        at = loop.time()
        for _ in range(n):
            if gaps is None:
                submit()
            else:
                at += next(gaps) / 1000
                loop.call_at(at, submit)
        await asyncio.wait_for(done, 600)

    start = time.perf_counter()
    lab.portal.call(go())
    elapsed = time.perf_counter() - start
    lab.close()
    return n / elapsed


def skipping_cases() -> list[str]:
    """Wall time of each time-skipping case of tests/vtime/apps.py, on a fresh virtual runtime."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from restate_lab.runtime.virtual import VirtualClock
    from tests.vtime.apps import DAY_MS, make_app

    lines = []
    cases = {
        "workflow sleeping 30 days": lambda lab: lab.call("Trial", "run", 30 * DAY_MS, key="bench"),
        "send delayed by a week": lambda lab: lab.attach(lab.send("Mailer", "deliver", "x", delay="7d").invocation_id),
        "20 retries with back-off": lambda lab: lab.call("Flaky", "fail_then_succeed", {"tag": "b", "failures": 20}),
    }
    import logging

    logging.getLogger("restate").setLevel(logging.CRITICAL)
    for name, case in cases.items():
        with LocalRestate(make_app(), clock="virtual") as lab:
            start, virtual_start = time.perf_counter(), lab.now_ms()
            case(lab)
            wall_s, virtual_ms = time.perf_counter() - start, lab.now_ms() - virtual_start
        lines.append(f"  {name:28s} {wall_s * 1000:7.1f} ms wall for {virtual_ms / 1000:12.1f} s virtual")
    with LocalRestate(make_app(), clock=VirtualClock()) as lab:
        start = time.perf_counter()
        lab.call("Mailer", "greet", "bench", idempotency_key="k")
        lab.advance("24h")
        lab.call("Mailer", "greet", "bench", idempotency_key="k")
        wall_s = time.perf_counter() - start
    lines.append(f"  {'idempotency key retention':28s} {wall_s * 1000:7.1f} ms wall for {86_400.0:12.1f} s virtual")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--rate", type=float, default=500.0, help="arrivals per second of the workload")
    args = parser.parse_args()
    virtual(200, args.rate)  # warm up imports and code paths
    v = virtual(args.n, args.rate)
    paced = wall(args.n, args.rate)
    burst = wall(args.n, None)
    lines = [
        f"vtime benchmark: {args.n} invocations of Counter/add (state get+set, 50 Zipf keys), "
        f"Poisson {args.rate:g}/s; python {platform.python_version()}, {platform.machine()}",
        f"virtual clock (RealLoad)     {v:9.0f} invocations per wall second",
        f"wall clock, arrivals paced   {paced:9.0f} invocations per wall second   ratio virtual/paced {v / paced:5.2f}",
        f"wall clock, all at once      {burst:9.0f} invocations per wall second   ratio virtual/burst {v / burst:5.2f}",
        "time-skipping cases:",
        *skipping_cases(),
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    out = Path(__file__).parent / "results" / "vtime.txt"
    out.write_text(text)


if __name__ == "__main__":
    main()
