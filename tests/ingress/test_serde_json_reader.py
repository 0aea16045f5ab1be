"""JSON syntax errors worded and placed as serde_json words them (each case measured on Restate Server 1.7.12,
POST /deployments, whose body is read like a serde_json Value and whose errors carry serde_path_to_error's path)."""

from __future__ import annotations

import json

import pytest

from restate_lab.ingress.serde_json_reader import first_value, json_syntax_error


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            b'{"uri": "http://127.0.0.1:1", "x": [{}, {"a": [], "a": [], {}]}',
            "x[1].?: key must be a string at line 1 column 60",
        ),
        (b'{"uri": "http://127.0.0.1:1", "x": {"', "x.?: EOF while parsing a string at line 1 column 37"),
        (b" [{", "[0].?: EOF while parsing an object at line 1 column 3"),
        (b'{"uri": "http://127.0.0.1:1", "": {"b c": -}}', ".b c: invalid number at line 1 column 44"),
        (b"{,}", "key must be a string at line 1 column 2"),
        (b'{"a": [1, 2,]}', "a: trailing comma at line 1 column 13"),
        (b'{"a": 1e400}', "a: number out of range at line 1 column 11"),
        (b"[NaN]", "[0]: expected value at line 1 column 2"),
        (b'["\\ud800x"]', "[0]: unexpected end of hex escape at line 1 column 9"),
        (b'["a\x01"]', "[0]: control character (\\u0000-\\u001F) found while parsing a string at line 1 column 4"),
        (b'["\xff"]', "[0]: invalid unicode code point at line 1 column 4"),
        (
            b'{"a":\n  "\xc3\xa9\x01"}',
            "a: control character (\\u0000-\\u001F) found while parsing a string at line 2 column 6",
        ),
        (b"[" * 128, "[0]" * 127 + ": recursion limit exceeded at line 1 column 128"),
        (b"nul", "EOF while parsing a value at line 1 column 3"),
        (b"01", "invalid number at line 1 column 2"),
    ],
)
def test_a_syntax_error_is_worded_and_placed_as_serde_json_places_it(body: bytes, error: str) -> None:
    assert json_syntax_error(body) == error


def test_what_follows_the_value_is_checked_only_when_asked() -> None:
    body = b'{"uri": "http://127.0.0.1:1"}, "x": 1e+}'
    assert json_syntax_error(body, check_end=False) is None
    assert json_syntax_error(body) == "trailing characters at line 1 column 30"
    assert first_value(body) == {"uri": "http://127.0.0.1:1"}


def test_an_ignored_field_is_skipped_with_fewer_checks() -> None:
    """Follows serde_json's ``ignore_value`` as its source reads; no route uses ``ignored`` yet, so unmeasured."""
    body = b'{"x": [1,], "known": 1}'
    assert json_syntax_error(body) == "x: trailing comma at line 1 column 10"
    assert json_syntax_error(body, ignored={"x"}) == "x: expected value at line 1 column 10"
    assert json_syntax_error(b'{"x": "\xff", "y": 1e400}', ignored={"x", "y"}) is None


def test_every_document_python_reads_strictly_is_well_formed_for_serde_json_too() -> None:
    for text in ['{"a": [1, 2.5, -0, "\\u00e9", null, true, false, {"b": {}}]}', "[]", '"x"', " 12 "]:
        assert json_syntax_error(text.encode()) is None
        assert first_value(text.encode()) == json.loads(text)
