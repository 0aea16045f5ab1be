"""Durations as Restate Server 1.7.12 reads them: Jiff's "friendly" format and ISO-8601, then days at most.

The server parses ``?delay=`` (and its other duration settings) with the Jiff library's span parser
and converts the span to an unsigned duration. Measured on the real server (the probe table in
``docs/observed-restate-1.7.12.md`` lists each spelling), the rules are:

- *friendly*: ``[+-]`` then unit values ``<int>[.,<1-9 digits>] [ws] <designator>`` from largest to
  smallest unit, each at most once, separated by whitespace or by a comma *followed by* whitespace;
  optionally `` ago`` (negative); trailing whitespace is fine, leading whitespace is not. Designators
  are case-sensitive (``1S`` is refused). Only hours and smaller units take a fraction (``1.5h``,
  ``1,5s``; ``1.5d`` is refused). ``h:mm:ss[.f]`` is accepted too.
- *ISO-8601*: ``[+-]P[nY][nM][nW][nD][T[nH][nM][nS]]``, letters in any case, a fraction only on the
  smallest time unit.
- afterwards: years and months are refused ("please use units of days or smaller"), weeks are 7 days,
  a negative non-zero span is refused, ``-0s`` is zero.

Error messages are the server's, word for word, because the ingress answers them in its 400 body.
"""

from __future__ import annotations

import re
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
_FRACTIONAL = {"hour", "minute", "second", "millisecond", "microsecond", "nanosecond"}
_I64_MAX = 2**63 - 1
_U64_MAX = 2**64 - 1

_FRIENDLY = 'failed to parse input in the "friendly" duration format: '
_EXPECTED_INTEGER = (
    "expected duration to start with a unit value (a decimal integer) after an optional sign, but no integer was found"
)
_EXPECTED_UNIT = "expected to find unit designator suffix (e.g., `years` or `secs`) after parsing integer"
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
_WS = " \t\n\r\x0b\x0c"

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
        if self.fraction_ns and any(k in u for k in ("second", "millisecond", "microsecond", "nanosecond")):
            sub_ns += self.fraction_ns
        time = "".join(f"{u[k]}{d}" for k, d in (("hour", "H"), ("minute", "M")) if u.get(k))
        if sub_ns:
            whole, frac = divmod(sub_ns, 10**9)
            time += f"{whole}" + (f".{frac:09d}".rstrip("0") if frac else "") + "S"
        sign = "-" if self.negative else ""
        if not date and not time:
            return f"{sign}PT0S"
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


def _set_unit(span: _Span, unit: str, value: int, previous: str | None) -> None:
    if previous is not None and _ORDER.index(unit) <= _ORDER.index(previous):
        raise _fail(_ORDER_ERROR.format(unit=unit, previous=previous))
    if value > _LIMITS[unit]:
        limit = _LIMITS[unit]
        raise _fail(
            f"failed to set value for {unit} unit on span: parameter '{unit}s' is not in the required "
            f"range of -{limit}..={limit}"
        )
    span.units[unit] = value


def _parse_friendly(text: str) -> _Span:
    pos = 0
    span = _Span({})
    if text[0] in "+-":
        span.negative = text[0] == "-"
        pos = 1
    end = _digits(text, pos)
    if end == pos:
        raise _fail(_EXPECTED_INTEGER)
    if end < len(text) and text[end] == ":":
        return _parse_hms(text, pos, span)
    previous: str | None = None
    while True:
        end = _digits(text, pos)
        if end == pos:
            raise _fail(
                f"parsed value '{span.iso()}', but unparsed input {_quote(text[pos:])} remains "
                "(expected no unparsed input)"
            )
        number = text[pos:end]
        if int(number) > _U64_MAX:
            raise _fail("number too big to parse into 64-bit integer")
        pos = end
        fraction: str | None = None
        if pos < len(text) and text[pos] in ".,":
            frac_end = _digits(text, pos + 1)
            fraction = text[pos + 1 : min(frac_end, pos + 10)]
            pos = min(frac_end, pos + 10)
        while pos < len(text) and text[pos] in _WS:
            pos += 1
        unit = None
        for name in _DESIGNATOR_NAMES:
            if text.startswith(name, pos):
                unit = _DESIGNATORS[name]
                pos += len(name)
                break
        if unit is None:
            if fraction == "":
                found = _unit_after(text, pos)
                if found is not None:
                    raise _fail(f"found decimal after {found}s component, but did not find any digits after decimal")
            raise _fail(_EXPECTED_UNIT)
        if fraction == "":
            raise _fail(f"found decimal after {unit}s component, but did not find any digits after decimal")
        value = int(number)
        if value > _I64_MAX:
            raise _fail(f"value for {unit}s is too big (or small) to fit into a signed 64-bit integer")
        _set_unit(span, unit, value, previous)
        previous = unit
        if fraction:
            if unit not in _FRACTIONAL:
                raise _fail(f"fractional {unit}s are not supported")
            span.fraction_ns = int(fraction.ljust(9, "0")) * _NS[unit] // 10**9
        # separator, ``ago`` or the end
        start = pos
        while pos < len(text) and text[pos] in _WS:
            pos += 1
        if pos == len(text):
            return span
        if text.startswith("ago", pos) and pos > start and text[pos + 3 :].strip(_WS) == "":
            if span.negative:
                raise _fail("expected to find either a prefix sign (+/-) or a suffix sign (`ago`), but found both")
            span.negative = True
            return span
        if text[pos] == "," and pos == start:
            pos += 1
            if pos == len(text) or text[pos] not in _WS:
                shown = "end of input" if pos == len(text) else f"`{text[pos]}`"
                raise _fail(f"expected whitespace after comma, but found {shown}")
            while pos < len(text) and text[pos] in _WS:
                pos += 1
        elif not text[pos].isdigit() or fraction:
            raise _fail(
                f"parsed value '{span.iso()}', but unparsed input {_quote(text[pos:])} remains "
                "(expected no unparsed input)"
            )


def _unit_after(text: str, pos: int) -> str | None:
    """The unit named after stray decimal points (``1..5s`` names seconds)."""
    while pos < len(text) and (text[pos] in ".," or text[pos].isdigit()):
        pos += 1
    for name in _DESIGNATOR_NAMES:
        if text.startswith(name, pos):
            return _DESIGNATORS[name]
    return None


def _quote(rest: str) -> str:
    return '"' + rest.replace("\\", "\\\\").replace('"', '\\"') + '"'


_HMS = re.compile(r"(\d+):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?")


def _parse_hms(text: str, pos: int, span: _Span) -> _Span:
    match = _HMS.match(text, pos)
    if not match:
        raise _fail(_EXPECTED_UNIT)
    hours, minutes, seconds, fraction = match.groups()
    span.units.update(hour=int(hours), minute=int(minutes), second=int(seconds))
    if fraction:
        span.fraction_ns = int(fraction.ljust(9, "0"))
    rest = text[match.end() :]
    if rest.strip(_WS):
        raise _fail(
            f"parsed value '{span.iso()}', but unparsed input {_quote(rest)} remains (expected no unparsed input)"
        )
    return span


# --- ISO 8601 -----------------------------------------------------------------------------------


def _parse_iso(text: str) -> _Span:
    span = _Span({})
    pos = 0
    if text[0] in "+-":
        span.negative = text[0] == "-"
        pos = 1
    pos += 1  # the P
    previous: str | None = None
    in_time = False
    parsed_any = False
    while pos < len(text):
        if text[pos] in "Tt" and not in_time:
            in_time = True
            pos += 1
            if pos == len(text) or not text[pos].isdigit():
                raise InvalidDuration(
                    "found a time designator (`T` or `t`) in an ISO 8601 duration string, "
                    "but did not find any time units"
                )
            continue
        end = _digits(text, pos)
        if end == pos:
            break
        number = int(text[pos:end])
        pos = end
        fraction: str | None = None
        if in_time and pos < len(text) and text[pos] in ".,":
            frac_end = _digits(text, pos + 1)
            fraction = text[pos + 1 : frac_end]
            pos = frac_end
        letters = (
            {"H": "hour", "M": "minute", "S": "second"}
            if in_time
            else {"Y": "year", "M": "month", "W": "week", "D": "day"}
        )
        letter = text[pos].upper() if pos < len(text) else ""
        if letter not in letters:
            shown = "end of input" if pos == len(text) else f"`{text[pos]}` instead"
            kind, names = ("time", "(`H`, `M` or `S`)") if in_time else ("date", "(`Y`, `M`, `W` or `D`)")
            raise InvalidDuration(f"expected to find {kind} unit designator suffix {names}, but found {shown}")
        unit = letters[letter]
        pos += 1
        if previous is not None and _ORDER.index(unit) <= _ORDER.index(previous):
            raise InvalidDuration(_ORDER_ERROR.format(unit=unit, previous=previous))
        if number > _LIMITS[unit]:
            limit = _LIMITS[unit]
            raise InvalidDuration(
                f"failed to set value for {unit} unit on span: parameter '{unit}s' is not in the "
                f"required range of -{limit}..={limit}"
            )
        span.units[unit] = number
        previous = unit
        parsed_any = True
        if fraction:
            span.fraction_ns = int(fraction[:9].ljust(9, "0")) * _NS[unit] // 10**9
            break
    if not parsed_any:
        raise InvalidDuration("no parsed duration components")
    if pos < len(text):
        raise InvalidDuration(
            f"parsed value '{span.iso()}', but unparsed input {_quote(text[pos:])} remains (expected no unparsed input)"
        )
    return span


def format_rfc3339(epoch_ms: float) -> str:
    """Format a time as Restate does in ``executionTime``: RFC 3339, nanoseconds, ``Z``."""
    whole_s, frac_ms = divmod(epoch_ms, 1000)
    stamp = datetime.fromtimestamp(whole_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    nanos = int(round(frac_ms * 1_000_000))
    return f"{stamp}.{nanos:09d}Z"
