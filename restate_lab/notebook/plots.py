"""Plots of the notebook layer: an invocation's journal on a time axis, and run-against-run comparisons.

The simulator's own plots (``latency_cdf``, ``queue_depth``, ``key_timeline``) live in
``restate_lab.sim.plots`` and are reused here, not redrawn; matplotlib is imported when a plot is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from restate_lab.notebook.frames import journal_frame

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: One colour per journal entry family (the legend of :func:`journal_timeline`).
KIND_COLOURS = {
    "input": "#94a3b8",
    "output": "#475569",
    "run": "#2563eb",
    "sleep": "#f59e0b",
    "call": "#7c3aed",
    "send": "#a78bfa",
    "awakeable": "#db2777",
    "promise": "#059669",
    "state": "#0891b2",
    "retry": "#dc2626",
    "other": "#9ca3af",
}
_VERBS = {
    "Input": "input",
    "Output": "output",
    "Run": "run",
    "Sleep": "sleep",
    "Call": "call",
    "OneWayCall": "send",
    "SetState": "set",
    "GetEagerState": "get",
    "GetLazyState": "get",
    "ClearState": "clear",
    "ClearAllState": "clear all",
    "GetEagerStateKeys": "state keys",
    "GetLazyStateKeys": "state keys",
    "GetPromise": "promise",
    "PeekPromise": "peek promise",
    "CompletePromise": "complete promise",
    "CompleteAwakeable": "complete awakeable",
    "SendSignal": "signal",
    "AttachInvocation": "attach",
    "GetInvocationOutput": "get output",
    "TransientError": "failed attempt",
}


def _axes(ax: Axes | None, size: tuple[float, float] = (8, 4)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=size, layout="constrained")
    return new_ax


def _entry_label(row: Any) -> str:
    name = str(row.entry_type).partition(": ")[2] or str(row.entry_type)
    verb = _VERBS.get(name, name)
    detail = row.promise_name if isinstance(row.promise_name, str) and row.promise_name else row.name
    return f"{row.index} {verb}({detail!r})" if detail else f"{row.index} {verb}"


def _spans(journal: pd.DataFrame) -> list[dict[str, Any]]:
    """One span per command: where it starts, where its notification (if any) ends it, its family."""
    spans: list[dict[str, Any]] = []
    open_by_name: dict[str, list[dict[str, Any]]] = {}
    for row in journal.itertuples(index=False):
        name = str(row.entry_type).partition(": ")[2]
        if row.phase == "notification":
            waiting = open_by_name.get(name) or []
            if waiting:
                span = waiting.pop(0)
                span["end_index"], span["end_time"] = row.index, row.appended_at
            continue
        span = {
            "label": _entry_label(row),
            "kind": row.kind,
            "phase": row.phase,
            "index": row.index,
            "start_time": row.appended_at,
            "end_index": None,
            "end_time": pd.NaT,
            "wakeup": row.sleep_wakeup_at,
        }
        spans.append(span)
        if row.phase == "command" and row.kind in ("run", "sleep", "call", "promise", "awakeable", "state"):
            open_by_name.setdefault(name, []).append(span)
    return spans


def _timeline_size(spans: list[dict[str, Any]]) -> tuple[float, float]:
    """Figure size (inches) that gives each of the timeline's bars a readable row."""
    return (8.0, max(2.4, 0.9 + 0.32 * len(spans)))


def journal_timeline_size(journal: pd.DataFrame) -> tuple[float, float]:
    """The figure size :func:`journal_timeline` uses for ``journal`` when it makes its own figure."""
    frame = journal if "kind" in journal.columns else journal_frame(journal)
    return _timeline_size(_spans(frame))


def journal_timeline(
    journal: pd.DataFrame, invocation: Mapping[str, Any] | None = None, ax: Axes | None = None
) -> Axes:
    """One invocation's journal as bars on a time axis, the way the Restate UI draws its journey.

    ``journal`` is a ``sys_journal`` frame (``journal()`` of any target); ``invocation`` its
    ``sys_invocation`` row, for the title, the creation time and the retries. A command with a completion
    (run, sleep, call, promise) is a bar up to its notification; retryable failures (``retry`` entries and
    the row's ``retry_count``/``next_retry_at``) are drawn in red. Where the target records no entry times
    (``appended_at``), entries are laid out by journal index instead, and the x label says so.
    """
    frame = journal if "kind" in journal.columns else journal_frame(journal)
    inv = dict(invocation or {})
    spans = _spans(frame)
    timed = bool(len(frame)) and frame["appended_at"].notna().any()
    ax = _axes(ax, _timeline_size(spans))
    origin = (
        pd.Timestamp(inv["created_at"])
        if timed and inv.get("created_at") is not None
        else (frame["appended_at"].min() if timed else None)
    )

    def x_of(t: Any) -> float:
        if t is None or pd.isna(t):
            return float("nan")
        return float((pd.Timestamp(t) - origin).total_seconds())

    now_x = x_of(pd.Timestamp.now(tz="UTC")) if timed else float(len(frame))
    if timed:
        # A bar still pending runs to "now", but an invocation waiting for days would squash every other bar:
        # past a quarter of the journal's own span (at least 1 s) it is cut, and labelled as still pending.
        known = [x_of(t) for t in frame["appended_at"].dropna()]
        last = max(known) if known else 0.0
        now_x = min(now_x, last + max(1.0, 0.25 * (last - min(known, default=0.0))))
    for y, span in enumerate(spans):
        colour = KIND_COLOURS.get(span["kind"], KIND_COLOURS["other"])
        if timed:
            start = x_of(span["start_time"])
            end = x_of(span["end_time"])
            if np.isnan(end) and span["kind"] == "sleep":
                end = min(x_of(span["wakeup"]), now_x)
            pending = (
                np.isnan(end)
                and span["end_index"] is None
                and span["kind"] in ("sleep", "promise", "call", "awakeable", "run")
            )
            if pending and not bool(inv.get("completion_result")):
                end = now_x
                ax.annotate(
                    "pending →",
                    (end, y),
                    xytext=(3, 0),
                    textcoords="offset points",
                    fontsize=8,
                    va="center",
                    color=colour,
                )
        else:
            start = float(span["index"])
            end = float(span["end_index"]) + 0.8 if span["end_index"] is not None else start + 0.8
            pending = False
        if np.isnan(start):
            continue
        width = end - start if not np.isnan(end) else 0.0
        if width <= 0:
            ax.plot(
                [start],
                [y],
                marker="|" if span["kind"] != "retry" else "x",
                markersize=14,
                color=colour,
                markeredgewidth=2,
            )
        else:
            ax.barh(
                y,
                width,
                left=start,
                height=0.55,
                color=colour,
                hatch="//" if pending else None,
                edgecolor="white" if not pending else colour,
                alpha=0.6 if pending else 1.0,
            )
    ax.set_yticks(range(len(spans)), [s["label"] for s in spans])
    ax.invert_yaxis()
    retries = int(inv.get("retry_count") or 0)
    if timed:
        for column, text in (("last_start_at", "last attempt"), ("next_retry_at", "next retry")):
            x = x_of(inv.get(column))
            if not np.isnan(x) and (retries or column == "next_retry_at"):
                ax.axvline(x, color=KIND_COLOURS["retry"], linestyle="--", linewidth=1)
                ax.annotate(
                    text,
                    (x, 0.99),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, 0),
                    textcoords="offset points",
                    color=KIND_COLOURS["retry"],
                    fontsize=8,
                    ha="left",
                    va="top",
                )
        unit = _label_time_axis(ax)
        ax.set_xlabel(f"time since the invocation was created ({unit})")
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("journal entry index (this target records no entry times)")
        created, completed = inv.get("created_at"), inv.get("completed_at")
        if created is not None and not pd.isna(created):
            when = f"created {pd.Timestamp(created):%H:%M:%S.%f}"[:-3] + " UTC"
            if completed is not None and not pd.isna(completed):
                took = (pd.Timestamp(completed) - pd.Timestamp(created)).total_seconds()
                when += f" · completed after {took:.3f} s"
            ax.text(0.99, 0.98, when, transform=ax.transAxes, ha="right", va="top", fontsize=8, color="#475569")
    target = inv.get("target") or (str(frame["id"].iloc[0]) if len(frame) else "invocation")
    title = f"journal of {target}"
    if inv.get("status"):
        title += f" · {inv['status']}"
    if retries:
        title += f" · {retries} {'retry' if retries == 1 else 'retries'}"
    ax.set_title(title)
    if retries and inv.get("last_failure"):
        ax.text(
            0.01,
            0.02,
            f"last failure: {str(inv['last_failure'])[:80]}",
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=8,
            color=KIND_COLOURS["retry"],
        )
    if not spans:
        ax.text(0.5, 0.5, "no journal entries", transform=ax.transAxes, ha="center", va="center", color="#6b7280")
    _kind_legend(ax, sorted({s["kind"] for s in spans}))
    ax.grid(axis="x", alpha=0.3)
    return ax


#: Units for a time axis kept in seconds, each used while the axis spans less than its limit (s).
_TIME_UNITS = (("ms", 0.001, 2.0), ("s", 1.0, 180.0), ("min", 60.0, 3 * 3600.0), ("h", 3600.0, 3 * 86400.0))


def _label_time_axis(ax: Axes) -> str:
    """Tick an axis of seconds in the unit that suits its span (2 ms reads ``0 .. 2 ms``, not ``0.002 s``).

    The data stay in seconds; ticks fall on 1, 2 or 5 times a power of ten of the unit. Returns the unit.
    """
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    low, high = ax.get_xlim()
    span = max(high - low, 1e-9)
    name, size = next(((n, s) for n, s, limit in _TIME_UNITS if span < limit), ("d", 86400.0))
    raw_step = span / size / 6
    power = 10 ** np.floor(np.log10(raw_step))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw_step)
    ax.xaxis.set_major_locator(MultipleLocator(step * size))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{round(value / size, 9):g}"))
    ax.set_xlim(low, high)
    return name


def _kind_legend(ax: Axes, kinds: Sequence[str]) -> None:
    from matplotlib.patches import Patch

    if kinds:
        handles = [Patch(color=KIND_COLOURS.get(k, KIND_COLOURS["other"]), label=k) for k in kinds]
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            title="entry",
            title_fontsize=8,
            frameon=False,
        )


def total_queue_depth(queues: pd.DataFrame) -> pd.DataFrame:
    """Invocations queued or running on any key over time (``time`` ms, ``depth``), from a queue-depth frame."""
    if queues.empty:
        return pd.DataFrame({"time": [], "depth": []})
    ordered = queues.sort_values("time", kind="stable")
    change = ordered.groupby(["service", "key"], observed=True)["depth"].diff().fillna(ordered["depth"])
    return pd.DataFrame({"time": ordered["time"].to_numpy(), "depth": change.cumsum().to_numpy()})


def compare_latency_cdf(runs: Sequence[tuple[str, pd.DataFrame]], ax: Axes | None = None) -> Axes:
    """Latency CDFs of several simulation runs (``(label, invocations frame)``), the last one solid."""
    from restate_lab.sim.plots import latency_cdf

    ax = _axes(ax)
    for i, (label, frame) in enumerate(runs):
        before = len(ax.lines)
        latency_cdf(frame, ax=ax, by=None)
        for line in ax.lines[before:]:
            line.set_label(label)
            if i < len(runs) - 1:
                line.set_linestyle("--")
                line.set_alpha(0.6)
    ax.set_title("latency CDF")
    ax.set_xlabel("latency (virtual ms)")
    positive = [v for line in ax.lines for v in np.asarray(line.get_xdata(), dtype=float) if v > 0]
    if positive and max(positive) / min(positive) > 1000:
        ax.set_xscale("log")
        ax.set_xlabel("latency (virtual ms, log scale)")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return ax


def compare_queue_depth(runs: Sequence[tuple[str, pd.DataFrame]], ax: Axes | None = None, bins: int = 200) -> Axes:
    """Total queue depth over virtual time of several runs (``(label, queue-depth frame)``), the last one solid.

    A run with more changes than ``2 * bins`` would draw a solid block of steps at notebook size, so it is
    shown per time window instead: the time-weighted mean depth as a line and the window's peak as a band.
    """
    ax = _axes(ax)
    for i, (label, queues) in enumerate(runs):
        total = total_queue_depth(queues)
        style: dict[str, Any] = {
            "linestyle": "--" if i < len(runs) - 1 else "-",
            "alpha": 0.6 if i < len(runs) - 1 else 1.0,
        }
        windows = binned_depth(total, bins) if len(total) > 2 * bins else None
        if windows is None:
            ax.step(total["time"], total["depth"], where="post", label=label, **style)
            continue
        (line,) = ax.plot(windows["time"], windows["mean"], label=f"{label}: mean", **style)
        ax.fill_between(
            windows["time"],
            windows["mean"],
            windows["peak"],
            color=line.get_color(),
            alpha=0.2,
            linewidth=0,
            label=f"{label}: peak per {_duration_label(float(windows['width'].iloc[0]))}",
        )
    ax.set_xlabel("virtual time (ms)")
    ax.set_ylabel("invocations queued or running")
    ax.set_title("queue depth over time (all keys)")
    if runs:
        ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    return ax


def binned_depth(total: pd.DataFrame, bins: int = 200) -> pd.DataFrame | None:
    """A step series of depth (``time``, ``depth``) in ``bins`` equal windows: mid ``time``, ``mean``, ``peak``.

    ``mean`` weighs each depth by how long it held inside the window; ``peak`` is the highest depth held in
    it. None when the series spans no time.
    """
    times = total["time"].to_numpy(dtype=float)
    depth = total["depth"].to_numpy(dtype=float)
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    edges = np.linspace(times[0], times[-1], bins + 1)
    area = np.concatenate([[0.0], np.cumsum(depth[:-1] * np.diff(times))])
    at = np.searchsorted(times, edges, side="right") - 1  # the change in force at each edge
    area_at_edges = area[at] + depth[at] * (edges - times[at])
    mean = np.diff(area_at_edges) / np.diff(edges)
    first = at[:-1]
    last = np.maximum(np.searchsorted(times, edges[1:], side="left"), first + 1)  # changes before the window ends
    peak = np.array([depth[f:e].max() for f, e in zip(first, last, strict=True)])
    return pd.DataFrame({"time": (edges[:-1] + edges[1:]) / 2, "mean": mean, "peak": peak, "width": np.diff(edges)})


def _duration_label(ms: float) -> str:
    """A window length for a legend: ``50 ms``, ``1.2 s``."""
    return f"{ms:.3g} ms" if ms < 1000 else f"{ms / 1000:.3g} s"
