"""Run one SQL query on DataFusion over a snapshot, configured and answering as Restate Server 1.7.12.

The session mirrors the server's: DataFusion 54.1 (the engine the server embeds), catalog ``restate``,
schema ``public``, ``information_schema`` on, batches of 128 rows, the PostgreSQL parser dialect, DDL and
DML refused. Errors carry the server's status: it answers 400 for a DataFusion *planning*, *schema* or *SQL
parser* error and 500 for everything else, where an error the planner wraps with a diagnostic (an unknown
table or function, a column outside ``GROUP BY``, ...) counts as "everything else" although its text reads
"Error during planning". DataFusion's Python binding does not expose that wrapping, so the wrapped messages
are recognised by text (:data:`WRAPPED`, each pinned by a conformance scenario against the real server).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from restate_lab.rules.errors import RestateError
from restate_lab.runtime.sql.schemas import SYS_INVOCATION_VIEW

if TYPE_CHECKING:
    import pyarrow as pa

    from restate_lab.runtime.sql.snapshot import Snapshot

#: The server prefixes every engine error with this.
ERROR_PREFIX = "Datafusion error: "
_BAD_REQUEST_KINDS = ("Error during planning: ", "Schema error: ", "SQL error: ")
#: Planning and schema errors the server answers with 500 (the planner attaches a diagnostic to them).
WRAPPED = tuple(re.compile(p) for p in (
    r"^Error during planning: table '[^']*' not found",
    r"^Error during planning: Invalid function '",
    r"^Error during planning: Column in (SELECT|HAVING|QUALIFY) must be in GROUP BY",
    r"^Error during planning: Cannot coerce arithmetic expression",
    r"^Error during planning: UNION queries have different number of columns",
    r"^Error during planning: Too many columns! The subquery should only return one column",
    r"^Error during planning: Unary operator '\+' only supports",
    r"^Schema error: Ambiguous reference to unqualified field",
))
_NO_FIELD = re.compile(r"^Schema error: No field named [^.]+(?:\.[^.\s]+)?\. Valid fields are (.*)\.$", re.DOTALL)


class SqlError(RestateError):
    """A query the engine refused: the server's status code and ``Datafusion error: ...`` message."""


def classify(message: str) -> int:
    """The status the real server gives an engine error with this text."""
    if any(p.search(message) for p in WRAPPED):
        return 500
    field = _NO_FIELD.match(message)
    if field is not None:
        # Resolving a column of a clause gets a diagnostic (500); an ORDER BY term is resolved against the
        # select list and the input together, lists every field twice, and stays a plain schema error (400).
        fields = [f.strip() for f in field.group(1).split(",")]
        return 400 if len(fields) != len(set(fields)) else 500
    return 400 if message.startswith(_BAD_REQUEST_KINDS) else 500


def engine_error(exc: BaseException) -> SqlError:
    """``exc`` from DataFusion as the server's error answer."""
    text = str(exc)
    for prefix in ("DataFusion error: ", "Execution error: DataFusion error: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    return SqlError(classify(text), ERROR_PREFIX + text)


def _context(snapshot: Snapshot) -> object:
    import pyarrow as pa
    from datafusion import SessionConfig, SessionContext

    config = (
        SessionConfig()
        .with_default_catalog_and_schema("restate", "public")
        .with_create_default_catalog_and_schema(True)
        .with_information_schema(True)
        .with_batch_size(128)
        .with_target_partitions(2)
        .set("datafusion.sql_parser.dialect", "PostgreSQL")
    )
    ctx = SessionContext(config)
    for name, table in snapshot.tables.items():
        batches = table.to_batches(max_chunksize=128 * 64) or [pa.RecordBatch.from_pylist([], schema=table.schema)]
        ctx.register_record_batches(name, [batches])
    ctx.sql(SYS_INVOCATION_VIEW)
    return ctx


def execute(snapshot: Snapshot, sql: str) -> pa.Table:
    """The answer to ``sql`` over ``snapshot``; :class:`SqlError` as the server would refuse it."""
    from datafusion import SQLOptions

    ctx = _context(snapshot)
    options = SQLOptions().with_allow_ddl(False).with_allow_dml(False).with_allow_statements(True)
    try:
        frame = ctx.sql_with_options(sql, options)  # type: ignore[attr-defined]
        table: pa.Table = frame.to_arrow_table()
    except Exception as exc:  # DataFusion raises plain Exception/ValueError subclasses
        raise engine_error(exc) from exc
    return table
