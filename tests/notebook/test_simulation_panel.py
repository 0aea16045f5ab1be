"""The simulation panel: settings as traits, Run with progress, summary and plots, previous run kept."""

from __future__ import annotations

from typing import Any

from restate_lab.widgets import SimulationPanel


def _small(panel: SimulationPanel, **settings: Any) -> SimulationPanel:
    panel.rate_per_s, panel.count, panel.service_time_ms, panel.key_count, panel.zipf_s = 100, 400, 5, 5, 1.1
    for name, value in settings.items():
        setattr(panel, name, value)
    return panel


def test_panel_reads_handlers_from_the_target_catalogue(lab: Any) -> None:
    """The handler picker lists the target's handlers with their kind and starts on a keyed one."""
    panel = SimulationPanel(lab)
    values = [v for _, v in panel.target_picker.options]
    assert "Counter/add" in values and "Greeter/greet" in values
    assert panel.target == "Counter/add"


def test_run_shows_progress_summary_and_plots(lab: Any) -> None:
    """Run fills the progress bar, the summary frame and three titled plots."""
    panel = _small(SimulationPanel(lab))
    panel.run_button.click()
    assert panel.wait(120)
    assert panel.progress == 1.0 and panel.progress_bar.value == 1.0 and panel.message == ""
    summary = panel.summary
    assert summary is not None and summary.loc["all", "submitted"] == 400
    assert summary.loc["all", "completed"] == 400
    titles = [ax.get_title() for ax in panel.figure.axes]
    assert titles[0] == "latency CDF" and titles[1] == "queue depth over time (all keys)"
    assert "hottest key" in titles[2]
    assert all(ax.get_xlabel() for ax in panel.figure.axes)
    shown = panel.summary_panel.value
    # Two tables, each narrow enough for a notebook: what happened, then how long it took.
    assert shown.count("<table") == 2 and shown.index("deduplicated") < shown.index("latency, in virtual time")
    assert shown.index("latency, in virtual time") < shown.index("p99 (ms)") and "queue wait (ms)" in shown
    assert panel.plots.value[:8] == b"\x89PNG\r\n\x1a\n" and panel.plots.layout.display is None


def test_previous_run_stays_on_the_plot(lab: Any) -> None:
    """A second run is drawn with the first one (dashed) for comparison, and both stay in runs."""
    panel = _small(SimulationPanel(lab))
    panel.run()
    assert panel.wait(120)
    panel.failure_rate, panel.retry_initial_ms = 0.3, 20.0
    panel.run()
    assert panel.wait(120)
    assert [r.label for r in panel.runs] == ["run 1", "run 2"]
    cdf = panel.figure.axes[0]
    assert [line.get_label() for line in cdf.lines] == ["run 1", "run 2"]
    assert cdf.lines[0].get_linestyle() == "--"
    assert panel.runs[1].summary.loc["all", "mean_attempts"] > panel.runs[0].summary.loc["all", "mean_attempts"]
    assert panel.runs[1].parameters["failure_rate"] == 0.3
    assert "all (run 1)" in panel.summary_panel.value


def test_idempotency_and_concurrency_settings_reach_the_model(lab: Any) -> None:
    """Client resends with idempotency keys are deduplicated; a concurrency limit makes queueing."""
    panel = _small(
        SimulationPanel(lab, synchronous=True),
        target="Greeter/greet",
        idempotent_share=1.0,
        client_resend_share=0.5,
        concurrency=1,
        service_time_ms=20,
    )
    panel.run()
    summary = panel.summary
    assert summary is not None and summary.loc["all", "deduplicated"] > 0
    assert summary.loc["all", "mean_queue_wait_ms"] > 0
    assert "no keys" in panel.figure.axes[2].texts[0].get_text()


def test_bad_settings_are_refused_with_a_message(lab: Any) -> None:
    """A non-positive arrival rate is refused in the widget; nothing runs."""
    panel = SimulationPanel(lab)
    panel.fields["rate_per_s"].min = -5  # allow the slider to show what code sets
    panel.rate_per_s = 0.0
    assert panel.run() is False and "must be positive" in panel.message and not panel.runs
    assert "⚠" in panel.status_label.value


def test_panel_from_a_simulated_target(simulated: Any) -> None:
    """The panel builds from a SimulatedRestate's catalogue as well."""
    panel = _small(SimulationPanel(simulated, synchronous=True))
    panel.run()
    assert panel.summary is not None and panel.summary.loc["all", "completed"] == 400


def test_a_small_sweep_from_the_panel_varies_one_setting_over_seeds(simulated: Any) -> None:
    """Sweep runs restate_lab.sim.sweep over the typed values (a row per value and seed) and plots p99."""
    panel = SimulationPanel(simulated, synchronous=True)
    panel.target = "Counter/add"
    panel.count, panel.service_time_ms = 300, 2.0
    panel.sweep_picker.value = "rate_per_s"
    panel.sweep_values.value = "50, 400"
    panel.sweep_seeds.value = 2
    assert panel.sweep() is True and panel.message == ""
    frame = panel.sweep_frame
    assert frame is not None and len(frame) == 4 and frame["error"].isna().all()
    assert sorted(set(frame["rate_per_s"])) == [50.0, 400.0] and sorted(set(frame["seed"])) == [0, 1]
    slow, fast = (frame[frame["rate_per_s"] == r]["mean_queue_wait_ms"].mean() for r in (400.0, 50.0))
    assert slow > fast  # more load on the same keys queues longer
    assert panel.figure is not None


def test_sweep_values_that_are_not_numbers_are_refused_in_the_panel(simulated: Any) -> None:
    """Bad sweep values get a message in the widget, and nothing runs."""
    panel = SimulationPanel(simulated, synchronous=True)
    panel.sweep_values.value = "fast, slow"
    assert panel.sweep() is False and "numbers" in panel.message and panel.sweep_frame is None


def test_dense_queue_depth_is_drawn_per_window_with_its_time_weighted_mean_and_peak() -> None:
    """Thousands of steps would paint a solid block at notebook size: windows show the mean and the peak."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from restate_lab.notebook.plots import binned_depth, compare_queue_depth

    # depth 0 on [0, 1), 4 on [1, 2), 2 on [2, 4): two windows of 2 ms each
    steps = pd.DataFrame({"time": [0.0, 1.0, 2.0, 4.0], "depth": [0.0, 4.0, 2.0, 2.0]})
    windows = binned_depth(steps, bins=2)
    assert windows is not None
    assert windows["mean"].tolist() == [2.0, 2.0] and windows["peak"].tolist() == [4.0, 2.0]
    assert windows["time"].tolist() == [1.0, 3.0]

    times = [float(t) for t in range(3000)]
    queues = pd.DataFrame({"time": times, "service": "S", "key": "k", "depth": [float(t % 3) for t in range(3000)]})
    fig, (sparse, dense) = plt.subplots(1, 2)
    compare_queue_depth([("run 1", queues.head(50))], ax=sparse)
    compare_queue_depth([("run 1", queues)], ax=dense)
    assert len(sparse.lines[0].get_xdata()) == 50  # few changes: the steps themselves
    assert len(dense.lines[0].get_xdata()) == 200 and dense.collections  # many: 200 windows and a peak band
    assert [t.get_text() for t in dense.get_legend().get_texts()] == ["run 1: mean", "run 1: peak per 15 ms"]
    plt.close(fig)
