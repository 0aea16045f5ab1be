"""Memory stays bounded once completed invocations and idempotency keys pass their retention.

With ``completion_retention_ms=500`` and ``Work/brief`` keeping idempotent results for one second of the runtime's
manual clock (advanced by the test, so no retention is waited out on the wall clock), several waves
of invocations run from one client event loop: idempotent calls over the HTTP ingress and through the Python API,
each wave with fresh idempotency keys; plain calls; sends; exclusive calls on fresh virtual-object keys. After each
wave the runtime must forget everything: no invocations, idempotency entries, held locks or inboxes, state or
tasks. And the memory Python holds (tracemalloc) must stop growing: from wave 2 to the last wave it grows by a
small fraction of what one wave takes at its peak.
"""

from __future__ import annotations

import asyncio
import gc
import random
import resource
import time
import tracemalloc
import weakref
from typing import Any

import httpx
import pytest

from restate_lab import LocalRestate
from restate_lab.runtime.clock import ManualClock

from .apps import effect_count, forget_effects, load_app
from .conftest import serving

WAVES = 5
#: Invocations per wave by kind; only ``http`` goes through the HTTP ingress (httpx is the slow part here).
PER_WAVE = {"http": 100, "idempotent": 300, "call": 300, "send": 200, "keyed": 200}
CONCURRENCY = 32
COMPLETION_RETENTION_MS = 500
#: ``Work/brief`` keeps idempotent results this long (engine clock): advancing by it passes every retention.
LONGEST_RETENTION_MS = 1_000
#: Wall time for everything to be gone once the clock has passed the retentions.
FORGET_TIMEOUT_S = 15.0
#: Net growth from wave 2 to the last wave, as a fraction of the memory one wave takes at its peak.
MAX_GROWTH_RATIO = 0.05


async def _wave(lab: LocalRestate, http: httpx.AsyncClient, wave: int) -> None:
    """One wave of invocations; request ids repeat across waves (bounded test-side counters), keys do not."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def bounded(job: Any) -> Any:
        async with limit:
            return await job

    async def over_http(n: int) -> Any:
        answer = await http.post(
            "/Work/brief", json={"id": f"mem-http-{n}"}, headers={"idempotency-key": f"w{wave}-http-{n}"}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    jobs = [over_http(n) for n in range(PER_WAVE["http"])]
    jobs += [
        lab.acall("Work", "brief", {"id": f"mem-idem-{n}"}, idempotency_key=f"w{wave}-{n}")
        for n in range(PER_WAVE["idempotent"])
    ]
    jobs += [lab.acall("Work", "do", {"id": f"mem-call-{n}"}) for n in range(PER_WAVE["call"])]
    jobs += [lab.asend("Work", "do", {"id": f"mem-send-{n}"}) for n in range(PER_WAVE["send"])]
    jobs += [lab.acall("Sequencer", "reset", key=f"w{wave}-{n}") for n in range(PER_WAVE["keyed"])]
    # Interleaved, so that every kind is still retained when the wave ends.
    random.Random(wave).shuffle(jobs)
    results = await asyncio.gather(*(bounded(job) for job in jobs))
    assert len(results) == sum(PER_WAVE.values())


def _held(lab: LocalRestate) -> dict[str, int]:
    """What the runtime still holds; every figure should drop to 0 once retention has passed."""
    engine = lab.engine
    return {
        "invocations": len(engine.invocations),
        "idempotency": len(engine.idempotency),
        "locks": len(engine.locks._holder) + len(engine.locks._inbox),
        "state": len(engine.state.service_ids()),
        "tasks": len(engine._tasks),
    }


async def _until_forgotten(lab: LocalRestate, clock: ManualClock) -> float:
    """Move the clock past every retention (again while sends still finish) until the runtime holds nothing."""
    started = time.monotonic()
    while any(_held(lab).values()):
        assert time.monotonic() - started < FORGET_TIMEOUT_S, f"still held after {FORGET_TIMEOUT_S}s: {_held(lab)}"
        clock.advance(LONGEST_RETENTION_MS)
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def _measure(lab: LocalRestate, clock: ManualClock, ingress_url: str) -> tuple[list[int], list[int]]:
    """Traced memory after each forgotten wave (index 0: before wave 1) and each wave's peak."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=ingress_url, limits=limits, timeout=30) as http:
        await _wave(lab, http, wave=0)  # warm-up: imports, caches, connections
        await _until_forgotten(lab, clock)
        tracemalloc.start()
        try:
            after, peaks = [_traced()], []
            for wave in range(1, WAVES + 1):
                tracemalloc.reset_peak()
                await _wave(lab, http, wave)
                peaks.append(tracemalloc.get_traced_memory()[1])
                retained = _held(lab)
                assert retained["invocations"] > 0 and retained["idempotency"] > 0, "retention should hold some"
                forgotten_in = await _until_forgotten(lab, clock)
                after.append(_traced())
                rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(
                    f"\nwave {wave}: held at its end {retained}, all forgotten {forgotten_in:.2f}s later; traced "
                    f"{after[-1] / 1e6:.3f} MB (peak {peaks[-1] / 1e6:.2f} MB); max RSS {rss_mb:.0f} MB"
                )
        finally:
            tracemalloc.stop()
    return after, peaks


@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    "http2",
    [
        pytest.param(False, id="request-response"),
        pytest.param(None, id="bidirectional-default"),
    ],
)
def test_memory_stays_bounded_once_retention_expires(http2: bool | None) -> None:
    """Waves of invocations leave nothing behind once retention passes, and traced memory stops growing."""
    forget_effects("mem-")  # the counts of the other mode's run
    clock = ManualClock()
    with serving(load_app(), completion_retention_ms=COMPLETION_RETENTION_MS, clock=clock, http2=http2) as (
        lab,
        server,
    ):
        after, peaks = asyncio.run(_measure(lab, clock, server.ingress_url))
    # Every request ran its side effect once per wave (warm-up included): nothing lost, nothing repeated.
    for name in ("http", "idem", "call", "send"):
        assert effect_count(f"mem-{name}-0") == WAVES + 1, name
    one_wave = peaks[0] - after[0]
    growth = after[WAVES] - after[2]
    print(
        f"one wave takes {one_wave / 1e6:.2f} MB at its peak; waves 3..{WAVES} grew traced memory by "
        f"{growth / 1e3:.1f} kB ({growth / one_wave:.2%})"
    )
    assert growth < MAX_GROWTH_RATIO * one_wave


def test_an_event_loop_that_called_the_runtime_is_not_kept_alive() -> None:
    """Each ``asyncio.run(lab.acall(...))`` uses a new loop; once it is closed the runtime must let it go."""

    async def call_and_name_loop(lab: LocalRestate) -> weakref.ref[asyncio.AbstractEventLoop]:
        await lab.acall("Work", "do", {"id": "loop"})
        return weakref.ref(asyncio.get_running_loop())

    with LocalRestate(load_app(), completion_retention_ms=0) as lab:
        loops = [asyncio.run(call_and_name_loop(lab)) for _ in range(20)]
        gc.collect()
        alive = sum(ref() is not None for ref in loops)
    assert alive == 0, f"{alive} of 20 closed event loops are still referenced"
