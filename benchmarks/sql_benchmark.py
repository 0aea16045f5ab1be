"""Milliseconds per SQL introspection query over many invocations: restate_lab next to the real server.

Loads N completed invocations (three in four ``Greeter/greet`` calls, the rest ``Counter/add`` on 1000 keys)
into a ``LocalRestate`` through its public async API, and the same mix into a real Restate Server 1.7.12
through its ingress (16 concurrent connections), then times two queries on each over ``POST /query`` with
``accept: application/json`` (the same request on both), plus ``LocalRestate.query`` (a DataFrame, no HTTP):

- ``select status, count(*) from sys_invocation group by status``
- ``sys_invocation`` joined with ``sys_journal``, counting entries per handler

    python benchmarks/sql_benchmark.py [--n 100000] [--real-n 20000] [--repeat 5] [--out FILE]

``--real-n 0`` skips the real server (also skipped, and said so, when its binary is not installed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from restate_lab import LocalRestate
from tests.conformance.app import make_app

QUERIES = {
    "group by status": "select status, count(*) from sys_invocation group by status",
    "join sys_journal": "select i.target_handler_name, count(*) as entries from sys_invocation i "
    "join sys_journal j on i.id = j.id group by i.target_handler_name",
}
CONCURRENCY = 16


def _mix(n: int) -> list[tuple[str, str, str | None, Any]]:
    return [
        ("Counter", "add", f"k{i % 1000}", 1) if i % 4 == 3 else ("Greeter", "greet", None, f"n{i}") for i in range(n)
    ]


def load_lab(lab: LocalRestate, n: int) -> float:
    """Run the mix through ``lab.acall`` from concurrent tasks; seconds taken."""
    work = _mix(n)

    async def go() -> None:
        queue: asyncio.Queue[tuple[str, str, str | None, Any]] = asyncio.Queue()
        for item in work:
            queue.put_nowait(item)

        async def worker() -> None:
            while not queue.empty():
                service, handler, key, arg = queue.get_nowait()
                await lab.acall(service, handler, arg, key=key)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

    started = time.perf_counter()
    asyncio.run(go())
    return time.perf_counter() - started


def load_http(ingress_url: str, n: int) -> float:
    """Run the mix through an ingress over HTTP from concurrent connections; seconds taken."""
    work = _mix(n)

    async def go() -> None:
        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(base_url=ingress_url, timeout=60, limits=limits) as client:
            queue: asyncio.Queue[tuple[str, str, str | None, Any]] = asyncio.Queue()
            for item in work:
                queue.put_nowait(item)

            async def worker() -> None:
                while not queue.empty():
                    service, handler, key, arg = queue.get_nowait()
                    path = f"/{service}/{key}/{handler}" if key else f"/{service}/{handler}"
                    (await client.post(path, json=arg)).raise_for_status()

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

    started = time.perf_counter()
    asyncio.run(go())
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median milliseconds of ``repeat`` runs (after one warm-up) and the last answer."""
    answer = fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), answer


def http_query(admin_url: str, sql: str) -> Callable[[], Any]:
    def run() -> Any:
        response = httpx.post(
            admin_url + "/query", json={"query": sql}, headers={"accept": "application/json"}, timeout=300
        )
        response.raise_for_status()
        return sorted(response.json()["rows"], key=lambda r: sorted(r.items()))

    return run


def bench_lab(n: int, repeat: int) -> dict[str, Any]:
    from restate_lab.ingress.server import LabServer

    out: dict[str, Any] = {"n": n}
    with LocalRestate(make_app()) as lab:
        out["load_s"] = load_lab(lab, n)
        with LabServer(lab, port=0, admin_port=0) as server:
            for name, sql in QUERIES.items():
                out[name, "http"], out[name, "rows"] = timed(http_query(server.admin_url, sql), repeat)
                out[name, "frame"], _ = timed(lambda sql=sql: lab.query(sql), repeat)
    return out


def bench_real(n: int, repeat: int) -> dict[str, Any] | str:
    from restate_lab.server import RestateServer
    from restate_lab.server.binary import RestateServerNotInstalled

    out: dict[str, Any] = {"n": n}
    try:
        with RestateServer.start(make_app()) as srv:
            out["load_s"] = load_http(srv.ingress_url, n)
            for name, sql in QUERIES.items():
                out[name, "http"], out[name, "rows"] = timed(http_query(srv.admin_url, sql), repeat)
    except RestateServerNotInstalled as exc:
        return f"real server not installed: {exc}"
    return out


def report(results: list[tuple[str, dict[str, Any] | str]], repeat: int) -> str:
    lines = [
        f"restate_lab SQL introspection benchmark: median of {repeat} runs after a warm-up, ms per query",
        f"python {platform.python_version()}, {os.cpu_count()} cpus, {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        f"{'target':<34}{'invocations':>12}{'load s':>9}"
        + "".join(f"{q + ' (HTTP)':>26}" for q in QUERIES)
        + "".join(f"{q + ' (frame)':>26}" for q in QUERIES),
    ]
    for label, res in results:
        if isinstance(res, str):
            lines.append(f"{label:<34}{res}")
            continue
        row = f"{label:<34}{res['n']:>12}{res['load_s']:>9.1f}"
        row += "".join(f"{res[q, 'http']:>26.1f}" for q in QUERIES)
        row += "".join(f"{res[q, 'frame']:>26.1f}" if (q, "frame") in res else f"{'-':>26}" for q in QUERIES)
        lines.append(row)
    lines.append("")
    answers = {label: {q: res[q, "rows"] for q in QUERIES} for label, res in results if not isinstance(res, str)}
    for label, per_query in answers.items():
        lines.append(f"{label}: " + "; ".join(f"{q} -> {rows}" for q, rows in per_query.items()))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="invocations in restate_lab")
    parser.add_argument("--real-n", type=int, default=20_000, help="invocations in the real server (0: skip)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/sql.txt")
    args = parser.parse_args()
    results: list[tuple[str, dict[str, Any] | str]] = []
    if args.real_n:
        results.append(("restate_lab (same N as the server)", bench_lab(args.real_n, args.repeat)))
        results.append(("Restate Server 1.7.12", bench_real(args.real_n, args.repeat)))
    if args.n and args.n != args.real_n:
        results.append(("restate_lab", bench_lab(args.n, args.repeat)))
    text = report(results, args.repeat)
    print(text, end="")
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
