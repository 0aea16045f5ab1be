"""The server's check of invocation ids a query filters on: a malformed one fails the query.

Restate Server 1.7.12 reads ``id = '...'`` (and ``IN``, and an ``OR`` of such) on its invocation tables to
find the partition to scan, so a literal that is not an invocation id fails with 500 ``External error: non
valid invocation id`` where a plain filter would only match nothing. The check runs on DataFusion's
optimised plan, after constant folding, as the server's scan sees it: a filter that also fixes
``partition_key`` is not read for ids, and an ``id`` ANDed with nothing but other columns still is.
"""

from __future__ import annotations

import re

from restate_lab.rules.ids import InvocationId
from restate_lab.runtime.sql.lexing import matching_close

#: The tables whose scan reads invocation ids from the filter, and the column it reads them from.
ID_COLUMNS = {
    "sys_invocation_status": "id",
    "sys_invocation_state": "id",
    "sys_journal": "id",
    "sys_journal_events": "id",
    "sys_inbox": "id",
    "sys_keyed_service_status": "invocation_id",
}
MALFORMED = "External error: non valid invocation id"
_MENTIONS = re.compile(r"\b(?:id|invocation_id)\b", re.IGNORECASE)
_LITERAL = re.compile(r'^(?:Large)?Utf8(?:View)?\("(.*)"\)$', re.DOTALL)


def may_filter_ids(sql: str) -> bool:
    """Cheap test before the plan is looked at: an id table (or the view over two) and an id column are named."""
    lowered = sql.lower()
    return any(name in lowered for name in (*ID_COLUMNS, "sys_invocation")) and _MENTIONS.search(sql) is not None


def malformed_id_filter(plan: str) -> str | None:
    """:data:`MALFORMED` if a filter of the optimised ``plan`` (``display_indent`` text) names a bad id."""
    lines = [line.strip() for line in plan.splitlines()]
    for line, below in zip(lines, lines[1:], strict=False):
        if not (line.startswith("Filter: ") and below.startswith("TableScan: ")):
            continue
        table = below.split()[1]
        column = ID_COLUMNS.get(table)
        if column is None:
            continue
        terms = _split(line[len("Filter: ") :], " AND ")
        if any(term.startswith(f"{table}.partition_key = ") for term in terms):
            continue  # the partition is given: the scan does not look for it in the ids
        for term in terms:
            ids = _ids_in(_unwrapped(term), f"{table}.{column}")
            if ids is not None and not all(_is_invocation_id(i) for i in ids):
                return MALFORMED
    return None


def _ids_in(term: str, column: str) -> list[str] | None:
    """The literals ``term`` compares ``column`` with, if it is only such comparisons; else None."""
    found: list[str] = []
    for part in _split(term, " OR "):
        part = _unwrapped(part)
        if part.startswith(column + " = "):
            literal = _LITERAL.match(part[len(column) + 3 :])
            if literal is None:
                return None
            found.append(literal.group(1))
        elif part.startswith(column + " IN ([") and part.endswith("])"):
            for item in _split(part[len(column) + 6 : -2], ", "):
                literal = _LITERAL.match(item)
                if literal is None:
                    return None
                found.append(literal.group(1))
        else:
            return None
    return found


def _is_invocation_id(text: str) -> bool:
    try:
        InvocationId.parse(text)
    except ValueError:
        return False
    return True


def _split(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside brackets and string literals."""
    parts: list[str] = []
    depth = 0
    start = pos = 0
    quoted = False
    while pos < len(text):
        ch = text[pos]
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "([":
            depth += 1
        elif not quoted and ch in ")]":
            depth -= 1
        elif not quoted and depth == 0 and text.startswith(separator, pos):
            parts.append(text[start:pos])
            pos += len(separator)
            start = pos
            continue
        pos += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _unwrapped(text: str) -> str:
    """``text`` without brackets around the whole of it."""
    while text.startswith("(") and matching_close(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text
