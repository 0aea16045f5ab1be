"""Real handlers under the simulator's workloads on virtual time: queueing theory and the model agree."""

from __future__ import annotations

import math
from datetime import timedelta

import restate

from restate_lab.sim import Call, Exponential, HandlerBehaviour, Poisson, Simulation, Sleep, Workload
from restate_lab.sim.distributions import Constant
from restate_lab.sim.keys import Fixed, Zipf
from restate_lab.sim.real_load import RealLoad

#: 20 000 real invocations take about 30 s of wall time on the 2-core reference machine.
MM1_INVOCATIONS = 20_000

queue = restate.VirtualObject("Queue")


@queue.handler()
async def work(ctx: restate.ObjectContext) -> None:
    ctx.set("seen", (await ctx.get("seen", type_hint=int) or 0) + 1)


front = restate.Service("Front")
back = restate.Service("Back")


@back.handler()
async def lookup(ctx: restate.Context) -> str:
    return "found"


@front.handler()
async def handle(ctx: restate.Context) -> str:
    await ctx.sleep(timedelta(milliseconds=200))
    return await ctx.service_call(lookup, arg=None)


def test_a_real_handler_on_one_key_is_an_m_m_1_queue() -> None:
    """Poisson arrivals, exponential service on one object key: mean queue wait within 5 % of rho/(mu-lambda).

    rho = 0.5 keeps the sample mean's spread at 20 000 invocations near 2 %; the run is seeded.
    """
    lam_per_s, mean_ms = 5.0, 100.0
    load = RealLoad(
        restate.app([queue]),
        [Workload("Queue", "work", Poisson(lam_per_s), count=MM1_INVOCATIONS, keys=Fixed("hot"))],
        service_times={"Queue/work": Exponential(mean_ms)},
        seed=7,
    ).run()
    summary = load.summary_frame().loc["all"]
    assert summary["completed"] == MM1_INVOCATIONS
    mu, lam = 1000.0 / mean_ms, lam_per_s
    expected_wait_ms = (lam / mu) / (mu - lam) * 1000.0
    assert math.isclose(summary["mean_queue_wait_ms"], expected_wait_ms, rel_tol=0.05)
    assert math.isclose(summary["littles_L"], summary["lambda_W"], rel_tol=1e-9)
    depth = load.queue_depth_frame()
    assert set(depth["key"]) == {"hot"} and depth["depth"].iloc[-1] == 0


def test_littles_law_holds_under_bursty_zipf_load_with_idempotent_resends_and_delays() -> None:
    """L = lambda W on a run with Zipf keys, resent idempotency keys and delayed sends; resends deduplicate."""
    from restate_lab.sim.workload import Bursty

    workload = Workload(
        "Queue",
        "work",
        Bursty(2.0, 40.0, 2_000.0, 500.0),
        count=600,
        keys=Zipf(20, 1.2),
        idempotency_fraction=0.5,
        client_retry_probability=0.5,
        client_retry_after=Constant(300.0),
        delay=Exponential(50.0),
    )
    load = RealLoad(
        restate.app([queue]),
        [workload],
        service_times={"Queue/work": Exponential(20.0)},
        concurrency={"Queue": 4},
        seed=3,
    ).run()
    frame = load.invocations_frame()
    summary = load.summary_frame(frame).loc["all"]
    assert summary["deduplicated"] > 0 and summary["invocations"] == summary["completed"]
    assert summary["submitted"] == summary["invocations"] + summary["deduplicated"]
    assert math.isclose(summary["littles_L"], summary["lambda_W"], rel_tol=1e-9)
    assert (frame["ready"].dropna() >= frame["submitted"][frame["ready"].notna()]).all()


def test_sleep_and_call_in_real_code_match_the_simulators_sleep_and_call_steps() -> None:
    """ctx.sleep(200 ms) then a call to a one-slot service (rho 0.25): p50 and p95 latency within 5 % of the model's."""
    n, lam = 4_000, 5.0
    app = restate.app([front, back])
    real = RealLoad(
        app,
        [Workload("Front", "handle", Poisson(lam), count=n)],
        service_times={"Back/lookup": Exponential(50.0)},
        concurrency={"Back": 1},
        seed=11,
    ).run()
    model = Simulation(
        real.catalogue,
        behaviours={
            "Front/handle": HandlerBehaviour(steps=(Sleep(Constant(200.0)), Call("Back", "lookup"))),
            "Back/lookup": HandlerBehaviour(service_time=Exponential(50.0)),
        },
        concurrency={"Back": 1},
        workloads=[Workload("Front", "handle", Poisson(lam), count=n)],
        seed=11,
    ).run()
    from restate_lab.sim.results import invocations_frame, summary_frame

    ours, theirs = real.summary_frame().loc["Front/handle"], summary_frame(model).loc["Front/handle"]
    assert ours["completed"] == theirs["completed"] == n
    for column in ("p50_latency_ms", "p95_latency_ms"):
        assert math.isclose(ours[column], theirs[column], rel_tol=0.05), (column, ours[column], theirs[column])
    assert list(real.summary_frame().columns) == list(summary_frame(model).columns)
    assert list(real.invocations_frame().columns) == list(invocations_frame(model).columns)
