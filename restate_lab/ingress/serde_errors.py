"""JSON syntax errors in the words of serde_json, the real server's JSON parser (its 400/500 bodies quote them)."""

from __future__ import annotations

import json

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
