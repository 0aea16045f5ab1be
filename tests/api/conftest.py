"""Every target behind one fixture: the in-process runtime, ``restate-lab serve`` and the real Restate
Server through ``RestateClient``, and the simulator built from a target's own catalogue.

Each target is started once per session and the same script of operations runs against it; the real
server skips (with the reason) where it cannot start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from restate_lab import LocalRestate, RetryPolicy, SimulatedRestate, Simulation
from restate_lab._processes import free_port
from restate_lab.api import IngressApi
from restate_lab.server import RestateClient, RestateServer, RestateServerNotInstalled
from restate_lab.server.binary import find_restate_server
from restate_lab.sim import Constant, HandlerBehaviour, Sleep
from tests.api import apps

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["local", "serve", "real", "sim"]


def _serve() -> Iterator[RestateClient]:
    port, admin_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "restate_lab.cli",
            "serve",
            "tests/api/apps.py:services",
            "--port",
            str(port),
            "--admin-port",
            str(admin_port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    client = RestateClient(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}", timeout=30)
    try:
        deadline = time.monotonic() + 60
        while not client.health():
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"restate-lab serve exited: {out}")
            assert time.monotonic() < deadline, "restate-lab serve did not answer in 60 s"
            time.sleep(0.1)
        yield client
    finally:
        client.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def _real() -> Iterator[RestateClient]:
    try:
        binary = find_restate_server()
    except RestateServerNotInstalled as exc:
        pytest.skip(f"real Restate Server not installed: {exc}")
    with RestateServer.start(apps.app, binary=binary) as srv:
        yield RestateClient(srv.ingress_url, srv.admin_url, timeout=30)


def simulation_of(target: IngressApi) -> Simulation:
    """A simulation of the test services built from ``target``'s catalogue, behaviour added per handler."""
    behaviour: dict[str, Any] = {
        "Greeter/greet": HandlerBehaviour(service_time=5, result=lambda name: f"Hello {name}!"),
        "Greeter/slow": HandlerBehaviour(steps=[Sleep(Constant(30_000))], result=lambda s: f"slept {s}s"),
        "Flaky/fail": HandlerBehaviour(service_time=1, failure_probability=1.0),
        "Signup/run": HandlerBehaviour(service_time=5, result=lambda email: f"welcome {email}"),
    }
    return Simulation(target.catalogue(), behaviours=behaviour, seed=7, retry_policy=RetryPolicy())


@pytest.fixture(scope="session", params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[IngressApi]:
    """One target of each kind, shared by the session's tests."""
    name = request.param
    if name == "local":
        with LocalRestate(apps.services, timeout=30) as lab:
            yield lab
    elif name == "serve":
        yield from _serve()
    elif name == "real":
        yield from _real()
    else:
        with LocalRestate(apps.services) as source:
            sim = simulation_of(source)
        yield SimulatedRestate(sim, timeout=30)


@pytest.fixture
def is_sim(target: IngressApi) -> bool:
    return isinstance(target, SimulatedRestate)


@pytest.fixture
def tag(request: pytest.FixtureRequest) -> str:
    """A name unique to the test and its target, for keys and idempotency keys (servers are shared)."""
    return f"{request.node.name}-{time.monotonic_ns()}".replace("[", "-").replace("]", "")


def wait_until(check: Any, timeout: float = 20.0) -> None:
    """Poll ``check`` until true (bounded)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
