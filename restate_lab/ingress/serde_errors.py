"""JSON syntax errors in the words of serde_json, the real server's JSON parser (its 400/500 bodies quote them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_LITERALS = ("true", "false", "null")


def serde_json_error(body: bytes, exc: json.JSONDecodeError, *, path_prefix: bool = False) -> str:
    """A JSON syntax error in serde_json's words (the server's parser), for the common cases.

    ``path_prefix``: the admin API's typed bodies name the field being read (``a: EOF while parsing a
    value ...``), as serde_path_to_error does.
    """
    text = exc.doc
    stripped = text.strip()
    if exc.msg.startswith("Unterminated string") and "\n" not in text:
        return f"EOF while parsing a string at line 1 column {len(text)}"
    if stripped and any(lit.startswith(stripped) and lit != stripped for lit in _LITERALS) and "\n" not in text:
        return f"EOF while parsing a value at line 1 column {len(text)}"
    if exc.pos < len(text) and text[exc.pos] in "]}" and text[: exc.pos].rstrip().endswith(","):
        line = text.count("\n", 0, exc.pos) + 1
        return f"trailing comma at line {line} column {exc.pos - (text.rfind(chr(10), 0, exc.pos) + 1) + 1}"
    if path_prefix and "\n" not in text and text.rstrip().endswith(":"):
        key_end = text.rstrip()[:-1].rstrip()
        key_start = key_end.rfind('"', 0, len(key_end) - 1)
        if key_end.endswith('"') and key_start >= 0:
            key = key_end[key_start + 1 : -1]
            return f"{key}: EOF while parsing a value at line 1 column {len(text)}"
    line = text.count("\n", 0, exc.pos) + 1
    column = exc.pos - (text.rfind("\n", 0, exc.pos) + 1)
    if not text[exc.pos :].strip():
        end = len(text.rstrip())
        line = text.count("\n", 0, end) + 1
        column = end - (text.rfind("\n", 0, end) + 1)
        stack: list[str] = []
        in_string = escaped = False
        for char in text:
            if in_string:
                in_string = not (char == '"' and not escaped)
                escaped = char == "\\" and not escaped
            elif char == '"':
                in_string = True
            elif char in "[{":
                stack.append(char)
            elif char in "]}" and stack:
                stack.pop()
        what = "a string" if in_string else {"{": "an object", "[": "a list"}.get(stack[-1] if stack else "", "a value")
        return f"EOF while parsing {what} at line {line} column {column}"
    if exc.msg.startswith("Extra data"):
        return f"trailing characters at line {line} column {column + 1}"
    return f"expected value at line {line} column {column + 1}"


def describe_unexpected(value: Any) -> str:
    """A parsed JSON value as serde names it in ``invalid type`` messages (``integer `1```, ``map``, ...).

    serde_json reads an integer outside i64/u64 as a float, so it is named as one.

    >>> describe_unexpected(18446744073709551616), describe_unexpected("x"), describe_unexpected([])
    ('floating point `1.8446744073709552e+19`', 'string "x"', 'sequence')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int) and -(2**63) <= value < 2**64:
        return f"integer `{value}`"
    if isinstance(value, int | float):
        return f"floating point `{float(value)!r}`"
    if isinstance(value, str):
        return f"string {json.dumps(value, ensure_ascii=False)}"
    return "sequence" if isinstance(value, list) else "map"


def position(text: str, end: int) -> str:
    """serde_json's ``line L column C`` once it has read ``text[:end]`` (C counts the bytes of the line)."""
    line_start = text.rfind("\n", 0, end) + 1
    return f"line {text.count(chr(10), 0, end) + 1} column {len(text[line_start:end].encode())}"


@dataclass(frozen=True)
class Entry:
    """One key and value of a top-level JSON object, with where the key ends and the value starts and ends."""

    key: str
    key_end: int
    value: Any
    value_start: int
    value_end: int


def top_level_entries(text: str) -> tuple[list[Entry], int]:
    """The entries of the JSON object ``text`` in document order, duplicates kept, and where it ends.

    ``text`` must be valid JSON whose top level is an object (check with ``json.loads`` first).
    """
    decoder = json.JSONDecoder()
    entries: list[Entry] = []
    pos = _skip_ws(text, 0) + 1  # past the {
    while True:
        pos = _skip_ws(text, pos)
        if text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
        if text[pos] == "}":
            return entries, pos + 1
        key, key_end = decoder.raw_decode(text, pos)
        pos = _skip_ws(text, _skip_ws(text, key_end) + 1)  # past the :
        value, value_end = decoder.raw_decode(text, pos)
        entries.append(Entry(str(key), key_end, value, pos, value_end))
        pos = value_end


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos
