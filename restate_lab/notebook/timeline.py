"""The journal timeline widget: one invocation's journal drawn on a time axis (see ``journal_timeline``).

``JournalTimeline(target, invocation_id)`` reads the journal and the ``sys_invocation`` row, keeps them
as ``journal`` and ``invocation``, and shows the figure (``figure``) in its output area.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd
import traitlets

from restate_lab.notebook._figures import figure_image, hide_figure, new_figure, show_figure
from restate_lab.notebook._html import STYLE, esc
from restate_lab.notebook.frames import journal_frame


def draw_into(image: w.Image, journal: pd.DataFrame, invocation: dict[str, Any] | None) -> Any:
    """Draw ``journal_timeline`` into an ``Image`` widget and return the figure (safe from any thread)."""
    from restate_lab.notebook.plots import journal_timeline, journal_timeline_size

    figure = new_figure(journal_timeline_size(journal))
    journal_timeline(journal, invocation, ax=figure.subplots())
    show_figure(image, figure)
    return figure


class JournalTimeline(w.VBox):  # type: ignore[misc]
    """One invocation's journal on a time axis, refreshed on demand."""

    invocation_id = traitlets.Unicode(None, allow_none=True)
    message = traitlets.Unicode("")

    def __init__(self, target: Any, invocation_id: str | None = None, **kwargs: Any) -> None:
        self.target = target
        self.journal: pd.DataFrame | None = None
        self.invocation: dict[str, Any] | None = None
        self.figure: Any = None
        self.output = figure_image()
        self.message_label = w.HTML()
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        super().__init__([w.HTML(STYLE), self.refresh_button, self.message_label, self.output], **kwargs)
        self.invocation_id = invocation_id

    @traitlets.observe("invocation_id")
    def _changed(self, change: dict[str, Any]) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Read the journal again and redraw."""
        if not self.invocation_id:
            self.message = "No invocation chosen: set invocation_id."
            return
        try:
            self.journal = journal_frame(self.target.journal(self.invocation_id))
        except Exception as exc:
            self.message = f"No journal for {self.invocation_id}: {exc}"
            self.journal = None
            hide_figure(self.output)
            return
        frame = self.target.invocations()
        rows = frame[frame["id"] == self.invocation_id]
        self.invocation = rows.iloc[0].to_dict() if len(rows) else {"id": self.invocation_id}
        self.message = ""
        self.figure = draw_into(self.output, self.journal, self.invocation)

    @traitlets.observe("message")
    def _show(self, change: dict[str, Any]) -> None:
        self.message_label.value = f'<span class="rl-muted">{esc(change["new"])}</span>' if change["new"] else ""
