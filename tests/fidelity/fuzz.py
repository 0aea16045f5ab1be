"""A long differential fuzzing run that counts every distinct difference instead of stopping at the first.

    PYTHONPATH=$PWD python -m tests.fidelity.fuzz --examples 10000 [--seed 1] [--out report.json]

Each difference is classed by :func:`tests.fidelity.compare.signature` (route family, method,
statuses, what differs); the first request of each class is printed with both answers, so every class
can become a fixed scenario in ``tests/conformance/scenarios.py``. Exit status 1 when any was found.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from tests.fidelity.compare import deliberate, observe, send, signature
from tests.fidelity.session import open_pair
from tests.fidelity.strategies import FuzzRequest, requests


def run(examples: int, seed: int) -> dict[str, Any]:
    """Run ``examples`` generated requests against both servers; return the counts and the first of each class."""
    found: dict[str, dict[str, Any]] = {}
    counts = {"examples": 0, "differences": 0, "deliberate": 0}
    started = time.monotonic()
    with open_pair() as pair:

        @hypothesis_seed(seed)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(request=requests())
        def one(request: FuzzRequest) -> None:
            counts["examples"] += 1
            real = send(pair.real, request, pair.real_dp)
            lab = send(pair.lab, request, pair.lab_dp)
            if deliberate(request, real.answer, lab.answer) is not None:
                counts["deliberate"] += 1
                return
            expected, actual = observe(real), observe(lab)
            if expected == actual:
                return
            counts["differences"] += 1
            sig = signature(request, expected, actual)
            entry = found.setdefault(sig, {"count": 0, "request": request.show(), "real": expected, "lab": actual})
            entry["count"] += 1
            if entry["count"] == 1:
                print(
                    f"\n[{len(found)}] {sig}\n  {request.show()}\n  real: {json.dumps(expected, default=str)}"
                    f"\n  lab:  {json.dumps(actual, default=str)}",
                    flush=True,
                )
            if counts["examples"] % 500 == 0:
                print(f"... {counts['examples']} examples", flush=True)

        one()
    return {**counts, "classes": len(found), "seconds": round(time.monotonic() - started, 1), "found": found}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=None, help="write the full report as JSON here")
    args = parser.parse_args()
    report = run(args.examples, args.seed)
    print(
        f"\n{report['examples']} examples in {report['seconds']} s: {report['differences']} differing answers in "
        f"{report['classes']} classes; {report['deliberate']} deliberate differences"
    )
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(report, fh, indent=2, default=str)
    return 1 if report["classes"] else 0


if __name__ == "__main__":
    sys.exit(main())
