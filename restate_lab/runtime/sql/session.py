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
import threading
from typing import TYPE_CHECKING, Any

from restate_lab.rules.errors import RestateError
from restate_lab.runtime.sql import json_functions
from restate_lab.runtime.sql.schemas import BASE_TABLES, SYS_INVOCATION_VIEW, VIEW_SOURCES
from restate_lab.runtime.sql.snapshot import empty_table

if TYPE_CHECKING:
    import pyarrow as pa

    from restate_lab.runtime.sql.snapshot import Snapshot

#: The server prefixes every engine error with this.
ERROR_PREFIX = "Datafusion error: "
_BAD_REQUEST_KINDS = ("Error during planning: ", "Schema error: ", "SQL error: ")
#: Planning and schema errors the server answers with 500 (the planner attaches a diagnostic to them).
WRAPPED = tuple(
    re.compile(p)
    for p in (
        r"^Error during planning: table '[^']*' not found",
        r"^Error during planning: Invalid function '",
        r"^Error during planning: Column in (SELECT|HAVING|QUALIFY) must be in GROUP BY",
        r"^Error during planning: Cannot coerce arithmetic expression",
        r"^Error during planning: UNION queries have different number of columns",
        r"^Error during planning: Too many columns! The subquery should only return one column",
        r"^Error during planning: Unary operator '\+' only supports",
        r"^Schema error: Ambiguous reference to unqualified field",
    )
)
#: How DataFusion's binding reports the exception a JSON function's UDF raised (the server's message inside).
_JSON_ARGUMENT = re.compile(r"value: JsonArgumentError\((?P<q>[\"'])(?P<message>.*?)(?P=q)\), traceback", re.DOTALL)
_DESCRIBES = re.compile(r"\s*(?:describe|desc|show\s+(?:full\s+)?columns)\s", re.IGNORECASE)
#: Statements that read the session's settings: the server reports its parser dialect as ``generic``
#: (it parses with PostgreSQL's, as restate_lab does), so these are planned with that setting shown.
_READS_SETTINGS = re.compile(r"\bdf_settings\b|^\s*show\s", re.IGNORECASE)
_NO_FIELD = re.compile(r"^Schema error: No field named [^.]+(?:\.[^.\s]+)?\. Valid fields are (.*)\.$", re.DOTALL)


class SqlError(RestateError):
    """A query the engine refused: the server's status code and ``Datafusion error: ...`` message."""


def classify(message: str, *, describes: bool = False) -> int:
    """The status the real server gives an engine error with this text.

    ``describes``: the statement was ``DESCRIBE``/``SHOW COLUMNS``, whose errors the server never wraps
    (an unknown table is 400 there, 500 in a query).
    """
    if not describes and any(p.search(message) for p in WRAPPED):
        return 500
    field = _NO_FIELD.match(message)
    if field is not None:
        # Resolving a column of a clause gets a diagnostic (500); an ORDER BY term is resolved against the
        # select list and the input together, lists every field twice, and stays a plain schema error (400).
        fields = [f.strip() for f in field.group(1).split(",")]
        return 400 if len(fields) != len(set(fields)) else 500
    return 400 if message.startswith(_BAD_REQUEST_KINDS) else 500


def engine_error(exc: BaseException, sql: str = "") -> SqlError:
    """``exc`` from DataFusion, raised by ``sql``, as the server's error answer."""
    text = json_functions.restore_names(str(exc), message=True)
    describes = _DESCRIBES.match(sql) is not None
    refused = _JSON_ARGUMENT.search(text)
    if refused is not None:  # raised by a JSON function's UDF for arguments the server refuses
        message = refused.group("message")
        return SqlError(classify(message, describes=describes), ERROR_PREFIX + message)
    for prefix in ("DataFusion error: ", "Execution error: DataFusion error: "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return SqlError(classify(text, describes=describes), ERROR_PREFIX + text)


class _Session:
    """A DataFusion context with every table registered, reused by one thread for query after query.

    Creating a context and registering the 17 tables and the view costs milliseconds; swapping in the few
    tables a query names costs microseconds. Each query swaps its snapshot's tables in (and the view, which
    binds its tables when created) and back out to empty ones afterwards, so no query sees another's data.
    """

    def __init__(self) -> None:
        from datafusion import RuntimeEnvBuilder, SessionConfig, SessionContext

        config = (
            SessionConfig()
            .with_default_catalog_and_schema("restate", "public")
            .with_create_default_catalog_and_schema(True)
            .with_information_schema(True)
            .with_batch_size(128)
            .with_target_partitions(2)
            .set("datafusion.sql_parser.dialect", "PostgreSQL")
        )
        # The server's engine has 1 GiB of memory (SHOW ALL: datafusion.runtime.memory_limit = 1G).
        self.ctx = SessionContext(config, RuntimeEnvBuilder().with_greedy_memory_pool(1 << 30))
        self._json_udfs: dict[tuple[str, str], Any] = {}  # the JSON functions' private UDFs, built once
        for name in BASE_TABLES:
            self._register(name, empty_table(name))
        self.ctx.sql(SYS_INVOCATION_VIEW)

    def _register(self, name: str, table: pa.Table) -> None:
        import pyarrow as pa

        batches = table.to_batches() or [pa.RecordBatch.from_pylist([], schema=table.schema)]
        self.ctx.register_record_batches(name, [batches])

    def swap(self, tables: dict[str, pa.Table]) -> None:
        for name, table in tables.items():
            self.ctx.deregister_table(name)
            self._register(name, table)
        if any(name in VIEW_SOURCES for name in tables):
            self.ctx.deregister_table("sys_invocation")
            self.ctx.sql(SYS_INVOCATION_VIEW)

    def run(self, snapshot: Snapshot, sql: str) -> pa.Table:
        from datafusion import SQLOptions

        try:
            rewritten = json_functions.rewrite(sql)
        except json_functions.JsonArgumentError as exc:
            raise SqlError(400, ERROR_PREFIX + str(exc)) from exc
        for shape in rewritten.shapes:  # registered for this query only: information_schema never lists them
            if shape not in self._json_udfs:
                self._json_udfs[shape] = json_functions.make_udf(*shape)
            self.ctx.register_udf(self._json_udfs[shape])
        options = SQLOptions().with_allow_ddl(False).with_allow_dml(False).with_allow_statements(True)
        self.swap(snapshot.tables)
        settings = _READS_SETTINGS.search(sql) is not None
        try:
            if settings:
                self.ctx.sql("SET datafusion.sql_parser.dialect = 'generic'")
            try:
                frame = self.ctx.sql_with_options(rewritten.sql, options)
            finally:
                if settings:
                    self.ctx.sql("SET datafusion.sql_parser.dialect = 'PostgreSQL'")
            table: pa.Table = frame.to_arrow_table()
        except Exception as exc:  # DataFusion raises plain Exception/ValueError subclasses
            raise engine_error(exc, sql) from exc
        finally:
            self.swap({name: empty_table(name) for name in snapshot.tables})
            for shape in rewritten.shapes:
                self.ctx.deregister_udf(json_functions.udf_name(*shape))
        return json_functions.rename_columns(table) if rewritten.shapes else table


_local = threading.local()
_SET = re.compile(r"^\s*set\s", re.IGNORECASE)


def execute(snapshot: Snapshot, sql: str) -> pa.Table:
    """The answer to ``sql`` over ``snapshot``; :class:`SqlError` as the server would refuse it.

    A ``SET`` statement runs on a session of its own, so a setting never leaks into later queries.
    """
    if _SET.match(sql):
        return _Session().run(snapshot, sql)
    session: _Session | None = getattr(_local, "session", None)
    if session is None:
        session = _local.session = _Session()
    return session.run(snapshot, sql)
