"""JSON syntax checked byte by byte the way serde_json (Restate Server's parser) checks it, to word its errors.

Python's :mod:`json` accepts what serde_json refuses (``NaN``, lone surrogates, ``1e400`` as infinity,
invalid UTF-8 once decoded with replacement) and reports other positions. This reader walks a request body
as serde_json's ``deserialize_any`` does, which is how a ``serde_json::Value`` or a body buffered for an
untagged or internally tagged enum is read, and names the first error in serde_json's words, at serde_json's
position: line counted on ``\\n``, column in bytes since it. Some errors point at the byte where the reader
stands (``error``), others one byte further (``peek_error``). Values of the ``ignored`` keys of the top-level
object (a struct's unknown fields) are skipped as serde_json skips them, with fewer checks.

The path in front (``a.b[2]: ``) is the one ``serde_path_to_error`` adds for an error met inside a value; an
error between values (a missing comma, a trailing comma) belongs to the enclosing one, the root has none.

    >>> json_syntax_error(b'{"a": [1, 2,]}')
    'a: trailing comma at line 1 column 13'
    >>> json_syntax_error(b'{"a": 1e400}'), json_syntax_error(b'[NaN]')
    ('a: number out of range at line 1 column 11', '[0]: expected value at line 1 column 2')
    >>> json_syntax_error(b'{"a": "x"}') is None
    True
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection
from typing import Any

#: serde_json's nesting limit for ``deserialize_any``.
RECURSION_LIMIT = 128
_WHITESPACE = b" \n\t\r"
_SIMPLE_ESCAPES = frozenset(b'"\\/bfnrt')
_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")
_UNKNOWN = ".?"

EOF_LIST = "EOF while parsing a list"
EOF_OBJECT = "EOF while parsing an object"
EOF_STRING = "EOF while parsing a string"
EOF_VALUE = "EOF while parsing a value"


class JsonSyntaxError(ValueError):
    """serde_json's syntax (or EOF) error: its message, where it stands and the path to the value being read."""

    def __init__(self, message: str, line: int, column: int, path: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.message, self.line, self.column, self.path = message, line, column, path

    def __str__(self) -> str:
        text = f"{self.message} at line {self.line} column {self.column}"
        return f"{self.path}: {text}" if self.path else text


def json_syntax_error(
    body: bytes, *, ignored: Collection[str] | None = None, paths: bool = True, check_end: bool = True
) -> str | None:
    """The first syntax error serde_json meets in ``body``, worded and placed as it words it, or None.

    ``ignored``: keys of a top-level object whose values a struct skips (its unknown fields), or None to
    read every value. ``paths``: prefix the path to the failing value, as serde_path_to_error does.
    ``check_end``: also refuse what follows the value (``trailing characters``); serde checks that only
    after the target type has taken the value, so a data error comes first.
    """
    try:
        _SerdeJsonReader(body, ignored, paths).document(check_end=check_end)
    except JsonSyntaxError as exc:
        return str(exc)
    return None


def first_value(body: bytes, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """The body's first JSON value, for a body whose value :func:`json_syntax_error` found well-formed."""
    text = body.decode("utf-8", errors="replace")
    start = len(text) - len(text.lstrip(" \n\t\r"))
    return json.JSONDecoder(object_pairs_hook=object_pairs_hook).raw_decode(text, start)[0]


class _SerdeJsonReader:
    def __init__(self, data: bytes, ignored: Collection[str] | None, paths: bool) -> None:
        self.data = data
        self.index = 0
        self.depth = RECURSION_LIMIT
        self.ignored = ignored
        self.paths = paths

    # ---- positions and errors ----

    def _fail(self, message: str, at: int, path: list[str]) -> JsonSyntaxError:
        start = self.data.rfind(b"\n", 0, at) + 1
        line = 1 + self.data.count(b"\n", 0, start)
        only_unknown = all(segment == _UNKNOWN for segment in path)
        joined = "".join(path)
        shown = joined.removeprefix(".") if self.paths and not only_unknown else ""  # one dot: a key may be ""
        return JsonSyntaxError(message, line, at - start, shown)

    def error(self, message: str, path: list[str]) -> JsonSyntaxError:
        """At the reader's index (serde_json's ``error``)."""
        return self._fail(message, self.index, path)

    def peek_error(self, message: str, path: list[str]) -> JsonSyntaxError:
        """One byte past the index, within the body (serde_json's ``peek_error``)."""
        return self._fail(message, min(self.index + 1, len(self.data)), path)

    def peek(self) -> int | None:
        return self.data[self.index] if self.index < len(self.data) else None

    def whitespace(self) -> int | None:
        while self.index < len(self.data) and self.data[self.index] in _WHITESPACE:
            self.index += 1
        return self.peek()

    # ---- the document ----

    def document(self, *, check_end: bool) -> None:
        root: list[str] = []
        if self.ignored is not None and self.whitespace() == ord("{"):
            self.value(root, top_struct=True)
        else:
            self.value(root)
        if check_end and self.whitespace() is not None:
            raise self.peek_error("trailing characters", root)

    def value(self, path: list[str], *, top_struct: bool = False) -> None:
        """``deserialize_any``: one value of any kind."""
        peek = self.whitespace()
        if peek is None:
            raise self.peek_error(EOF_VALUE, path)
        if peek in b"ntf":
            self.index += 1
            self.ident({ord("n"): b"ull", ord("t"): b"rue", ord("f"): b"alse"}[peek], path)
        elif peek == ord("-"):
            self.index += 1
            self.number(path)
        elif peek in _DIGITS:
            self.number(path)
        elif peek == ord('"'):
            self.index += 1
            self.string(path)
        elif peek in b"[{":
            self.depth -= 1
            if self.depth == 0:
                raise self.peek_error("recursion limit exceeded", path)
            self.index += 1
            if peek == ord("["):
                self.seq(path)
            else:
                self.map(path, top_struct=top_struct)
            self.depth += 1
        else:
            raise self.peek_error("expected value", path)

    def ident(self, rest: bytes, path: list[str]) -> None:
        for expected in rest:
            if self.index >= len(self.data):
                raise self.error(EOF_VALUE, path)
            got = self.data[self.index]
            self.index += 1
            if got != expected:
                raise self.error("expected ident", path)

    # ---- containers ----

    def _next_entry(self, close: int, first: bool, path: list[str]) -> int | None:
        """``has_next_element``/``has_next_key``: past the closing byte (None) or the comma, at the next entry."""
        eof, comma_or_end = (
            (EOF_LIST, "expected `,` or `]`") if close == ord("]") else (EOF_OBJECT, "expected `,` or `}`")
        )
        peek = self.whitespace()
        if peek == close:
            self.index += 1
            return None
        if peek == ord(",") and not first:
            self.index += 1
            peek = self.whitespace()
        elif peek is None:
            raise self.peek_error(eof, path)
        elif not first:
            raise self.peek_error(comma_or_end, path)
        if peek == close:
            raise self.peek_error("trailing comma", path)
        if peek is None:
            raise self.peek_error(EOF_VALUE, path)
        return peek

    def seq(self, path: list[str]) -> None:
        position = 0
        while self._next_entry(ord("]"), position == 0, path) is not None:
            self.value([*path, f"[{position}]"])
            position += 1

    def map(self, path: list[str], *, top_struct: bool = False) -> None:
        first = True
        key_path = [*path, _UNKNOWN]  # serde_path_to_error's '?': an error while reading a key
        while (peek := self._next_entry(ord("}"), first, key_path)) is not None:
            first = False
            if peek != ord('"'):
                raise self.peek_error("key must be a string", key_path)
            self.index += 1
            key = self.string(key_path)
            peek = self.whitespace()
            if peek != ord(":"):
                raise self.peek_error(EOF_OBJECT if peek is None else "expected `:`", path)
            self.index += 1
            member = [*path, f".{key}"]
            if top_struct and self.ignored is not None and key in self.ignored:
                self.skip(member)
            else:
                self.value(member)

    # ---- strings ----

    def _to_escape(self, *, control: bool) -> None:
        data, i = self.data, self.index
        while i < len(data) and data[i] != 0x22 and data[i] != 0x5C and not (control and data[i] < 0x20):
            i += 1
        self.index = i

    def string(self, path: list[str]) -> str:
        """``parse_str``: escapes decoded, surrogates paired, UTF-8 checked after the closing quote."""
        out = bytearray()
        while True:
            start = self.index
            self._to_escape(control=True)
            out += self.data[start : self.index]
            if self.index == len(self.data):
                raise self.error(EOF_STRING, path)
            byte = self.data[self.index]
            self.index += 1
            if byte == 0x22:
                try:
                    return out.decode("utf-8", errors="surrogatepass")
                except UnicodeDecodeError:
                    raise self.error("invalid unicode code point", path) from None
            if byte != 0x5C:
                raise self.error("control character (\\u0000-\\u001F) found while parsing a string", path)
            self.escape(out, path)

    def escape(self, out: bytearray, path: list[str]) -> None:
        if self.index >= len(self.data):
            raise self.error(EOF_STRING, path)
        char = self.data[self.index]
        self.index += 1
        if char in _SIMPLE_ESCAPES:
            out += {ord("b"): b"\b", ord("f"): b"\f", ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t"}.get(
                char, bytes([char])
            )
            return
        if char != ord("u"):
            raise self.error("invalid escape", path)
        code = self.hex_escape(path)
        if 0xDC00 <= code <= 0xDFFF:
            raise self.error("lone leading surrogate in hex escape", path)
        while 0xD800 <= code <= 0xDBFF:
            for expected in b"\\u":
                if self.index >= len(self.data):
                    raise self.error(EOF_STRING, path)
                got = self.data[self.index]
                self.index += 1
                if got != expected:
                    raise self.error("unexpected end of hex escape", path)
            low = self.hex_escape(path)
            if not 0xDC00 <= low <= 0xDFFF:
                raise self.error("lone leading surrogate in hex escape", path)
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        out += chr(code).encode("utf-8", errors="surrogatepass")

    def hex_escape(self, path: list[str]) -> int:
        digits = self.data[self.index : self.index + 4]
        if len(digits) < 4:
            self.index = len(self.data)
            raise self.error(EOF_STRING, path)
        self.index += 4
        if not _HEX.issuperset(digits):
            raise self.error("invalid escape", path)
        return int(digits, 16)

    # ---- numbers ----

    def number(self, path: list[str]) -> None:
        """``parse_any_number`` after an optional ``-``: refused if malformed or past f64's range."""
        if self.index >= len(self.data):
            raise self.error(EOF_VALUE, path)
        start = self.index
        first = self.data[self.index]
        self.index += 1
        if first == ord("0"):
            if (self.peek() or 0) in _DIGITS:
                raise self.peek_error("invalid number", path)
        elif first in _DIGITS:
            self._digits()
        else:
            raise self.error("invalid number", path)
        if self.peek() == ord("."):
            self.index += 1
            if not self._digits():
                raise self.peek_error("invalid number" if self.peek() is not None else EOF_VALUE, path)
        if (self.peek() or 0) in b"eE":
            self.index += 1
            if (self.peek() or 0) in b"+-":
                self.index += 1
            if self.index >= len(self.data):
                raise self.error(EOF_VALUE, path)
            digit = self.data[self.index]
            self.index += 1
            if digit not in _DIGITS:
                raise self.error("invalid number", path)
            self._digits()
        if math.isinf(float(self.data[start : self.index])):
            raise self.error("number out of range", path)

    def _digits(self) -> bool:
        start = self.index
        while self.index < len(self.data) and self.data[self.index] in _DIGITS:
            self.index += 1
        return self.index > start

    # ---- ignored values ----

    def skip(self, path: list[str]) -> None:
        """``ignore_value``: one loop over a stack of open containers, no nesting limit, strings not decoded
        (a control character refused where it stands), numbers not valued. Its container checks differ from
        :meth:`value`'s: ``[1,]`` is ``expected value`` and ``{"a":1,}`` ``key must be a string``. The whole
        value shares ``path``, since serde_path_to_error sees no deeper than the ignored field."""
        stack: list[int] = []
        while True:
            peek = self.whitespace()
            if peek is None:
                raise self.peek_error(EOF_VALUE, path)
            opened: int | None = None
            if peek in b"ntf":
                self.index += 1
                self.ident({ord("n"): b"ull", ord("t"): b"rue", ord("f"): b"alse"}[peek], path)
            elif peek == ord("-") or peek in _DIGITS:
                self.index += peek == ord("-")
                self.ignore_number(path)
            elif peek == ord('"'):
                self.index += 1
                self.ignore_string(path)
            elif peek in b"[{":
                self.index += 1
                opened = peek
            else:
                raise self.peek_error("expected value", path)
            if opened is not None:
                frame, accept_comma = opened, False
            elif stack:
                frame, accept_comma = stack.pop(), True
            else:
                return
            while True:
                peek = self.whitespace()
                if peek == ord(",") and accept_comma:
                    self.index += 1
                    break
                if peek is None:
                    raise self.peek_error(EOF_LIST if frame == ord("[") else EOF_OBJECT, path)
                if peek != (ord("]") if frame == ord("[") else ord("}")):
                    if accept_comma:
                        raise self.peek_error(
                            "expected `,` or `]`" if frame == ord("[") else "expected `,` or `}`", path
                        )
                    break
                self.index += 1
                if not stack:
                    return
                frame, accept_comma = stack.pop(), True
            if frame == ord("{"):
                peek = self.whitespace()
                if peek is None:
                    raise self.peek_error(EOF_OBJECT, path)
                if peek != ord('"'):
                    raise self.peek_error("key must be a string", path)
                self.index += 1
                self.ignore_string(path)
                peek = self.whitespace()
                if peek != ord(":"):
                    raise self.peek_error(EOF_OBJECT if peek is None else "expected `:`", path)
                self.index += 1
            stack.append(frame)

    def ignore_string(self, path: list[str]) -> None:
        while True:
            self._to_escape(control=True)
            if self.index == len(self.data):
                raise self.error(EOF_STRING, path)
            byte = self.data[self.index]
            if byte == 0x22:
                self.index += 1
                return
            if byte != 0x5C:
                raise self.error("control character (\\u0000-\\u001F) found while parsing a string", path)
            self.index += 1
            if self.index >= len(self.data):
                raise self.error(EOF_STRING, path)
            char = self.data[self.index]
            self.index += 1
            if char == ord("u"):
                self.hex_escape(path)
            elif char not in _SIMPLE_ESCAPES:
                raise self.error("invalid escape", path)

    def ignore_number(self, path: list[str]) -> None:
        """``ignore_integer`` and what follows: every malformed number is ``invalid number``."""
        first = self.peek()
        if first is None:
            raise self.error("invalid number", path)
        self.index += 1
        if first == ord("0"):
            if (self.peek() or 0) in _DIGITS:
                raise self.peek_error("invalid number", path)
        elif first in _DIGITS:
            self._digits()
        else:
            raise self.error("invalid number", path)
        if self.peek() == ord("."):
            self.index += 1
            if not self._digits():
                raise self.peek_error("invalid number", path)
        if (self.peek() or 0) in b"eE":
            self.index += 1
            if (self.peek() or 0) in b"+-":
                self.index += 1
            digit = self.peek()
            if digit is None:
                raise self.error("invalid number", path)
            self.index += 1
            if digit not in _DIGITS:
                raise self.error("invalid number", path)
            self._digits()
