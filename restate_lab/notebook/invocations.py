"""The invocations view: a target's invocations filtered by service and status; open one, act on it.

``frame`` is the ``sys_invocation`` frame shown (columns in
:data:`restate_lab.notebook.frames.INVOCATION_COLUMNS`); selecting an id (``selected``) fills ``result``,
``journal`` (a ``sys_journal`` frame) and, for virtual objects and workflows, ``state``. Cancel, kill,
purge and resume act on the selected invocation. Refresh on demand, or every ``interval`` seconds while
``auto_refresh`` is on.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as w
import pandas as pd
import traitlets

from restate_lab.notebook._figures import figure_image, hide_figure
from restate_lab.notebook._html import STYLE, chip, esc, kv_table, pretty, state_table, table
from restate_lab.notebook.frames import INVOCATION_COLUMNS, invocations_frame_from_rows, journal_frame
from restate_lab.rules.errors import RestateError

#: The statuses of ``sys_invocation``, in the order an invocation passes through them.
STATUSES = ("pending", "scheduled", "ready", "running", "backing-off", "suspended", "paused", "completed")
_ALL = "(all)"
_LABEL = {"description_width": "60px"}


def _known(value: Any) -> bool:
    """Whether a frame cell holds a value (not None, NaN, NaT or pandas' NA): nulls are not shown."""
    return value is not None and not (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _short(invocation_id: str) -> str:
    return invocation_id if len(invocation_id) <= 16 else invocation_id[:14] + "…"


def _clock(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{pd.Timestamp(value):%H:%M:%S.%f}"[:-3]


class InvocationsView(w.VBox):  # type: ignore[misc]
    """Browse and manage a target's invocations.

    >>> view = InvocationsView(lab)            # doctest: +SKIP
    >>> view.status = "completed"; view.refresh(); view.frame.head()   # doctest: +SKIP
    """

    service = traitlets.Unicode(_ALL)
    status = traitlets.Unicode(_ALL)
    limit = traitlets.Int(200)
    selected = traitlets.Unicode(None, allow_none=True)
    auto_refresh = traitlets.Bool(False)
    interval = traitlets.Float(2.0)
    #: The outcome of the last refresh or action, as shown under the buttons.
    message = traitlets.Unicode("")
    #: How many refreshes ran (the timer's heartbeat, for tests and for the eye).
    refreshes = traitlets.Int(0)

    def __init__(self, target: Any, **kwargs: Any) -> None:
        self.target = target
        self.frame: pd.DataFrame = invocations_frame_from_rows([])
        self.journal: pd.DataFrame | None = None
        self.state: dict[str, Any] | None = None
        self.result: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._timer: threading.Thread | None = None
        self._stop = threading.Event()
        self._shown: tuple[str, str, str] | None = None

        self.service_picker = w.Dropdown(
            options=[_ALL], description="Service", style=_LABEL, layout=w.Layout(width="220px")
        )
        self.status_picker = w.Dropdown(
            options=[_ALL, *STATUSES], description="Status", style=_LABEL, layout=w.Layout(width="200px")
        )
        self.limit_field = w.BoundedIntText(
            value=200, min=1, max=100_000, description="Limit", style=_LABEL, layout=w.Layout(width="130px")
        )
        self.refresh_button = w.Button(description="Refresh", icon="refresh", layout=w.Layout(width="100px"))
        self.auto_box = w.Checkbox(description="every", indent=False, layout=w.Layout(width="60px"))
        self.interval_field = w.BoundedFloatText(
            value=2.0, min=0.2, max=3600, step=0.5, description="", layout=w.Layout(width="70px")
        )
        self.count_label = w.HTML()
        self.header = w.HTML()
        self.list = w.Select(options=[], rows=10, layout=w.Layout(width="100%"))
        self.list.add_class("rl-list")
        self.details = w.HTML(
            '<span class="rl-muted">Select an invocation to see its result, journal and state.</span>'
        )
        self.journal_table = w.HTML()
        self.timeline = figure_image()  # redrawn by the refresh timer's thread too
        self.state_panel = w.HTML()
        self.buttons = {
            action: w.Button(
                description=action.capitalize(),
                icon=icon,
                button_style=style,
                tooltip=tip,
                layout=w.Layout(width="100px"),
            )
            for action, icon, style, tip in (
                ("cancel", "ban", "warning", "Cancel: the handler sees a cancellation and may compensate"),
                ("kill", "skull", "danger", "Kill: stop at once, without running handler code again"),
                ("purge", "trash", "", "Purge: forget a completed invocation"),
                ("resume", "play", "success", "Resume a paused invocation"),
            )
        }
        self.message_label = w.HTML()
        self.tabs = w.Tab(
            [w.VBox([self.details]), w.VBox([self.timeline, self.journal_table]), w.VBox([self.state_panel])]
        )
        for i, title in enumerate(("Result", "Journal", "State")):
            self.tabs.set_title(i, title)

        for name, widget in (
            ("service", self.service_picker),
            ("status", self.status_picker),
            ("limit", self.limit_field),
            ("auto_refresh", self.auto_box),
            ("interval", self.interval_field),
        ):
            traitlets.link((widget, "value"), (self, name))
        traitlets.link((self.list, "value"), (self, "selected"))
        self.refresh_button.on_click(lambda _b: self.refresh())
        for action, button in self.buttons.items():
            button.on_click(lambda _b, a=action: self.act(a))

        super().__init__(
            [
                w.HTML(STYLE),
                w.HBox(
                    [
                        self.service_picker,
                        self.status_picker,
                        self.limit_field,
                        self.refresh_button,
                        self.auto_box,
                        self.interval_field,
                        w.HTML("s"),
                    ]
                ),
                self.count_label,
                self.header,
                self.list,
                w.HBox(list(self.buttons.values())),
                self.message_label,
                self.tabs,
            ],
            **kwargs,
        )
        self.add_class("rl-panel")
        self.add_class("rl-invocations")
        self.refresh_button.add_class("rl-refresh")
        self.details.add_class("rl-details")
        self._load_services()
        self.refresh()

    def _load_services(self) -> None:
        try:
            names = [s["name"] for s in self.target.services()]
        except Exception as exc:
            names = []
            self.message = f"Could not read the services of this target: {exc}"
        self.service_picker.options = [_ALL, *names]

    # ---- listing ----

    def refresh(self) -> pd.DataFrame:
        """Read the invocations again with the current filters; keeps the selection when it is still there."""
        with self._lock:
            try:
                frame = invocations_frame_from_rows(
                    self.target.invocations(
                        service=None if self.service == _ALL else self.service,
                        status=None if self.status == _ALL else self.status,
                        limit=self.limit,
                    )
                )
            except Exception as exc:
                self.message = f"Could not list invocations: {exc}"
                return self.frame
            self.frame = frame
            keep = self.selected
            options = [(self._row_label(row), str(row["id"])) for row in frame.to_dict("records")]
            self.header.value = (
                '<div class="rl-mono" style="white-space: pre; color: #475569; padding-left: 4px">'
                + esc(self._header_label())
                + "</div>"
            )
            self.list.options = options
            ids = [v for _, v in options]
            self.list.value = keep if keep in ids else None
            self.count_label.value = (
                f'<span class="rl-muted">{len(frame)} invocation{"" if len(frame) == 1 else "s"}</span>'
            )
            if not options:
                self.header.value = (
                    '<span class="rl-muted">No invocations match these filters yet: '
                    "compose one, or change the filters.</span>"
                )
            self.refreshes += 1
            if self.selected is not None:
                self._show(self.selected, only_if_changed=True)
            return frame

    _WIDTHS = (("id", 18), ("target", 34), ("status", 12), ("created", 13), ("modified", 13), ("retries", 7))

    def _header_label(self) -> str:
        return "  ".join(name.ljust(width) for name, width in self._WIDTHS)

    def _row_label(self, row: dict[str, Any]) -> str:
        values = (
            _short(str(row["id"])),
            str(row["target"]),
            str(row["status"]),
            _clock(row["created_at"]),
            _clock(row["modified_at"]),
            str(row["retry_count"]) if _known(row["retry_count"]) else "-",
        )
        return "  ".join(v[:width].ljust(width) for v, (_, width) in zip(values, self._WIDTHS, strict=True))

    @traitlets.observe("service", "status", "limit")
    def _filters_changed(self, change: dict[str, Any]) -> None:
        if getattr(self, "list", None) is not None and self.refreshes:
            self.refresh()

    # ---- one invocation ----

    @traitlets.observe("selected")
    def _selected_changed(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._show(change["new"])

    def row(self, invocation_id: str) -> dict[str, Any] | None:
        """The ``sys_invocation`` row of an invocation in :attr:`frame`."""
        rows = self.frame[self.frame["id"] == invocation_id]
        return rows.iloc[0].to_dict() if len(rows) else None

    def _show(self, invocation_id: str, *, only_if_changed: bool = False) -> None:
        row = self.row(invocation_id) or {"id": invocation_id}
        seen = (invocation_id, str(row.get("status")), str(row.get("modified_at")))
        if only_if_changed and seen == self._shown:
            return
        self._shown = seen
        self.result = self._result(row)
        self._render_result(row)
        self._render_journal(row)
        self._render_state(row)

    def _result(self, row: dict[str, Any]) -> dict[str, Any]:
        invocation_id = str(row["id"])
        out: dict[str, Any] = {"id": invocation_id, "status": row.get("status")}
        if row.get("status") not in (None, "completed"):
            out["outcome"] = "not completed yet"
            return out
        try:
            out["value"] = self.target.output(invocation_id)
            out["outcome"] = "success"
        except RestateError as exc:
            out.update(
                outcome="failure" if exc.code != 470 else "not completed yet",
                error_code=exc.code,
                error_message=exc.message,
                error_source=exc.source,
            )
        except Exception as exc:
            out.update(outcome="unavailable", error_message=f"{type(exc).__name__}: {exc}")
        return out

    def _render_result(self, row: dict[str, Any]) -> None:
        res = self.result
        lines = [
            ("invocation id", f'<span class="rl-mono">{esc(row["id"])}</span>'),
            ("target", esc(row.get("target") or "")),
            ("status", chip(str(row.get("status") or "unknown"))),
        ]
        for column, label in (("created_at", "created"), ("modified_at", "modified"), ("completed_at", "completed")):
            if row.get(column) is not None and not pd.isna(row.get(column)):
                lines.append((label, esc(f"{pd.Timestamp(row[column]):%Y-%m-%d %H:%M:%S.%f}"[:-3] + " UTC")))
        if _known(row.get("retry_count")) and row["retry_count"]:
            lines.append(("retries", esc(row["retry_count"])))
        if _known(row.get("last_failure")) and row["last_failure"]:
            lines.append(("last failure", f'<span class="rl-msg">{esc(row["last_failure"])}</span>'))
        lines.append(("outcome", chip(str(res.get("outcome")), "ok" if res.get("outcome") == "success" else None)))
        if "value" in res:
            lines.append(("output", f'<div class="rl-pre">{pretty(res["value"])}</div>'))
        if res.get("error_message"):
            code = f"[{res['error_code']}] " if res.get("error_code") is not None else ""
            lines.append(("error", f'<span class="rl-msg">{esc(code + res["error_message"])}</span>'))
        self.details.value = kv_table(lines)

    def _render_journal(self, row: dict[str, Any]) -> None:
        from restate_lab.notebook.timeline import draw_into

        try:
            self.journal = journal_frame(self.target.journal(str(row["id"])))
        except Exception as exc:
            self.journal = None
            self.journal_table.value = f'<span class="rl-muted">No journal: {esc(exc)}</span>'
            hide_figure(self.timeline)
            return
        shown = self.journal[["index", "entry_type", "name", "kind", "appended_at"]].copy()
        shown["appended_at"] = shown["appended_at"].map(_clock)  # as the list above shows times: UTC, to the ms
        self.journal_table.value = table(shown.columns, shown.itertuples(index=False))
        draw_into(self.timeline, self.journal, row)

    def _render_state(self, row: dict[str, Any]) -> None:
        key = row.get("target_service_key")
        if key is None or (isinstance(key, float) and pd.isna(key)):
            self.state = None
            self.state_panel.value = '<span class="rl-muted">A plain service keeps no state.</span>'
            return
        try:
            self.state = self.target.state(str(row["target_service_name"]), str(key))
        except Exception as exc:
            self.state = None
            self.state_panel.value = f'<span class="rl-muted">No state: {esc(exc)}</span>'
            return
        title = f"<b>{esc(row['target_service_name'])} / {esc(key)}</b>"
        self.state_panel.value = title + state_table(self.state)

    # ---- actions ----

    def act(self, action: str) -> bool:
        """Cancel, kill, purge or resume the selected invocation; ``False`` (and :attr:`message`) if refused."""
        invocation_id = self.selected
        if not invocation_id:
            self.message = f"Select an invocation to {action}."
            return False
        try:
            getattr(self.target, action)(invocation_id)
        except RestateError as exc:
            self.message = f"{action} refused: [{exc.code}] {exc.message}"
            return False
        except Exception as exc:
            self.message = f"{action} failed: {type(exc).__name__}: {exc}"
            return False
        self.message = f"{action}: done for {invocation_id}"
        if action == "purge":
            self.selected = None
        self.refresh()
        return True

    @traitlets.observe("message")
    def _show_message(self, change: dict[str, Any]) -> None:
        text = change["new"]
        css = "rl-msg" if ("refused" in text or "failed" in text or "Could not" in text) else "rl-muted"
        self.message_label.value = f'<span class="{css}">{esc(text)}</span>' if text else ""

    # ---- timer ----

    @traitlets.observe("auto_refresh")
    def _auto_changed(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.start_timer()
        else:
            self.stop_timer()

    def start_timer(self) -> None:
        """Refresh every :attr:`interval` seconds until :meth:`stop_timer` (or ``auto_refresh = False``)."""
        if self._timer is not None and self._timer.is_alive():
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(max(self.interval, 0.2)):
                self.refresh()

        self._timer = threading.Thread(target=loop, name="restate-lab-invocations-timer", daemon=True)
        self._timer.start()

    def stop_timer(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join(timeout)
            self._timer = None

    def close(self) -> None:
        self.stop_timer()
        super().close()


__all__ = ["INVOCATION_COLUMNS", "STATUSES", "InvocationsView"]
