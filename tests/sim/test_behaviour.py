"""Behaviour of the simulator: each test pins one Restate rule as the simulator applies it."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from restate_lab.api import IngressApi
from restate_lab.rules import RestateError, RetryPolicy
from restate_lab.sim import (
    Call,
    Constant,
    Exponential,
    HandlerBehaviour,
    KafkaSubscription,
    Poisson,
    Send,
    SimulatedRestate,
    Simulation,
    Sleep,
    Uniform,
    Work,
    Workload,
    invocations_frame,
    queue_depth_frame,
)
from restate_lab.sim.records import READY

from .conftest import OBJECT, SERVICE, assert_littles_law

WORKFLOW = [
    {
        "name": "Signup",
        "ty": "WORKFLOW",
        "handlers": [{"name": "run", "ty": "WORKFLOW"}, {"name": "status", "ty": "SHARED"}],
    }
]


def test_resend_within_retention_is_deduplicated_to_first_invocation() -> None:
    """A repeated idempotency key within retention answers with the first invocation and runs nothing."""
    sim = Simulation(SERVICE, {"Svc/run": HandlerBehaviour(service_time=10, idempotency_retention_ms=1000)})
    first = sim.submit("Svc", "run", idempotency_key="pay-1")
    sim.run(until=5)
    during = sim.submit("Svc", "run", idempotency_key="pay-1")
    sim.run(until=500)
    after = sim.submit("Svc", "run", idempotency_key="pay-1")
    sim.run()
    frame = invocations_frame(sim)
    assert list(frame["deduplicated"]) == [False, True, True]
    assert frame["id"].nunique() == 1
    assert sim.owner(during) == sim.owner(after) == first
    assert frame.loc[1, "completed"] == 10.0 and frame.loc[2, "completed"] == 500.0


def test_resend_after_retention_expires_runs_again() -> None:
    """Once retention has run out since completion, the same idempotency key starts a new invocation."""
    sim = Simulation(SERVICE, {"Svc/run": HandlerBehaviour(service_time=10, idempotency_retention_ms=1000)})
    sim.submit("Svc", "run", idempotency_key="pay-1")
    sim.run(until=1010)  # completed at 10, retention ends at 1010
    sim.submit("Svc", "run", idempotency_key="pay-1")
    sim.run()
    frame = invocations_frame(sim)
    assert list(frame["deduplicated"]) == [False, False]
    # Two invocations with one id: an idempotent request's id derives from its target and key, so
    # Restate Server 1.7.12 gives the new invocation the id of the expired one.
    assert frame["id"].nunique() == 1


def test_retry_backoff_timings_equal_retry_policy_delays() -> None:
    """Attempts after failures start exactly RetryPolicy.delay_ms(n) after the failed attempt ends."""
    policy = RetryPolicy(initial_interval_ms=100, factor=3.0, max_interval_ms=1000)
    behaviour = HandlerBehaviour(service_time=7, failure_schedule=[True, True, True, True], retry_policy=policy)
    sim = Simulation(SERVICE, {"Svc/run": behaviour})
    sim.submit("Svc", "run")
    sim.run()
    expected = sum(7 + policy.delay_ms(n) for n in range(1, 5)) + 7
    row = invocations_frame(sim).iloc[0]
    assert row["attempts"] == 5 and row["status"] == "completed"
    assert row["completed"] == expected


def test_exhausted_retries_pause_and_keep_the_key_locked() -> None:
    """After max attempts the invocation is paused and, like Restate, still blocks its key."""
    policy = RetryPolicy(initial_interval_ms=10, max_attempts=3)
    sim = Simulation(
        OBJECT, {"Obj/run": HandlerBehaviour(service_time=1, failure_probability=1.0, retry_policy=policy)}
    )
    sim.submit("Obj", "run", key="k")
    sim.submit("Obj", "run", key="k")
    sim.run()
    frame = invocations_frame(sim)
    assert list(frame["status"]) == ["paused", "pending"]
    assert frame.loc[0, "attempts"] == 3


def test_exhausted_retries_kill_when_policy_says_kill() -> None:
    """With on_max_attempts='kill' the invocation completes with its last failure and the next one runs."""
    policy = RetryPolicy(initial_interval_ms=10, max_attempts=2, on_max_attempts="kill")
    failing_early = HandlerBehaviour(
        service_time=1, failure_schedule=lambda attempt, now: now < 15, retry_policy=policy
    )
    sim = Simulation(OBJECT, {"Obj/run": failing_early})
    sim.submit("Obj", "run", key="k")
    sim.submit("Obj", "run", key="k")
    sim.run()
    frame = invocations_frame(sim)
    assert list(frame["status"]) == ["completed", "completed"]
    assert list(frame["ended_by"]) == ["retries-exhausted", "success"]
    assert list(frame["completion_failure"].fillna("")) == ["[500] simulated failure", ""]


def test_terminal_failure_ends_without_retry_and_fails_the_caller() -> None:
    """A terminal error is not retried, and it surfaces as a failure in the handler that called it."""
    catalogue = SERVICE + [{"name": "Front", "ty": "SERVICE", "handlers": [{"name": "go", "ty": None}]}]
    sim = Simulation(
        catalogue,
        {
            "Svc/run": HandlerBehaviour(service_time=5, terminal_failure_probability=1.0),
            "Front/go": HandlerBehaviour(steps=[Call("Svc", "run")]),
        },
    )
    sim.submit("Front", "go")
    sim.run()
    frame = invocations_frame(sim)
    assert list(frame["status"]) == ["completed", "completed"]
    assert list(frame["ended_by"]) == ["terminal-error", "terminal-error"]
    assert list(frame["completion_failure"]) == ["[500] simulated terminal failure"] * 2
    assert list(frame["attempts"]) == [1, 1]


def test_invocations_on_one_key_start_in_submission_order() -> None:
    """Exclusive handlers on one key run one at a time, first come first served."""
    workload = Workload("Obj", "run", Poisson(500), count=3000, keys=Uniform(5))
    sim = Simulation(OBJECT, {"Obj/run": HandlerBehaviour(service_time=Exponential(8))}, workloads=[workload], seed=3)
    sim.run()
    frame = invocations_frame(sim, ids=False)
    for _, group in frame.groupby("key", observed=True):
        assert group["started"].is_monotonic_increasing
        assert (group["started"].iloc[1:].to_numpy() >= group["completed"].iloc[:-1].to_numpy()).all()
    depths = queue_depth_frame(sim)
    assert depths["depth"].max() > 1 and depths.groupby("key", observed=True)["depth"].last().eq(0).all()
    assert_littles_law(sim, frame)


def test_shared_handlers_do_not_wait_for_the_key_lock() -> None:
    """A shared handler runs at once on a key whose exclusive handler is busy."""
    sim = Simulation(
        OBJECT, {"Obj/run": HandlerBehaviour(service_time=100), "Obj/peek": HandlerBehaviour(service_time=1)}
    )
    sim.submit("Obj", "run", key="k")
    sim.submit("Obj", "run", key="k")
    peek = sim.submit("Obj", "peek", key="k")
    sim.run()
    assert sim.records.started[peek] == 0.0 and sim.records.completed[peek] == 1.0


def test_workflow_run_executes_once_per_workflow_id() -> None:
    """A workflow id runs its run handler once; a second send is PreviouslyAccepted, a call gets 409."""
    sim = Simulation(WORKFLOW, {"Signup/run": HandlerBehaviour(service_time=50, result=lambda body: "done")})
    restate = SimulatedRestate(sim)
    first = restate.send("Signup", "run", {"user": "ada"}, key="ada")
    again = restate.send("Signup", "run", {"user": "ada"}, key="ada")
    assert (first.status, again.status, again.invocation_id) == ("Accepted", "PreviouslyAccepted", first.invocation_id)
    with pytest.raises(RestateError) as error:
        restate.call("Signup", "run", key="ada")
    assert error.value.code == 409
    assert restate.attach(first.invocation_id) == "done"
    assert restate.call("Signup", "run", key="bob") == "done"
    assert (invocations_frame(sim)["attempts"] > 0).sum() == 2


def test_delayed_send_becomes_runnable_after_its_delay() -> None:
    """A delayed send is scheduled, runs delay ms after submission, and stamps executionTime."""
    sim = Simulation(SERVICE, {"Svc/run": HandlerBehaviour(service_time=5)}, epoch_ms=0)
    restate = SimulatedRestate(sim)
    receipt = restate.send("Svc", "run", delay="2s")
    assert receipt.execution_time == "1970-01-01T00:00:02.000000000Z"
    assert restate.status(receipt.invocation_id) == "scheduled"
    with pytest.raises(RestateError) as error:
        restate.output(receipt.invocation_id)
    assert error.value.code == 470
    restate.attach(receipt.invocation_id)
    row = invocations_frame(sim).iloc[0]
    assert (row["ready"], row["started"], row["completed"]) == (2000.0, 2000.0, 2005.0)


def test_kafka_records_keep_per_partition_order() -> None:
    """Records are ingested in offset order per partition; with partition ordering they also run in order."""
    sub = KafkaSubscription("orders", "Svc", "run", partitions=3, ingest_ms=0.5, ordering="partition")
    workload = Workload(topic="orders", arrivals=Poisson(400), count=2000, keys=Uniform(20))
    sim = Simulation(
        SERVICE,
        {"Svc/run": HandlerBehaviour(service_time=Exponential(5))},
        subscriptions=[sub],
        workloads=[workload],
        seed=5,
    )
    sim.run()
    from restate_lab.sim import consumer_lag_frame, kafka_frame

    records = kafka_frame(sim)
    assert len(records) == 2000 and records["partition"].nunique() == 3
    for _, part in records.groupby("partition"):
        assert part["offset"].is_monotonic_increasing and part["submitted"].is_monotonic_increasing
        assert part["started"].is_monotonic_increasing
        assert (part["started"].iloc[1:].to_numpy() >= part["completed"].iloc[:-1].to_numpy()).all()
    assert consumer_lag_frame(sim)["lag"].max() > 0


def test_kafka_record_key_queues_behind_a_failing_record() -> None:
    """A record's key becomes the object key, so later records on that key wait behind a retrying one."""
    sub = KafkaSubscription("events", "Obj", "run", partitions=1)
    schedule = [True, True]
    behaviour = HandlerBehaviour(
        service_time=1,
        retry_policy=RetryPolicy(initial_interval_ms=100),
        failure_schedule=lambda attempt, now: now < 1 and attempt <= len(schedule),
    )
    sim = Simulation(OBJECT, {"Obj/run": behaviour}, subscriptions=[sub])
    sim._produce("events", sim.key_code("k"))
    sim._produce("events", sim.key_code("k"))
    sim.run()
    frame = invocations_frame(sim)
    assert frame.loc[0, "attempts"] == 2 and frame.loc[1, "started"] >= frame.loc[0, "completed"]


def test_fan_out_calls_and_sends_reach_other_handlers() -> None:
    """Calls wait for the callee; sends do not; sleeps free the deployment slot; journaled steps replay."""
    catalogue = OBJECT + [{"name": "Front", "ty": "SERVICE", "handlers": [{"name": "go", "ty": None}]}]
    sim = Simulation(
        catalogue,
        {
            "Obj/run": HandlerBehaviour(service_time=10),
            "Front/go": HandlerBehaviour(
                steps=[
                    Work(Constant(1)),
                    Send("Obj", "run", "a", delay_ms=100),
                    Call("Obj", "run", "b"),
                    Sleep(Constant(20)),
                    Work(Constant(2)),
                ],
                failure_schedule=[True],
                retry_policy=RetryPolicy(initial_interval_ms=5),
            ),
        },
        concurrency={"Front": 1},
    )
    sim.submit("Front", "go")
    sim.run()
    frame = invocations_frame(sim)
    assert len(frame) == 3  # the retry replays the send and the call from the journal
    front = frame.iloc[0]
    # 1 work, call of 10, sleep 20, work 2 -> fails at 33; back-off 5; replay: works 1 + 2 -> 41
    assert front["completed"] == 41.0 and front["attempts"] == 2
    assert frame.loc[1, "ready"] == 101.0 and frame.loc[2, "parent"] == 0


def test_deployment_concurrency_limit_is_never_exceeded() -> None:
    """No more attempts run at once than the deployment's concurrency limit."""
    workload = Workload("Svc", "run", Poisson(1000), count=2000)
    sim = Simulation(
        SERVICE,
        {"Svc/run": HandlerBehaviour(service_time=Exponential(5))},
        concurrency={"Svc": 3},
        workloads=[workload],
        seed=9,
    )
    sim.run()
    frame = invocations_frame(sim, ids=False)
    events = pd.concat([pd.Series(1, index=frame["started"]), pd.Series(-1, index=frame["completed"])])
    running = events.groupby(level=0).sum().sort_index().cumsum()
    assert running.max() == 3


def test_seeded_runs_are_reproducible() -> None:
    """The same seed gives identical frames; another seed gives different ones."""

    def run(seed: int) -> pd.DataFrame:
        workload = Workload(
            "Obj",
            "run",
            Poisson(200),
            count=2000,
            keys=Uniform(10),
            idempotency_fraction=0.5,
            client_retry_probability=0.3,
            client_retry_after=Exponential(50),
            delay=Exponential(20),
        )
        behaviour = HandlerBehaviour(
            service_time=Exponential(4), failure_probability=0.2, retry_policy=RetryPolicy(initial_interval_ms=10)
        )
        sim = Simulation(OBJECT, {"Obj/run": behaviour}, workloads=[workload], seed=seed)
        return invocations_frame(sim.run())

    pd.testing.assert_frame_equal(run(1), run(1))
    assert not run(1)["completed"].equals(run(2)["completed"])


def test_client_retries_with_idempotency_keys_are_deduplicated() -> None:
    """Clients resending with the same idempotency key within retention create no new invocations."""
    workload = Workload(
        "Svc",
        "run",
        Poisson(100),
        count=1000,
        idempotency_fraction=1.0,
        client_retry_probability=1.0,
        client_retry_after=Constant(30),
    )
    sim = Simulation(SERVICE, {"Svc/run": HandlerBehaviour(service_time=Exponential(10))}, workloads=[workload], seed=2)
    frame = invocations_frame(sim.run())
    assert len(frame) == 2000 and frame["deduplicated"].sum() == 1000
    assert frame["id"].nunique() == 1000


def test_simulated_restate_satisfies_the_ingress_protocol() -> None:
    """SimulatedRestate is an IngressApi and lists its catalogue like admin GET /services."""
    restate = SimulatedRestate(Simulation(OBJECT))
    assert isinstance(restate, IngressApi)
    assert restate.services() == OBJECT
    with pytest.raises(RestateError) as error:
        restate.call("Nope", "x")
    assert error.value.code == 404


def test_kill_releases_the_key_for_the_next_invocation() -> None:
    """Killing a running invocation ends it now and lets the next one on its key start."""
    sim = Simulation(OBJECT, {"Obj/run": HandlerBehaviour(service_time=100)})
    restate = SimulatedRestate(sim)
    first = restate.send("Obj", "run", key="k")
    second = restate.send("Obj", "run", key="k")
    restate.advance(10)
    restate.kill(first.invocation_id)
    restate.attach(second.invocation_id)
    assert restate.status(first.invocation_id) == "completed" and restate.now_ms == 110.0
    with pytest.raises(RestateError) as killed:
        restate.output(first.invocation_id)
    assert (killed.value.code, killed.value.message, killed.value.source) == (409, "killed", "invocation")


def test_importing_the_simulator_does_not_import_matplotlib() -> None:
    """Plots import matplotlib lazily, so importing the package stays light."""
    code = "import sys, restate_lab.sim; print('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


TWO_HANDLERS = [
    {"name": "Svc", "ty": "SERVICE", "handlers": [{"name": "flaky", "ty": None}, {"name": "slow", "ty": None}]}
]


def test_cancel_of_a_retry_waiting_for_a_deployment_slot_ends_it_when_the_slot_frees() -> None:
    """A retry queued for a full deployment (ready, one attempt run) ends cancelled once it gets the slot."""
    sim = Simulation(
        TWO_HANDLERS,
        {
            "Svc/flaky": HandlerBehaviour(service_time=10, failure_schedule=[True, False]),
            "Svc/slow": HandlerBehaviour(service_time=100),
        },
        retry_policy=RetryPolicy(initial_interval_ms=10, max_attempts=None),
        concurrency={"Svc": 1},
    )
    flaky = sim.submit("Svc", "flaky")
    slow = sim.submit("Svc", "slow")
    sim.run(until=30)  # flaky failed at 10, slow holds the slot since, flaky's back-off ended at 20
    assert (sim.records.status[flaky], sim.records.attempts[flaky]) == (READY, 1)
    sim.cancel(flaky)
    sim.run()
    frame = invocations_frame(sim)
    rows = frame.loc[[flaky, slow]]
    assert list(rows["ended_by"]) == ["cancelled", "success"]
    assert list(rows["completed"]) == [110.0, 110.0]
    assert list(rows["attempts"]) == [1, 1]
