"""Frames every target returns alike: the real server's table columns, timestamps as UTC datetimes.

``invocations()`` has the columns of Restate Server 1.7's ``sys_invocation`` table and ``journal()``
those of ``sys_journal`` plus a decoded ``value``, in the server's order, whichever target answered:
the real server leaves null fields out of its JSON rows and the simulator knows fewer fields, so
missing columns are filled with ``None`` rather than dropped. pandas is imported here, on use only.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from restate_lab.protocol.messages import Frame, MessageType, Result, Value, result_of
from restate_lab.runtime.introspection import TABLES
from restate_lab.runtime.sql.entries import ENTRY_NAMES

if TYPE_CHECKING:
    import pandas as pd

#: ``invocations()`` columns: ``sys_invocation``'s, in the real server's order.
INVOCATION_COLUMNS: tuple[str, ...] = TABLES["sys_invocation"]
#: ``journal()`` columns: ``sys_journal``'s, then the entry's decoded ``value`` where it is known.
JOURNAL_COLUMNS: tuple[str, ...] = (*TABLES["sys_journal"], "value")
#: Columns holding instants; they become ``datetime64[ns, UTC]``.
TIMESTAMP_COLUMNS = frozenset(
    {
        "created_at",
        "modified_at",
        "inboxed_at",
        "scheduled_at",
        "scheduled_start_at",
        "running_at",
        "completed_at",
        "last_start_at",
        "next_retry_at",
        "appended_at",
        "sleep_wakeup_at",
    }
)
#: Integer columns, kept as nullable integers so a missing value does not turn them into floats.
INTEGER_COLUMNS = frozenset(
    {
        "retry_count",
        "journal_size",
        "journal_commands_size",
        "pinned_service_protocol_version",
        "last_failure_related_entry_index",
        "last_failure_related_command_index",
        "index",
        "raw_length",
        "version",
        "partition_key",
    }
)


def frame(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows as a DataFrame; with ``columns``, exactly those columns in that order (absent ones ``None``).

    Timestamp columns (RFC 3339 strings or epoch milliseconds) become UTC datetimes.
    """
    import pandas as pd

    data = list(rows)
    out = pd.DataFrame(data, columns=list(columns)) if columns is not None else pd.DataFrame(data)
    for column in out.columns:
        if column in TIMESTAMP_COLUMNS:
            out[column] = to_utc(out[column])
        elif column in INTEGER_COLUMNS and len(out):
            # not integers after all (a target's own query): the column stays as it came
            with contextlib.suppress(TypeError, ValueError):
                out[column] = pd.array(out[column].tolist(), dtype="Int64")
    return out


def to_utc(values: pd.Series) -> pd.Series:
    """A column of RFC 3339 strings, epoch milliseconds or datetimes as ``datetime64[ns, UTC]``."""
    import pandas as pd

    if values.empty:
        return pd.Series(pd.to_datetime([], utc=True), index=values.index, name=values.name)
    present = values.dropna()
    if len(present) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.to_datetime(values, unit="ms", utc=True)
    return pd.to_datetime(values, utc=True, format="ISO8601")


def invocations_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """``sys_invocation`` rows from any target as the :data:`INVOCATION_COLUMNS` frame."""
    return frame(rows, INVOCATION_COLUMNS)


def journal_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """``sys_journal`` rows from any target as the :data:`JOURNAL_COLUMNS` frame, ordered by index."""
    out = frame(rows, JOURNAL_COLUMNS)
    return out.sort_values("index", kind="stable").reset_index(drop=True) if len(out) else out


def decode_value(raw: bytes | str | None) -> Any:
    """A stored value as Python: JSON where it parses, else the bytes (``None`` stays ``None``)."""
    if raw is None:
        return None
    data = raw.encode() if isinstance(raw, str) else bytes(raw)
    try:
        return json.loads(data)
    except ValueError:
        return data


def entry_value(frame: Frame) -> Any:
    """The value a journal entry carries (input, output, state set, a completion's result), decoded; else ``None``."""
    result: Result | None
    if frame.type in (MessageType.INPUT_COMMAND, MessageType.SET_STATE_COMMAND):
        message = frame.message()
        result = Value(message.value.content) if message.HasField("value") else None
    elif frame.type == MessageType.OUTPUT_COMMAND or frame.is_notification:
        result = result_of(frame.message())
    else:
        return None
    return decode_value(result.content) if isinstance(result, Value) else None


_ENTRY_TYPES = {name: code for code, name in ENTRY_NAMES.items()}


def row_entry_value(entry_type: str | None, raw_hex: str | None) -> Any:
    """The decoded value of a ``sys_journal`` row from its ``entry_type`` and hex ``raw`` protobuf payload."""
    code = _ENTRY_TYPES.get(entry_type or "")
    if code is None or raw_hex is None:
        return None
    try:
        return entry_value(Frame(code, bytes.fromhex(raw_hex)))
    except (ValueError, IndexError):
        return None  # a payload this decoder does not know: no value rather than a broken frame


def sql_string(text: str) -> str:
    """A SQL string literal (single quotes doubled), for filters both SQL dialects read alike."""
    return "'" + text.replace("'", "''") + "'"


def invocations_sql(service: str | None, status: str | None, limit: int | None) -> str:
    """The ``sys_invocation`` query behind ``invocations(...)``, the same on the runtime and a server."""
    where = []
    if service is not None:
        where.append(f"target_service_name = {sql_string(service)}")
    if status is not None:
        where.append(f"status = {sql_string(status)}")
    sql = "select * from sys_invocation"
    if where:
        sql += " where " + " and ".join(where)
    sql += " order by created_at desc"
    if limit is not None:
        sql += f" limit {int(limit)}"
    return sql


def journal_sql(invocation_id: str) -> str:
    """The ``sys_journal`` query behind ``journal(id)``."""
    return f'select * from sys_journal where id = {sql_string(invocation_id)} order by "index"'


def state_sql(service: str, key: str) -> str:
    """The ``state`` query behind ``state(service, key)``."""
    return (
        f"select key, value_utf8 from state where service_name = {sql_string(service)} "
        f"and service_key = {sql_string(key)}"
    )
