"""A query answer in the real server's two formats: ``{"rows": [...]}`` JSON, and an Arrow IPC stream.

The JSON follows what Restate Server 1.7.12 writes (Arrow's JSON writer, measured value by value; see
``docs/observed-restate-1.7.12.md``): a null column is left out of its row, but a NaN or infinite float is
written as ``null``; floats in their shortest form, plain between 1e-5 and 1e10 and as ``1.0e10`` outside;
timestamps RFC 3339 with as many fraction digits as needed (``Z`` for UTC, none without a timezone);
durations ISO 8601 (``PT86400S``, ``P0D``); binary as lowercase hex; lists as arrays; structs and maps as
objects. Values are rendered one column at a time, then joined into rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

#: The content types the server answers with.
JSON_CONTENT_TYPE = "application/json"
ARROW_CONTENT_TYPE = "application/vnd.apache.arrow.stream"

Render = Callable[[Any], str | None]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIT_NANOS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def arrow_stream(table: pa.Table) -> bytes:
    """``table`` as an Arrow IPC stream (schema, record batches, end marker)."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches():
            writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def json_body(table: pa.Table) -> bytes:
    """``{"rows": [...]}`` for ``table``, each row an object without its null columns."""
    names = [json.dumps(name, ensure_ascii=False) + ":" for name in table.column_names]
    columns = [_render_column(column) for column in table.columns]
    rows = []
    for values in zip(*columns, strict=True) if columns else ():
        rows.append("{" + ",".join(n + v for n, v in zip(names, values, strict=True) if v is not None) + "}")
    if not columns:
        rows = ["{}"] * table.num_rows
    return ('{"rows":[' + ",".join(rows) + "]}").encode()


def _render_column(column: pa.ChunkedArray) -> list[str | None]:
    import pyarrow as pa

    render = renderer(column.type)
    if pa.types.is_timestamp(column.type) or pa.types.is_duration(column.type):
        column = column.cast(pa.int64())  # plain integers: much cheaper than datetime objects
    return [None if v is None else render(v) for v in column.to_pylist()]


def renderer(dtype: pa.DataType) -> Render:
    """How one non-null value of ``dtype`` (as pyarrow's ``to_pylist`` gives it) is written."""
    import pyarrow as pa
    import pyarrow.types as t

    if isinstance(dtype, pa.BaseExtensionType):  # e.g. arrow.json (json_get_array's elements): written as stored
        return renderer(dtype.storage_type)
    if t.is_boolean(dtype):
        return lambda v: "true" if v else "false"
    if t.is_integer(dtype):
        return str
    if t.is_floating(dtype):
        single = t.is_float32(dtype) or t.is_float16(dtype)
        return lambda v: format_float(v, single=single)
    if t.is_decimal(dtype):
        return lambda v: _decimal(v)
    if t.is_string(dtype) or t.is_large_string(dtype) or t.is_string_view(dtype):
        return lambda v: json.dumps(v, ensure_ascii=False)
    if t.is_binary(dtype) or t.is_large_binary(dtype) or t.is_fixed_size_binary(dtype) or t.is_binary_view(dtype):
        return lambda v: '"' + bytes(v).hex() + '"'
    if t.is_timestamp(dtype):
        return _timestamp_renderer(dtype)
    if t.is_date32(dtype):
        return lambda v: '"' + v.isoformat() + '"'
    if t.is_date64(dtype):
        return lambda v: '"' + _naive(v) + '"'
    if t.is_time(dtype):
        return lambda v: '"' + _time(v) + '"'
    if t.is_duration(dtype):
        nanos = _UNIT_NANOS[dtype.unit]
        return lambda v: '"' + iso_duration(_as_int(v, dtype.unit) * nanos) + '"'
    if t.is_interval(dtype):
        return lambda v: '"' + _interval(v) + '"'
    if t.is_list(dtype) or t.is_large_list(dtype) or t.is_fixed_size_list(dtype) or t.is_list_view(dtype):
        child = renderer(dtype.value_type)
        return lambda v: "[" + ",".join("null" if x is None else child(x) or "null" for x in v) + "]"
    if t.is_struct(dtype):
        fields = [(json.dumps(f.name) + ":", renderer(f.type), f.name) for f in dtype]
        return lambda v: (
            "{"
            + ",".join(
                k + r for k, render, name in fields if v.get(name) is not None and (r := render(v[name])) is not None
            )
            + "}"
        )
    if t.is_map(dtype):
        item = renderer(dtype.item_type)
        return lambda v: (
            "{" + ",".join(json.dumps(str(k)) + ":" + ("null" if x is None else item(x) or "null") for k, x in v) + "}"
        )
    if dtype == pa.null():
        return lambda v: None
    return lambda v: json.dumps(str(v))


def format_float(value: float, *, single: bool = False) -> str:
    """A float as Arrow's JSON writer spells it; NaN and infinities are ``null``."""
    if math.isnan(value) or math.isinf(value):
        return "null"
    if single:
        import numpy as np

        text = str(np.float32(value))
    else:
        text = repr(value)
    sign, digits_tuple, exp = Decimal(text).as_tuple()
    assert isinstance(exp, int)
    digits = "".join(map(str, digits_tuple)).lstrip("0") or "0"
    # Decimal keeps trailing zeros of "100000.0"; drop them into the exponent.
    stripped = digits.rstrip("0") or "0"
    exp += len(digits) - len(stripped)
    digits = stripped
    minus = "-" if sign else ""
    if digits == "0":
        return minus + "0.0"
    point = len(digits) + exp  # digits before the decimal point
    magnitude = point - 1
    if -5 <= magnitude <= 9:
        if point <= 0:
            return minus + "0." + "0" * -point + digits
        if point >= len(digits):
            return minus + digits + "0" * (point - len(digits)) + ".0"
        return minus + digits[:point] + "." + digits[point:]
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{minus}{mantissa}e{magnitude}"


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _as_int(value: Any, unit: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        return micros * 1000 // _UNIT_NANOS[unit]
    # pandas Timedelta/Timestamp keep nanoseconds
    return int(value.value) // _UNIT_NANOS[unit]


def _fraction(nanos: int) -> str:
    """chrono's ``%.f``: no fraction, or 3, 6 or 9 digits, whichever is exact."""
    if nanos == 0:
        return ""
    if nanos % 1_000_000 == 0:
        return f".{nanos // 1_000_000:03d}"
    if nanos % 1_000 == 0:
        return f".{nanos // 1_000:06d}"
    return f".{nanos:09d}"


def _timestamp_renderer(dtype: pa.TimestampType) -> Render:
    from zoneinfo import ZoneInfo

    unit_nanos = _UNIT_NANOS[dtype.unit]
    tz_name = dtype.tz
    tz: Any = None
    if tz_name is not None:
        if tz_name in ("UTC", "Z", "+00:00", "-00:00", "Etc/UTC"):
            tz = UTC
        elif tz_name[:1] in "+-" and len(tz_name) == 6:
            hours, minutes = int(tz_name[1:3]), int(tz_name[4:6])
            delta = timedelta(hours=hours, minutes=minutes)
            tz = timezone(delta if tz_name[0] == "+" else -delta)
        else:
            tz = ZoneInfo(tz_name)

    def render(value: Any) -> str:
        total = _as_int(value, dtype.unit) * unit_nanos if not isinstance(value, datetime) else _dt_nanos(value)
        seconds, nanos = divmod(total, 1_000_000_000)
        moment = _EPOCH + timedelta(seconds=seconds)
        if tz is None:
            return '"' + moment.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(nanos) + '"'
        local = moment.astimezone(tz)
        offset = local.strftime("%z")
        suffix = "Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}"
        return '"' + local.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(nanos) + suffix + '"'

    return render


def _dt_nanos(value: Any) -> int:
    nanos = getattr(value, "nanosecond", 0)
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    total: int = ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000 + nanos
    return total


def timestamp_ms(ms: int | None) -> str | None:
    """A ``Timestamp(ms, "+00:00")`` value as the server's JSON writes it (without quotes)."""
    if ms is None:
        return None
    seconds, rest = divmod(ms, 1000)
    moment = _EPOCH + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(rest * 1_000_000) + "Z"


def _naive(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(value.microsecond * 1000)
    if isinstance(value, date):
        return value.isoformat() + "T00:00:00"
    return str(value)


def _time(value: Any) -> str:
    if hasattr(value, "hour"):
        nanos = value.microsecond * 1000 + getattr(value, "nanosecond", 0)
        return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}" + _fraction(nanos)
    return str(value)


def iso_duration(nanos: int) -> str:
    """ISO 8601 seconds as chrono writes a duration: ``PT1.5S``, ``-PT2S``, ``P0D``."""
    if nanos == 0:
        return "P0D"
    sign = "-" if nanos < 0 else ""
    seconds, rest = divmod(abs(nanos), 1_000_000_000)
    fraction = f".{rest:09d}".rstrip("0") if rest else ""
    return f"{sign}PT{seconds}{fraction}S"


def _interval(value: Any) -> str:
    months = getattr(value, "months", 0)
    days = getattr(value, "days", 0)
    nanos = getattr(value, "nanoseconds", 0)
    parts = []
    if months:
        parts.append(f"{months} mons")
    if days:
        parts.append(f"{days} days")
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds, frac = divmod(rest, 1_000_000_000)
    if hours:
        parts.append(f"{hours} hours")
    if minutes:
        parts.append(f"{minutes} mins")
    if seconds or frac:
        parts.append(f"{seconds}.{frac:09d} secs" if frac else f"{seconds} secs")
    return " ".join(parts) or "0 secs"
