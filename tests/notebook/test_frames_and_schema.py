"""Frames with documented columns and real datetimes; JSON-schema prefill and checks; light imports."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from restate_lab.notebook.schema import example_for, validate
from restate_lab.plots import invocations_frame_from_rows
from restate_lab.widgets import INVOCATION_COLUMNS


def test_timestamps_become_utc_datetimes_whatever_their_spelling() -> None:
    """Epoch milliseconds and RFC 3339 strings both become UTC pandas datetimes."""
    frame = invocations_frame_from_rows(
        [
            {"id": "inv_a", "created_at": 1_767_225_600_000, "modified_at": 1_767_225_600_500, "status": "completed"},
        ]
    )
    assert frame.loc[0, "created_at"] == pd.Timestamp("2026-01-01T00:00:00Z")
    strings = invocations_frame_from_rows([{"id": "inv_b", "created_at": "2026-01-01T00:00:01.250Z"}])
    assert strings.loc[0, "created_at"] == pd.Timestamp("2026-01-01T00:00:01.250Z")
    assert list(frame.columns[: len(INVOCATION_COLUMNS)]) == list(INVOCATION_COLUMNS)


def test_schema_example_follows_types_refs_and_defaults() -> None:
    """The prefill follows $ref, required properties, defaults, enums and nullable unions."""
    schema = {
        "type": "object",
        "required": ["who", "size"],
        "properties": {"who": {"$ref": "#/$defs/P"}, "size": {"enum": ["S", "M"]}, "note": {"type": "string"}},
        "$defs": {
            "P": {
                "type": "object",
                "properties": {
                    "age": {"type": "integer", "default": 7},
                    "nick": {"anyOf": [{"type": "null"}, {"type": "string"}]},
                },
            }
        },
    }
    assert example_for(schema) == {"who": {"age": 7, "nick": ""}, "size": "S"}


def test_validate_names_each_problem() -> None:
    """Validation reports the path of every mismatch and accepts what fits."""
    schema = {
        "type": "object",
        "required": ["n"],
        "properties": {"n": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
    }
    assert validate({"n": 1, "tags": ["a"]}, schema) == []
    assert validate({"tags": ["a", 2]}, schema) == [
        "body is missing required field 'n'",
        "body.tags[1] must be string, not integer",
    ]
    assert validate(True, {"type": "integer"}) == ["body must be integer, not boolean"]
    assert validate(2.0, {"type": "integer"}) == []
    assert validate("x", {"x-unknown-keyword": 1}) == []


def test_import_restate_lab_stays_light() -> None:
    """``import restate_lab`` imports neither ipywidgets nor matplotlib."""
    code = "import sys, restate_lab; print(sorted(m for m in ('ipywidgets', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
