"""Scenario files, catalogue round trips, and plot helpers."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from restate_lab.rules import HandlerType, ServiceType
from restate_lab.rules.admission import send_status, takes_key_lock
from restate_lab.sim import Catalogue, invocations_frame, load_scenario, queue_depth_frame, summary_frame

from .conftest import assert_littles_law

DATA = Path(__file__).resolve().parents[2] / "data"


def test_scenario_file_builds_a_runnable_simulation() -> None:
    """The example scenario (catalogue, behaviours, empirical CSV, workloads) runs to completion."""
    sim = load_scenario(DATA / "scenario_example.json").run()
    frame = invocations_frame(sim, ids=False)
    assert set(frame["target"].astype(str)) == {"Checkout/pay", "Cart/add", "Cart/get"}
    assert frame["deduplicated"].any() and (frame["attempts"] > 1).any()
    assert summary_frame(sim, frame).loc["all", "completed"] == (~frame["deduplicated"]).sum()
    assert_littles_law(sim, frame)


def test_catalogue_round_trips_the_admin_services_shape() -> None:
    """A catalogue read from admin GET /services writes back the same list."""
    services = [
        {"name": "W", "ty": "WORKFLOW", "handlers": [{"name": "run", "ty": "WORKFLOW"}, {"name": "q", "ty": "SHARED"}]},
        {"name": "S", "ty": "SERVICE", "handlers": [{"name": "h", "ty": None}]},
    ]
    assert Catalogue.from_admin(services).to_admin() == services


def test_lock_and_send_status_rules_are_shared_with_the_runtime() -> None:
    """Only exclusive handlers of keyed services lock (a workflow's run does not); repeats are PreviouslyAccepted."""
    assert takes_key_lock(ServiceType.VIRTUAL_OBJECT, HandlerType.EXCLUSIVE)
    assert not takes_key_lock(ServiceType.WORKFLOW, HandlerType.WORKFLOW)
    assert not takes_key_lock(ServiceType.VIRTUAL_OBJECT, HandlerType.SHARED)
    assert not takes_key_lock(ServiceType.SERVICE, None)
    assert send_status(False) == "PreviouslyAccepted"


def test_plot_helpers_draw_from_frames() -> None:
    """Latency CDF, queue depth and key timeline plots draw from simulation frames."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from restate_lab.sim import plots

    sim = load_scenario(DATA / "scenario_example.json").run()
    frame = invocations_frame(sim, ids=False)
    assert plots.latency_cdf(frame).get_lines()
    assert plots.queue_depth(queue_depth_frame(sim)).get_lines()
    assert plots.key_timeline(frame, "key-0").patches
    plt.close("all")


def test_key_timeline_marks_every_execution_start_so_short_runs_show() -> None:
    """A dot for each invocation that ran (a 4 ms run on a 1 s axis is under a pixel), a legend; empty keys say so."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from restate_lab.sim import plots

    sim = load_scenario(DATA / "scenario_example.json").run()
    frame = invocations_frame(sim, ids=False)
    ran = frame[(frame["key"] == "key-0") & ~frame["deduplicated"]].head(30)["started"].notna().sum()
    ax = plots.key_timeline(frame, "key-0", limit=30)
    assert len(ax.collections[0].get_offsets()) == ran > 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["waiting", "running"]
    empty = plots.key_timeline(frame, "no-such-key")
    assert any("no invocations on key" in t.get_text() for t in empty.texts)
    plt.close("all")
