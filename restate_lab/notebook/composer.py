"""The composer: pick a handler from a target's catalogue, write a body, call or send, read the answer.

Every field is a trait (``service``, ``handler``, ``key``, ``body``, ``mode``, ``delay``,
``idempotency_key``, ``headers``, ``timeout``) and every outcome too (``answer``, ``message``, ``busy``),
so a notebook or a test drives it without a browser; ``history`` is a DataFrame of every invocation
composed (columns in :data:`restate_lab.notebook.frames.HISTORY_COLUMNS`).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import ipywidgets as w
import pandas as pd
import traitlets

from restate_lab.notebook._background import Background
from restate_lab.notebook._html import STYLE, chip, elapsed, esc, kv_table, pretty
from restate_lab.notebook.catalogue import HandlerInfo, handler_infos
from restate_lab.notebook.frames import HISTORY_COLUMNS, empty_history
from restate_lab.notebook.schema import example_text, validate
from restate_lab.rules.durations import parse_duration_ms
from restate_lab.rules.errors import RestateError

_LABEL = {"description_width": "130px"}


def parse_headers(text: str) -> dict[str, str]:
    """``name: value`` lines (or a JSON object) as a header dict; ``ValueError`` says which line is wrong."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith(("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"headers are not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ValueError("headers must be a JSON object of name: value")
        return {str(k).lower(): str(v) for k, v in parsed.items()}
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            raise ValueError(f"header line {number} is not 'name: value': {line.strip()!r}")
        headers[name.strip().lower()] = value.strip()
    return headers


class Composer(w.VBox):  # type: ignore[misc]
    """Compose an invocation of any handler of ``target`` and show what came back.

    >>> composer = Composer(lab)                                  # doctest: +SKIP
    >>> composer.service, composer.handler, composer.key = "Counter", "add", "alice"   # doctest: +SKIP
    >>> composer.body = "5"; composer.invoke_button.click(); composer.wait()          # doctest: +SKIP
    >>> composer.answer["result"]                                 # doctest: +SKIP
    5
    """

    service = traitlets.Unicode(None, allow_none=True)
    handler = traitlets.Unicode(None, allow_none=True)
    key = traitlets.Unicode("")
    body = traitlets.Unicode("")
    mode = traitlets.Enum(["call", "send"], default_value="call")
    delay = traitlets.Unicode("")
    idempotency_key = traitlets.Unicode("")
    headers = traitlets.Unicode("")
    timeout = traitlets.Float(30.0)
    #: Refusal before sending (bad JSON, schema mismatch, missing key...), empty when all is well.
    message = traitlets.Unicode("")
    #: The last answer: ``outcome``, ``invocation_id``, ``result``, ``error_code``, ``error_source``,
    #: ``error_message``, ``elapsed_ms`` (a row of :attr:`history` as a dict).
    answer = traitlets.Dict()
    busy = traitlets.Bool(False)

    def __init__(self, target: Any, *, synchronous: bool = False, **kwargs: Any) -> None:
        self.target = target
        self._history: list[dict[str, Any]] = []
        self._background = Background("restate-lab-composer", synchronous=synchronous)
        self.catalogue: dict[str, dict[str, HandlerInfo]] = {}

        self.service_picker = w.Dropdown(description="Service", style=_LABEL, layout=w.Layout(width="320px"))
        self.kind_label = w.HTML()
        self.handler_picker = w.Dropdown(description="Handler", style=_LABEL, layout=w.Layout(width="320px"))
        self.key_field = w.Text(
            description="Key", placeholder="object or workflow key", style=_LABEL, layout=w.Layout(width="320px")
        )
        self.doc_label = w.HTML()
        self.body_editor = w.Textarea(
            description="Body (JSON)", style=_LABEL, layout=w.Layout(width="660px", height="110px")
        )
        self.body_editor.add_class("rl-mono")
        self.mode_picker = w.ToggleButtons(
            options=[("Call (wait)", "call"), ("Send", "send")], style={"button_width": "100px"}
        )
        self.delay_field = w.Text(
            description="Delay", placeholder="e.g. 10s, 500ms, PT1M", style=_LABEL, layout=w.Layout(width="320px")
        )
        self.idempotency_field = w.Text(
            description="Idempotency key", placeholder="optional", style=_LABEL, layout=w.Layout(width="320px")
        )
        self.timeout_field = w.BoundedFloatText(
            value=30.0,
            min=0.1,
            max=3600.0,
            step=1.0,
            description="Timeout (s)",
            style=_LABEL,
            layout=w.Layout(width="200px"),
        )
        self.headers_editor = w.Textarea(
            description="Headers",
            placeholder="name: value, one per line",
            style=_LABEL,
            layout=w.Layout(width="660px", height="52px"),
        )
        self.invoke_button = w.Button(
            description="Call", button_style="primary", icon="play", tooltip="Invoke the handler with this body"
        )
        self.reset_button = w.Button(
            description="Reset body", icon="undo", tooltip="Refill the body from the handler's input schema"
        )
        self.busy_label = w.HTML()
        self.message_label = w.HTML()
        self.answer_panel = w.HTML('<span class="rl-muted">No invocation yet: pick a handler and press Call.</span>')

        for name, widget in (
            ("service", self.service_picker),
            ("handler", self.handler_picker),
            ("key", self.key_field),
            ("body", self.body_editor),
            ("mode", self.mode_picker),
            ("delay", self.delay_field),
            ("idempotency_key", self.idempotency_field),
            ("headers", self.headers_editor),
            ("timeout", self.timeout_field),
        ):
            traitlets.link((widget, "value"), (self, name))
        self.service_picker.observe(self._on_service, "value")
        self.handler_picker.observe(self._on_handler, "value")
        self.mode_picker.observe(self._on_mode, "value")
        self.invoke_button.on_click(lambda _b: self.invoke())
        self.reset_button.on_click(lambda _b: self.reset_body())

        self.delay_row = w.HBox([self.delay_field])
        super().__init__(
            [
                w.HTML(STYLE),
                w.HBox([self.service_picker, self.kind_label]),
                self.handler_picker,
                self.key_field,
                self.doc_label,
                self.body_editor,
                w.HBox(
                    [w.HTML('<div style="width:130px;text-align:right;padding-right:8px">Mode</div>'), self.mode_picker]
                ),
                self.delay_row,
                w.HBox([self.idempotency_field, self.timeout_field]),
                self.headers_editor,
                w.HBox([self.invoke_button, self.reset_button, self.busy_label]),
                self.message_label,
                w.HTML("<b>Answer</b>"),
                self.answer_panel,
            ],
            **kwargs,
        )
        self.add_class("rl-panel")
        self.add_class("rl-composer")
        for widget, css in (
            (self.service_picker, "rl-service"),
            (self.handler_picker, "rl-handler"),
            (self.key_field, "rl-key"),
            (self.body_editor, "rl-body"),
            (self.invoke_button, "rl-invoke"),
            (self.answer_panel, "rl-answer"),
            (self.message_label, "rl-message"),
        ):
            widget.add_class(css)  # stable hooks for browser tests and custom styling
        self.reload()
        self._on_mode({"new": self.mode})

    @traitlets.validate("service")
    def _check_service(self, proposal: dict[str, Any]) -> Any:
        value = proposal["value"]
        if value is not None and self.catalogue and value not in self.catalogue:
            raise traitlets.TraitError(f"unknown service {value!r}; this target has {', '.join(self.catalogue)}")
        return value

    @traitlets.validate("handler")
    def _check_handler(self, proposal: dict[str, Any]) -> Any:
        value = proposal["value"]
        handlers = self.catalogue.get(self.service or "", {})
        if value is not None and handlers and value not in handlers:
            raise traitlets.TraitError(f"{self.service} has no handler {value!r}; it has {', '.join(handlers)}")
        return value

    # ---- catalogue ----

    def reload(self) -> None:
        """Read the target's catalogue again (after registering a deployment, say)."""
        try:
            self.catalogue = handler_infos(self.target.services())
        except Exception as exc:  # an unreachable admin API is shown, not raised
            self.catalogue = {}
            self.message = f"Could not read the services of this target: {exc}"
        names = list(self.catalogue)
        keep = self.service if self.service in names else (names[0] if names else None)
        self.service_picker.options = names
        self.service_picker.value = keep
        if not names:
            self.handler_picker.options = []
            self.doc_label.value = '<span class="rl-muted">This target has no services registered.</span>'
        self._on_service({"new": self.service_picker.value})

    @property
    def info(self) -> HandlerInfo | None:
        """The picked handler, as the catalogue describes it."""
        return self.catalogue.get(self.service or "", {}).get(self.handler or "")

    def _on_service(self, change: dict[str, Any]) -> None:
        handlers = self.catalogue.get(change["new"] or "", {})
        options = [(info.label, name) for name, info in handlers.items()]
        keep = self.handler if self.handler in handlers else (options[0][1] if options else None)
        self.handler_picker.options = options
        self.handler_picker.value = keep
        self._on_handler({"new": keep})

    def _on_handler(self, change: dict[str, Any]) -> None:
        info = self.info
        if info is None:
            self.kind_label.value = ""
            return
        kind = chip(info.service_kind) + (chip(info.handler_kind) if info.handler_kind else "")
        self.kind_label.value = kind
        self.key_field.layout.display = None if info.keyed else "none"
        doc = f"{esc(info.documentation)}<br>" if info.documentation else ""
        self.doc_label.value = (
            f'<span class="rl-muted">{doc}input: {esc(info.input_description)}'
            f" · {esc(info.service)}/{esc(info.handler)}</span>"
        )
        self.reset_body()

    def _on_mode(self, change: dict[str, Any]) -> None:
        self.delay_row.layout.display = None if change["new"] == "send" else "none"
        self.timeout_field.disabled = change["new"] == "send"
        self.invoke_button.description = "Send" if change["new"] == "send" else "Call"

    def reset_body(self) -> None:
        """Prefill the body editor from the picked handler's input schema."""
        info = self.info
        self.body = example_text(info.input_schema) if info is not None else ""

    # ---- composing ----

    def _request(self) -> dict[str, Any]:
        """The request the fields describe; ``ValueError`` with the user-facing reason when it is wrong."""
        info = self.info
        if info is None:
            raise ValueError("Pick a service and a handler first.")
        if info.keyed and not self.key.strip():
            raise ValueError(f"{info.service} is a {info.service_kind}: give a key.")
        text = self.body.strip()
        body: Any = None
        if text:
            try:
                body = json.loads(text)
            except ValueError as exc:
                raise ValueError(f"The body is not valid JSON: {exc}.") from None
            problems = validate(body, info.input_schema)
            if problems:
                raise ValueError("The body does not fit the handler's input schema: " + "; ".join(problems) + ".")
        elif info.input_schema is not None and info.input_schema.get("type") not in (None, "null"):
            raise ValueError(f"{info.handler} expects a body ({info.input_description}).")
        delay = self.delay.strip() if self.mode == "send" else ""
        if delay:
            try:
                parse_duration_ms(delay)
            except (ValueError, RestateError) as exc:
                raise ValueError(f"The delay {delay!r} is not a duration like 10s, 500ms or PT1M ({exc}).") from None
        headers = parse_headers(self.headers)
        return {
            "mode": self.mode,
            "service": info.service,
            "handler": info.handler,
            "key": self.key.strip() if info.keyed else None,
            "body": body,
            "idempotency_key": self.idempotency_key.strip() or None,
            "delay": delay or None,
            "headers": headers,
        }

    def invoke(self) -> bool:
        """Check the fields and start the invocation; ``False`` if refused (see :attr:`message`) or busy."""
        if self.busy:
            self.message = "An invocation is still running; wait for its answer."
            return False
        try:
            request = self._request()
        except ValueError as exc:
            self.message = str(exc)
            self._record(
                self._row(
                    {
                        "mode": self.mode,
                        "service": self.service,
                        "handler": self.handler,
                        "key": self.key or None,
                        "body": self.body,
                        "idempotency_key": None,
                        "delay": None,
                        "headers": {},
                    },
                    "invalid",
                    error_message=str(exc),
                )
            )
            return False
        self.message = ""
        self.busy = True
        started_wall = datetime.now(UTC)
        started = time.perf_counter()
        target = f"{request['service']}/{request['handler']}"
        self.busy_label.value = chip(f"⏳ {request['mode']} {target} …", "running")

        def work() -> Any:
            if request["mode"] == "call":
                request["known_ids"] = self._ids_of(request["service"])
            return self._perform(request)

        def tick(seconds: float) -> None:
            self.busy_label.value = chip(f"⏳ {request['mode']} {target} … {seconds:.1f} s", "running")

        def done(value: Any, error: BaseException | None) -> None:
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            row = self._finish(request, value, error, elapsed_ms, started_wall)
            self._record(row)
            self.busy_label.value = ""
            self.busy = False

        self._background.run(work, done, tick)
        return True

    def _perform(self, request: dict[str, Any]) -> Any:
        args = (request["service"], request["handler"], request["body"])
        common = {
            "key": request["key"],
            "idempotency_key": request["idempotency_key"],
            "headers": request["headers"] or None,
        }
        if request["mode"] == "send":
            return self.target.send(*args, delay=request["delay"], **common)
        return self.target.call(*args, timeout=float(self.timeout), **common)

    def _finish(
        self, request: dict[str, Any], value: Any, error: BaseException | None, elapsed_ms: float, started: datetime
    ) -> dict[str, Any]:
        if error is None and request["mode"] == "send":
            outcome = "previously-accepted" if value.status == "PreviouslyAccepted" else "accepted"
            return self._row(
                request,
                outcome,
                invocation_id=value.invocation_id,
                elapsed_ms=elapsed_ms,
                composed_at=started,
                result={"status": value.status, "execution_time": value.execution_time},
            )
        if error is None:
            return self._row(
                request,
                "ok",
                result=value,
                elapsed_ms=elapsed_ms,
                composed_at=started,
                invocation_id=self._find_id(request, started),
            )
        if isinstance(error, RestateError):
            return self._row(
                request,
                "error",
                error_code=error.code,
                error_source=error.source,
                error_message=error.message,
                elapsed_ms=elapsed_ms,
                composed_at=started,
                invocation_id=error.invocation_id or self._find_id(request, started),
            )
        if isinstance(error, TimeoutError):
            return self._row(
                request,
                "timeout",
                error_message=str(error),
                elapsed_ms=elapsed_ms,
                composed_at=started,
                invocation_id=self._find_id(request, started),
            )
        return self._row(
            request,
            "error",
            error_message=f"{type(error).__name__}: {error}",
            elapsed_ms=elapsed_ms,
            composed_at=started,
        )

    def _ids_of(self, service: str) -> set[str] | None:
        try:
            return set(self.target.invocations(service=service)["id"])
        except Exception:  # a target that cannot list invocations just does not report the id
            return None

    def _find_id(self, request: dict[str, Any], since: datetime) -> str | None:
        """The id of the invocation a call started (a call answers only the body): the new one on its target."""
        known = request.get("known_ids")
        try:
            frame = self.target.invocations(service=request["service"])
        except Exception:
            return None
        if frame.empty:
            return None
        mine = frame[frame["target_handler_name"] == request["handler"]]
        if request["key"] is not None:
            mine = mine[mine["target_service_key"] == request["key"]]
        if request["idempotency_key"] is not None and "idempotency_key" in mine.columns:
            by_key = mine[mine["idempotency_key"] == request["idempotency_key"]]
            if len(by_key):
                return str(by_key.iloc[0]["id"])
        if known is not None:
            mine = mine[~mine["id"].isin(known)]
        else:
            mine = mine[mine["created_at"] >= pd.Timestamp(since) - pd.Timedelta(seconds=1)]
        return str(mine.iloc[0]["id"]) if len(mine) == 1 else None

    @staticmethod
    def _row(request: dict[str, Any], outcome: str, **fields: Any) -> dict[str, Any]:
        row: dict[str, Any] = dict.fromkeys(HISTORY_COLUMNS)
        row.update(
            {
                k: request.get(k)
                for k in ("mode", "service", "handler", "key", "body", "idempotency_key", "delay", "headers")
            }
        )
        row["composed_at"] = datetime.now(UTC)
        row["outcome"] = outcome
        row.update(fields)
        return row

    def _record(self, row: dict[str, Any]) -> None:
        self._history.append(row)
        if row["outcome"] != "invalid":
            self.answer = {
                k: row[k]
                for k in (
                    "outcome",
                    "invocation_id",
                    "result",
                    "error_code",
                    "error_source",
                    "error_message",
                    "elapsed_ms",
                )
            }
            self.answer_panel.value = self._render(row)

    @staticmethod
    def _render(row: dict[str, Any]) -> str:
        parts = [row["service"], row["key"], row["handler"]] if row["key"] else [row["service"], row["handler"]]
        target = "/".join(str(p) for p in parts)
        lines = [
            ("status", chip(row["outcome"])),
            ("target", esc(target)),
            ("invocation id", f'<span class="rl-mono">{esc(row["invocation_id"] or "(not reported)")}</span>'),
        ]
        if row["elapsed_ms"] is not None:
            lines.append(("elapsed", esc(elapsed(row["elapsed_ms"]))))
        if row["error_code"] is not None:
            lines.append(("error code", esc(row["error_code"])))
        if row["error_source"] is not None:
            lines.append(("error source", esc(row["error_source"])))
        if row["error_message"]:
            lines.append(("message", f'<span class="rl-msg">{esc(row["error_message"])}</span>'))
        if row["outcome"] in ("ok", "accepted", "previously-accepted"):
            lines.append(("body", f'<div class="rl-pre">{pretty(row["result"])}</div>'))
        return kv_table(lines)

    @traitlets.observe("message")
    def _show_message(self, change: dict[str, Any]) -> None:
        self.message_label.value = f'<span class="rl-msg">⚠ {esc(change["new"])}</span>' if change["new"] else ""

    @traitlets.observe("busy")
    def _show_busy(self, change: dict[str, Any]) -> None:
        self.invoke_button.disabled = bool(change["new"])

    # ---- reading back ----

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until the running invocation has answered (at most ``timeout`` s)."""
        return self._background.wait(timeout)

    @property
    def history(self) -> pd.DataFrame:
        """Every composed invocation, refused ones included (``outcome == "invalid"``)."""
        if not self._history:
            return empty_history()
        frame = pd.DataFrame(self._history, columns=list(HISTORY_COLUMNS))
        frame["composed_at"] = pd.to_datetime(frame["composed_at"], utc=True)
        frame["elapsed_ms"] = pd.to_numeric(frame["elapsed_ms"], errors="coerce")
        return frame
