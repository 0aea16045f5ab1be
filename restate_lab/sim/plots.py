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
    """Gantt view of one key: each invocation's wait (light) and execution (dark), retries included."""
    ax = _axes(ax)
    rows = frame[(frame["key"] == key) & ~frame["deduplicated"]].head(limit)
    for y, row in enumerate(rows.itertuples(index=False)):
        ready = row.ready if not np.isnan(row.ready) else row.submitted
        if not np.isnan(row.started):
            ax.barh(y, row.started - ready, left=ready, color="#cfd8e3")
            end = row.completed if not np.isnan(row.completed) else row.started
            ax.barh(y, end - row.started, left=row.started, color="#3b6ea8")
    ax.set_xlabel("virtual time (ms)")
    ax.set_ylabel("invocation (submission order)")
    ax.set_title(f"timeline of key {key!r}")
    return ax


def sweep_plot(sweep: pd.DataFrame, x: str, y: str = "p99_latency_ms", ax: Axes | None = None) -> Axes:
    """A parameter sweep: ``y`` (default p99 latency) against ``x``."""
    ax = _axes(ax)
    ax.plot(sweep[x], sweep[y], marker="o")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{y} vs {x}")
    return ax
