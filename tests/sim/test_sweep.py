"""Parameter sweeps: the same frame on every executor, failures kept as rows, Parquet output, path checks."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import pytest

from restate_lab.sim import Exponential, HandlerBehaviour, Poisson, Simulation, Uniform, Workload
from restate_lab.sim.plots import sweep_heatmap, sweep_label, sweep_lines
from restate_lab.sim.scenario_paths import ParameterPathError, parse_path, set_path
from restate_lab.sim.sweep import SweepWarning, parameter_paths, sweep

from .conftest import OBJECT

matplotlib.use("Agg")
DATA = Path(__file__).resolve().parents[2] / "data"

SCENARIO: dict[str, Any] = {
    "seed": 11,
    "services": OBJECT,
    "retry_policy": {"initial_interval_ms": 10, "factor": 2.0, "max_interval_ms": 500, "max_attempts": None},
    "behaviours": {"Obj/run": {"service_time": {"kind": "exponential", "mean_ms": 4}}},
    "workloads": [
        {
            "service": "Obj",
            "handler": "run",
            "count": 2_000,
            "arrivals": {"kind": "poisson", "rate_per_s": 100},
            "keys": {"kind": "uniform", "n": 50},
            "idempotency_fraction": 0.2,
            "client_retry_probability": 0.3,
        }
    ],
    "record_queues": False,
}
GRID = {"behaviours.Obj/run.failure_probability": [0.0, 0.3], "workloads.0.arrivals.rate_per_s": [100, 400]}


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return sweep(SCENARIO, grid=GRID, seeds=2, progress=False)


def test_serial_sweep_has_a_row_per_point_and_seed_with_parameter_columns(serial: pd.DataFrame) -> None:
    """Grid x seeds rows, point-major; parameters as columns; each run reflects its parameters."""
    assert len(serial) == 8
    assert list(serial.columns[:4]) == ["point", *GRID, "seed"]
    assert serial["point"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert serial["seed"].tolist() == [0, 1] * 4
    assert serial["error"].isna().all()
    assert (serial["invocations"] == 2_000).all()
    failing = serial["behaviours.Obj/run.failure_probability"] == 0.3
    assert (serial.loc[failing, "mean_attempts"] > 1.2).all() and (serial.loc[~failing, "mean_attempts"] == 1).all()
    # different seeds are different runs
    assert serial.loc[0, "p99_latency_ms"] != serial.loc[1, "p99_latency_ms"]


def test_sweep_on_local_processes_gives_the_same_frame(serial: pd.DataFrame) -> None:
    """A ProcessPoolExecutor (ours or the caller's) returns exactly the serial frame."""
    pd.testing.assert_frame_equal(
        sweep(SCENARIO, grid=GRID, seeds=2, executor="processes", workers=2, progress=False), serial, check_exact=True
    )
    with ProcessPoolExecutor(max_workers=2) as pool:
        frame = sweep(SCENARIO, grid=GRID, seeds=2, executor=pool, progress=False)
    pd.testing.assert_frame_equal(frame, serial, check_exact=True)
    assert frame.attrs["sweep"]["executor"] == "ProcessPoolExecutor"


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed (restate-lab[dask])")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_sweep_on_a_dask_local_cluster_gives_the_same_frame(serial: pd.DataFrame, dask_client: Any) -> None:
    """Two Dask worker processes, through a Client or its executor, return exactly the serial frame."""
    pd.testing.assert_frame_equal(
        sweep(SCENARIO, grid=GRID, seeds=2, executor=dask_client, progress=False), serial, check_exact=True
    )
    frame = sweep(SCENARIO, grid=GRID, seeds=2, executor=dask_client.get_executor(), progress=False)
    pd.testing.assert_frame_equal(frame, serial, check_exact=True)
    assert len(dask_client.scheduler_info()["workers"]) == 2


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_invalid_point_is_reported_with_its_parameters_and_the_rest_complete(executor: str) -> None:
    """A point whose scenario cannot be built fills ``error``; a warning names its parameters."""
    grid = {"workloads.0.count": [300, None], "behaviours.Obj/run.failure_probability": [0.0, 0.1]}
    with pytest.warns(SweepWarning, match=r"4 of 8 simulations failed; first: point 2 \(workloads.0.count=None"):
        frame = sweep(SCENARIO, grid=grid, seeds=2, executor=executor, workers=2, progress=False)
    bad = frame["workloads.0.count"].isna()
    assert bad.sum() == 4
    assert frame.loc[bad, "error"].str.contains("needs a count or a duration_ms").all()
    assert frame.loc[bad, "p99_latency_ms"].isna().all()
    assert frame.loc[~bad, "error"].isna().all() and (frame.loc[~bad, "completed"] == 300).all()


def test_a_missing_data_file_fails_only_its_point() -> None:
    """An empirical distribution whose CSV is missing is an error row, reported before anything runs."""
    scenario = copy.deepcopy(SCENARIO)
    path = "behaviours.Obj/run.service_time"
    good = {"kind": "empirical", "file": "service_times_example.csv"}
    missing = {"kind": "empirical", "file": "no_such_file.csv"}
    with pytest.warns(SweepWarning, match="1 of 2"):
        frame = sweep(scenario, grid={path: [good, missing]}, base_dir=DATA, progress=False)
    assert frame["error"].isna().tolist() == [True, False]
    assert "no_such_file.csv" in frame.loc[1, "error"]


def build(seed: int, rate: float, fail: bool = False) -> Simulation:
    """A module-level builder, so that worker processes can import it."""
    if fail:
        raise RuntimeError("refused to build")
    workload = Workload("Obj", "run", Poisson(rate), count=1_000, keys=Uniform(20))
    behaviour = HandlerBehaviour(service_time=Exponential(2))
    return Simulation(OBJECT, {"Obj/run": behaviour}, workloads=[workload], seed=seed)


def napping(seed: int, nap: float) -> Simulation:
    """A builder that takes ``nap`` seconds of wall time."""
    time.sleep(nap)
    return build(seed, 100.0)


def test_timeout_turns_unfinished_simulations_into_error_rows_and_keeps_the_finished() -> None:
    """Past the sweep's timeout, what has not finished is an error row; our worker processes are stopped."""
    with pytest.warns(SweepWarning, match="1 of 2"):
        frame = sweep(
            napping, points=[{"nap": 0.0}, {"nap": 120.0}], executor="processes", workers=2, timeout=3, progress=False
        )
    assert frame["error"].isna().tolist() == [True, False]
    assert frame.loc[1, "error"].startswith("TimeoutError")
    with pytest.warns(SweepWarning, match="2 of 2"):
        serial = sweep(SCENARIO, grid={"workloads.0.count": [10, 20]}, timeout=0, progress=False)
    assert serial["error"].str.startswith("TimeoutError").all()


def test_function_base_gets_seed_and_keyword_parameters_on_any_executor() -> None:
    """A function ``f(seed, **params)`` is a base too; a raising point is its own error row."""
    points = [{"rate": 50.0, "fail": False}, {"rate": 100.0, "fail": True}, {"rate": 200.0, "fail": False}]
    with pytest.warns(SweepWarning, match="rate=100.0, fail=True"):
        serial = sweep(build, points=points, seeds=[3, 4], progress=False)
    with pytest.warns(SweepWarning):
        pooled = sweep(build, points=points, seeds=[3, 4], executor="processes", workers=2, progress=False)
    pd.testing.assert_frame_equal(serial, pooled, check_exact=True)
    assert serial["error"].notna().tolist() == [False, False, True, True, False, False]
    assert serial.loc[2, "error"] == serial.loc[3, "error"] == "RuntimeError: refused to build"
    assert serial.loc[0, "throughput_per_s"] < serial.loc[4, "throughput_per_s"]
    with pytest.raises(TypeError, match="module level"):
        sweep(lambda seed, rate: build(seed, rate), grid={"rate": [1.0]}, executor="processes", progress=False)
    with pytest.raises(ParameterPathError, match="'speed' is not a parameter of build"):
        sweep(build, grid={"speed": [1.0]}, progress=False)
    with pytest.raises(ParameterPathError, match=r"\['completed'\] would share a column"):
        sweep(lambda seed, completed: build(seed, 1.0), grid={"completed": [1]}, progress=False)


def test_kept_frames_are_written_to_parquet_one_file_per_point_and_seed(tmp_path: Path) -> None:
    """``keep`` invocations and queues writes Parquet files, named in the row, holding that run's rows."""
    scenario = {**SCENARIO, "record_queues": True}
    frame = sweep(
        scenario,
        grid={"workloads.0.count": [200, 400]},
        seeds=2,
        keep=("summary", "invocations", "queues"),
        out_dir=tmp_path / "runs",
        executor="processes",
        workers=2,
        progress=False,
    )
    files = sorted((tmp_path / "runs").iterdir())
    assert len(files) == 8
    for row in frame.itertuples(index=False):
        invocations = pd.read_parquet(row.invocations_file)
        assert Path(row.invocations_file).name == f"point{row.point:04d}-seed{row.seed}.invocations.parquet"
        assert len(invocations) == row.submitted and (~invocations["deduplicated"]).sum() == row.invocations
        ran = invocations[~invocations["deduplicated"]]
        assert ran["latency"].quantile(0.99) == pytest.approx(row.p99_latency_ms)
        assert len(pd.read_parquet(row.queues_file)) > 0
    with pytest.raises(ValueError, match="out_dir"):
        sweep(SCENARIO, keep="invocations", progress=False)


def test_utilisation_and_target_select_what_is_kept() -> None:
    """``keep="utilisation"`` adds per-service columns; ``target`` picks a handler's summary row."""
    grid = {"concurrency.Obj": [1, 4]}  # not in the base scenario: a known field, so it may be set
    frame = sweep(SCENARIO, grid=grid, keep=["summary", "utilisation"], target="Obj/run", progress=False)
    assert frame["utilisation.Obj"].iloc[0] > frame["utilisation.Obj"].iloc[1] > 0
    assert "littles_L" not in frame.columns and (frame["invocations"] == 2_000).all()
    with pytest.raises(ValueError, match="not a handler"):
        sweep(SCENARIO, target="Obj/nope", progress=False)
    with pytest.raises(ValueError, match="keep="):
        sweep(SCENARIO, keep="everything", progress=False)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("behaviours.Obj/run.failure_probabilty", "did you mean 'failure_probability'"),
        ("behaviour.Obj/run.failure_probability", "did you mean 'behaviours'"),
        ("behaviours.Obj/ru.failure_probability", "did you mean 'Obj/run'"),
        ("workloads.3.count", "is a list of 1; '3' is not an index 0..0"),
        ("workloads.0.count.value", "is int 2000, it has no field 'value'"),
        ("workloads.0.arrivals.burst_rate_per_s", "did you mean 'rate_per_s'"),
        ("behaviours.Obj/run.service_time.stdev_ms", "did you mean 'mean_ms'"),
        ("workloads.0.delay.mean_ms", "is not set in the scenario; vary 'workloads.0.delay' as a whole"),
        ("seed", "pass seeds="),
        ("workloads..count", "dotted path"),
    ],
)
def test_bad_parameter_paths_are_refused_before_anything_runs(path: str, message: str) -> None:
    """A path that does not name a place in the scenario raises, with a suggestion where one is close."""
    with pytest.raises(ParameterPathError, match=re.escape(message)):
        sweep(SCENARIO, grid={path: [1]}, progress=False)


def test_grid_and_points_are_checked() -> None:
    """Overlapping parameters, both grid and points, uneven points and scalar grid values are refused."""
    with pytest.raises(ParameterPathError, match="overlap"):
        sweep(SCENARIO, grid={"workloads.0": [{}], "workloads.0.count": [1]}, progress=False)
    with pytest.raises(ValueError, match="points is empty"):
        sweep(SCENARIO, points=[], progress=False)
    with pytest.raises(ValueError, match="not both"):
        sweep(SCENARIO, grid={"workloads.0.count": [1]}, points=[{"workloads.0.count": 1}], progress=False)
    with pytest.raises(ValueError, match="same parameters"):
        sweep(SCENARIO, points=[{"workloads.0.count": 1}, {"concurrency.Obj": 1}], progress=False)
    with pytest.raises(ValueError, match="list of values"):
        sweep(SCENARIO, grid={"workloads.0.count": 100}, progress=False)  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="not a built Simulation"):
        sweep(build(0, 1.0), progress=False)


def test_a_handler_policy_created_by_a_path_starts_from_the_scenario_policy() -> None:
    """Setting one retry field of a handler without its own policy keeps the inherited others."""
    spec = copy.deepcopy(SCENARIO)
    set_path(spec, parse_path(spec, "behaviours.Obj/run.retry_policy.max_attempts"), 3)
    assert spec["behaviours"]["Obj/run"]["retry_policy"] == {**SCENARIO["retry_policy"], "max_attempts": 3}
    assert parse_path({"concurrency": {"my.svc": 2}, "services": []}, "concurrency.my.svc") == ("concurrency", "my.svc")


def test_seeds_default_to_the_scenario_seed_and_scenario_files_are_a_base() -> None:
    """``seeds=None`` runs the scenario's own seed; a file base inlines its CSV data for the workers."""
    frame = sweep(
        DATA / "scenario_example.json",
        grid={"behaviours.Checkout/pay.failure_probability": [0.0, 0.3]},
        executor="processes",
        workers=2,
        progress=False,
    )
    assert frame["seed"].tolist() == [7, 7] and frame["error"].isna().all()
    assert frame.loc[0, "mean_attempts"] < frame.loc[1, "mean_attempts"]


def test_progress_bar_counts_finished_simulations(capsys: pytest.CaptureFixture[str]) -> None:
    """The bar ends at the number of simulations run."""
    sweep(SCENARIO, grid={"workloads.0.count": [100, 200, 300]}, progress=True)
    assert "3/3" in capsys.readouterr().err


def test_parameter_paths_lists_numbers_and_per_handler_knobs() -> None:
    """The menu of a scenario: its numbers, each handler's failure share and each service's concurrency."""
    paths = parameter_paths(SCENARIO)
    assert paths["workloads.0.arrivals.rate_per_s"] == 100
    assert paths["behaviours.Obj/run.failure_probability"] is None
    assert paths["behaviours.Obj/peek.failure_probability"] is None and paths["concurrency.Obj"] is None
    assert "seed" not in paths


def test_sweep_plots_draw_lines_with_error_bars_and_a_labelled_heatmap(serial: pd.DataFrame) -> None:
    """One line per ``by`` value with seed error bars; a heatmap cell per grid point; labels carry units."""
    x, by = "workloads.0.arrivals.rate_per_s", "behaviours.Obj/run.failure_probability"
    ax = sweep_lines(serial, x=x, by=by)
    assert len(ax.containers) == 2 and all(c.has_yerr for c in ax.containers)
    assert ax.get_xlabel() == "workload 0: arrival rate (per virtual s)"
    assert ax.get_ylabel() == "p99 latency (virtual ms)" and "over 2 seeds" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Obj/run: share of attempts failing = 0.0",
        "Obj/run: share of attempts failing = 0.3",
    ]
    line = ax.containers[0].lines[0]
    means = serial[serial[by] == 0.0].groupby(x)["p99_latency_ms"].mean()
    assert list(line.get_ydata()) == pytest.approx(list(means))
    heat = sweep_heatmap(serial, x=x, y=by, value="mean_attempts")
    assert heat.images[0].get_array().shape == (2, 2)
    assert sweep_label("mean_attempts") in heat.images[0].colorbar.ax.get_ylabel()
    with pytest.raises(KeyError, match="not in the sweep frame"):
        sweep_lines(serial, x="nope")
