"""The simulation panel: drag the load, the keys, the failures and the limits; Run; compare with the last run.

The services come from any target's catalogue (or a ``Simulation``/``Catalogue``/admin list), so the model
of "what load does to this virtual object" is built from the real services with nothing written by hand.
Each run is a :class:`restate_lab.Simulation` with one Poisson :class:`restate_lab.Workload` on the chosen
handler; its frames (``invocations_frame``, ``queue_depth_frame``, ``summary_frame``) are kept in
:attr:`SimulationPanel.runs`, the newest last, and the plots draw the previous run dashed beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import pandas as pd
import traitlets

from restate_lab.notebook._background import Background
from restate_lab.notebook._figures import figure_image, new_figure, show_figure
from restate_lab.notebook._html import STYLE, esc
from restate_lab.rules.retry import RetryPolicy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_LABEL = {"description_width": "190px"}
_WIDE = w.Layout(width="460px")
_WRAP = w.Layout(flex_flow="row wrap")  # rows wrap in a narrow notebook instead of running off its edge
#: The summary columns the panel shows, as two tables that each fit a notebook's width: what happened to the
#: invocations, and how long it took (all of ``summary_frame``'s columns are in :attr:`SimulationRun.summary`).
OUTCOME_COLUMNS = ("submitted", "completed", "deduplicated", "failed", "paused", "killed", "mean_attempts")
TIMING_COLUMNS = (
    "throughput_per_s",
    "mean_latency_ms",
    "p50_latency_ms",
    "p95_latency_ms",
    "p99_latency_ms",
    "mean_queue_wait_ms",
)
SUMMARY_COLUMNS = OUTCOME_COLUMNS + TIMING_COLUMNS
#: Short headers where the caption already says what the numbers are.
_HEADERS = {
    "mean_attempts": "mean attempts",
    "throughput_per_s": "throughput (1/s)",
    "mean_latency_ms": "mean (ms)",
    "p50_latency_ms": "p50 (ms)",
    "p95_latency_ms": "p95 (ms)",
    "p99_latency_ms": "p99 (ms)",
    "mean_queue_wait_ms": "queue wait (ms)",
}


@dataclass
class SimulationRun:
    """One run of the panel: its parameters and frames (times in virtual ms)."""

    label: str
    parameters: dict[str, Any]
    invocations: pd.DataFrame
    queues: pd.DataFrame
    summary: pd.DataFrame


class _Settings:
    """A settings dict read as attributes, so one builder serves the panel and each point of a sweep."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.__dict__.update(settings)

    def __getattr__(self, name: str) -> Any:  # only for names the dict lacks: a clear error
        raise KeyError(f"no setting {name!r}")


#: Settings a sweep can vary, with their unit for the plot; integer settings are rounded.
SWEEPABLE = {
    "rate_per_s": "arrival rate (1/s)",
    "key_count": "keys",
    "zipf_s": "Zipf skew s",
    "failure_rate": "failure rate (per attempt)",
    "service_time_ms": "mean service time (ms)",
    "idempotency_retention_s": "idempotency retention (s)",
    "concurrency": "concurrency",
}
_INTEGER_SETTINGS = {"key_count", "concurrency", "count", "seed"}


class SimulationPanel(w.VBox):  # type: ignore[misc]
    """Sliders and fields for a load model of one handler; Run simulates it and plots the outcome.

    >>> panel = SimulationPanel(lab)                          # doctest: +SKIP
    >>> panel.rate_per_s, panel.key_count, panel.zipf_s = 200, 20, 1.2   # doctest: +SKIP
    >>> panel.run_button.click(); panel.wait(); panel.summary  # doctest: +SKIP
    """

    target = traitlets.Unicode(None, allow_none=True)
    rate_per_s = traitlets.Float(100.0)
    count = traitlets.Int(2000)
    service_time_ms = traitlets.Float(5.0)
    key_count = traitlets.Int(10)
    zipf_s = traitlets.Float(1.0)
    failure_rate = traitlets.Float(0.0)
    retry_initial_ms = traitlets.Float(500.0)
    retry_factor = traitlets.Float(2.0)
    retry_max_attempts = traitlets.Int(70)
    on_max_attempts = traitlets.Enum(["pause", "kill"], default_value="pause")
    idempotent_share = traitlets.Float(0.0)
    client_resend_share = traitlets.Float(0.0)
    idempotency_retention_s = traitlets.Float(86_400.0)
    concurrency = traitlets.Int(0)
    seed = traitlets.Int(0)
    busy = traitlets.Bool(False)
    progress = traitlets.Float(0.0)
    message = traitlets.Unicode("")

    def __init__(self, source: Any, *, synchronous: bool = False, **kwargs: Any) -> None:
        self.catalogue = self._catalogue_of(source)
        self.runs: list[SimulationRun] = []
        self.figure: Any = None
        self._background = Background("restate-lab-simulation", synchronous=synchronous)
        targets = [
            (
                f"{h.service}/{h.name}" + (f" ({h.declared.value.lower()})" if h.declared else ""),
                f"{h.service}/{h.name}",
            )
            for s in self.catalogue.services.values()
            for h in s.handlers.values()
        ]
        keyed = [v for label, v in targets if self._keyed(v) and "(shared)" not in label]
        self.target_picker = w.Dropdown(options=targets, description="Handler", style=_LABEL, layout=_WIDE)

        def slider(cls: type, description: str, **opts: Any) -> Any:
            return cls(description=description, style=_LABEL, layout=_WIDE, continuous_update=False, **opts)

        self.fields: dict[str, Any] = {
            "rate_per_s": slider(w.FloatLogSlider, "arrival rate (1/s)", base=10, min=-1, max=4, step=0.05),
            "count": w.BoundedIntText(description="invocations", min=1, max=1_000_000, style=_LABEL),
            "service_time_ms": slider(w.FloatLogSlider, "mean service time (ms)", base=10, min=-1, max=4, step=0.05),
            "key_count": slider(w.IntSlider, "keys", min=1, max=1000),
            "zipf_s": slider(w.FloatSlider, "Zipf skew s (0: uniform)", min=0.0, max=3.0, step=0.05),
            "failure_rate": slider(w.FloatSlider, "failure rate (per attempt)", min=0.0, max=0.9, step=0.01),
            "retry_initial_ms": w.BoundedFloatText(
                description="retry first interval (ms)", min=0, max=3.6e6, style=_LABEL
            ),
            "retry_factor": w.BoundedFloatText(description="retry factor", min=1.0, max=10.0, step=0.5, style=_LABEL),
            "retry_max_attempts": w.BoundedIntText(description="max attempts", min=1, max=10_000, style=_LABEL),
            "on_max_attempts": w.ToggleButtons(
                options=["pause", "kill"], description="then", style={**_LABEL, "button_width": "70px"}
            ),
            "idempotent_share": slider(w.FloatSlider, "idempotency-key share", min=0.0, max=1.0, step=0.05),
            "client_resend_share": slider(w.FloatSlider, "share resent by the client", min=0.0, max=1.0, step=0.05),
            "idempotency_retention_s": w.BoundedFloatText(
                description="idempotency retention (s)", min=0, max=3.2e7, style=_LABEL
            ),
            "concurrency": w.BoundedIntText(description="concurrency (0: no limit)", min=0, max=100_000, style=_LABEL),
            "seed": w.BoundedIntText(description="seed", min=0, max=2**31 - 1, style=_LABEL),
        }
        traitlets.link((self.target_picker, "value"), (self, "target"))
        for name, widget in self.fields.items():
            traitlets.link((self, name), (widget, "value"))
        if keyed:
            self.target = keyed[0]
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.run_button.on_click(lambda _b: self.run())
        #: The last small sweep (``restate_lab.sim.sweep``'s frame), ``None`` before the first.
        self.sweep_frame: pd.DataFrame | None = None
        self.sweep_picker = w.Dropdown(
            options=[(label, name) for name, label in SWEEPABLE.items()],
            description="sweep",
            style=_LABEL,
            layout=_WIDE,
        )
        self.sweep_values = w.Text(description="values", placeholder="e.g. 50, 100, 200", style=_LABEL, layout=_WIDE)
        self.sweep_seeds = w.BoundedIntText(value=2, min=1, max=10, description="seeds per value", style=_LABEL)
        self.sweep_button = w.Button(description="Sweep", icon="line-chart")
        self.sweep_button.on_click(lambda _b: self.sweep())
        self.progress_bar = w.FloatProgress(
            value=0.0, min=0.0, max=1.0, description="virtual time", layout=w.Layout(width="360px")
        )
        self.status_label = w.HTML()
        self.summary_panel = w.HTML(
            '<span class="rl-muted">Press Run to simulate; each run is compared with the one before.</span>',
            layout=w.Layout(overflow="auto", max_width="100%"),  # a wide summary scrolls, the panel does not
        )
        self.plots = figure_image()  # drawn from the background thread (restate_lab.notebook._figures)
        f = self.fields
        load = w.VBox(
            [
                w.HTML("<b>Load</b>"),
                self.target_picker,
                f["rate_per_s"],
                f["count"],
                f["service_time_ms"],
                f["key_count"],
                f["zipf_s"],
                f["concurrency"],
                f["seed"],
            ]
        )
        failures = w.VBox(
            [
                w.HTML("<b>Failures and retries</b>"),
                f["failure_rate"],
                f["retry_initial_ms"],
                f["retry_factor"],
                f["retry_max_attempts"],
                f["on_max_attempts"],
                w.HTML("<b>Idempotency</b>"),
                f["idempotent_share"],
                f["client_resend_share"],
                f["idempotency_retention_s"],
            ]
        )
        super().__init__(
            [
                w.HTML(STYLE),
                w.HBox([load, failures], layout=_WRAP),
                w.HBox([self.run_button, self.progress_bar, self.status_label], layout=_WRAP),
                w.HBox([self.sweep_picker, self.sweep_values, self.sweep_seeds, self.sweep_button], layout=_WRAP),
                self.summary_panel,
                self.plots,
            ],
            **kwargs,
        )
        self.add_class("rl-panel")

    # ---- the model ----

    @staticmethod
    def _catalogue_of(source: Any) -> Any:
        from restate_lab.catalogue import Catalogue
        from restate_lab.sim.engine import Simulation

        if isinstance(source, Catalogue):
            return source
        if isinstance(source, Simulation):
            return source.catalogue
        if hasattr(source, "simulation"):
            return source.simulation.catalogue
        services = source.services() if hasattr(source, "services") else list(source)
        return Catalogue.from_admin(services)

    def _keyed(self, target: str | None) -> bool:
        service = self.catalogue.service((target or "").partition("/")[0])
        return service is not None and service.service_type.value != "SERVICE"

    def parameters(self) -> dict[str, Any]:
        """The current settings, as recorded with each run (``_keyed``: whether the handler takes keys)."""
        settings = {name: getattr(self, name) for name in ("target", *self.fields)}
        return {**settings, "_keyed": self._keyed(self.target)}

    def build(self) -> Any:
        """The :class:`restate_lab.Simulation` the current settings describe (not yet run)."""
        return self.simulation(self.parameters())

    def simulation(self, settings: dict[str, Any]) -> Any:
        """The :class:`restate_lab.Simulation` that ``settings`` (as :meth:`parameters` gives them) describe."""
        from restate_lab.sim import Constant, Exponential, HandlerBehaviour, Poisson, Simulation, Workload, Zipf

        p = _Settings(settings)
        if not p.target:
            raise ValueError("Pick a handler to simulate.")
        service, _, handler = p.target.partition("/")
        if p.rate_per_s <= 0 or p.count <= 0:
            raise ValueError("The arrival rate and the number of invocations must be positive.")
        policy = RetryPolicy(
            initial_interval_ms=int(p.retry_initial_ms),
            factor=float(p.retry_factor),
            max_attempts=int(p.retry_max_attempts),
            on_max_attempts="kill" if p.on_max_attempts == "kill" else "pause",
        )
        behaviour = HandlerBehaviour(
            service_time=Exponential(max(p.service_time_ms, 1e-6)),
            failure_probability=p.failure_rate,
            retry_policy=policy,
            idempotency_retention_ms=p.idempotency_retention_s * 1000.0,
        )
        keys = Zipf(max(int(p.key_count), 1), s=p.zipf_s) if settings["_keyed"] else None
        workload = Workload(
            service,
            handler,
            Poisson(p.rate_per_s),
            count=int(p.count),
            keys=keys,
            idempotency_fraction=p.idempotent_share,
            client_retry_probability=p.client_resend_share,
            client_retry_after=Constant(1000.0),
        )
        return Simulation(
            self.catalogue,
            {p.target: behaviour},
            workloads=[workload],
            seed=int(p.seed),
            concurrency={service: int(p.concurrency) or None},
        )

    # ---- running ----

    def run(self) -> bool:
        """Simulate the current settings in the background; ``False`` if refused (see :attr:`message`)."""
        if self.busy:
            self.message = "A run is still going; wait for it."
            return False
        try:
            sim = self.build()
        except (ValueError, KeyError) as exc:
            self.message = str(exc)
            return False
        self.message = ""
        self.busy = True
        self.progress = 0.0
        params = self.parameters()
        horizon = self.count / self.rate_per_s * 1000.0

        def work() -> SimulationRun:
            from restate_lab.sim.results import invocations_frame, queue_depth_frame, summary_frame

            steps = 40
            for i in range(1, steps + 1):
                sim.run(until=horizon * i / steps, progress=False)
                self.progress = 0.9 * i / steps
            sim.run(progress=False)  # let what is still queued or backing off finish
            self.progress = 0.95
            frame = invocations_frame(sim)
            label = f"run {len(self.runs) + 1}"
            return SimulationRun(label, params, frame, queue_depth_frame(sim), summary_frame(sim, frame))

        def done(result: SimulationRun | None, error: BaseException | None) -> None:
            if error is not None or result is None:
                self.message = f"The simulation failed: {type(error).__name__}: {error}"
            else:
                self.runs.append(result)
                self._render()
                self.progress = 1.0
            self.busy = False

        self._background.run(work, done)
        return True

    def sweep(self) -> bool:
        """Run a small sweep of one setting (``sweep_picker``) over ``sweep_values``, a few seeds each, with
        :func:`restate_lab.sim.sweep`; the frame lands in :attr:`sweep_frame` and p99 latency is plotted."""
        if self.busy:
            self.message = "A run is still going; wait for it."
            return False
        name = self.sweep_picker.value
        try:
            values = [float(v) for v in self.sweep_values.value.replace(";", ",").split(",") if v.strip()]
        except ValueError:
            self.message = "Sweep values are numbers separated by commas, e.g. 50, 100, 200."
            return False
        if not 1 <= len(values) <= 20:
            self.message = "Give between 1 and 20 values to sweep."
            return False
        grid = {name: [int(v) if name in _INTEGER_SETTINGS else v for v in values]}
        settings = self.parameters()
        try:
            self.simulation({**settings, name: grid[name][0]})
        except (ValueError, KeyError) as exc:
            self.message = str(exc)
            return False
        self.message = ""
        self.busy = True
        self.progress = 0.0
        seeds = int(self.sweep_seeds.value)
        total = len(values) * seeds

        def one(seed: int = 0, **point: Any) -> Any:
            self.progress = min(0.95, self.progress + 1.0 / total)
            return self.simulation({**settings, **point, "seed": seed})

        def work() -> pd.DataFrame:
            from restate_lab.sim import sweep

            return sweep(one, grid=grid, seeds=seeds, target=str(settings["target"]), progress=False)

        def done(result: pd.DataFrame | None, error: BaseException | None) -> None:
            if error is not None or result is None:
                self.message = f"The sweep failed: {type(error).__name__}: {error}"
            else:
                self.sweep_frame = result
                self._plot_sweep(name)
                self.progress = 1.0
            self.busy = False

        self._background.run(work, done)
        return True

    def _plot_sweep(self, name: str) -> None:
        from restate_lab.sim.plots import sweep_lines

        assert self.sweep_frame is not None
        fig = new_figure((7, 4))
        ax = fig.subplots()
        sweep_lines(self.sweep_frame, x=name, y="p99_latency_ms", ax=ax)
        ax.set_xlabel(SWEEPABLE[name])
        ax.set_ylabel("p99 latency (virtual ms)")
        ax.set_title(f"{self.target}: p99 latency against {SWEEPABLE[name]} (mean of seeds)")
        self._show_figure(fig)

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until the current run is done (at most ``timeout`` s)."""
        return self._background.wait(timeout)

    @property
    def summary(self) -> pd.DataFrame | None:
        """The newest run's ``summary_frame`` (``None`` before the first run)."""
        return self.runs[-1].summary if self.runs else None

    # ---- showing ----

    def _render(self) -> None:
        latest = self.runs[-1]
        rows = latest.summary.loc[:, [c for c in SUMMARY_COLUMNS if c in latest.summary.columns]]
        if len(self.runs) > 1:
            previous = self.runs[-2].summary.loc[["all"], rows.columns]
            previous.index = [f"all ({self.runs[-2].label})"]
            rows = pd.concat([rows, previous])
        tables = "".join(
            _summary_table(rows, columns, caption)
            for columns, caption in ((OUTCOME_COLUMNS, "invocations"), (TIMING_COLUMNS, "latency, in virtual time"))
        )
        self.summary_panel.value = f"<b>{esc(latest.label)}</b>{tables}"
        self._plot()

    def _plot(self) -> None:
        from restate_lab.notebook.plots import compare_latency_cdf, compare_queue_depth
        from restate_lab.sim.plots import key_timeline

        runs = self.runs[-2:]
        fig = new_figure((15, 4))
        axes = fig.subplots(1, 3)
        compare_latency_cdf([(r.label, r.invocations) for r in runs], ax=axes[0])
        compare_queue_depth([(r.label, r.queues) for r in runs], ax=axes[1])
        latest = runs[-1].invocations
        keyed = latest["key"].dropna()
        if len(keyed):
            hottest = str(keyed.value_counts().index[0])
            key_timeline(latest, hottest, ax=axes[2], limit=60)
            axes[2].set_title(f"timeline of the hottest key {hottest!r} ({runs[-1].label}, first 60)")
        else:
            axes[2].text(
                0.5,
                0.5,
                "no keys: a plain service has no per-key timeline",
                ha="center",
                va="center",
                transform=axes[2].transAxes,
                color="#6b7280",
            )
            axes[2].set_title("per-key timeline")
            axes[2].set_axis_off()
        self._show_figure(fig)

    def _show_figure(self, fig: Figure) -> None:
        """Keep ``fig`` as :attr:`figure` and show it (callable from the background thread)."""
        self.figure = fig
        show_figure(self.plots, fig)

    @traitlets.observe("progress")
    def _show_progress(self, change: dict[str, Any]) -> None:
        if hasattr(self, "progress_bar"):
            self.progress_bar.value = change["new"]

    @traitlets.observe("busy", "message")
    def _show_status(self, change: dict[str, Any]) -> None:
        if not hasattr(self, "run_button"):
            return
        self.run_button.disabled = self.sweep_button.disabled = self.busy
        if self.message:
            self.status_label.value = f'<span class="rl-msg">⚠ {esc(self.message)}</span>'
        elif self.busy:
            self.status_label.value = '<span class="rl-chip rl-busy">simulating…</span>'
        else:
            self.status_label.value = f'<span class="rl-muted">{len(self.runs)} run(s)</span>' if self.runs else ""


def _summary_table(rows: pd.DataFrame, columns: tuple[str, ...], caption: str) -> str:
    """One of the summary's tables: a caption, then the named columns (those present) with numbers right-aligned."""
    shown = rows.loc[:, [c for c in columns if c in rows.columns]].rename(columns=lambda c: _HEADERS.get(c, c))
    table = shown.to_html(
        float_format=lambda v: "" if math.isnan(v) else f"{v:,.1f}",
        classes="rl-table rl-summary",
        border=0,
        index_names=False,
    )
    return f'<div class="rl-muted" style="margin-top:6px">{esc(caption)}</div>{table}'
