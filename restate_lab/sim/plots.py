"""Matplotlib views of simulation frames; matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=(7, 4))
    return new_ax


def latency_cdf(frame: pd.DataFrame, ax: Axes | None = None, by: str | None = "target") -> Axes:
    """Empirical CDF of latency (ms) of invocations that ran, one line per ``by`` group."""
    ax = _axes(ax)
    ran = frame[~frame["deduplicated"]].dropna(subset=["latency"])
    groups: list[tuple[Any, pd.DataFrame]] = (
        [(k, g) for k, g in ran.groupby(by, observed=True)] if by else [("all", ran)]
    )
    for label, group in groups:
        values = np.sort(group["latency"].to_numpy())
        ax.plot(values, np.arange(1, len(values) + 1) / max(len(values), 1), label=str(label))
    ax.set_xlabel("latency (virtual ms)")
    ax.set_ylabel("share of invocations")
    ax.set_title("latency CDF")
    ax.legend(loc="lower right")
    return ax


def queue_depth(queues: pd.DataFrame, keys: list[str] | None = None, top: int = 5, ax: Axes | None = None) -> Axes:
    """Queue depth over time for ``keys`` (default: the ``top`` keys with the deepest queues)."""
    ax = _axes(ax)
    if keys is None:
        keys = [str(k) for k in queues.groupby("key", observed=True)["depth"].max().nlargest(top).index]
    for key in keys:
        series = queues[queues["key"] == key]
        ax.step(series["time"], series["depth"], where="post", label=key)
    ax.set_xlabel("virtual time (ms)")
    ax.set_ylabel("invocations on key")
    ax.set_title("queue depth per key")
    if keys:
        ax.legend(loc="upper right")
    return ax


def key_timeline(frame: pd.DataFrame, key: str, ax: Axes | None = None, limit: int = 200) -> Axes:
    """Gantt view of one key: each invocation's wait (light) and execution (dark), retries included.

    A dot marks where each execution starts, so an execution far shorter than the plotted span (4 ms on a
    1 s axis is under a pixel) still shows; an invocation that never ran keeps its row, empty.
    """
    from matplotlib.patches import Patch

    ax = _axes(ax)
    rows = frame[(frame["key"] == key) & ~frame["deduplicated"]].head(limit)
    starts: list[tuple[float, int]] = []
    for y, row in enumerate(rows.itertuples(index=False)):
        ready = row.ready if not np.isnan(row.ready) else row.submitted
        if np.isnan(row.started):
            continue  # never ran (still queued, paused or killed): no span to draw
        ax.barh(y, row.started - ready, left=ready, color=_WAIT_COLOUR, height=0.8)
        end = row.completed if not np.isnan(row.completed) else row.started
        ax.barh(y, end - row.started, left=row.started, color=_RUN_COLOUR, height=0.8)
        starts.append((row.started, y))
    if starts:
        xs, ys = zip(*starts, strict=True)
        ax.scatter(xs, ys, s=9, color=_RUN_COLOUR, zorder=3, linewidths=0)
    ax.set_xlabel("virtual time (ms)")
    ax.set_ylabel("invocation (submission order)")
    ax.set_title(f"timeline of key {key!r}")
    if len(rows):
        ax.legend(
            handles=[Patch(color=_WAIT_COLOUR, label="waiting"), Patch(color=_RUN_COLOUR, label="running")],
            loc="upper left",
            fontsize="small",
        )
    else:
        ax.text(0.5, 0.5, f"no invocations on key {key!r}", ha="center", va="center", transform=ax.transAxes)
    return ax


_WAIT_COLOUR, _RUN_COLOUR = "#cfd8e3", "#3b6ea8"


def sweep_plot(sweep: pd.DataFrame, x: str, y: str = "p99_latency_ms", ax: Axes | None = None) -> Axes:
    """A parameter sweep: ``y`` (default p99 latency) against ``x``."""
    ax = _axes(ax)
    ax.plot(sweep[x], sweep[y], marker="o")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{y} vs {x}")
    return ax


# ----------------------------------------------------------------- parameter sweeps

_METRIC_LABELS = {
    "mean_latency_ms": "mean latency (virtual ms)",
    "p50_latency_ms": "p50 latency (virtual ms)",
    "p95_latency_ms": "p95 latency (virtual ms)",
    "p99_latency_ms": "p99 latency (virtual ms)",
    "mean_queue_wait_ms": "mean queue wait (virtual ms)",
    "throughput_per_s": "throughput (completed per virtual s)",
    "mean_attempts": "attempts per invocation",
    "littles_L": "mean invocations in system",
    "failure_probability": "share of attempts failing",
    "rate_per_s": "arrival rate (per virtual s)",
}
_ERRORS = ("std", "sem", "ci95", None)


def sweep_label(name: str) -> str:
    """A readable axis label, with units, for a sweep column (a metric or a dotted parameter path).

    >>> sweep_label("behaviours.Cart/add.failure_probability"), sweep_label("p99_latency_ms")
    ('Cart/add: share of attempts failing', 'p99 latency (virtual ms)')
    >>> sweep_label("workloads.0.arrivals.rate_per_s"), sweep_label("utilisation.Checkout")
    ('workload 0: arrival rate (per virtual s)', 'utilisation of Checkout (share of slots)')
    """
    parts = name.split(".")
    if parts[0] in {"utilisation", "mean_busy"} and len(parts) > 1:
        what = "utilisation" if parts[0] == "utilisation" else "busy slots"
        unit = "share of slots" if parts[0] == "utilisation" else "mean"
        return f"{what} of {'.'.join(parts[1:])} ({unit})"
    field = parts[-1]
    label = _METRIC_LABELS.get(field)
    if label is None:
        unit = " (virtual ms)" if field.endswith("_ms") else " (per virtual s)" if field.endswith("_per_s") else ""
        label = field.removesuffix("_ms").removesuffix("_per_s").replace("_", " ") + unit
    if len(parts) > 2 and parts[0] == "behaviours":
        return f"{parts[1]}: {label}"
    if len(parts) > 2 and parts[0] in {"workloads", "subscriptions"} and parts[1].isdigit():
        return f"{parts[0][:-1]} {parts[1]}: {label}"
    if len(parts) == 2 and parts[0] == "concurrency":
        return f"concurrency of {parts[1]} (slots)"
    return label


def _ok_rows(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"columns {missing} are not in the sweep frame; it has {list(frame.columns)}")
    ok = frame[frame["error"].isna()] if "error" in frame.columns else frame
    return ok.dropna(subset=[columns[-1]])


def sweep_lines(
    sweep: pd.DataFrame,
    x: str,
    y: str = "p99_latency_ms",
    by: str | None = None,
    error: str | None = "std",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Metric ``y`` against parameter ``x``, one line per value of ``by``; the mean over seeds.

    Error bars span ``error`` over seeds: ``"std"`` (standard deviation), ``"sem"`` (standard error of
    the mean), ``"ci95"`` (1.96 standard errors) or ``None``. Failed rows (``error`` set) are left out.
    """
    if error not in _ERRORS:
        raise ValueError(f"error={error!r} is not one of {list(_ERRORS)}")
    ax = _axes(ax)
    ok = _ok_rows(sweep, [c for c in (by, x, y) if c is not None])
    groups: list[tuple[Any, pd.DataFrame]] = (
        [(value, g) for value, g in ok.groupby(by, sort=True)] if by is not None else [(None, ok)]
    )
    for value, group in groups:
        stats = group.groupby(x, sort=True)[y].agg(["mean", "std", "count"])
        spread = stats["std"].fillna(0.0)
        if error in ("sem", "ci95"):
            spread = spread / np.sqrt(stats["count"]) * (1.96 if error == "ci95" else 1.0)
        label = None if by is None else f"{sweep_label(by).split(' (')[0]} = {value}"
        ax.errorbar(stats.index, stats["mean"], yerr=spread if error else None, marker="o", capsize=3, label=label)
    seeds = int(ok.groupby([c for c in (by, x) if c is not None]).size().max()) if len(ok) else 0
    ax.set_xlabel(sweep_label(x))
    ax.set_ylabel(sweep_label(y))
    spread_note = f", bars: {error} over {seeds} seeds" if error and seeds > 1 else ""
    ax.set_title(title or f"{sweep_label(y).split(' (')[0]} vs {sweep_label(x).split(' (')[0]}{spread_note}")
    if by is not None:
        ax.legend(loc="best", fontsize="small")
    return ax


def sweep_heatmap(
    sweep: pd.DataFrame,
    x: str,
    y: str,
    value: str = "p99_latency_ms",
    agg: str = "mean",
    ax: Axes | None = None,
    annotate: bool = True,
    cmap: str = "viridis",
    title: str | None = None,
) -> Axes:
    """``value`` (aggregated over seeds with ``agg``) over a grid of parameters ``x`` and ``y``."""
    ax = _axes(ax)
    ok = _ok_rows(sweep, [x, y, value])
    table = ok.pivot_table(index=y, columns=x, values=value, aggfunc=agg).sort_index().sort_index(axis=1)
    image = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap=cmap)
    ax.set_xticks(range(table.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.index])
    ax.set_xlabel(sweep_label(x))
    ax.set_ylabel(sweep_label(y))
    colorbar = ax.figure.colorbar(image, ax=ax)
    colorbar.set_label(f"{sweep_label(value)}, {agg} over seeds")
    if annotate:
        values = table.to_numpy(dtype=float)
        middle = np.nanmean(values) if np.isfinite(values).any() else 0.0
        for (row, col), cell in np.ndenumerate(values):
            if np.isfinite(cell):
                ax.text(
                    col,
                    row,
                    f"{cell:.3g}",
                    ha="center",
                    va="center",
                    fontsize="small",
                    color="white" if cell < middle else "black",
                )
    ax.set_title(
        title
        or f"{sweep_label(value).split(' (')[0]} over {sweep_label(x).split(' (')[0]} "
        f"and {sweep_label(y).split(' (')[0]}"
    )
    return ax
