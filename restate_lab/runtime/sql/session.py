"""Run one SQL query on DataFusion over a snapshot, configured and answering as Restate Server 1.7.12.

The session mirrors the server's: DataFusion 54.1 (the engine the server embeds), catalog ``restate``,
schema ``public``, ``information_schema`` on, batches of 128 rows, the PostgreSQL parser dialect, DDL and
DML refused. Errors carry the server's status (:mod:`restate_lab.runtime.sql.statuses`).
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from restate_lab.rules.errors import RestateError
from restate_lab.runtime.sql import id_filters, json_functions, json_plan_types
from restate_lab.runtime.sql.schemas import BASE_TABLES, SYS_INVOCATION_VIEW, VIEW_SOURCES
from restate_lab.runtime.sql.snapshot import empty_table
from restate_lab.runtime.sql.statuses import classify

if TYPE_CHECKING:
    import pyarrow as pa

    from restate_lab.runtime.sql.snapshot import Snapshot

#: The server prefixes every engine error with this.
ERROR_PREFIX = "Datafusion error: "
#: How DataFusion's binding reports the exception a JSON function's UDF raised (the server's message inside).
_JSON_ARGUMENT = re.compile(r"value: JsonArgumentError\((?P<q>[\"'])(?P<message>.*?)(?P=q)\), traceback", re.DOTALL)
#: Statements that read the session's settings: the server reports its parser dialect as ``generic``
#: (it parses with PostgreSQL's, as restate_lab does), so these are planned with that setting shown.
_READS_SETTINGS = re.compile(r"\bdf_settings\b|^\s*show\s", re.IGNORECASE)


class SqlError(RestateError):
    """A query the engine refused: the server's status code and ``Datafusion error: ...`` message."""


def engine_error(exc: BaseException, sql: str = "") -> SqlError:
    """``exc`` from DataFusion, raised by ``sql``, as the server's error answer."""
    text = json_functions.restore_names(str(exc), message=True)
    refused = _JSON_ARGUMENT.search(text)
    if refused is not None:  # raised by a JSON function's UDF for arguments the server refuses
        message = refused.group("message")
        return SqlError(classify(message, sql), ERROR_PREFIX + message)
    for prefix in ("DataFusion error: ", "Execution error: DataFusion error: "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return SqlError(classify(text, sql), ERROR_PREFIX + text)


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
            if any("x" in shape for _, shape in rewritten.shapes):
                refusal = json_plan_types.refusal_in_plan(frame.logical_plan().display_indent_schema())
                if refusal is not None:
                    raise SqlError(refusal.status, ERROR_PREFIX + refusal.text)
            if id_filters.may_filter_ids(sql):
                malformed = id_filters.malformed_id_filter(frame.optimized_logical_plan().display_indent())
                if malformed is not None:
                    raise SqlError(500, ERROR_PREFIX + malformed)
            table: pa.Table = frame.to_arrow_table()
        except SqlError:
            raise
        except Exception as exc:  # DataFusion raises plain Exception/ValueError subclasses
            raise engine_error(self._as_written(exc, sql, rewritten.sql, options), sql) from exc
        finally:
            self.swap({name: empty_table(name) for name in snapshot.tables})
            for shape in rewritten.shapes:
                self.ctx.deregister_udf(json_functions.udf_name(*shape))
        return json_functions.rename_columns(table) if rewritten.shapes else table

    def _as_written(self, exc: Exception, sql: str, rewritten: str, options: Any) -> Exception:
        """A parser error of the rewritten query as the query as written raises it (its line and column).

        The JSON rewrite lengthens the text, so the positions in a parser error would point past the
        user's query; the query as written fails to parse at the same place, with the server's position.
        """
        if rewritten == sql or "ParserError" not in str(exc):
            return exc
        try:
            self.ctx.sql_with_options(sql, options)
        except Exception as original:  # the same refusal, at the position the user sees
            if "ParserError" in str(original):
                return original
        return exc


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
