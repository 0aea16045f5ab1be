"""The dashboard: every widget for one target in tabs, wired together."""

from __future__ import annotations

from typing import Any

from restate_lab.widgets import Dashboard


def test_dashboard_has_the_widgets_in_tabs(lab: Any) -> None:
    """Compose, Invocations, Services and Simulate tabs, each the matching widget."""
    board = Dashboard(lab)
    try:
        titles = [board.tabs.get_title(i) for i in range(len(board.tabs.children))]
        assert titles == ["Compose", "Invocations", "Services", "Simulate"]
        assert board.tabs.children[0] is board.composer and board.tabs.children[1] is board.invocations
        assert "Counter" in board.services.value and "Exclusive" in board.services.value
    finally:
        board.close()


def test_composing_refreshes_the_invocations_tab(lab: Any) -> None:
    """An invocation composed in the first tab is listed in the second when its answer arrives."""
    board = Dashboard(lab)
    try:
        board.composer.body = '"Ada"'
        board.composer.invoke_button.click()
        assert board.composer.wait(30)
        assert board.invocations.frame["target"].tolist() == ["Greeter/greet"]
    finally:
        board.close()
