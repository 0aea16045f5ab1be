"""Small HTML pieces the widgets share: status chips, key/value tables, escaped JSON, durations."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from typing import Any

#: One style sheet for every restate_lab widget (class names are prefixed ``rl-``).
STYLE = """<style>
.rl-panel { font-size: 13px; }
.rl-chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
           background: #e8ecf2; color: #24324a; margin-right: 4px; }
.rl-ok { background: #d9f2df; color: #14532d; } .rl-err { background: #fde2e1; color: #7f1d1d; }
.rl-warn { background: #fff1cc; color: #713f12; } .rl-busy { background: #dbeafe; color: #1e3a8a; }
.rl-kv { border-collapse: collapse; margin: 4px 0; }
.rl-kv td { padding: 2px 10px 2px 0; vertical-align: top; font-size: 13px; }
.rl-kv td:first-child { color: #5b6576; white-space: nowrap; }
.rl-mono, .rl-list select { font-family: var(--jp-code-font-family, monospace); font-size: 12px; }
.rl-pre { font-family: var(--jp-code-font-family, monospace); font-size: 12px; background: #f6f8fa;
          padding: 6px 8px; border-radius: 4px; margin: 2px 0; white-space: pre-wrap; max-height: 240px;
          overflow: auto; }
.rl-msg { color: #7f1d1d; font-size: 13px; }
.rl-muted { color: #6b7280; font-size: 13px; }
.rl-table { border-collapse: collapse; font-size: 12px; }
.rl-table th { text-align: left; border-bottom: 1px solid #cbd5e1; padding: 2px 10px 2px 0; }
.rl-table td { padding: 2px 10px 2px 0; font-family: var(--jp-code-font-family, monospace); }
.rl-summary th { white-space: nowrap; } .rl-summary td { text-align: right; }
</style>"""

_STATUS_CLASS = {
    "completed": "rl-ok",
    "success": "rl-ok",
    "ok": "rl-ok",
    "accepted": "rl-ok",
    "previously-accepted": "rl-ok",
    "running": "rl-busy",
    "pending": "rl-warn",
    "scheduled": "rl-warn",
    "ready": "rl-warn",
    "inboxed": "rl-warn",
    "suspended": "rl-warn",
    "backing-off": "rl-err",
    "paused": "rl-err",
    "failure": "rl-err",
    "error": "rl-err",
    "timeout": "rl-err",
    "invalid": "rl-err",
}


def esc(value: Any) -> str:
    return html.escape(str(value))


def chip(text: str, status: str | None = None) -> str:
    """A rounded label, coloured by the status it names."""
    css = _STATUS_CLASS.get((status or text).lower(), "")
    return f'<span class="rl-chip {css}">{esc(text)}</span>'


def pretty(value: Any) -> str:
    """A value as the answer panel shows it: indented JSON where possible, escaped."""
    if isinstance(value, bytes | bytearray):
        try:
            return esc(bytes(value).decode())
        except UnicodeDecodeError:
            return esc(f"<{len(value)} bytes>")
    try:
        return esc(json.dumps(value, indent=2, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        return esc(repr(value))


def kv_table(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table; values are HTML already (escape them with :func:`esc`)."""
    body = "".join(f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="rl-kv">{body}</table>'


def table(columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="rl-table"><tr>{head}</tr>{body}</table>'


def elapsed(ms: float) -> str:
    """``850 ms``, ``1.25 s``, ``2 min 5 s``: a wall time with its unit."""
    if ms < 1000:
        return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    minutes, seconds = divmod(ms / 1000, 60)
    return f"{int(minutes)} min {seconds:.0f} s"


def state_table(state: Mapping[str, Any]) -> str:
    if not state:
        return '<span class="rl-muted">no state stored for this key</span>'
    return kv_table((k, f'<span class="rl-mono">{pretty(v)}</span>') for k, v in sorted(state.items()))
