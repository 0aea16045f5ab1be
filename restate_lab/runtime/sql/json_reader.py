"""Read one value out of JSON text the way Restate Server 1.7.12's SQL JSON functions do.

The server's ``json_get_str``, ``json_get_int``, ... (the datafusion-functions-json family) read lazily: they
walk the path and stop at the value, so what follows it is never looked at (``{"a":1} trailing`` and even
``{"a":1, bad`` give ``1`` for ``a``), while everything walked past on the way is validated (a bad member
before ``a`` makes the answer null). Keys match the first member of that name; an integer path element
indexes an array (never an object), a string names an object member (never an array index). Numbers read
as they were measured on the server: ``json_get_int`` takes a non-negative integer of at most 18 digits,
``json_get_float`` any non-negative number, and a negative number reads as null for both; a string is
parsed as Rust parses an ``i64``, ``f64`` or ``bool``. Each reader answers ``None`` where the server's
answer is null.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

PathElement = str | int

_WS = " \t\n\r"
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_PLAIN_INT = re.compile(r"(?:0|[1-9][0-9]{0,17})(?![.eE0-9])")
_RUST_I64 = re.compile(r"[+-]?[0-9]+")
_RUST_F64 = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


class _Invalid(Exception):
    """The text is not JSON where the reader had to look."""


def _ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _string(text: str, pos: int) -> tuple[str, int]:
    """The decoded string starting at the quote at ``pos``, and the position after its closing quote."""
    out: list[str] = []
    pos += 1
    start = pos
    while True:
        if pos >= len(text):
            raise _Invalid
        ch = text[pos]
        if ch == '"':
            out.append(text[start:pos])
            return "".join(out), pos + 1
        if ch < " ":
            raise _Invalid
        if ch == "\\":
            out.append(text[start:pos])
            code = text[pos + 1 : pos + 2]
            if code in _ESCAPES:
                out.append(_ESCAPES[code])
                pos += 2
            elif code == "u":
                unit, pos = _hex4(text, pos + 2)
                if 0xD800 <= unit < 0xDC00:  # a high surrogate needs its low half
                    if text[pos : pos + 2] != "\\u":
                        raise _Invalid
                    low, pos = _hex4(text, pos + 2)
                    if not 0xDC00 <= low < 0xE000:
                        raise _Invalid
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                elif 0xDC00 <= unit < 0xE000:
                    raise _Invalid
                out.append(chr(unit))
            else:
                raise _Invalid
            start = pos
        else:
            pos += 1


def _hex4(text: str, pos: int) -> tuple[int, int]:
    digits = text[pos : pos + 4]
    if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise _Invalid
    return int(digits, 16), pos + 4


def _skip(text: str, pos: int) -> int:
    """The position after the (validated) value starting at ``pos``."""
    if pos >= len(text):
        raise _Invalid
    ch = text[pos]
    if ch == '"':
        return _string(text, pos)[1]
    if ch == "{":
        return _walk_object(text, pos, None)[1]
    if ch == "[":
        return _walk_array(text, pos, None)[1]
    for word in ("true", "false", "null"):
        if text.startswith(word, pos):
            return pos + len(word)
    return _number(text, pos).end()


def _number(text: str, pos: int) -> re.Match[str]:
    """The JSON number at ``pos``; a number that goes on in a way JSON does not allow (``01``, ``1.``) is bad."""
    number = _NUMBER.match(text, pos)
    if number is None:
        raise _Invalid
    after = text[number.end() : number.end() + 1]
    spelled = number.group()
    if (
        after.isdigit()
        or (after == "." and not any(c in spelled for c in ".eE"))
        or (after in ("e", "E") and not any(c in spelled for c in "eE"))
    ):
        raise _Invalid  # a leading zero before digits, a fraction or an exponent without its digits
    return number


def _after_item(text: str, pos: int, close: str) -> tuple[int, bool]:
    """After a member or element: the position of the next one, and whether the container closed instead."""
    pos = _ws(text, pos)
    if pos < len(text) and text[pos] == ",":
        return _ws(text, pos + 1), False
    if pos < len(text) and text[pos] == close:
        return pos + 1, True
    raise _Invalid


def _walk_object(text: str, pos: int, want: str | None) -> tuple[list[tuple[str, int, int]], int]:
    """The members (key, value start, value end) of the object at ``pos`` and the position after it.

    Stops at the first member named ``want``: the answer is then that member alone, its value not read
    (end -1), and -1 for the position.
    """
    members: list[tuple[str, int, int]] = []
    pos = _ws(text, pos + 1)
    if pos < len(text) and text[pos] == "}":
        return members, pos + 1
    while True:
        if pos >= len(text) or text[pos] != '"':
            raise _Invalid
        key, pos = _string(text, pos)
        pos = _ws(text, pos)
        if pos >= len(text) or text[pos] != ":":
            raise _Invalid
        start = _ws(text, pos + 1)
        if key == want:
            return [(key, start, -1)], -1
        end = _skip(text, start)
        members.append((key, start, end))
        pos, closed = _after_item(text, end, "}")
        if closed:
            return members, pos


def _walk_array(text: str, pos: int, want: int | None) -> tuple[list[tuple[int, int]], int]:
    """The elements (start, end) of the array at ``pos`` and the position after it.

    Stops at element number ``want``: the answer is then that element alone, not read (end -1), and -1.
    """
    elements: list[tuple[int, int]] = []
    pos = _ws(text, pos + 1)
    if pos < len(text) and text[pos] == "]":
        return elements, pos + 1
    while True:
        if len(elements) == want:
            return [(pos, -1)], -1
        end = _skip(text, pos)
        elements.append((pos, end))
        pos, closed = _after_item(text, end, "]")
        if closed:
            return elements, pos


def locate(text: str, path: Sequence[PathElement]) -> int | None:
    """Where the value at ``path`` starts in ``text``, validating what is walked past; ``None`` if absent."""
    try:
        pos = _ws(text, 0)
        for element in path:
            if pos >= len(text):
                return None
            if isinstance(element, str):
                if text[pos] != "{":
                    return None
                found, end = _walk_object(text, pos, element)
                if end != -1:
                    return None
                pos = found[0][1]
            else:
                if text[pos] != "[" or element < 0:
                    return None
                items, end = _walk_array(text, pos, element)
                if end != -1:
                    return None
                pos = items[0][0]
        return pos if pos < len(text) else None
    except _Invalid:
        return None


def _value_at(text: str | None, path: Sequence[PathElement]) -> tuple[str, int] | None:
    if text is None:
        return None
    pos = locate(text, path)
    return None if pos is None else (text, pos)


def _string_value(source: str, pos: int) -> str | None:
    """The string at ``pos`` unescaped; None if it is not a (valid) string."""
    if source[pos] != '"':
        return None
    try:
        return _string(source, pos)[0]
    except _Invalid:
        return None


def _raw(source: str, pos: int) -> str | None:
    """The value at ``pos`` as its own text, once it is valid JSON."""
    try:
        return source[pos : _skip(source, pos)]
    except _Invalid:
        return None


def get_str(text: str | None, path: Sequence[PathElement]) -> str | None:
    """``json_get_str``: the string at ``path``, unescaped; null for any other value."""
    found = _value_at(text, path)
    return None if found is None else _string_value(*found)


def get_int(text: str | None, path: Sequence[PathElement]) -> int | None:
    """``json_get_int``: a non-negative integer of up to 18 digits, or a string Rust reads as an ``i64``."""
    found = _value_at(text, path)
    if found is None:
        return None
    source, pos = found
    if source[pos] == '"':
        value = _string_value(source, pos)
        if value is None or _RUST_I64.fullmatch(value) is None:
            return None
        number = int(value)
        return number if _I64_MIN <= number <= _I64_MAX else None
    plain = _PLAIN_INT.match(source, pos)
    return int(plain.group()) if plain is not None else None


def get_float(text: str | None, path: Sequence[PathElement]) -> float | None:
    """``json_get_float``: any non-negative JSON number, or a string Rust reads as an ``f64`` (``inf`` too)."""
    found = _value_at(text, path)
    if found is None:
        return None
    source, pos = found
    if source[pos] == '"':
        value = _string_value(source, pos)
        if value is None or _RUST_F64.fullmatch(value) is None:
            return None
        return float(value)
    if source[pos] == "-":
        return None
    try:
        return float(_number(source, pos).group())  # past the float range: inf, as on the server
    except _Invalid:
        return None


def get_bool(text: str | None, path: Sequence[PathElement]) -> bool | None:
    """``json_get_bool``: ``true``/``false``, or the string ``"true"``/``"false"`` exactly."""
    found = _value_at(text, path)
    if found is None:
        return None
    source, pos = found
    if source[pos] == '"':
        return {"true": True, "false": False}.get(_string_value(source, pos) or "")
    if source.startswith("true", pos):
        return True
    if source.startswith("false", pos):
        return False
    return None


def get_json(text: str | None, path: Sequence[PathElement]) -> str | None:
    """``json_get_json``: the value's own text (its spacing and escapes kept), once it is valid JSON."""
    found = _value_at(text, path)
    return None if found is None else _raw(*found)


def get_json_if_array(text: str | None, path: Sequence[PathElement]) -> str | None:
    """What the union of ``json_get``/``->`` hands a JSON function that reads it with no path, over a column.

    Measured on Restate Server 1.7.12: only an array reads (as its own text); an object, a string, a number,
    a boolean or null reads as null (``json_length(x -> 'a')`` of an object is null, of an array counted).
    """
    found = _value_at(text, path)
    if found is None or found[0][found[1]] != "[":
        return None
    return _raw(*found)


def as_text(text: str | None, path: Sequence[PathElement]) -> str | None:
    """``json_as_text``: a string unescaped, ``null`` as null, anything else as its own JSON text."""
    found = _value_at(text, path)
    if found is None:
        return None
    source, pos = found
    if source[pos] == '"':
        return _string_value(source, pos)
    if source.startswith("null", pos):
        return None
    return _raw(source, pos)


def length(text: str | None, path: Sequence[PathElement]) -> int | None:
    """``json_length``: the number of elements or members (duplicates counted); null for a scalar."""
    found = _value_at(text, path)
    if found is None:
        return None
    source, pos = found
    try:
        if source[pos] == "[":
            return len(_walk_array(source, pos, None)[0])
        if source[pos] == "{":
            return len(_walk_object(source, pos, None)[0])
    except _Invalid:
        return None
    return None


def contains(text: str | None, path: Sequence[PathElement]) -> bool:
    """``json_contains``: whether ``path`` leads somewhere (to ``null`` too); false for null or bad input."""
    return _value_at(text, path) is not None


def get_array(text: str | None, path: Sequence[PathElement]) -> list[str] | None:
    """``json_get_array``: the array's elements, each as its own JSON text."""
    found = _value_at(text, path)
    if found is None or found[0][found[1]] != "[":
        return None
    source, pos = found
    try:
        return [source[start:end] for start, end in _walk_array(source, pos, None)[0]]
    except _Invalid:
        return None


def object_keys(text: str | None, path: Sequence[PathElement]) -> list[str] | None:
    """``json_object_keys``: the object's keys in order, duplicates kept."""
    found = _value_at(text, path)
    if found is None or found[0][found[1]] != "{":
        return None
    source, pos = found
    try:
        return [key for key, _start, _end in _walk_object(source, pos, None)[0]]
    except _Invalid:
        return None
