"""Why a Restate id string is invalid, in the words Restate Server's admin API uses.

``InvocationId.parse`` only says yes or no; the admin API answers ``400`` with a reason
(``bad format``, ``bad length``, ``base62 decode error``, ...), so this module decodes an id the
way the server does, step by step, and names the first step that fails.

>>> id_error("garbage", "inv"), id_error("inv_1abc", "inv"), id_error("dp_1abc", "inv")
('bad format', 'bad length', "id doesn't match the expected type")
"""

from __future__ import annotations

_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Resource prefixes Restate Server knows, and the base62 widths of the parts after the version digit.
ID_LAYOUTS: dict[str, tuple[tuple[int, int], ...]] = {
    "inv": ((11, 64), (22, 128)),  # partition key (u64), then a uuid (u128)
    "dp": ((22, 128),),
    "sub": ((22, 128),),
    "sign": (),
    "prom": (),
    "snap": ((22, 128),),
}


def _decode(chunk: str, bits: int) -> bool:
    value = 0
    for char in chunk:
        index = _B62.find(char)
        if index < 0:
            return False
        value = value * 62 + index
    return value < (1 << bits)


def id_error(text: str, expected: str) -> str | None:
    """The reason ``text`` is not a valid id with prefix ``expected`` (``inv``, ``dp``, ...), or ``None``."""
    prefix, sep, rest = text.partition("_")
    if not sep:
        return "bad format"
    if prefix not in ID_LAYOUTS:
        return f"unrecognized resource type: {prefix}"
    if prefix != expected:
        return "id doesn't match the expected type"
    if not rest:
        return "bad length"
    if rest[0] != "1":
        return "unrecognized codec version"
    pos = 1
    for width, bits in ID_LAYOUTS[expected]:
        chunk = rest[pos : pos + width]
        if len(chunk) < width:
            return "bad length"
        if not _decode(chunk, bits):
            return "base62 decode error"
        pos += width
    if pos != len(rest):
        return "bad length"
    return None


def invocation_id_error(text: str) -> str | None:
    """The reason ``text`` is not a valid invocation id (``inv_1…``), or ``None``."""
    return id_error(text, "inv")
