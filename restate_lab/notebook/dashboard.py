"""The dashboard: the composer, the invocations view, the services and the simulation panel in tabs."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from restate_lab.notebook._html import STYLE, chip, esc, table
from restate_lab.notebook.catalogue import handler_infos
from restate_lab.notebook.composer import Composer
from restate_lab.notebook.invocations import InvocationsView
from restate_lab.notebook.simulation import SimulationPanel

TAB_TITLES = ("Compose", "Invocations", "Services", "Simulate")


def services_html(services: list[dict[str, Any]]) -> str:
    """The catalogue as a table: service, kind, handler, handler kind, input and output."""
    rows = []
    for service, handlers in handler_infos(services).items():
        for info in handlers.values():
            rows.append(
                (
                    service,
                    info.service_kind,
                    info.handler,
                    info.handler_kind or "",
                    info.input_description,
                    info.documentation[:80],
                )
            )
    if not rows:
        return '<span class="rl-muted">No services registered on this target.</span>'
    return table(("service", "kind", "handler", "handler kind", "input", "documentation"), rows)


class Dashboard(w.VBox):  # type: ignore[misc]
    """Every widget for one target, in tabs; the parts stay reachable (``composer``, ``invocations``, ...).

    Composing an invocation refreshes the invocations view, so the new invocation is there when you look.
    """

    def __init__(self, target: Any, *, title: str | None = None, **kwargs: Any) -> None:
        self.target = target
        self.composer = Composer(target)
        self.invocations = InvocationsView(target)
        try:
            services = target.services()
            self.services = w.HTML(STYLE + services_html(services))
        except Exception as exc:
            self.services = w.HTML(f'<span class="rl-msg">Could not read the services: {esc(exc)}</span>')
        self.simulation = SimulationPanel(target)
        self.tabs = w.Tab([self.composer, self.invocations, self.services, self.simulation])
        for i, name in enumerate(TAB_TITLES):
            self.tabs.set_title(i, name)
        self.composer.observe(lambda _c: self.invocations.refresh(), "answer")
        heading = title or f"restate_lab · {type(target).__name__}"
        super().__init__(
            [w.HTML(f"<h3 style='margin:4px 0'>{esc(heading)} {chip('connected', 'ok')}</h3>"), self.tabs], **kwargs
        )

    def close(self) -> None:
        self.invocations.close()
        super().close()
