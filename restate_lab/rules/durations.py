"""Durations as Restate spells them: humantime (``500ms``, ``1h 2m``) and ISO-8601 (``PT10S``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UNIT_MS: dict[str, float] = {
    "nsec": 1e-6, "ns": 1e-6,
    "usec": 1e-3, "us": 1e-3, "µs": 1e-3,
    "msec": 1.0, "ms": 1.0,
    "seconds": 1000.0, "second": 1000.0, "sec": 1000.0, "secs": 1000.0, "s": 1000.0,
    "minutes": 60_000.0, "minute": 60_000.0, "min": 60_000.0, "mins": 60_000.0, "m": 60_000.0,
    "hours": 3_600_000.0, "hour": 3_600_000.0, "hr": 3_600_000.0, "hrs": 3_600_000.0, "h": 3_600_000.0,
    "days": 86_400_000.0, "day": 86_400_000.0, "d": 86_400_000.0,
    "weeks": 604_800_000.0, "week": 604_800_000.0, "w": 604_800_000.0,
    "months": 2_630_016_000.0, "month": 2_630_016_000.0, "M": 2_630_016_000.0,
    "years": 31_557_600_000.0, "year": 31_557_600_000.0, "y": 31_557_600_000.0,
}
_HUMAN_PART = re.compile(r"\s*(\d+)\s*([A-Za-zµ]+)")
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
    """
    raw = text.strip()
    if not raw:
        raise InvalidDuration("empty duration")
    if raw[0] in "Pp":
        return _checked(_parse_iso(raw), text)
    total = 0.0
    pos = 0
    for match in _HUMAN_PART.finditer(raw):
        if match.start() != pos:
            break
        unit = match.group(2)
        factor = _UNIT_MS.get(unit, _UNIT_MS.get(unit.lower()) if unit != "M" else None)
        if factor is None:
            raise InvalidDuration(f"unknown time unit {unit!r} in {text!r}")
        total += int(match.group(1)) * factor
        pos = match.end()
    if pos == 0 or raw[pos:].strip():
        raise InvalidDuration(f"cannot parse duration {text!r}")
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
