"""Which tables and columns a SQL text can see, so a snapshot builds only those.

Deliberately conservative and textual: a table or column counts as used when its name appears as a word
anywhere in the query (quoted or not, any case), so nothing the query can reach is ever left out. A ``*``
other than ``count(*)``, or a ``NATURAL`` join, makes every column of the named tables needed. Naming the
``sys_invocation`` view uses both tables it reads, with the columns its ``status`` is computed from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from restate_lab.runtime.sql.schemas import TABLE_COLUMNS, VIEW_SOURCES

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COUNT_STAR = re.compile(r"count\s*\(\s*\*\s*\)", re.IGNORECASE)
#: Columns the view reads whenever it is used: the join key, and what ``status`` is computed from.
_VIEW_COLUMNS = {"id", "status", "in_flight", "retry_count"}


@dataclass(frozen=True)
class References:
    """Tables (base tables, the view expanded) and columns (``None``: all) a query may read."""

    tables: frozenset[str]
    columns: frozenset[str] | None

    def needs(self, column: str) -> bool:
        return self.columns is None or column in self.columns


def references(sql: str) -> References:
    """The tables and columns ``sql`` may read."""
    words = {w.lower() for w in _WORD.findall(sql)}
    tables = {t for t in TABLE_COLUMNS if t in words}
    if "sys_invocation" in tables:
        tables.discard("sys_invocation")
        tables.update(VIEW_SOURCES)
        words |= _VIEW_COLUMNS
    wildcard = "*" in _COUNT_STAR.sub("", sql) or "natural" in words
    # Always build the invocation id, the view's join key.
    columns = None if wildcard else frozenset(words | {"id"})
    return References(frozenset(tables), columns)


def everything() -> References:
    """Every table and column (for a full export)."""
    return References(frozenset(TABLE_COLUMNS) - {"sys_invocation"}, None)
