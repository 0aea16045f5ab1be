"""Ingress throughput and latency: ``restate-lab serve`` against the real Restate Server 1.7.12.

Both serve the same restate-sdk handler (``Greeter.greet`` below): restate-lab in a ``restate-lab serve``
subprocess, the real server (``restate_lab.server.RestateServer``) invoking it through hypercorn in this
process. The load comes from a separate process: a small asyncio HTTP/1.1 client with N keep-alive
connections (httpx's pool was itself the bottleneck at 64 connections), each looping
``POST /Greeter/greet`` for a warm-up and then a measured, bounded window. Requests/s and
p50/p99 latency for N = 16 and 64 go to ``benchmarks/results/ingress.txt``.

Run by hand (not a test): ``python benchmarks/ingress_benchmark.py [--duration 10] [--warmup 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import restate

from restate_lab._processes import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "ingress.txt"
CONCURRENCY = (16, 64)

greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}!"


app = restate.app([greeter])


# -- load generator (runs in its own process: ``--load``) -------------------------------------


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One keep-alive HTTP/1.1 exchange; returns the status (the body is read and dropped)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _load(url: str, concurrency: int, warmup: float, duration: float) -> dict[str, Any]:
    """N connections, each sending the next request as soon as the previous answer is read."""
    parsed = urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    body = b'"bench"'
    request = (
        f"POST {parsed.path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    stop_at = measure_from + duration

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                t0 = loop.time()
                if t0 >= stop_at:
                    return
                try:
                    ok = await _request(reader, writer, request) == 200
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    ok = False
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                t1 = loop.time()
                if t0 >= measure_from and t1 <= stop_at:
                    if ok:
                        latencies.append(t1 - t0)
                    else:
                        errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors,
        "rps": n / duration,
        "p50_ms": 1000 * latencies[n // 2] if n else float("nan"),
        "p99_ms": 1000 * latencies[min(n - 1, int(n * 0.99))] if n else float("nan"),
        "mean_ms": 1000 * statistics.fmean(latencies) if n else float("nan"),
    }


def run_load(url: str, concurrency: int, warmup: float, duration: float) -> dict[str, Any]:
    """Start the load generator in a separate process and return its figures."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--load",
            url,
            "--concurrency",
            str(concurrency),
            "--warmup",
            str(warmup),
            "--duration",
            str(duration),
        ],
        capture_output=True,
        text=True,
        timeout=warmup + duration + 120,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- servers ---------------------------------------------------------------------------------


def bench_restate_lab(args: argparse.Namespace) -> dict[int, dict[str, Any]]:
    import httpx

    port, admin_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            "restate-lab",
            "serve",
            f"{Path(__file__).relative_to(ROOT)}:app",
            "--port",
            str(port),
            "--admin-port",
            str(admin_port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/Greeter/greet"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.post(url, json="up", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"restate-lab serve did not start: {proc.communicate()}")
            time.sleep(0.1)
        return {c: run_load(url, c, args.warmup, args.duration) for c in CONCURRENCY}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def bench_real_server(args: argparse.Namespace) -> dict[int, dict[str, Any]]:
    from restate_lab.server import RestateServer

    with RestateServer.start(app) as server:
        url = f"{server.ingress_url}/Greeter/greet"
        return {c: run_load(url, c, args.warmup, args.duration) for c in CONCURRENCY}


# -- report ----------------------------------------------------------------------------------


def _row(name: str, c: int, r: dict[str, Any]) -> str:
    return (
        f"{name:<22} {c:>4} {r['rps']:>10.0f} {r['p50_ms']:>9.2f} {r['p99_ms']:>9.2f} {r['mean_ms']:>9.2f} "
        f"{r['requests']:>9} {r['errors']:>6}"
    )


def report(args: argparse.Namespace, lab: dict[int, dict[str, Any]], real: dict[int, dict[str, Any]]) -> str:
    lines = [
        "Ingress benchmark: POST /Greeter/greet (restate-sdk handler returning f'Hello {name}!')",
        f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; python {platform.python_version()}; "
        f"{platform.platform()}; {os.cpu_count()} CPUs; loadavg before: {args.loadavg}",
        f"load: separate process, asyncio HTTP/1.1 client, N keep-alive connections; warm-up {args.warmup:g} s, "
        f"measured {args.duration:g} s per configuration; both servers measured in this one run.",
        "restate-lab: `restate-lab serve benchmarks/ingress_benchmark.py:app` (uvicorn, runtime in-process).",
        "real: Restate Server 1.7.12 (RestateServer harness) -> the same handler served by hypercorn.",
        "NOTE: shared, noisy 2-CPU machine; the load generator competes with the servers for CPU, so absolute",
        "figures are low and vary run to run; compare the two servers within this run only.",
        "",
        f"{'server':<22} {'conn':>4} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9} {'requests':>9} "
        f"{'errors':>6}",
    ]
    for c in CONCURRENCY:
        lines.append(_row("restate-lab serve", c, lab[c]))
        lines.append(_row("restate-server 1.7.12", c, real[c]))
    lines.append("")
    for c in CONCURRENCY:
        ratio = lab[c]["rps"] / real[c]["rps"] if real[c]["rps"] else float("inf")
        p99_ok = lab[c]["p99_ms"] <= real[c]["p99_ms"]
        verdict = "meets" if ratio >= 3 and p99_ok else "BELOW"
        lines.append(
            f"{c:>3} connections: req/s ratio restate-lab / real = {ratio:.2f}x; p99 "
            f"{lab[c]['p99_ms']:.2f} vs {real[c]['p99_ms']:.2f} ms ({'no worse' if p99_ok else 'worse'})"
            f" -> {verdict} the goal (>= 3x req/s, p99 no worse)"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per configuration")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per configuration")
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=16, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the results")
    args = parser.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(_load(args.load, args.concurrency, args.warmup, args.duration))))
        return 0
    args.loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    lab = bench_restate_lab(args)
    real = bench_real_server(args)
    text = report(args, lab, real)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
