"""Measure the latency trace in ``data/latency_trace.csv``: calls to the demo Greeter on a real Restate Server.

Starts Restate Server 1.7.12 (``restate_lab.server.RestateServer``, free loopback ports), registers the demo app
(``restate_lab.examples.demo``), warms up, then times ``N`` sequential ``POST /Greeter/greet`` requests from one
keep-alive ``httpx`` client and writes one row per request. Run from the repository root::

    python data/measure_latency_trace.py            # 1000 requests
    python data/measure_latency_trace.py --count 200 --out /tmp/trace.csv
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import httpx

from restate_lab.examples.demo import app
from restate_lab.server import RestateServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--out", default=str(Path(__file__).with_name("latency_trace.csv")))
    args = parser.parse_args()
    rows = []
    with RestateServer.start(app) as server, httpx.Client(base_url=server.ingress_url, timeout=10) as http:
        for i in range(args.warmup + args.count):
            started = time.perf_counter()
            answer = http.post("/Greeter/greet", json=f"caller-{i}")
            elapsed_ms = (time.perf_counter() - started) * 1000
            answer.raise_for_status()
            if i >= args.warmup:
                rows.append({"latency_ms": round(elapsed_ms, 3), "request": i - args.warmup})
    with open(args.out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["latency_ms", "request"])
        writer.writeheader()
        writer.writerows(rows)
    values = sorted(r["latency_ms"] for r in rows)
    print(
        f"wrote {len(rows)} rows to {args.out}: p50 {values[len(values) // 2]:.2f} ms, "
        f"p99 {values[int(len(values) * 0.99)]:.2f} ms"
    )


if __name__ == "__main__":
    main()
