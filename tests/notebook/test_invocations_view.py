"""The invocations view: filters, selection (result, journal, state), actions and the refresh timer."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import pytest

from restate_lab.widgets import INVOCATION_COLUMNS, InvocationsView

from .conftest import wait_until


def _sample(lab: Any) -> dict[str, str]:
    """A completed call, an object call, and a workflow left waiting on its promise."""
    lab.call("Greeter", "greet", "Ada")
    lab.call("Counter", "add", 3, key="alice")
    receipt = lab.send("Signup", "run", "ada@example.com", key="ada")
    assert wait_until(lambda: lab.status(receipt.invocation_id) == "suspended", 10.0)
    return {"workflow": receipt.invocation_id}


def test_lists_invocations_as_sys_invocation_frame(lab: Any) -> None:
    """The frame has the documented sys_invocation columns first and UTC datetimes, newest first."""
    _sample(lab)
    view = InvocationsView(lab)
    frame = view.frame
    assert list(frame.columns[: len(INVOCATION_COLUMNS)]) == list(INVOCATION_COLUMNS)
    assert len(frame) == 3 and len(view.list.options) == 3
    assert str(frame["created_at"].dtype).startswith("datetime64") and frame["created_at"].dt.tz is not None
    assert frame["created_at"].is_monotonic_decreasing
    assert frame.loc[0, "target"] == "Signup/ada/run"
    assert "3 invocations" in view.count_label.value


def test_filters_by_service_and_status(lab: Any) -> None:
    """Changing the service or status filter refreshes the list with only matching invocations."""
    _sample(lab)
    view = InvocationsView(lab)
    view.service = "Counter"
    assert view.frame["target_service_name"].tolist() == ["Counter"]
    view.service = "(all)"
    view.status = "suspended"
    assert view.frame["target"].tolist() == ["Signup/ada/run"]
    view.status = "paused"
    assert view.frame.empty and "No invocations match" in view.header.value


def test_selecting_shows_result_journal_and_state(lab: Any) -> None:
    """Selecting a completed object call shows its output, its journal entries and the object's state."""
    _sample(lab)
    view = InvocationsView(lab)
    counter_id = view.frame[view.frame["target_service_name"] == "Counter"]["id"].iloc[0]
    view.selected = counter_id
    assert view.result["outcome"] == "success" and view.result["value"] == 3
    assert view.journal is not None
    assert view.journal["kind"].tolist() == ["input", "state", "state", "output"]
    first_at = view.journal["appended_at"].iloc[0]
    assert f"<td>{first_at:%H:%M:%S.%f}"[:-3] + "</td>" in view.journal_table.value  # to the ms, as the list
    assert view.state == {"count": 3}
    assert "count" in view.state_panel.value and "3" in view.details.value


def test_plain_service_has_no_state_and_pending_has_no_result(lab: Any) -> None:
    """A plain service says it keeps no state; a waiting workflow says it has not completed yet."""
    ids = _sample(lab)
    view = InvocationsView(lab)
    greet_id = view.frame[view.frame["target_service_name"] == "Greeter"]["id"].iloc[0]
    view.selected = greet_id
    assert view.state is None and "keeps no state" in view.state_panel.value
    view.selected = ids["workflow"]
    assert view.result["outcome"] == "not completed yet"
    assert view.state == {"status": "waiting"}
    assert "promise" in view.journal["kind"].tolist()


def test_cancel_and_purge_from_the_view(lab: Any) -> None:
    """Purge of a running invocation is refused with the target's message; cancel then purge succeed."""
    ids = _sample(lab)
    view = InvocationsView(lab)
    view.selected = ids["workflow"]
    assert view.act("purge") is False and "purge refused: [409]" in view.message
    view.buttons["cancel"].click()
    assert view.message.startswith("cancel: done")
    assert wait_until(lambda: lab.status(ids["workflow"]) == "completed", 10.0)
    view.refresh()
    assert view.result["outcome"] == "failure" and view.result["error_code"] == 409
    view.buttons["purge"].click()
    assert view.message.startswith("purge: done") and view.selected is None
    assert ids["workflow"] not in set(view.frame["id"])


def test_kill_and_resume_from_the_view(lab: Any) -> None:
    """A paused invocation can be resumed from the view, and killed."""
    receipt = lab.send("Greeter", "pauses")
    assert wait_until(lambda: lab.status(receipt.invocation_id) == "paused", 15.0)
    view = InvocationsView(lab)
    view.selected = receipt.invocation_id
    row = view.row(receipt.invocation_id)
    # On Restate Server 1.7.12 a paused invocation has no sys_invocation_state row, so its retry_count and
    # last_failure are null in sys_invocation (docs/observed-restate-1.7.12.md); the view shows its status.
    assert row is not None and row["status"] == "paused"
    assert view.act("resume") is True
    assert wait_until(lambda: lab.status(receipt.invocation_id) == "paused", 15.0)
    assert view.act("kill") is True
    assert wait_until(lambda: lab.status(receipt.invocation_id) == "completed", 10.0)


def test_action_without_selection_asks_for_one(lab: Any) -> None:
    """Pressing an action with nothing selected says what to do instead of failing."""
    view = InvocationsView(lab)
    assert view.act("kill") is False and view.message == "Select an invocation to kill."


def test_timer_refreshes_until_stopped(lab: Any) -> None:
    """With auto_refresh on, the view refreshes on its own and picks up new invocations; off stops it."""
    view = InvocationsView(lab)
    view.interval = 0.2
    view.auto_refresh = True
    try:
        lab.call("Greeter", "greet", "late")
        assert wait_until(lambda: len(view.frame) == 1, 10.0)
    finally:
        view.auto_refresh = False
    settled = view.refreshes
    time.sleep(0.5)
    assert view.refreshes == settled


def test_view_against_the_simulator(simulated: Any) -> None:
    """Simulated invocations list with the same columns; the journal says the simulator keeps none."""
    simulated.call("Counter", "add", 1, key="k")
    simulated.send("Greeter", "greet", "x", delay="5s")
    view = InvocationsView(simulated)
    assert sorted(view.frame["status"]) == ["completed", "scheduled"]
    assert list(view.frame.columns[: len(INVOCATION_COLUMNS)]) == list(INVOCATION_COLUMNS)
    view.selected = view.frame[view.frame["status"] == "completed"]["id"].iloc[0]
    assert view.result["outcome"] == "success"
    assert view.journal is None and "No journal" in view.journal_table.value
    assert isinstance(view.frame.loc[0, "created_at"], pd.Timestamp)


def test_view_against_restate_lab_serve(served: Any, lab: Any) -> None:
    """Through the HTTP client, the view lists, opens and kills as in process."""
    ids = _sample(lab)
    view = InvocationsView(served)
    assert len(view.frame) == 3
    view.selected = ids["workflow"]
    assert view.state == {"status": "waiting"}
    assert view.journal is not None and "promise" in view.journal["kind"].tolist()
    assert view.act("kill") is True
    assert wait_until(lambda: lab.status(ids["workflow"]) == "completed", 10.0)


@pytest.mark.realserver
def test_view_against_the_real_server(real: Any) -> None:
    """Against Restate Server 1.7.12 the view lists invocations, opens one and reads its journal."""
    real.call("Counter", "add", 2, key="view-real")
    view = InvocationsView(real)
    view.service = "Counter"
    rows = view.frame[view.frame["target_service_key"] == "view-real"]
    assert len(rows) >= 1 and rows["status"].iloc[0] == "completed"
    view.selected = rows["id"].iloc[0]
    assert view.result["value"] == 2
    assert view.journal is not None and "state" in view.journal["kind"].tolist()
    assert view.state == {"count": 2}
