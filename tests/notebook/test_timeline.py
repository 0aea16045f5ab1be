"""The journal timeline: entries labelled by family on a time axis (or by index), retries in red."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from restate_lab.plots import KIND_COLOURS, entry_kind, journal_frame, journal_timeline
from restate_lab.widgets import JOURNAL_COLUMNS, JournalTimeline

from .conftest import wait_until


def _timed_journal() -> tuple[pd.DataFrame, dict[str, Any]]:
    t0 = pd.Timestamp("2026-01-01T00:00:00Z")
    rows = [
        ("Command: Input", "", 0.0),
        ("Command: Run", "charge", 0.1),
        ("Event: TransientError", "", 0.3),
        ("Notification: Run", "", 0.9),
        ("Command: Sleep", "", 1.0),
        ("Notification: Sleep", "", 3.0),
        ("Command: GetPromise", "approval", 3.1),
        ("Command: OneWayCall", "", 3.2),
        ("Command: SetState", "status", 3.3),
    ]
    frame = pd.DataFrame(
        {
            "id": "inv_1",
            "index": range(len(rows)),
            "entry_type": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "appended_at": [(t0 + pd.Timedelta(seconds=r[2])).isoformat() for r in rows],
        }
    )
    invocation = {
        "id": "inv_1",
        "target": "Shop/checkout",
        "status": "suspended",
        "created_at": t0,
        "retry_count": 2,
        "last_failure": "card declined",
        "last_start_at": t0 + pd.Timedelta(seconds=0.5),
    }
    return frame, invocation


def test_entry_kinds_follow_restate_entry_types() -> None:
    """sys_journal entry types map to the families the Restate UI draws."""
    assert entry_kind("Command: Run") == ("run", "command")
    assert entry_kind("Notification: Sleep") == ("sleep", "notification")
    assert entry_kind("Command: GetEagerState") == ("state", "command")
    assert entry_kind("Command: OneWayCall") == ("send", "command")
    assert entry_kind("Command: CompleteAwakeable") == ("awakeable", "command")
    assert entry_kind("Command: GetPromise") == ("promise", "command")
    assert entry_kind("Event: TransientError") == ("retry", "event")
    assert entry_kind("Command: Call") == ("call", "command")


def test_journal_frame_has_documented_columns_and_datetimes() -> None:
    """journal_frame puts the documented columns first and parses appended_at as UTC datetimes."""
    raw, _ = _timed_journal()
    frame = journal_frame(raw)
    assert list(frame.columns[: len(JOURNAL_COLUMNS)]) == list(JOURNAL_COLUMNS)
    assert frame["appended_at"].dt.tz is not None and frame["kind"].iloc[1] == "run"


def test_timed_journal_is_drawn_on_a_time_axis_with_retries() -> None:
    """With entry times the x axis is seconds; labels name entries; retries are in the title and red."""
    raw, invocation = _timed_journal()
    ax = journal_timeline(journal_frame(raw), invocation)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["0 input", "1 run('charge')"]
    assert "6 promise('approval')" in labels and "8 set('status')" in labels
    assert ax.get_xlabel() == "time since the invocation was created (s)"
    assert ax.get_title() == "journal of Shop/checkout · suspended · 2 retries"
    sleep_bar = [p for p in ax.patches if p.get_facecolor()[:3] == _rgb(KIND_COLOURS["sleep"])]
    assert sleep_bar and abs(sleep_bar[0].get_width() - 2.0) < 1e-6
    assert any(line.get_linestyle() == "--" for line in ax.lines)  # the last attempt marker
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"run", "sleep", "promise", "send", "state", "retry"} <= set(legend)


@pytest.mark.parametrize(
    ("span", "unit", "ticks"),
    [
        (pd.Timedelta(milliseconds=2), "ms", ["0", "0.5", "1", "1.5", "2"]),
        (pd.Timedelta(minutes=20), "min", ["0", "5", "10", "15", "20"]),
    ],
)
def test_time_axis_is_ticked_in_a_unit_that_suits_its_span(span: pd.Timedelta, unit: str, ticks: list[str]) -> None:
    """A journal of 2 ms is ticked in ms, one of 20 minutes in minutes; bars keep their length in seconds."""
    t0 = pd.Timestamp("2026-01-01T00:00:00Z")
    raw = pd.DataFrame(
        {
            "id": ["inv_1"] * 3,
            "index": [0, 1, 2],
            "entry_type": ["Command: Input", "Command: Sleep", "Notification: Sleep"],
            "name": ["", "", ""],
            "appended_at": [t0, t0, t0 + span],
        }
    )
    ax = journal_timeline(journal_frame(raw), {"target": "Svc/h", "created_at": t0})
    ax.figure.canvas.draw()
    assert ax.get_xlabel() == f"time since the invocation was created ({unit})"
    low = ax.get_xlim()[0]
    shown = [t.get_text() for t in ax.get_xticklabels() if low <= t.get_position()[0] <= span.total_seconds()]
    assert shown == ticks
    sleep_bar = [p for p in ax.patches if p.get_facecolor()[:3] == _rgb(KIND_COLOURS["sleep"])]
    assert sleep_bar and abs(sleep_bar[0].get_width() - span.total_seconds()) < 1e-9


def test_untimed_journal_falls_back_to_index_axis(lab: Any) -> None:
    """A journal without entry times (no appended_at) is laid out by index, and the x label says so."""

    lab.call("Greeter", "nap", 0.05)
    row = lab.invocations().iloc[0].to_dict()
    raw = lab.journal(row["id"]).drop(columns=["appended_at"], errors="ignore")
    ax = journal_timeline(journal_frame(raw), row)
    assert "journal entry index" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0 input", "1 sleep", "3 output"]


def test_journal_timeline_widget_draws_a_figure(lab: Any) -> None:
    """The widget reads one invocation's journal and keeps the frame and the figure."""
    receipt = lab.send("Greeter", "greet", "Ada")
    assert wait_until(lambda: lab.status(receipt.invocation_id) == "completed")
    widget = JournalTimeline(lab, receipt.invocation_id)
    assert widget.journal is not None and widget.journal["kind"].tolist() == ["input", "run", "run", "output"]
    assert widget.figure is not None and widget.invocation["target"] == "Greeter/greet"
    assert "Greeter/greet" in widget.figure.axes[0].get_title()
    # shown as a PNG on an Image widget, which a refresh from another thread may set
    assert widget.output.value[:8] == b"\x89PNG\r\n\x1a\n" and widget.output.layout.display is None


def test_journal_timeline_widget_explains_a_target_without_journal(simulated: Any) -> None:
    """Against the simulator the widget says there is no journal instead of failing."""
    receipt = simulated.send("Greeter", "greet", "x")
    widget = JournalTimeline(simulated, receipt.invocation_id)
    assert widget.journal is None and "No journal" in widget.message


def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)
