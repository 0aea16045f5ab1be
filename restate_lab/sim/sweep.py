"""Parameter sweeps: many seeded simulations of one scenario, on one core, local processes or a Dask cluster.

A sweep takes a base scenario (a dict as in ``data/scenario_example.json``, a scenario file, or a
function building a :class:`~restate_lab.sim.Simulation`), a grid or a list of parameter points named by
dotted paths into the scenario, and seeds; it runs one simulation per point and seed and returns one tidy
frame, a row per point and seed with the parameters as columns. Each task is a plain dict in and a small
dict out (the summary is built in the worker; per-invocation frames go to Parquet files, never back
through the executor), so any ``concurrent.futures.Executor`` runs it -- the same call on a laptop or a
cluster -- and the frame is identical whichever ran it.

>>> from restate_lab.sim import sweep
>>> scenario = {
...     "services": [{"name": "Cart", "ty": "VIRTUAL_OBJECT", "handlers": [{"name": "add", "ty": "EXCLUSIVE"}]}],
...     "behaviours": {"Cart/add": {"service_time": {"kind": "exponential", "mean_ms": 3}}},
...     "workloads": [{"service": "Cart", "handler": "add", "count": 500,
...                    "arrivals": {"kind": "poisson", "rate_per_s": 200}, "keys": {"kind": "zipf", "n": 20}}],
... }
>>> frame = sweep(scenario, grid={"behaviours.Cart/add.failure_probability": [0.0, 0.2],
...                               "workloads.0.arrivals.rate_per_s": [100, 200]}, seeds=2, progress=False)
>>> frame.shape[0], list(frame.columns[:4])
(8, ['point', 'behaviours.Cart/add.failure_probability', 'workloads.0.arrivals.rate_per_s', 'seed'])
>>> bool(frame["error"].isna().all())
True

On local processes: ``executor="processes"``. On Dask::

    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        frame = sweep("data/scenario_example.json", grid=..., seeds=4, executor=client)

Plot with :func:`restate_lab.sim.plots.sweep_lines` and :func:`restate_lab.sim.plots.sweep_heatmap`.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import json
import numbers
import os
import pickle
import sys
import time
import tomllib
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from restate_lab.sim.distributions import Empirical
from restate_lab.sim.engine import Simulation
from restate_lab.sim.results import invocations_frame, queue_depth_frame, summary_frame, utilisation_frame
from restate_lab.sim.scenario import simulation_from_dict
from restate_lab.sim.scenario_paths import (
    ParameterPathError,
    check_disjoint,
    get_path,
    numeric_leaves,
    parse_path,
    scenario_targets,
    set_path,
)

__all__ = ["KEEP", "ParameterPathError", "SweepWarning", "parameter_paths", "sweep"]

#: What a sweep can keep: summary metrics (columns), utilisation per service (columns), and the
#: per-invocation and per-key queue-depth frames (Parquet files, one per point and seed).
KEEP = ("summary", "utilisation", "invocations", "queues")
Builder = Callable[..., Simulation]
Base = Mapping[str, Any] | str | os.PathLike[str] | Builder


@functools.cache
def _reserved_columns() -> frozenset[str]:
    """Columns a sweep frame fills itself; a function's parameter may not be named like one of them."""
    metrics = summary_frame(Simulation([]).run(progress=False)).columns
    return frozenset({"point", "seed", "error", "invocations_file", "queues_file", *metrics})


class SweepWarning(UserWarning):
    """Some simulations of a sweep failed; their rows carry the parameters and the ``error``."""


@dataclass(frozen=True)
class _Task:
    """One simulation to run: picklable, self-contained (data files already inlined)."""

    point: int
    seed: int
    params: dict[str, Any]
    spec: dict[str, Any] | None
    builder: Builder | None
    keep: tuple[str, ...]
    target: str
    out_dir: str | None


def _run(task: _Task) -> dict[str, Any]:
    """Run one simulation and return its row (metrics, files, ``error``) plus the wall and CPU seconds it took."""
    started, cpu = time.perf_counter(), time.process_time()
    row: dict[str, Any] = {}
    try:
        if task.builder is not None:
            sim = task.builder(seed=task.seed, **task.params)
            if not isinstance(sim, Simulation):
                raise TypeError(f"the base function returned {type(sim).__name__}, not a Simulation")
        else:
            assert task.spec is not None
            sim = simulation_from_dict(task.spec, seed=task.seed)
        sim.run(progress=False)
        frame = invocations_frame(sim, ids=False) if {"summary", "invocations"} & set(task.keep) else None
        if "summary" in task.keep:
            summary = summary_frame(sim, frame)
            if task.target not in summary.index:
                raise KeyError(f"target {task.target!r} had no invocations; targets: {list(summary.index)}")
            values = summary.loc[[task.target]].to_dict("records")[0]
            row.update({k: v for k, v in values.items() if task.target == "all" or k not in {"littles_L", "lambda_W"}})
        if "utilisation" in task.keep:
            for service, u in utilisation_frame(sim).iterrows():
                row[f"mean_busy.{service}"] = float(u["mean_busy"])
                row[f"utilisation.{service}"] = float(u["utilisation"])
        if frame is not None and "invocations" in task.keep:
            row["invocations_file"] = _write(frame, task, "invocations")
        if "queues" in task.keep:
            row["queues_file"] = _write(queue_depth_frame(sim), task, "queues")
        row["error"] = None
    except Exception as exc:  # a failing point is a row, not a lost sweep
        row = {"error": f"{type(exc).__name__}: {exc}"}
    row["_seconds"] = time.perf_counter() - started
    row["_cpu"] = time.process_time() - cpu
    return row


def _write(frame: pd.DataFrame, task: _Task, kind: str) -> str:
    assert task.out_dir is not None
    path = Path(task.out_dir) / f"point{task.point:04d}-seed{task.seed}.{kind}.parquet"
    frame.attrs = {"point": task.point, "seed": task.seed, "parameters": json.dumps(task.params, default=str)}
    frame.to_parquet(path, index=False)
    return str(path)


# ----------------------------------------------------------------- inputs


def _base(base: Base, base_dir: str | os.PathLike[str] | None) -> tuple[dict[str, Any] | None, Builder | None, Path]:
    if isinstance(base, Simulation):
        raise TypeError(
            "a sweep builds its own simulations: pass the scenario dict or file, or a function "
            "f(seed, **params) -> Simulation, not a built Simulation"
        )
    if isinstance(base, str | os.PathLike):
        path = Path(base)
        text = path.read_text()
        spec = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return spec, None, Path(base_dir) if base_dir is not None else path.parent
    if isinstance(base, Mapping):
        return copy.deepcopy(dict(base)), None, Path(base_dir or ".")
    if callable(base):
        return None, base, Path(base_dir or ".")
    raise TypeError(f"the base of a sweep is a scenario dict or file, or a function; not {type(base).__name__}")


def _points(
    grid: Mapping[str, Sequence[Any]] | None, points: Iterable[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """The parameter points, in order: the grid's cartesian product (last name fastest) or the list."""
    if grid is not None and points is not None:
        raise ValueError("give a grid or a list of points, not both")
    if points is not None:
        out = [dict(p) for p in points]
        if not out:
            raise ValueError("points is empty: give at least one parameter point")
        for p in out:
            if set(p) != set(out[0]):
                raise ValueError(f"every point sets the same parameters: {sorted(out[0])} vs {sorted(p)}")
        return out
    if grid is None:
        return [{}]
    for name, values in grid.items():
        if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
            raise ValueError(f"grid values of {name!r} must be a list of values, not {values!r}")
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(list(grid[n]) for n in names))]


def _check_parameters(names: list[str], spec: dict[str, Any] | None, builder: Builder | None) -> dict[str, Any]:
    """Validate parameter names up front; returns resolved paths (dict base) or {} (function base)."""
    if builder is not None:
        signature = inspect.signature(builder)
        takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
        if "seed" not in signature.parameters and not takes_any:
            raise TypeError("the base function must accept a seed keyword: f(seed, **params) -> Simulation")
        for name in names:
            if name == "seed":
                raise ParameterPathError("'seed' is not a parameter: pass seeds=... to the sweep")
            if name not in signature.parameters and not takes_any:
                raise ParameterPathError(f"{name!r} is not a parameter of {builder.__name__}{signature}")
        taken = sorted(set(names) & _reserved_columns())
        if taken:
            raise ParameterPathError(f"parameters {taken} would share a column with the sweep's own; rename them")
        return {}
    assert spec is not None
    paths = {name: parse_path(spec, name) for name in names}
    check_disjoint(list(paths.items()))
    return paths


def _seeds(seeds: int | Sequence[int] | None, spec: dict[str, Any] | None) -> list[int]:
    if seeds is None:
        return [int(spec.get("seed", 0)) if spec is not None else 0]
    if isinstance(seeds, int | numbers.Integral):
        count = int(seeds)
        if count < 1:
            raise ValueError(f"seeds={count}: a sweep needs at least one seed")
        return list(range(count))
    out = [int(s) for s in seeds]
    if not out or len(set(out)) != len(out):
        raise ValueError(f"seeds must be distinct and at least one: {seeds!r}")
    return out


def _inline_files(node: Any, base_dir: Path, cache: dict[tuple[str, str | None], list[float]]) -> Any:
    """Replace empirical distributions read from CSV files by their values, so a task needs no files."""
    if isinstance(node, list):
        return [_inline_files(n, base_dir, cache) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("kind") == "empirical" and "file" in node and "values" not in node:
        path = Path(node["file"])
        path = path if path.is_absolute() else base_dir / path
        key = (str(path), node.get("column"))
        if key not in cache:
            cache[key] = list(Empirical.from_csv(path, node.get("column")).values)
        return {"kind": "empirical", "values": cache[key]}
    return {k: _inline_files(v, base_dir, cache) for k, v in node.items()}


def _is_process_pool(executor: Any) -> bool:
    module = sys.modules.get("concurrent.futures.process")  # not imported: cannot be a process pool
    return module is not None and isinstance(executor, module.ProcessPoolExecutor)


def _executor(executor: Any, workers: int | None) -> tuple[Executor | None, bool]:
    """(executor, owned): ``None``/"serial" runs in this process; "processes" a pool we close."""
    if executor is None or executor == "serial":
        return None, False
    if executor == "processes":
        from concurrent.futures import ProcessPoolExecutor  # multiprocessing only when asked for

        return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1), True
    if isinstance(executor, Executor):
        return executor, False
    if hasattr(executor, "get_executor"):  # a distributed.Client
        return executor.get_executor(), False
    raise TypeError(
        f"executor is None, 'serial', 'processes', a concurrent.futures.Executor or a "
        f"distributed.Client; not {executor!r}"
    )


# ----------------------------------------------------------------- the sweep


def sweep(
    base: Base,
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    points: Iterable[Mapping[str, Any]] | None = None,
    seeds: int | Sequence[int] | None = None,
    keep: str | Iterable[str] = "summary",
    target: str = "all",
    out_dir: str | os.PathLike[str] | None = None,
    executor: Any = None,
    workers: int | None = None,
    progress: bool = True,
    timeout: float | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Run ``base`` at every parameter point and seed; one row per point and seed, parameters as columns.

    ``base`` is a scenario dict, a ``.json``/``.toml`` scenario file (data files resolve next to it, or
    in ``base_dir``), or a function ``f(seed=..., **params) -> Simulation``. Parameters are dotted paths
    into the scenario (``"behaviours.Cart/add.failure_probability"``, ``"workloads.0.arrivals.rate_per_s"``,
    ``"concurrency.Checkout"``), or keyword names of the function; ``grid`` takes their cartesian product,
    ``points`` lists the combinations. ``seeds`` is a count (seeds ``0..n-1``), a list, or ``None`` for the
    scenario's own seed. ``keep`` picks from :data:`KEEP`: ``"summary"`` adds the :func:`summary_frame`
    row of ``target`` as columns, ``"utilisation"`` adds ``mean_busy.<service>`` and
    ``utilisation.<service>``, ``"invocations"`` and ``"queues"`` write those frames to Parquet in
    ``out_dir`` (a directory every worker can reach) and add their paths as columns.

    ``executor`` is ``None`` (this process), ``"processes"`` (a pool of ``workers`` processes, closed
    afterwards), any ``concurrent.futures.Executor``, or a ``distributed.Client``. Rows come back in point
    and seed order whatever finished first, so every executor gives the same frame. A failing simulation
    fills its row's ``error`` (metrics NaN) and the sweep warns with :class:`SweepWarning` once at the end;
    the other rows are complete. ``timeout`` (seconds for the whole sweep) turns the simulations not finished
    by then into error rows and cancels them, keeping the finished ones. ``frame.attrs["sweep"]`` holds
    timings: the sweep's wall seconds, and each simulation's wall and CPU seconds where it ran.
    """
    spec, builder, directory = _base(base, base_dir)
    keep_set = (keep,) if isinstance(keep, str) else tuple(keep)
    unknown = sorted(set(keep_set) - set(KEEP))
    if unknown:
        raise ValueError(f"keep={unknown} is not one of {list(KEEP)}")
    keep_t = tuple(k for k in KEEP if k in keep_set)
    files = {"invocations", "queues"} & set(keep_t)
    if files and out_dir is None:
        raise ValueError(f"keep={sorted(files)} writes Parquet files: pass out_dir=")
    if files:
        import pyarrow  # noqa: F401 - fail now, not in every worker

        out = Path(out_dir).resolve()  # type: ignore[arg-type]
        out.mkdir(parents=True, exist_ok=True)
    point_list = _points(grid, points)
    names = list(point_list[0])
    paths = _check_parameters(names, spec, builder)
    seed_list = _seeds(seeds, spec)
    if spec is not None and target != "all" and target not in scenario_targets(spec):
        raise ValueError(f"target {target!r} is not a handler of the scenario: {sorted(scenario_targets(spec))}")
    if builder is not None and (executor == "processes" or _is_process_pool(executor)):
        try:
            pickle.dumps(builder)
        except Exception as exc:
            raise TypeError(
                f"the base function cannot be sent to other processes ({exc}); define it at module "
                f"level, or pass a scenario dict"
            ) from exc

    rows: list[dict[str, Any]] = []
    tasks: list[_Task] = []
    cache: dict[tuple[str, str | None], list[float]] = {}
    for index, params in enumerate(point_list):
        point_spec: dict[str, Any] | None = None
        problem = None
        if spec is not None:
            point_spec = copy.deepcopy(spec)
            for name, path in paths.items():
                set_path(point_spec, path, params[name])
            try:
                point_spec = _inline_files(point_spec, directory, cache)
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
        for seed in seed_list:
            rows.append({"point": index, **params, "seed": seed})
            tasks.append(
                _Task(
                    index,
                    seed,
                    dict(params),
                    point_spec if problem is None else None,
                    builder,
                    keep_t,
                    target,
                    str(out) if files else None,
                )
            )
            if problem is not None:
                rows[-1]["_result"] = {"error": problem, "_seconds": 0.0}

    pool, owned = _executor(executor, workers)
    started = time.perf_counter()
    late = True
    try:
        late = _execute(tasks, rows, pool, progress, None if timeout is None else time.monotonic() + timeout)
    finally:
        if owned and pool is not None:
            if late:  # running simulations cannot be cancelled: stop our own workers rather than wait
                for process in list((getattr(pool, "_processes", None) or {}).values()):
                    process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
    wall = time.perf_counter() - started
    return _frame(rows, names, wall, executor)


def _execute(
    tasks: list[_Task], rows: list[dict[str, Any]], pool: Executor | None, progress: bool, deadline: float | None
) -> bool:
    """Fill each row's ``_result``, counting finished simulations (and failures) on a progress bar.

    Returns whether the deadline passed with simulations unfinished.
    """
    todo = [i for i, row in enumerate(rows) if "_result" not in row]
    bar: Any = None
    failed = len(rows) - len(todo)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(rows), initial=len(rows) - len(todo), unit="sim", desc="sweep")

    def done(i: int, result: dict[str, Any]) -> None:
        nonlocal failed
        rows[i]["_result"] = result
        if bar is not None:
            if result.get("error"):
                failed += 1
                bar.set_postfix(failed=failed, refresh=False)
            bar.update(1)

    def timed_out() -> bool:
        late = [i for i in todo if "_result" not in rows[i]]
        for i in late:
            done(
                i,
                {
                    "error": "TimeoutError: the sweep's timeout passed before this simulation finished",
                    "_seconds": float("nan"),
                },
            )
        return bool(late)

    futures: dict[Future[dict[str, Any]], int] = {}
    try:
        if pool is None:
            for i in todo:
                if deadline is not None and time.monotonic() > deadline:
                    break
                done(i, _run(tasks[i]))
            return timed_out()
        futures = {pool.submit(_run, tasks[i]): i for i in todo}
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        try:
            for future in as_completed(futures, timeout=remaining):
                try:
                    result = future.result()
                except Exception as exc:  # the task never ran (pickling, a dead worker): still its own row
                    result = {"error": f"{type(exc).__name__}: {exc}", "_seconds": float("nan")}
                done(futures[future], result)
        except TimeoutError:
            return timed_out()
        return False
    finally:
        for future in futures:  # on a timeout or an interrupt, the rest should not keep a cluster busy
            future.cancel()
        if bar is not None:
            bar.close()


def _frame(rows: list[dict[str, Any]], names: list[str], wall: float, executor: Any) -> pd.DataFrame:
    seconds = [row["_result"].pop("_seconds") for row in rows]
    cpu = [row["_result"].pop("_cpu", float("nan")) for row in rows]
    records = [{**{k: v for k, v in row.items() if k != "_result"}, **row.pop("_result")} for row in rows]
    failed = [r for r in records if r.get("error")]
    if failed:
        first = failed[0]
        params = ", ".join(f"{n}={first[n]!r}" for n in names) or "no parameters"
        warnings.warn(
            SweepWarning(
                f"{len(failed)} of {len(records)} simulations failed; first: point {first['point']} "
                f"({params}, seed {first['seed']}): {first['error']}"
            ),
            stacklevel=3,
        )
    frame = pd.DataFrame.from_records(records)
    frame = frame[[c for c in frame.columns if c != "error"] + ["error"]]
    frame.attrs["sweep"] = {
        "executor": type(executor).__name__ if not isinstance(executor, str | None) else (executor or "serial"),
        "wall_s": wall,
        "simulation_s": seconds,
        "simulation_cpu_s": cpu,
    }
    return frame


def parameter_paths(base: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    """Paths a sweep can vary in a scenario, with their current values (``None``: the default applies).

    Every number in the scenario, plus each catalogue handler's ``failure_probability`` and each
    service's ``concurrency`` -- what a notebook panel offers in its parameter menu.

    >>> parameter_paths({"services": [{"name": "S", "ty": "SERVICE", "handlers": [{"name": "h"}]}]})
    {'behaviours.S/h.failure_probability': None, 'concurrency.S': None}
    """
    spec, _, _ = _base(base, None)
    assert spec is not None
    found: dict[str, Any] = dict(numeric_leaves(spec))
    for service in spec.get("services", []):
        for handler in service.get("handlers", []):
            path = f"behaviours.{service['name']}/{handler['name']}.failure_probability"
            found.setdefault(path, get_path(spec, parse_path(spec, path)))
        path = f"concurrency.{service['name']}"
        found.setdefault(path, get_path(spec, parse_path(spec, path)))
    return found
