"""Ingress throughput and latency: ``restate-lab serve`` against the real Restate Server 1.7.12.

Both serve the same restate-sdk handler (``Greeter.greet`` below): restate-lab in a ``restate-lab serve``
subprocess, the real server (``restate_lab.server.RestateServer``) invoking it through hypercorn in this
process. The load comes from a separate process: a small asyncio HTTP/1.1 client with N keep-alive
connections (httpx's pool was itself the bottleneck at 64 connections), each looping
``POST /Greeter/greet`` for a warm-up and then a measured, bounded window. Requests/s and
p50/p99 latency for N = 16 and 64 go to ``benchmarks/results/ingress.txt``.

Run by hand (not a test): ``python benchmarks/ingress_benchmark.py [--duration 10] [--warmup 2]``.

``--wrk`` measures instead with wrk (Debian package ``wrk``) at 16 connections, ``--latency``, and adds the
reference the ingress is held to: a bare uvicorn + httptools ASGI app (``bare_app`` below) answering the
same POST with a fixed body, the limit for any Python ingress on this machine. The three servers run side
by side and are measured in turn, round after round (bare, restate-lab, real, bare, ...), so each ratio
compares figures taken within seconds of each other on a machine whose load changes; the section is
appended to the results file:
``python benchmarks/ingress_benchmark.py --wrk [--rounds 3] [--duration 8] [--wrk-threads 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
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

#: What the bare reference answers: the bytes ``Greeter.greet`` answers to the benchmark's ``"bench"``.
BARE_BODY = b'"Hello bench!"'
_BARE_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BARE_BODY))]


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The reference: an ASGI app that reads the request body and answers a fixed 200 (nothing else)."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": _BARE_HEADERS})
    await send({"type": "http.response.body", "body": BARE_BODY})


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


def _wait_up(url: str, proc: subprocess.Popen[str] | None, what: str) -> None:
    """Poll ``url`` until it answers 200 (30 s at most)."""
    import httpx

    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.post(url, json="up", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start: {proc.communicate() if proc else ''}")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


@contextlib.contextmanager
def serving_restate_lab() -> Iterator[str]:
    """``restate-lab serve benchmarks/ingress_benchmark.py:app`` (this tree's package); yields the URL."""
    port, admin_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "restate_lab.cli",
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
        _wait_up(url, proc, "restate-lab serve")
        yield url
    finally:
        _stop(proc)


@contextlib.contextmanager
def serving_bare_app() -> Iterator[str]:
    """``bare_app`` served by uvicorn with httptools on the asyncio loop, as the ingress is; yields the URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "ingress_benchmark:bare_app",
            "--app-dir",
            str(Path(__file__).parent),
            "--http",
            "httptools",
            "--loop",
            "asyncio",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/Greeter/greet"
        _wait_up(url, proc, "the bare uvicorn app")
        yield url
    finally:
        _stop(proc)


def bench_restate_lab(args: argparse.Namespace) -> dict[int, dict[str, Any]]:
    with serving_restate_lab() as url:
        return {c: run_load(url, c, args.warmup, args.duration) for c in CONCURRENCY}


def bench_real_server(args: argparse.Namespace) -> dict[int, dict[str, Any]]:
    from restate_lab.server import RestateServer

    with RestateServer.start(app) as server:
        url = f"{server.ingress_url}/Greeter/greet"
        return {c: run_load(url, c, args.warmup, args.duration) for c in CONCURRENCY}


# -- wrk, with the bare reference (``--wrk``) ----------------------------------------------------

WRK_CONNECTIONS = 16
_WRK_SCRIPT = 'wrk.method = "POST"\nwrk.body = \'"bench"\'\nwrk.headers["content-type"] = "application/json"\n'
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(out: str) -> dict[str, Any]:
    """Requests/s, latency percentiles (ms) and errors from ``wrk --latency`` output."""
    result: dict[str, Any] = {"rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M):
        result[f"p{pct}_ms"] = _ms(value)
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(g) for g in socket.groups()) if socket else 0
    )
    return result


def run_wrk(url: str, script: Path, duration: float, threads: int) -> dict[str, Any]:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{WRK_CONNECTIONS}", f"-d{duration:g}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    ).stdout
    return parse_wrk(out)


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def bench_wrk(args: argparse.Namespace) -> str:
    """Bare app, restate-lab serve and the real server side by side, measured in turn for ``args.rounds``."""
    import tempfile

    from restate_lab.server import RestateServer

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian package wrk; scripts/bootstrap.sh --test installs it)")
    names = ("bare uvicorn+httptools", "restate-lab serve", "restate-server 1.7.12")
    rows: list[tuple[int, str, dict[str, Any], str]] = []
    with contextlib.ExitStack() as stack:
        script = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "post.lua"
        script.write_text(_WRK_SCRIPT)
        urls = [stack.enter_context(serving_bare_app()), stack.enter_context(serving_restate_lab())]
        real = stack.enter_context(RestateServer.start(app))
        urls.append(f"{real.ingress_url}/Greeter/greet")
        for url in urls:  # warm-up: first requests, code paths, connection set-up
            run_wrk(url, script, args.warmup, args.wrk_threads)
        for round_no in range(1, args.rounds + 1):
            for name, url in zip(names, urls, strict=True):
                load = _loadavg()
                rows.append((round_no, name, run_wrk(url, script, args.duration, args.wrk_threads), load))
    lines = [
        f"== {time.strftime('%Y-%m-%d %H:%M %Z')}: wrk -t{args.wrk_threads} -c{WRK_CONNECTIONS} "
        f"-d{args.duration:g}s --latency, POST /Greeter/greet; {args.rounds} rounds, the three servers in turn ==",
        f"python {platform.python_version()}; {os.cpu_count()} CPUs; warm-up {args.warmup:g} s per server; "
        f"load average before: {args.loadavg} (other jobs share the machine: compare within a round)",
        "bare: `uvicorn ingress_benchmark:bare_app --http httptools --loop asyncio` (fixed 200 body, nothing else)",
        "",
        f"{'round':>5} {'server':<24} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'p99/p50':>8} "
        f"{'errors':>6}  loadavg",
    ]
    for round_no, name, r, load in rows:
        lines.append(
            f"{round_no:>5} {name:<24} {r['rps']:>8.0f} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['p99_ms'] / r['p50_ms']:>7.1f}x {r['errors']:>6}  {load}"
        )
    lines.append("")
    for round_no in range(1, args.rounds + 1):
        bare, lab, real_r = (r for n, name, r, _ in rows if n == round_no)
        ratio = lab["rps"] / bare["rps"]
        tail = lab["p99_ms"] / lab["p50_ms"]
        ok = ratio >= 0.4 and lab["p99_ms"] <= real_r["p99_ms"] and tail <= 3
        lines.append(
            f"round {round_no}: restate-lab / bare = {ratio:.2f} (goal >= 0.4); p99 {lab['p99_ms']:.2f} ms vs real "
            f"{real_r['p99_ms']:.2f} ms; p99/p50 {tail:.1f}x (goal <= 3x) -> {'meets' if ok else 'BELOW'} the goals"
        )
    return "\n".join(lines) + "\n"


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
    parser.add_argument("--wrk", action="store_true", help="wrk at 16 connections, with the bare app as reference")
    parser.add_argument("--rounds", type=int, default=3, help="--wrk: rounds of the three servers in turn")
    parser.add_argument("--wrk-threads", type=int, default=2, help="--wrk: wrk's threads (-t)")
    args = parser.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(_load(args.load, args.concurrency, args.warmup, args.duration))))
        return 0
    args.loadavg = _loadavg()
    if args.wrk:
        text = bench_wrk(args)
        with args.out.open("a") as out:  # a new section under the earlier ones: the file keeps its history
            out.write("\n" + text)
        print(text)
        return 0
    lab = bench_restate_lab(args)
    real = bench_real_server(args)
    text = report(args, lab, real)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
