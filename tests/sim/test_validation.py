"""Validation of the simulator against closed-form queueing results at 200 000 invocations."""

from __future__ import annotations

import math

import pytest

from restate_lab.sim import (
    Constant,
    Exponential,
    Fixed,
    HandlerBehaviour,
    Poisson,
    Simulation,
    Workload,
    invocations_frame,
)

from .conftest import OBJECT, SERVICE, assert_littles_law

N = 200_000
MEAN_SERVICE_MS = 10.0


def _mean_wait(sim: Simulation) -> float:
    sim.run(progress=False)
    frame = invocations_frame(sim, ids=False)
    assert (frame["status"] == "completed").all()
    assert_littles_law(sim, frame)
    return float(frame["queue_wait"].mean())


def _one_key(service_time: Constant | Exponential, rho: float, seed: int) -> Simulation:
    rate_per_s = rho / MEAN_SERVICE_MS * 1000
    workload = Workload("Obj", "run", Poisson(rate_per_s), count=N, keys=Fixed("hot"))
    return Simulation(
        OBJECT,
        {"Obj/run": HandlerBehaviour(service_time=service_time)},
        workloads=[workload],
        seed=seed,
        record_queues=False,
    )


@pytest.mark.slow
def test_mm1_mean_wait_on_one_key_matches_closed_form() -> None:
    """One virtual-object key with Poisson arrivals and exponential work is M/M/1: Wq = rho/(mu - lambda)."""
    rho = 0.5
    mu = 1 / MEAN_SERVICE_MS
    expected = rho / (mu - rho * mu)
    simulated = _mean_wait(_one_key(Exponential(MEAN_SERVICE_MS), rho, seed=11))
    assert simulated == pytest.approx(expected, rel=0.05)


@pytest.mark.slow
def test_md1_mean_wait_on_one_key_matches_pollaczek_khinchine() -> None:
    """Constant work on one key is M/D/1: Wq = rho / (2 mu (1 - rho))."""
    rho = 0.6
    mu = 1 / MEAN_SERVICE_MS
    expected = rho / (2 * mu * (1 - rho))
    simulated = _mean_wait(_one_key(Constant(MEAN_SERVICE_MS), rho, seed=12))
    assert simulated == pytest.approx(expected, rel=0.05)


def erlang_c_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in queue of M/M/c by the Erlang C formula."""
    a = arrival_rate / service_rate
    rho = a / servers
    top = a**servers / math.factorial(servers) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(servers)) + top)
    return p_wait / (servers * service_rate - arrival_rate)


@pytest.mark.slow
def test_mmc_mean_wait_with_deployment_concurrency_matches_erlang_c() -> None:
    """A plain service whose deployment runs c attempts at once is M/M/c: Erlang C gives Wq."""
    servers, rho = 4, 0.7
    mu = 1 / MEAN_SERVICE_MS
    lam = rho * servers * mu
    workload = Workload("Svc", "run", Poisson(lam * 1000), count=N)
    sim = Simulation(
        SERVICE,
        {"Svc/run": HandlerBehaviour(service_time=Exponential(MEAN_SERVICE_MS))},
        concurrency={"Svc": servers},
        workloads=[workload],
        seed=13,
        record_queues=False,
    )
    expected = erlang_c_wait(servers, lam, mu)
    simulated = _mean_wait(sim)
    assert simulated == pytest.approx(expected, rel=0.05)
    assert sim.busy_area("Svc") / sim.now / servers == pytest.approx(rho, rel=0.02)
