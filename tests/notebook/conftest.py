"""Targets for the widget tests: the in-process runtime, the simulator, ``restate-lab serve`` and the real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import matplotlib
import pytest

matplotlib.use("Agg")

from restate_lab import LocalRestate  # noqa: E402
from restate_lab.server.client import RestateClient  # noqa: E402

from .apps import APP, make_app  # noqa: E402


@pytest.fixture
def lab() -> Iterator[LocalRestate]:
    """A fresh in-process runtime with the test app, request-response: a handler awaiting a promise suspends
    at once, so the views can be shown a ``suspended`` invocation (a bidirectional stream stays ``running``)."""
    with LocalRestate(make_app(), http2=False) as runtime:
        yield runtime


@pytest.fixture
def simulated(lab: LocalRestate) -> Any:
    """A SimulatedRestate whose catalogue is the test app's, read from the runtime (nothing by hand)."""
    from restate_lab.sim import HandlerBehaviour, SimulatedRestate, Simulation

    sim = Simulation(
        lab.catalogue(),
        {"Greeter/greet": HandlerBehaviour(service_time=5), "Counter/add": HandlerBehaviour(service_time=10)},
    )
    return SimulatedRestate(sim)


@pytest.fixture
def served(lab: LocalRestate) -> Iterator[RestateClient]:
    """``restate-lab serve`` of the test app on free loopback ports, through the HTTP client."""
    from restate_lab.ingress.server import LabServer

    server = LabServer(lab, port=0, admin_port=0).start()
    client = RestateClient(server.ingress_url, server.admin_url, timeout=20.0)
    try:
        yield client
    finally:
        client.close()
        server.stop()


@pytest.fixture(scope="module")
def real() -> Iterator[RestateClient]:
    """The real Restate Server 1.7.12 serving the test app, or a skip saying why it cannot start."""
    from restate_lab.server import RestateServer, RestateServerNotInstalled
    from restate_lab.server.binary import find_restate_server

    try:
        binary = find_restate_server()
    except RestateServerNotInstalled as exc:
        pytest.skip(f"real Restate Server not installed: {exc}")
    if os.environ.get("RESTATE_LAB_SKIP_REAL"):
        pytest.skip("RESTATE_LAB_SKIP_REAL is set")
    with RestateServer.start(APP, binary=binary) as server:
        yield server.client


def wait_until(predicate: Any, timeout: float = 10.0, step: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout`` s pass; bounded in time and count."""
    import time

    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / step) + 1):
        if predicate():
            return True
        if time.monotonic() > deadline:
            break
        time.sleep(step)
    return bool(predicate())
