"""The parts of SQL introspection on their own: JSON spelling, what a query can see, the error statuses."""

from __future__ import annotations

import subprocess
import sys

import pytest

from restate_lab.runtime.sql.references import references
from restate_lab.runtime.sql.render import format_float, iso_duration, timestamp_ms
from restate_lab.runtime.sql.schemas import BASE_TABLES, TABLE_COLUMNS, VIEW_COLUMNS
from restate_lab.runtime.sql.statuses import classify

pytest.importorskip("datafusion", reason="SQL introspection needs the datafusion package")


@pytest.mark.parametrize(
    ("value", "spelled"),
    [
        (1.0, "1.0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e20, "1.0e20"),
        (1e-7, "1.0e-7"),
        (1e9, "1000000000.0"),
        (1e10, "1.0e10"),
        (12345678901.5, "1.23456789015e10"),
        (0.00001, "0.00001"),
        (1e-6, "1.0e-6"),
        (5e-324, "5.0e-324"),
        (-0.0, "-0.0"),
        (float("inf"), "null"),
        (float("nan"), "null"),
    ],
)
def test_floats_are_spelled_as_the_servers_json_writer_does(value: float, spelled: str) -> None:
    """Shortest digits, plain from 1e-5 to below 1e10, ``1.0e10`` outside, non-finite as null."""
    assert format_float(value) == spelled


def test_durations_and_timestamps_are_iso_8601() -> None:
    """Retentions read ``PT86400S``; timestamps carry only the fraction digits they need, and ``Z``."""
    assert iso_duration(86_400_000 * 1_000_000) == "PT86400S"
    assert iso_duration(1_500_000_000) == "PT1.5S"
    assert iso_duration(-1_500_000_000) == "-PT1.5S"
    assert iso_duration(0) == "P0D"
    assert timestamp_ms(1_796_184_332_893) == "2026-12-02T04:05:32.893Z"
    assert timestamp_ms(1_000) == "1970-01-01T00:00:01Z"


def test_every_table_of_the_real_server_is_offered() -> None:
    """The 17 base tables and the ``sys_invocation`` view of Restate Server 1.7.12 are all there."""
    assert set(TABLE_COLUMNS) == {*BASE_TABLES, "sys_invocation"}
    assert len(BASE_TABLES) == 17
    assert TABLE_COLUMNS["sys_invocation"] == VIEW_COLUMNS
    assert {"idempotency_key", "journal_retention", "inboxed_at", "last_attempt_server"} <= set(VIEW_COLUMNS)
    assert {"entry_json", "appended_at"} <= set(TABLE_COLUMNS["sys_journal"])


def test_a_query_sees_the_tables_and_columns_it_names() -> None:
    """Named tables and words are built; the view brings its two tables; ``*`` means every column."""
    refs = references("select status, count(*) from sys_invocation group by status")
    assert refs.tables == {"sys_invocation_status", "sys_invocation_state"}
    assert refs.needs("status") and refs.needs("retry_count") and refs.needs("id")
    assert not refs.needs("last_failure")
    assert references('select * from "sys_journal"').columns is None
    assert references("select a.id from state a natural join state b").columns is None
    assert references("select 1").tables == frozenset()


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ('SQL error: ParserError("Expected: an SQL statement, found: selec at Line: 1, Column: 1")', 400),
        ("Error during planning: DML not supported: Delete", 400),
        ("Error during planning: table 'restate.public.nope' not found", 500),
        ("Error during planning: Invalid function 'foo'.\nDid you mean 'log'?", 500),
        ("Schema error: No field named nope. Valid fields are t.a, t.b.", 500),
        ("Schema error: No field named nope. Valid fields are t.a, t.b, t.a, t.b.", 400),
        ("Arrow error: Divide by zero error", 500),
        ("This feature is not implemented: The context currently only supports a single SQL statement", 500),
    ],
)
def test_error_statuses_follow_the_server(message: str, status: int) -> None:
    """Planning, schema and parser errors are 400, unless the planner wrapped them; the rest 500."""
    assert classify(message) == status


@pytest.mark.parametrize(
    ("sql", "status"),
    [
        ("select 1 as a order by nope", 400),
        ("select name as n from sys_service group by n, nope", 400),
        ("select name from sys_service order by upper(nope)", 400),
        ("select nope from sys_service order by name", 500),
        ("select name from sys_service where nope = 1 order by name", 500),
        ("select name from sys_service order by (select nope from sys_deployment)", 500),
        ("select name from sys_service order by sys_service", 400),
        ("select upper(nope) || 'a' from sys_service", 400),
        ("select name from sys_service where nope = 1 and name || 'a' = 'b'", 500),
        ("select nope, name || 'a' from sys_service", 500),
    ],
)
def test_an_unknown_column_is_400_only_where_the_planner_keeps_no_diagnostic(sql: str, status: int) -> None:
    """GROUP BY, HAVING and ORDER BY resolve against the select list too, and an operand of ``||`` is planned
    apart: a plain schema error (400); the select list, WHERE and a subquery's own clauses get the planner's
    diagnostic (500)."""
    name = "sys_service" if "order by sys_service" in sql else "nope"
    assert classify(f"Schema error: No field named {name}. Valid fields are a, sys_service.name.", sql) == status


def test_a_malformed_invocation_id_in_a_filter_fails_the_query() -> None:
    """As the server's scan reads ids from the filter: a bad literal is a 500, a valid one or a given partition
    key is not looked at, an id ORed with another column is not a filter on ids."""
    from restate_lab import LocalRestate
    from restate_lab.runtime.sql.session import SqlError

    with LocalRestate() as lab:
        with pytest.raises(SqlError, match="non valid invocation id") as refused:
            lab.query("select 1 from sys_journal where id = 'inv_1' and index = 0")
        assert refused.value.code == 500
        with pytest.raises(SqlError, match="non valid invocation id"):
            lab.query("select count(*) from sys_invocation where id in ('x', 'y')")
        good = "inv_1" + "0" * 33
        assert lab.query(f"select count(*) as n from sys_journal where id = '{good}'").iloc[0]["n"] == 0
        assert len(lab.query("select 1 from sys_journal where id = 'x' or index = 0")) == 0
        assert len(lab.query("select 1 from sys_journal where partition_key = 1 and id = 'x'")) == 0


def test_importing_restate_lab_does_not_import_datafusion() -> None:
    """The SQL engine loads with the first query, not with the package."""
    code = "import sys, restate_lab, restate_lab.ingress.query; print('datafusion' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
