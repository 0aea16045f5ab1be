"""SQL over the runtime's state, answered as Restate Server 1.7.12 answers ``POST /query``.

A query runs in two steps so its answer is one instant of the engine: :func:`snapshot` copies the tables
the query can see into Arrow (on the engine's loop, without yielding), then :func:`execute` runs DataFusion
over the copy (anywhere; it touches no engine state). :func:`query` does both. See
:mod:`restate_lab.runtime.sql` for the parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from restate_lab.runtime.sql.references import references
from restate_lab.runtime.sql.schemas import TABLE_COLUMNS
from restate_lab.runtime.sql.session import SqlError, execute
from restate_lab.runtime.sql.snapshot import Snapshot, take_snapshot

if TYPE_CHECKING:
    import pyarrow as pa

    from restate_lab.runtime.engine import Engine

#: Every table a query can name (``sys_invocation`` is a view), with its columns in the server's order.
TABLES = TABLE_COLUMNS

__all__ = ["TABLES", "Snapshot", "SqlError", "execute", "query", "snapshot"]


def snapshot(engine: Engine, sql: str) -> Snapshot:
    """The tables ``sql`` can read, copied from ``engine`` now (call on the engine's loop)."""
    return take_snapshot(engine, references(sql))


def query(engine: Engine, sql: str) -> pa.Table:
    """Run ``sql`` over a snapshot of ``engine``; :class:`SqlError` with the server's status if refused."""
    return execute(snapshot(engine, sql), sql)
