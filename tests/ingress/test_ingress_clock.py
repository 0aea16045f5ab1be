"""Over HTTP, delays, execution times and idempotency expiry follow the runtime's clock, here a manual one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import restate

from restate_lab import LocalRestate
from restate_lab.ingress.server import LabServer
from restate_lab.rules.durations import format_rfc3339
from restate_lab.runtime.clock import ManualClock

from .conftest import ingress_error, services

#: Greeter's handlers keep idempotent results for Restate's default: one day.
ONE_DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def http(clock: ManualClock) -> Iterator[httpx.Client]:
    """A LabServer (free loopback port) over a runtime whose clock moves only when a test advances it."""
    lab = LocalRestate(restate.app(services), clock=clock)
    server = LabServer(lab, port=0, admin_port=None).start()
    try:
        with httpx.Client(base_url=server.ingress_url, timeout=15.0) as client:
            yield client
    finally:
        server.stop()
        lab.close()


def test_delayed_send_runs_when_the_clock_reaches_its_execution_time(http: httpx.Client, clock: ManualClock) -> None:
    """?delay=1s: executionTime is the clock + 1 s; output is 470 until the clock gets there, then attach answers."""
    due = clock.now_ms() + 1_000
    response = http.post("/Greeter/greet/send?delay=1s", json="Later")
    assert response.status_code == 202, response.text
    payload = response.json()
    assert payload["executionTime"] == format_rfc3339(due)
    inv = payload["invocationId"]
    clock.advance(999)
    ingress_error(http.get(f"/restate/invocation/{inv}/output"), 470, "the invocation exists but has not completed yet")
    clock.advance(1)
    attached = http.get(f"/restate/invocation/{inv}/attach")
    assert (attached.status_code, attached.json()) == (200, "Hello Later!")


def test_idempotency_expires_is_completion_plus_retention_on_the_clock(http: httpx.Client, clock: ManualClock) -> None:
    """A repeated idempotent call answers idempotency-expires = completion time (engine clock) + one day."""
    completed_at = clock.now_ms()
    headers = {"idempotency-key": f"clock-{completed_at}"}
    assert http.post("/Greeter/greet", json="Ada", headers=headers).status_code == 200
    clock.advance(5_000)
    again = http.post("/Greeter/greet", json="Eve", headers=headers)
    assert again.json() == "Hello Ada!"
    expected = datetime.fromtimestamp((completed_at + ONE_DAY_MS) / 1000, tz=UTC)
    assert again.headers["idempotency-expires"] == expected.isoformat(timespec="milliseconds")
