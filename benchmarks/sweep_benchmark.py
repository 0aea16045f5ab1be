"""Sweep scaling: one 16-point sweep of 200 000-invocation simulations, serial vs processes vs Dask.

The load is the simulator benchmark's keyed queue (1 000 keys, exponential 5 ms work, 30 % idempotent
requests of which a fifth are resent), swept over the failure share (0-20 %) and the arrival rate
(1 000-2 500/s): 16 points, one seed each, each simulation about 200 000 invocations. The same sweep runs
in this process, on a ``ProcessPoolExecutor`` of 2 processes and on a Dask ``LocalCluster`` of 2 worker
processes (1 thread each), in one run; the three frames must be identical.

Reported: wall time and speed-up over serial; and for each parallel run the overhead per point,
``(wall x workers - sum of simulation seconds measured in the workers) / points``, as a share of the mean
simulation time -- scheduling, transfer and idle time at the end of the sweep included. The cluster's
start-up (and its workers' imports, preloaded) is timed separately. The machine's load average is
recorded before and after, since other work on the machine shows up directly in these figures.

Writes ``benchmarks/results/sweep.txt``. Run: ``python benchmarks/sweep_benchmark.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from restate_lab.sim import sweep

POINTS = 16
WORKERS = 2
COUNT = 200_000
SCENARIO: dict[str, Any] = {
    "seed": 1,
    "services": [{"name": "Obj", "ty": "VIRTUAL_OBJECT", "handlers": [{"name": "run", "ty": "EXCLUSIVE"}]}],
    "retry_policy": {"initial_interval_ms": 10, "factor": 2.0, "max_interval_ms": 1_000, "max_attempts": None},
    "behaviours": {"Obj/run": {"service_time": {"kind": "exponential", "mean_ms": 5}}},
    "workloads": [
        {
            "service": "Obj",
            "handler": "run",
            "count": COUNT,
            "arrivals": {"kind": "poisson", "rate_per_s": 2_000},
            "keys": {"kind": "uniform", "n": 1_000},
            "idempotency_fraction": 0.3,
            "client_retry_probability": 0.2,
            "client_retry_after": {"kind": "exponential", "mean_ms": 200},
        }
    ],
    "record_queues": False,
}
GRID = {
    "behaviours.Obj/run.failure_probability": [0.0, 0.05, 0.1, 0.2],
    "workloads.0.arrivals.rate_per_s": [1_000, 1_500, 2_000, 2_500],
}


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        one, five, fifteen = os.getloadavg()
        return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


def per_point(frame: pd.DataFrame) -> str:
    """Mean wall and CPU seconds of one simulation where it ran: wall well above CPU means a busy machine."""
    wall = frame.attrs["sweep"]["simulation_s"]
    cpu = frame.attrs["sweep"]["simulation_cpu_s"]
    return f"a point {sum(wall) / len(wall):.2f} s wall, {sum(cpu) / len(cpu):.2f} s CPU"


def cpu_pressure() -> str:
    """The kernel's CPU pressure (share of time some task waited for a CPU), where Linux reports it."""
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return "n/a"
    return first.replace("some ", "")


def busy_note(frame: pd.DataFrame) -> str:
    """How much of a core each simulation got: far below 100 % means other work shared the machine."""
    wall = sum(frame.attrs["sweep"]["simulation_s"])
    cpu = sum(frame.attrs["sweep"]["simulation_cpu_s"])
    return f"{cpu / wall:.0%} of a core"


def overhead(frame: pd.DataFrame, workers: int) -> tuple[float, float]:
    """Overhead per point in seconds and as a share of the mean simulation time."""
    seconds = frame.attrs["sweep"]["simulation_s"]
    per_point = (frame.attrs["sweep"]["wall_s"] * workers - sum(seconds)) / len(seconds)
    return per_point, per_point / (sum(seconds) / len(seconds))


def main(rounds: int) -> None:
    from distributed import Client, LocalCluster

    lines = [
        "restate_lab sweep benchmark",
        f"python {platform.python_version()}, {platform.machine()}, {platform.system()}, {os.cpu_count()} cores",
        f"sweep: {POINTS} points (failure share x arrival rate), 1 seed, {COUNT:,} invocations each "
        "(plus client resends), summary built in the worker",
        f"{rounds} rounds, each running serial, local processes and Dask in turn (so that load changes hit all "
        "three); the best round of each is compared",
        f"load before: {uptime()}; CPU pressure {cpu_pressure()}",
        "",
    ]
    print(*lines, sep="\n", flush=True)

    started = time.perf_counter()
    with (
        LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
            preload=["restate_lab.sim.sweep"],
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(WORKERS, timeout=120)
        startup = time.perf_counter() - started
        runs: dict[str, list[tuple[pd.DataFrame, float]]] = {"serial": [], "processes": [], "dask": []}
        executors: dict[str, Any] = {"serial": None, "processes": "processes", "dask": client}
        for round_ in range(rounds):
            for name, executor in executors.items():
                load = os.getloadavg()[0]
                frame = sweep(SCENARIO, grid=GRID, executor=executor, workers=WORKERS, progress=False)
                runs[name].append((frame, load))
                print(
                    f"  round {round_ + 1} {name:<9}: {frame.attrs['sweep']['wall_s']:6.1f} s "
                    f"(load {load:.1f} at start)",
                    flush=True,
                )
    serial_frame = runs["serial"][0][0]
    for name in ("processes", "dask"):
        for frame, _ in runs[name]:
            pd.testing.assert_frame_equal(frame, serial_frame, check_exact=True)

    def best(name: str) -> tuple[pd.DataFrame, float]:
        return min(runs[name], key=lambda run: run[0].attrs["sweep"]["wall_s"])

    serial, serial_load = best("serial")
    base = serial.attrs["sweep"]["wall_s"]
    submitted = int(serial["submitted"].sum())
    rows = [
        "every round, wall seconds: "
        + "; ".join(
            f"{name} " + ", ".join(f"{f.attrs['sweep']['wall_s']:.1f}" for f, _ in runs[name]) for name in runs
        ),
        "best rounds:",
        f"  serial                 : {base:7.1f} s   ({submitted / base:,.0f} submissions/s; {per_point(serial)};"
        f" load {serial_load:.1f})",
    ]
    for name, label in (("processes", "local processes (2)"), ("dask", "Dask LocalCluster (2)")):
        frame, load = best(name)
        wall = frame.attrs["sweep"]["wall_s"]
        cost, share = overhead(frame, WORKERS)
        rows.append(
            f"  {label:<23}: {wall:7.1f} s   speed-up {base / wall:4.2f}x (goal >= 1.8x)   "
            f"overhead {cost * 1000:5.0f} ms a point = {share:5.1%} of a point (goal < 5 %)"
        )
        rows.append(f"  {'':<23}  ({per_point(frame)}; load {load:.1f})")
    rows += [
        f"  Dask cluster start-up  : {startup:7.1f} s   (2 worker processes, restate_lab preloaded; not in the sweep)",
        "  frames identical across the three executors, every round: yes",
        f"  check: mean attempts {serial['mean_attempts'].min():.3f}..{serial['mean_attempts'].max():.3f}, "
        f"p99 {serial['p99_latency_ms'].min():.1f}..{serial['p99_latency_ms'].max():.1f} virtual ms",
        "",
        f"load after: {uptime()}; CPU pressure {cpu_pressure()}",
        "each simulation got, in its best round: "
        + ", ".join(f"{name} {busy_note(best(name)[0])}" for name in runs)
        + ". Well below 100 % means the machine was "
        "shared with other work and the speed-ups measure that contention, not the sweep.",
    ]
    print(*rows, sep="\n", flush=True)
    out = Path(__file__).resolve().parent / "results" / "sweep.txt"
    out.write_text("\n".join(lines + rows) + "\n")
    print(f"wrote {out.relative_to(Path(__file__).resolve().parents[1])}", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the three runs (default 2)")
    main(parser.parse_args().rounds)
