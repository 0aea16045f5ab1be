"""The parity suite: one table of lifecycle scenarios on the simulator, the runtime and the real server.

Every scenario in :data:`tests.parity.scenarios.SCENARIOS` runs on ``SimulatedRestate`` (virtual
time), on ``LocalRestate`` (in process) and on Restate Server 1.7.12 (skipped, with the reason,
when the binary is not installed); each must answer what the real server answers, unless the
table documents a limit of that target's model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from restate_lab import LocalRestate

from .app import app
from .drivers import Driver, LocalDriver, RealDriver, SimDriver
from .models import simulated_restate
from .scenarios import SCENARIOS, Scenario


@pytest.fixture(scope="module")
def local() -> Iterator[LocalDriver]:
    # Request-response, as the real server of this suite has the app registered (over HTTP/1.1):
    # a sleep or an awaited promise suspends at once on both.
    with LocalRestate(app, http2=False) as lab:
        yield LocalDriver(lab)


@pytest.fixture(scope="module")
def real() -> Iterator[RealDriver]:
    from restate_lab.server import RestateServer
    from restate_lab.server.binary import RestateServerNotInstalled

    # The handlers raise on purpose; the SDK logs every failed attempt with its traceback.
    logging.getLogger("restate").setLevel(logging.CRITICAL)
    try:
        server = RestateServer(env={"RESTATE_WORKER__CLEANUP_INTERVAL": "1s"})
    except RestateServerNotInstalled as exc:
        pytest.skip(f"real Restate Server not installed, nothing to compare against: {exc}")
    with server:
        # Request-response (HTTP/1.1), as the in-process runtime speaks to its apps: a sleep suspends.
        server.register(app, use_http_11=True)
        server.client.http.timeout = 30
        yield RealDriver(server.client)


def _expected(scenario: Scenario, target: str) -> list[object]:
    limit = scenario.limits.get(target)
    return list(scenario.expected if limit is None else limit.answers)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_simulator_answers_as_the_real_server(scenario: Scenario) -> None:
    """SimulatedRestate answers each lifecycle scenario as Restate Server 1.7.12 does."""
    driver: Driver = SimDriver(simulated_restate())
    assert scenario.run(driver) == _expected(scenario, "sim")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_runtime_answers_as_the_real_server(scenario: Scenario, local: LocalDriver) -> None:
    """LocalRestate answers each lifecycle scenario as Restate Server 1.7.12 does."""
    assert scenario.run(local) == _expected(scenario, "local")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_real_server_answers_as_the_table_says(scenario: Scenario, real: RealDriver) -> None:
    """Restate Server 1.7.12 still answers what the table records (a new version that changes it fails here)."""
    assert scenario.run(real) == _expected(scenario, "real")
