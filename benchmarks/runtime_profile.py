"""Where a trivial invocation's CPU time goes: runtime thread against calling thread, collector pauses.

Runs the same three loads as ``benchmarks/runtime_benchmark.py`` (``acall`` from 16 tasks, blocking
``call``, blocking ``send``) and splits each invocation's CPU time into the runtime thread's share
(engine and SDK), the calling thread's share (encoding, futures, thread crossings) and the time the
cyclic collector ran. ``--yappi`` also profiles the runtime thread with yappi (the ``bench`` extra)
and prints the functions with the most own CPU time.

    python benchmarks/runtime_profile.py [--seconds 2] [--yappi]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from typing import Any

import restate
from runtime_benchmark import Rate, Runtime, bench, direct_invoke, prepared_request

from restate_lab.runtime.portal import Portal, PortalAnswer


class CollectorClock:
    """Sums the time the cyclic collector runs (every thread), through ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.runs = 0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started
            self.runs += 1


async def _thread_cpu() -> float:
    return time.thread_time()


def split(rt: Runtime, load: Callable[[], Rate], collector: CollectorClock) -> str:
    """One load, its CPU time per invocation split by thread, and the collector's share."""
    portal_before, caller_before = rt.lab.portal.call(_thread_cpu()), time.thread_time()
    collector.seconds, collector.runs = 0.0, 0
    rate = load()
    portal = rt.lab.portal.call(_thread_cpu()) - portal_before
    caller = time.thread_time() - caller_before
    us = 1e6 / rate.n
    return (
        f"{rate.cpu * us:8.1f} us{portal * us:10.1f} us{caller * us:10.1f} us"
        f"{collector.seconds * us:10.1f} us ({collector.runs} runs)"
    )


def crossing_floor(count: int = 3000) -> str:
    """The SDK app alone, driven from its own loop and then through one thread crossing per invocation.

    The second is the least a blocking ``call`` can cost: the portal's loop goes idle between calls and
    is woken by the calling thread, which waits for the answer.
    """
    portal, app, body = Portal("floor"), restate.app([bench]), prepared_request()

    def start(answer: PortalAnswer[None]) -> None:
        task = portal.loop.create_task(direct_invoke(app, body))
        task.add_done_callback(lambda _task: answer.set_result(None))

    async def in_loop() -> None:
        for _ in range(count):
            await direct_invoke(app, body)

    lines = []
    try:
        for label in ("SDK app, from its own loop", "SDK app, one thread crossing each"):
            loop_cpu, caller_cpu = portal.call(_thread_cpu()), time.thread_time()
            if label.endswith("own loop"):
                portal.call(in_loop())
            else:
                for _ in range(count):
                    answer: PortalAnswer[None] = PortalAnswer()
                    portal.mailbox.post(start, answer)
                    answer.result()
            loop_us = (portal.call(_thread_cpu()) - loop_cpu) / count * 1e6
            caller_us = (time.thread_time() - caller_cpu) / count * 1e6
            lines.append(f"{label:34}{loop_us + caller_us:8.1f} us{loop_us:10.1f} us{caller_us:10.1f} us")
    finally:
        portal.stop()
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--yappi", action="store_true", help="profile the runtime thread's functions with yappi")
    args = parser.parse_args()
    rt = Runtime()
    collector = CollectorClock()
    try:
        rt.concurrent(0.3, 16)
        loads: list[tuple[str, Callable[[], Rate]]] = [
            ("acall x 16", lambda: rt.concurrent(args.seconds, 16)),
            ("blocking call", lambda: rt.sequential(args.seconds)),
            ("blocking send", lambda: rt.sends(args.seconds)),
        ]
        print(f"{'CPU per invocation':18}{'all':>11}{'runtime':>13}{'caller':>13}{'collector':>13}")
        for label, load in loads:
            print(f"{label:18}{split(rt, load, collector)}")
        print(f"\n{'the floor, per invocation':34}{'all':>11}{'its loop':>13}{'caller':>13}")
        print(crossing_floor())
        if args.yappi:
            import yappi

            yappi.set_clock_type("cpu")
            yappi.start(profile_threads=True)
            rt.concurrent(args.seconds, 16)
            yappi.stop()
            stats = yappi.get_func_stats()
            stats.sort("tsub")
            stats.print_all(out=sys.stdout, columns={0: ("name", 70), 1: ("ncall", 9), 2: ("tsub", 8), 3: ("ttot", 8)})
    finally:
        rt.close()


if __name__ == "__main__":
    main()
