"""Durations as Restate Server 1.7.12 reads them: Jiff's "friendly" format and ISO-8601, then days at most.

The server parses ``?delay=`` (and its other duration settings) with the Jiff library's span parser
and converts the span to an unsigned duration. Measured on the real server (the probe table in
``docs/observed-restate-1.7.12.md`` lists each spelling), the rules are:

- *friendly*: ``[+-]`` then unit values ``<int>[.,<1-9 digits>] [ws] <designator>`` from largest to
  smallest unit, each at most once, separated by whitespace or by a comma right after the designator
  that is followed by whitespace and by another unit; then optionally whitespace and ``ago`` (negative;
  refused with a prefix sign, ``+`` too), and nothing but whitespace before ``ago``'s place. Leading
  whitespace is refused; whitespace is space, tab, CR, LF and form feed. Designators are case-sensitive
  (``1S`` is refused). Only hours down to microseconds take a fraction (``1.5h``, ``1,5s``; ``1.5d`` and
  ``1.5ns`` are refused), and a fraction ends the units. ``H:M:S[.f]`` stands for a unit value, after days
  or larger units only. Each unit is checked in order as it is read, the bounds once all is read: an
  hour-to-microsecond value past its bound spills into the smaller units rather than being refused.
- *ISO-8601*: ``[+-]P[nY][nM][nW][nD][T[nH][nM][nS]]``, letters in any case, a fraction only on the
  last time unit; each designator and the units' order are checked as they are read, a ``T`` needs a
  time unit, then the bounds (as above), then anything left is unparsed input.
- afterwards: years and months are refused ("please use units of days or smaller"), weeks are 7 days,
  a negative non-zero span is refused, ``-0s`` is zero.

Error messages are the server's, word for word, because the ingress answers them in its 400 body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

_NS = {
    "year": 0,
    "month": 0,
    "week": 604_800 * 10**9,
    "day": 86_400 * 10**9,
    "hour": 3_600 * 10**9,
    "minute": 60 * 10**9,
    "second": 10**9,
    "millisecond": 10**6,
    "microsecond": 10**3,
    "nanosecond": 1,
}
_ORDER = list(_NS)
#: Jiff's per-unit bounds on a span.
_LIMITS = {
    "year": 19_998,
    "month": 239_976,
    "week": 1_043_497,
    "day": 7_304_484,
    "hour": 175_307_616,
    "minute": 10_518_456_960,
    "second": 631_107_417_600,
    "millisecond": 631_107_417_600_000,
    "microsecond": 631_107_417_600_000_000,
    "nanosecond": 9_223_372_036_854_775_807,
}
_DESIGNATORS: dict[str, str] = {}
for _unit, _names in (
    ("year", "years year yrs yr y"),
    ("month", "months month mos mo"),
    ("week", "weeks week wks wk w"),
    ("day", "days day d"),
    ("hour", "hours hour hrs hr h"),
    ("minute", "minutes minute mins min m"),
    ("second", "seconds second secs sec s"),
    ("millisecond", "milliseconds millisecond msecs msec ms"),
    ("microsecond", "microseconds microsecond usecs usec us µs μs"),
    ("nanosecond", "nanoseconds nanosecond nsecs nsec ns"),
):
    for _name in _names.split():
        _DESIGNATORS[_name] = _unit
#: Longest first, so ``mins`` wins over ``m`` and ``ms`` over ``m``.
_DESIGNATOR_NAMES = sorted(_DESIGNATORS, key=len, reverse=True)
#: Units that take a fraction (measured: ``1.5ns`` is refused as ``1.5d`` is).
_FRACTIONAL = {"hour", "minute", "second", "millisecond", "microsecond"}
_I64_MAX = 2**63 - 1
_U64_MAX = 2**64 - 1

_FRIENDLY = 'failed to parse input in the "friendly" duration format: '
_EXPECTED_INTEGER = (
    "expected duration to start with a unit value (a decimal integer) after an optional sign, but no integer was found"
)
_EXPECTED_UNIT = "expected to find unit designator suffix (e.g., `years` or `secs`) after parsing integer"
_MISSING_FRACTION = "found decimal after seconds component, but did not find any digits after decimal"
_EMPTY = 'an empty string is not a valid duration in either the ISO 8601 format or Jiff\'s "friendly" format'
_NEGATIVE = "negative signed durations cannot be converted to an unsigned duration"
_TOO_COARSE = "please use units of days or smaller"
_RELATIVE = (
    "could not compute normalized relative span when all days are assumed to be 24 hours: using unit '{unit}' in "
    "span or configuration requires that a relative reference time be given "
    "(`jiff::SpanRelativeTo::days_are_24_hours()` was given but this only permits using days and weeks without a "
    "relative reference time)"
)
_ORDER_ERROR = (
    "found value with unit {unit} after unit {previous}, but units must be written from largest to smallest "
    "(and they can't be repeated)"
)
#: The bytes Jiff takes for whitespace (not the vertical tab).
_WS = " \t\n\r\x0c"

#: The latest execution time Restate Server can answer (``executionTime`` is RFC 3339, four-digit years).
MAX_EXECUTION_EPOCH_MS = int(datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC).timestamp() * 1000)


class InvalidDuration(ValueError):
    """A duration string Restate Server refuses; the message is the server's."""


@dataclass
class _Span:
    """Parsed units (whole values plus a nanosecond fraction of the last one) and the sign."""

    units: dict[str, int]
    fraction_ns: int = 0
    negative: bool = False

    def nanoseconds(self) -> int:
        return sum(_NS[u] * v for u, v in self.units.items()) + self.fraction_ns

    def iso(self) -> str:
        """The span as Jiff displays it in its "parsed value ..." messages."""
        u = self.units
        date = "".join(
            f"{u[k]}{d}" for k, d in (("year", "Y"), ("month", "M"), ("week", "W"), ("day", "D")) if u.get(k)
        )
        sub_ns = (
            u.get("second", 0) * 10**9
            + u.get("millisecond", 0) * 10**6
            + u.get("microsecond", 0) * 10**3
            + u.get("nanosecond", 0)
        )
        minutes = u.get("minute", 0)
        if self.fraction_ns:
            # Jiff spreads a fraction over the smaller units: 1.5h shows as PT1H30M, 0.25min as PT15S.
            # The fraction belongs to the smallest unit written (nothing may follow a fraction).
            if max(u, key=_ORDER.index) == "hour":
                extra_minutes, rest_ns = divmod(self.fraction_ns, _NS["minute"])
                minutes += extra_minutes
                sub_ns += rest_ns
            else:
                sub_ns += self.fraction_ns
        time = f"{u['hour']}H" if u.get("hour") else ""
        time += f"{minutes}M" if minutes else ""
        if sub_ns:
            whole, frac = divmod(sub_ns, 10**9)
            time += f"{whole}" + (f".{frac:09d}".rstrip("0") if frac else "") + "S"
        sign = "-" if self.negative else ""
        if not date and not time:
            return "PT0S"  # a zero span has no sign (``-0s x`` shows PT0S)
        return f"{sign}P{date}" + (f"T{time}" if time else "")


def parse_duration_ms(text: str) -> int:
    """Parse ``text`` as Restate Server does into whole milliseconds (rounded down).

    >>> parse_duration_ms("1h 2m"), parse_duration_ms("PT10S"), parse_duration_ms("1,5s"), parse_duration_ms("P1W")
    (3720000, 10000, 1500, 604800000)
    >>> parse_duration_ms("1.5d")
    Traceback (most recent call last):
    ...
    restate_lab.rules.durations.InvalidDuration: failed to parse input in the "friendly" duration format: \
fractional days are not supported
    """
    if text == "":
        raise InvalidDuration(_EMPTY)
    if text == "0":
        return 0  # a bare zero is the one unit-less value the server accepts
    body = text[1:] if text[:1] in "+-" else text
    span = _parse_iso(text) if body[:1] in ("P", "p") else _parse_friendly(text)
    coarse = "year" if span.units.get("year") else "month" if span.units.get("month") else None
    if coarse is not None and span.negative:
        raise InvalidDuration(_RELATIVE.format(unit=coarse))
    if coarse is not None:
        raise InvalidDuration(_TOO_COARSE)
    total = span.nanoseconds()
    if span.negative and total:
        raise InvalidDuration(_NEGATIVE)
    return total // 1_000_000


def fits_execution_time(now_ms: int, delay_ms: int) -> bool:
    """Whether ``now + delay`` is an execution time the server can still write (up to the year 9999)."""
    return now_ms + delay_ms <= MAX_EXECUTION_EPOCH_MS


# --- the friendly format ------------------------------------------------------------------------


def _fail(message: str) -> InvalidDuration:
    return InvalidDuration(_FRIENDLY + message)


def _digits(text: str, pos: int) -> int:
    end = pos
    while end < len(text) and text[end].isdigit() and text[end].isascii():
        end += 1
    return end


_TIME_UNITS = ("hour", "minute", "second", "millisecond", "microsecond")


def _limits(span: _Span) -> None:
    """Apply the span's per-unit bounds once the whole text is read, as Jiff builds the span.

    A calendar unit (or nanoseconds) past its bound is refused. An hour, minute, second, milli- or
    microsecond value past its bound spills into the smaller units instead (``200000000h`` reads as
    ``PT175307616H1481543040M``), each capped at its own bound; only what is left past nanoseconds is
    refused. Units are applied largest first, so a spill is overwritten by a smaller unit written later.
    """
    for unit, value in [(u, span.units[u]) for u in _ORDER if span.units.get(u)]:
        if value > _I64_MAX:
            raise _fail(f"value for {unit}s is too big (or small) to fit into a signed 64-bit integer")
        limit = _LIMITS[unit]
        if value <= limit:
            span.units[unit] = value
        elif unit in _TIME_UNITS:
            _spill(span, unit, value)
        else:
            raise _fail(
                f"failed to set value for {unit} unit on span: parameter '{unit}s' is not in the required "
                f"range of -{limit}..={limit}"
            )


def _spill(span: _Span, unit: str, value: int) -> None:
    rest_ns = value * _NS[unit]
    for smaller in _TIME_UNITS[_TIME_UNITS.index(unit) :]:
        amount, rest_ns = divmod(rest_ns, _NS[smaller])
        if amount > _LIMITS[smaller]:
            rest_ns += (amount - _LIMITS[smaller]) * _NS[smaller]
            amount = _LIMITS[smaller]
        span.units[smaller] = amount
    if rest_ns > _I64_MAX:
        raise _fail(
            f"failed to set value for {unit} unit on span: failed to set nanosecond value from fractional component"
        )
    if rest_ns:
        span.units["nanosecond"] = rest_ns


def _set_unit(span: _Span, unit: str, value: int, previous: str | None) -> None:
    if previous is not None and _ORDER.index(unit) <= _ORDER.index(previous):
        raise _fail(_ORDER_ERROR.format(unit=unit, previous=previous))
    span.units[unit] = value


def _unit_value(text: str, pos: int) -> tuple[int | None, int]:
    """A decimal integer at ``pos`` (None if there is no digit) and where it ends."""
    end = _digits(text, pos)
    if end == pos:
        return None, pos
    value = int(text[pos:end])
    if value > _U64_MAX:
        raise _fail("number too big to parse into 64-bit integer")
    return value, end


def _fraction(text: str, pos: int) -> tuple[str | None, int]:
    """A ``.`` or ``,`` and its 1-9 digits at ``pos`` (None without a separator); digits past nine are left."""
    if pos >= len(text) or text[pos] not in ".,":
        return None, pos
    end = pos + 1
    while end < len(text) and end - pos <= 9 and text[end].isdigit() and text[end].isascii():
        end += 1
    if end == pos + 1:
        raise _fail(_MISSING_FRACTION)
    return text[pos + 1 : end], end


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _shown_byte(char: str) -> str:
    """A character as Jiff names the byte it found (Rust's ASCII escape; the first byte of a non-ASCII one)."""
    if char == " ":
        return " "
    byte = char.encode()[0]
    escapes = {9: "\\t", 10: "\\n", 13: "\\r", 39: "\\'", 34: '\\"', 92: "\\\\"}
    if byte in escapes:
        return escapes[byte]
    return chr(byte) if 32 <= byte < 127 else f"\\x{byte:02X}"


def _parse_friendly(text: str) -> _Span:
    """Jiff's friendly grammar: unit values with designators, ``H:M:S``, commas, a sign before or ``ago`` after."""
    pos = 0
    span = _Span({})
    prefix_sign = text[0] in "+-"
    if prefix_sign:
        span.negative = text[0] == "-"
        pos = 1
    value, pos = _unit_value(text, pos)
    if value is None:
        raise _fail(_EXPECTED_INTEGER)
    previous: str | None = None  # the smallest unit so far: each must be smaller than the one before
    ends_in_comma = False
    while True:
        if pos < len(text) and text[pos] == ":":
            pos = _parse_hms(text, pos + 1, span, value, previous)
            break
        fraction, pos = _fraction(text, pos)
        pos = _skip_ws(text, pos)
        unit = None
        for name in _DESIGNATOR_NAMES:
            if text.startswith(name, pos):
                unit = _DESIGNATORS[name]
                pos += len(name)
                break
        if unit is None:
            raise _fail(_EXPECTED_UNIT)
        # A comma right after the designator must be followed by (one byte of) whitespace, and by a unit.
        if pos < len(text) and text[pos] == ",":
            pos += 1
            if pos == len(text):
                raise _fail("expected whitespace after comma, but found end of input")
            if text[pos] not in _WS:
                raise _fail(f"expected whitespace after comma, but found `{_shown_byte(text[pos])}`")
            pos += 1
            ends_in_comma = True
        _set_unit(span, unit, value, previous)
        previous = unit
        if fraction is not None:
            if unit not in _FRACTIONAL:
                raise _fail(f"fractional {unit}s are not supported")
            span.fraction_ns = int(fraction.ljust(9, "0")) * _NS[unit] // 10**9
            break  # a fraction ends the units: it belongs to the smallest one
        value, after = _unit_value(text, _skip_ws(text, pos))
        if value is None:
            break  # what follows is the suffix sign, or input left unparsed
        pos = after
        ends_in_comma = False
    if ends_in_comma:
        raise _fail("found comma at the end of duration, but a comma indicates at least one more unit follows")
    if pos < len(text) and text[pos] in _WS:
        pos = _skip_ws(text, pos)
        if text.startswith("ago", pos):
            pos += 3
            if prefix_sign:
                raise _fail("expected to find either a prefix sign (+/-) or a suffix sign (`ago`), but found both")
            span.negative = True
    _limits(span)
    if pos < len(text):
        raise _fail(
            f"parsed value '{span.iso()}', but unparsed input {_quote(text[pos:])} remains (expected no unparsed input)"
        )
    return span


_DEBUG_ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _quote(rest: str) -> str:
    """``rest`` quoted as Jiff shows unparsed input: Rust-style escapes, other control bytes as ``\\xNN``."""
    shown = (_DEBUG_ESCAPES.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 32 or ord(c) == 127 else c) for c in rest)
    return '"' + "".join(shown) + '"'


def _parse_hms(text: str, pos: int, span: _Span, hours: int, previous: str | None) -> int:
    """``H:M:S[.f]`` after a unit value and its ``:``, only after days or larger; returns where it ends."""
    minutes, pos = _unit_value(text, pos)
    if minutes is None:
        raise _fail("when parsing the `HH:MM:SS` format, expected to parse minute following hour")
    if pos >= len(text) or text[pos] != ":":
        raise _fail("when parsing the `HH:MM:SS` format, expected to parse `:` following minute")
    seconds, pos = _unit_value(text, pos + 1)
    if seconds is None:
        raise _fail("when parsing the `HH:MM:SS` format, expected to parse second following minute")
    fraction, pos = _fraction(text, pos)
    if previous is not None and _ORDER.index(previous) >= _ORDER.index("hour"):
        raise _fail(
            f"found `HH:MM:SS` after unit {previous}, but `HH:MM:SS` can only appear after years, months, weeks or days"
        )
    span.units.update(hour=hours, minute=minutes, second=seconds)
    if fraction is not None:
        span.fraction_ns = int(fraction.ljust(9, "0"))
    return pos


# --- ISO 8601 -----------------------------------------------------------------------------------


_DATE_LETTERS = {"Y": "year", "M": "month", "W": "week", "D": "day"}
_TIME_LETTERS = {"H": "hour", "M": "minute", "S": "second"}


def _iso_designator(text: str, pos: int, letters: dict[str, str], kind: str, names: str) -> str:
    if pos == len(text):
        raise InvalidDuration(f"expected to find {kind} unit designator suffix {names}, but found end of input")
    unit = letters.get(text[pos].upper()) if text[pos].isascii() else None
    if unit is None:
        shown = _shown_byte(text[pos])
        raise InvalidDuration(f"expected to find {kind} unit designator suffix {names}, but found `{shown}` instead")
    return unit


def _parse_iso(text: str) -> _Span:
    """``[+-]P`` then date units ``<int><Y|M|W|D>``, then ``T`` and time units with a fraction on the last one."""
    span = _Span({})
    pos = 0
    if text[0] in "+-":
        span.negative = text[0] == "-"
        pos = 1
    pos += 1  # the P (or p)
    previous: str | None = None
    while True:
        value, pos = _iso_value(text, pos)
        if value is None:
            break
        unit = _iso_designator(text, pos, _DATE_LETTERS, "date", "(`Y`, `M`, `W` or `D`)")
        pos += 1
        _iso_set(span, unit, value, previous)
        previous = unit
    if pos < len(text) and text[pos] in "Tt":
        pos += 1
        while True:
            value, pos = _iso_value(text, pos)
            if value is None:
                break
            try:
                fraction, pos = _fraction(text, pos)
            except InvalidDuration:
                raise InvalidDuration(_MISSING_FRACTION) from None
            unit = _iso_designator(text, pos, _TIME_LETTERS, "time", "(`H`, `M` or `S`)")
            pos += 1
            _iso_set(span, unit, value, previous)
            previous = unit
            if fraction is not None:
                span.fraction_ns = int(fraction.ljust(9, "0")) * _NS[unit] // 10**9
                break  # a fraction ends the units
        if previous is None or _ORDER.index(previous) < _ORDER.index("hour"):
            raise InvalidDuration(
                "found a time designator (`T` or `t`) in an ISO 8601 duration string, but did not find any time units"
            )
    if previous is None:
        raise InvalidDuration("no parsed duration components")
    try:
        _limits(span)
    except InvalidDuration as exc:  # the same bounds, without the friendly format's prefix
        raise InvalidDuration(str(exc).removeprefix(_FRIENDLY)) from None
    if pos < len(text):
        raise InvalidDuration(
            f"parsed value '{span.iso()}', but unparsed input {_quote(text[pos:])} remains (expected no unparsed input)"
        )
    return span


def _iso_value(text: str, pos: int) -> tuple[int | None, int]:
    try:
        return _unit_value(text, pos)
    except InvalidDuration:
        raise InvalidDuration("number too big to parse into 64-bit integer") from None


def _iso_set(span: _Span, unit: str, value: int, previous: str | None) -> None:
    if previous is not None and _ORDER.index(unit) <= _ORDER.index(previous):
        raise InvalidDuration(_ORDER_ERROR.format(unit=unit, previous=previous))
    span.units[unit] = value


def format_rfc3339(epoch_ms: float) -> str:
    """Format a time as Restate does in ``executionTime``: RFC 3339, nanoseconds, ``Z``."""
    whole_s, frac_ms = divmod(epoch_ms, 1000)
    stamp = datetime.fromtimestamp(whole_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    nanos = int(round(frac_ms * 1_000_000))
    return f"{stamp}.{nanos:09d}Z"
