"""Durations as Restate spells them: humantime (``500ms``, ``1h 2m``) and ISO-8601 (``PT10S``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UNIT_MS: dict[str, float] = {}
for _names, _size in (
    (("ns", "nsec", "nsecs", "nanosecond", "nanoseconds"), 1e-6),
    (("us", "µs", "usec", "usecs", "microsecond", "microseconds"), 1e-3),
    (("ms", "msec", "msecs", "millisecond", "milliseconds"), 1.0),
    (("s", "sec", "secs", "second", "seconds"), 1000.0),
    (("m", "min", "mins", "minute", "minutes"), 60_000.0),
    (("h", "hr", "hrs", "hour", "hours"), 3_600_000.0),
    (("d", "day", "days"), 86_400_000.0),
    (("w", "wk", "wks", "week", "weeks"), 604_800_000.0),
):
    for _name in _names:
        _UNIT_MS[_name] = _size
_HUMAN_PART = re.compile(r"\s*,?\s*(\d+(?:\.\d+)?)\s*([A-Za-zµ]+)")
_EXPECTED_UNIT = (
    "failed to parse input in the \"friendly\" duration format: expected to find unit designator "
    "suffix (e.g., `years` or `secs`) after parsing integer"
)
_EXPECTED_INTEGER = (
    "failed to parse input in the \"friendly\" duration format: expected duration to start with a unit "
    "value (a decimal integer) after an optional sign, but no integer was found"
)
_ISO = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)
#: Durations longer than this are refused rather than overflowing timers (about 100 years).
MAX_DURATION_MS = 100 * 365 * 86_400_000


class InvalidDuration(ValueError):
    """A duration string that is neither humantime nor ISO-8601."""


def parse_duration_ms(text: str) -> int:
    """Parse ``text`` into whole milliseconds, accepting humantime and ISO-8601 spellings.

    >>> parse_duration_ms("1h 2m"), parse_duration_ms("PT10S"), parse_duration_ms("500ms")
    (3720000, 10000, 500)
    >>> parse_duration_ms("2S")
    Traceback (most recent call last):
    ...
    restate_lab.rules.durations.InvalidDuration: failed to parse input in the "friendly" duration format: \
expected to find unit designator suffix (e.g., `years` or `secs`) after parsing integer
    """
    raw = text.strip()
    if not raw:
        raise InvalidDuration(
            "an empty string is not a valid duration in either the ISO 8601 format or Jiff's \"friendly\" format"
        )
    if raw[0] in "+-":
        if raw[0] == "-":
            raise InvalidDuration("negative signed durations cannot be converted to an unsigned duration")
        raw = raw[1:].lstrip()
    if not raw:
        raise InvalidDuration(_EXPECTED_INTEGER)
    if raw[0] in "Pp":
        return _checked(_parse_iso(raw), text)
    if not raw[0].isdigit():
        raise InvalidDuration(_EXPECTED_INTEGER)
    total = 0.0
    pos = 0
    for match in _HUMAN_PART.finditer(raw):
        if match.start() != pos:
            break
        factor = _UNIT_MS.get(match.group(2))
        if factor is None:
            raise InvalidDuration(_EXPECTED_UNIT)
        total += float(match.group(1)) * factor
        pos = match.end()
    if pos == 0 or raw[pos:].strip():
        raise InvalidDuration(_EXPECTED_UNIT)
    return _checked(total, text)


def _parse_iso(raw: str) -> float:
    match = _ISO.match(raw)
    if not match or raw.upper() in ("P", "PT") or raw.upper().endswith("T"):
        raise InvalidDuration(f"cannot parse ISO-8601 duration {raw!r}")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return (parts["d"] * 86_400 + parts["h"] * 3_600 + parts["m"] * 60 + parts["s"]) * 1000


def _checked(ms: float, text: str) -> int:
    if ms > MAX_DURATION_MS:
        raise InvalidDuration(f"duration {text!r} is too large")
    return int(ms)


def format_rfc3339(epoch_ms: float) -> str:
    """Format a time as Restate does in ``executionTime``: RFC 3339, nanoseconds, ``Z``."""
    whole_s, frac_ms = divmod(epoch_ms, 1000)
    stamp = datetime.fromtimestamp(whole_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    nanos = int(round(frac_ms * 1_000_000))
    return f"{stamp}.{nanos:09d}Z"
