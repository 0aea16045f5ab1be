"""The notebook layer's frames: documented columns named as Restate's SQL tables name them.

* :data:`INVOCATION_COLUMNS` -- the ``sys_invocation`` columns the invocations view shows (every other
  column the target gives is kept after them). Timestamps are pandas datetimes in UTC.
* :data:`JOURNAL_COLUMNS` -- ``sys_journal`` columns plus ``kind``, the entry's family as the Restate UI
  groups it (``run``, ``sleep``, ``call``, ``send``, ``awakeable``, ``promise``, ``state``, ``input``,
  ``output``, ``retry``, ``other``) and ``phase`` (``command``, ``notification`` or ``event``).
* :data:`HISTORY_COLUMNS` -- one row per invocation composed in the :class:`Composer`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

#: ``sys_invocation`` columns, in the order the invocations view shows them.
INVOCATION_COLUMNS: dict[str, str] = {
    "id": "the invocation id (inv_...)",
    "target": "Service/handler or Service/key/handler",
    "target_service_name": "the service",
    "target_service_key": "the object or workflow key (None for plain services)",
    "target_handler_name": "the handler",
    "status": "pending, scheduled, ready, running, backing-off, suspended, paused or completed",
    "created_at": "when the invocation was accepted (UTC datetime)",
    "modified_at": "when it last changed (UTC datetime)",
    "retry_count": "attempts that failed and were retried",
    "completion_result": "success or failure, once completed",
    "completion_failure": "'[code] message' of a failure",
    "last_failure": "the last retryable failure's message",
}

#: ``sys_journal`` columns plus the two derived ones.
JOURNAL_COLUMNS: dict[str, str] = {
    "id": "the invocation id",
    "index": "position in the journal, from 0 (the input)",
    "entry_type": "Restate's name, e.g. 'Command: Run' or 'Notification: Sleep'",
    "name": "the name given in the handler (ctx.run name, state key, ...)",
    "kind": "run, sleep, call, send, awakeable, promise, state, input, output, retry or other",
    "phase": "command, notification or event",
    "appended_at": "when the entry was written (UTC datetime; NaT where the target does not record it)",
    "sleep_wakeup_at": "when a sleep fires (UTC datetime)",
    "promise_name": "the durable promise a promise entry concerns",
}

#: One row per composed invocation.
HISTORY_COLUMNS: dict[str, str] = {
    "composed_at": "when it was sent (UTC datetime)",
    "mode": "call (wait for the result) or send (fire and forget)",
    "service": "the service",
    "handler": "the handler",
    "key": "the object or workflow key, or None",
    "body": "the JSON body sent (a Python value)",
    "idempotency_key": "the idempotency-key header, or None",
    "delay": "the send delay as typed ('10s'), or None",
    "headers": "extra request headers (dict)",
    "outcome": "ok, accepted, previously-accepted, error, timeout or invalid (refused before sending)",
    "invocation_id": "the invocation id when known",
    "result": "the decoded result of a call",
    "error_code": "RestateError code (HTTP status), or None",
    "error_source": "ingress or invocation, or None",
    "error_message": "the error's message, or None",
    "elapsed_ms": "wall time from sending to the answer, in milliseconds",
}

_TIME_COLUMNS = (
    "created_at",
    "modified_at",
    "inboxed_at",
    "scheduled_at",
    "scheduled_start_at",
    "running_at",
    "completed_at",
    "last_start_at",
    "next_retry_at",
)


def to_utc(values: Any) -> pd.Series:
    """Timestamps (epoch ms integers, RFC 3339 strings or datetimes) as UTC pandas datetimes."""
    series = pd.Series(values)
    if series.empty:
        return pd.Series(pd.to_datetime(series, utc=True))
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.tz_localize("UTC") if series.dt.tz is None else series.dt.tz_convert("UTC")
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.notna().sum() == series.notna().sum():
        return pd.Series(pd.to_datetime(numeric, unit="ms", utc=True), index=series.index)
    return pd.Series(pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601"), index=series.index)


def invocations_frame_from_rows(rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A ``sys_invocation`` frame with the :data:`INVOCATION_COLUMNS` first and real UTC datetimes."""
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    for column in INVOCATION_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    for column in _TIME_COLUMNS:
        if column in frame.columns:
            frame[column] = to_utc(frame[column]).to_numpy()
    frame["retry_count"] = pd.to_numeric(frame["retry_count"], errors="coerce").fillna(0).astype(int)
    for column in ("target_service_key", "completion_result", "completion_failure", "last_failure"):
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    rest = [c for c in frame.columns if c not in INVOCATION_COLUMNS]
    frame = frame[list(INVOCATION_COLUMNS) + rest]
    # Newest first; targets list in creation order, so reversing first keeps same-millisecond ties newest first.
    return frame.iloc[::-1].sort_values("created_at", ascending=False, kind="stable").reset_index(drop=True)


_KINDS = {
    "Input": "input",
    "Output": "output",
    "Run": "run",
    "ProposeRunCompletion": "run",
    "Sleep": "sleep",
    "Call": "call",
    "CallInvocationId": "call",
    "AttachInvocation": "call",
    "GetInvocationOutput": "call",
    "OneWayCall": "send",
    "SendSignal": "awakeable",
    "CompleteAwakeable": "awakeable",
    "Signal": "awakeable",
    "GetPromise": "promise",
    "PeekPromise": "promise",
    "CompletePromise": "promise",
    "TransientError": "retry",
    "Paused": "retry",
}


def entry_kind(entry_type: str) -> tuple[str, str]:
    """``("run", "command")`` for ``"Command: Run"``: the family and phase of a ``sys_journal`` entry type."""
    phase, _, name = str(entry_type).partition(": ")
    if not name:
        phase, name = "other", phase
    phase = phase.lower() if phase in ("Command", "Notification", "Event") else "other"
    if "State" in name:
        return "state", phase
    kind = _KINDS.get(name)
    if kind is None and phase == "event":
        kind = "retry" if "Error" in name or "Retry" in name else "other"
    return kind or "other", phase


def journal_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """A ``sys_journal`` frame with ``kind`` and ``phase`` added and ``appended_at`` as UTC datetimes."""
    frame = raw.copy()
    for column in ("id", "index", "entry_type", "name", "appended_at", "sleep_wakeup_at", "promise_name"):
        if column not in frame.columns:
            frame[column] = None
    kinds = [entry_kind(t) for t in frame["entry_type"]]
    frame["kind"] = [k for k, _ in kinds]
    frame["phase"] = [p for _, p in kinds]
    for column in ("appended_at", "sleep_wakeup_at"):
        frame[column] = to_utc(frame[column]).to_numpy()
    frame["index"] = pd.to_numeric(frame["index"], errors="coerce").fillna(-1).astype(int)
    frame["name"] = frame["name"].where(frame["name"].notna(), "").astype(str)
    rest = [c for c in frame.columns if c not in JOURNAL_COLUMNS]
    return frame[list(JOURNAL_COLUMNS) + rest].sort_values("index", kind="stable").reset_index(drop=True)


def empty_history() -> pd.DataFrame:
    """A history frame with no rows and the :data:`HISTORY_COLUMNS`."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in HISTORY_COLUMNS})
    frame["composed_at"] = pd.Series(dtype="datetime64[ns, UTC]")
    frame["elapsed_ms"] = pd.Series(dtype=float)
    return frame
