"""Encode and decode cost of the service-protocol messages one invocation exchanges, per message.

Compares the codec in the tree it runs against (``PYTHONPATH`` picks the tree), so two trees can be
measured one after the other in one session:

    PYTHONPATH=. python benchmarks/codec_benchmark.py [--n 50000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from restate_lab.protocol.messages import (
    VOID,
    Frame,
    MessageType,
    Value,
    completion,
    input_command,
    start_message,
)


def _per_call_us(fn: Callable[[], object], n: int) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - started)
    return best / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    n = parser.parse_args().n
    call = completion(MessageType.CALL_COMPLETION, 2, Value(b'"x"'))
    # An Output command (value "42") and a Sleep command (wake-up 1000, completion 1, name "s") as the SDK writes them.
    output = Frame(MessageType.OUTPUT_COMMAND, b"\x72\x04\x0a\x0242")
    sleep = Frame(MessageType.SLEEP_COMMAND, b"\x08\xe8\x07\x58\x01\x62\x01s")
    decoding = {"Output command": output, "Sleep command": sleep, "Call completion": call}
    cases: dict[str, Callable[[], object]] = {
        "encode StartMessage": lambda: start_message(
            invocation_id=b"\x01" * 26,
            debug_id="inv_1abc",
            known_entries=1,
            state=[],
            key=None,
            retry_count=0,
            duration_since_last_stored_entry_ms=0,
            random_seed=12345,
        ),
        "encode InputCommand": lambda: input_command([("content-type", "application/json")], b'"World"'),
        "encode completion": lambda: completion(MessageType.SLEEP_COMPLETION, 1, VOID),
    }
    for name, frame in decoding.items():
        cases[f"decode {name}"] = _decoder(frame)
    for name, fn in cases.items():
        print(f"{name:28s} {_per_call_us(fn, n):6.2f} us")


def _decoder(frame: Frame) -> Callable[[], object]:
    if hasattr(frame, "message"):
        return frame.message
    return frame.fields  # type: ignore[attr-defined, no-any-return]  # the hand-written codec


if __name__ == "__main__":
    main()
