"""The HTTP status Restate Server 1.7.12 gives an engine error, from its text and the statement that raised it.

The server answers 400 for a DataFusion *planning*, *schema* or *SQL parser* error and 500 for everything
else, where an error the planner wraps with a diagnostic (an unknown table or function, a column outside
``GROUP BY``, ...) counts as "everything else" although its text reads "Error during planning". DataFusion's
Python binding does not expose that wrapping, so the wrapped errors are recognised by their text
(:data:`WRAPPED`) and, for an unknown column, by the clause it was named in (:func:`unknown_column_status`);
each rule is pinned by a conformance scenario against the real server.
"""

from __future__ import annotations

import re

from restate_lab.runtime.sql.lexing import masked, matching_close, skip_quoted

_BAD_REQUEST_KINDS = ("Error during planning: ", "Schema error: ", "SQL error: ")
#: Planning, schema and parser errors the server answers with 500 (the planner attaches a diagnostic to them).
WRAPPED = tuple(
    re.compile(p)
    for p in (
        r"^Error during planning: table '[^']*' not found",
        r"^Error during planning: Invalid function '",
        r"^Error during planning: Column in (SELECT|HAVING|QUALIFY|ORDER BY) must be in GROUP BY",
        r"^Error during planning: Cannot infer common argument type for comparison operation",
        r"^Error during planning: Cannot coerce arithmetic expression",
        r"^Error during planning: UNION queries have different number of columns",
        r"^Error during planning: Too many columns! The subquery should only return one column",
        r"^Error during planning: Unary operator '\+' only supports",
        r"^Schema error: Ambiguous reference to unqualified field",
        r'^SQL error: ParserError\("Expected: end of statement, found: ',
    )
)
_NO_FIELD = re.compile(r"^Schema error: No field named (?P<name>\S+?)\.(?: |$)")
_VALID_FIELDS = re.compile(r"\. Valid fields are (.*)\.$", re.DOTALL)
_DESCRIBES = re.compile(r"\s*(?:describe|desc|show\s+(?:full\s+)?columns)\s", re.IGNORECASE)
#: Where in a SELECT a name is resolved against the select list as well as the input (400 when unknown).
_AGAINST_SELECT_LIST = frozenset({"group by", "having", "order by"})
_CLAUSE = re.compile(
    r"\b(select|from|where|group\s+by|having|order\s+by|limit|offset|window|qualify|union|intersect|except)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def classify(message: str, sql: str = "") -> int:
    """The status the real server gives an engine error with this text, raised by ``sql``.

    ``DESCRIBE``/``SHOW COLUMNS`` errors are never wrapped (an unknown table is 400 there, 500 in a query).
    """
    if _DESCRIBES.match(sql):
        return 400 if message.startswith(_BAD_REQUEST_KINDS) else 500
    if any(p.search(message) for p in WRAPPED):
        return 500
    field = _NO_FIELD.match(message)
    if field is not None:
        return unknown_column_status(message, field.group("name"), sql)
    return 400 if message.startswith(_BAD_REQUEST_KINDS) else 500


def unknown_column_status(message: str, name: str, sql: str) -> int:
    """400 when the unknown column was named in a GROUP BY, HAVING or ORDER BY, else 500.

    Those clauses resolve a name against the select list and the input together, and the planner reports a
    plain schema error (400); anywhere else -- the select list, WHERE, a join, a subquery's own clauses -- it
    attaches a diagnostic (500). Where the name cannot be found in the text, the list of valid fields tells:
    one resolved against both lists each input field twice.
    """
    word = name.rsplit(".", 1)[-1].strip('"')
    mentions = _clauses_naming(sql, word) if sql else []
    # in FROM the word is most likely a table's name (``order by sys_service``); an ON condition counts if alone
    mentions = [m for m in mentions if m[0] != "from"] or mentions
    if mentions:
        text = masked(sql)
        plain = all(clause in _AGAINST_SELECT_LIST or _in_planned_operand(text, at) for clause, at in mentions)
        return 400 if plain else 500
    listed = _VALID_FIELDS.search(message)
    if listed is None:
        return 500
    fields = [f.strip() for f in listed.group(1).split(",")]
    return 400 if len(fields) != len(set(fields)) else 500


def _clauses_naming(sql: str, word: str) -> list[tuple[str, int]]:
    """Each mention of ``word``: the clause (``where``, ``order by``, ...) of its own query, and where it is."""
    found: list[tuple[str, int]] = []
    scopes: list[str] = ["select"]  # the clause being read, per query (a subquery opens one of its own)
    opened: list[bool] = []  # per open parenthesis: whether it opened a subquery
    pos = 0
    lowered = word.lower()
    while pos < len(sql):
        skipped = skip_quoted(sql, pos)
        if skipped != pos:
            if sql[pos] == '"' and sql[pos + 1 : skipped - 1] == word:
                found.append((scopes[-1], pos))
            pos = skipped
            continue
        ch = sql[pos]
        if ch == "(":
            subquery = re.match(r"\(\s*(select|with)\b", sql[pos:], re.IGNORECASE) is not None
            opened.append(subquery)
            if subquery:
                scopes.append("select")
            pos += 1
            continue
        if ch == ")":
            if opened and opened.pop() and len(scopes) > 1:
                scopes.pop()
            pos += 1
            continue
        clause = _CLAUSE.match(sql, pos)
        if clause is not None and (pos == 0 or not (sql[pos - 1].isalnum() or sql[pos - 1] in "_$.")):
            scopes[-1] = " ".join(clause.group(1).lower().split())
            pos = clause.end()
            continue
        token = _WORD.match(sql, pos)
        if token is not None:
            if token.group().lower() == lowered and (pos == 0 or not (sql[pos - 1].isalnum() or sql[pos - 1] in "_$")):
                found.append((scopes[-1], pos))
            pos = token.end()
            continue
        pos += 1
    return found


#: Operators DataFusion plans through its expression planners, where an unknown column in an operand loses
#: the planner's diagnostic: 400 (``select name || nope``, ``upper(nope) || 'a'``, ``nope @> [1]``).
_PLANNED_OPERATORS = ("||", "@>", "<@")
#: What ends an operand of those operators at one bracket depth (they bind tighter than all of these).
_OPERAND_ENDS = re.compile(
    r"[,;]|<>|!=|<=|>=|(?<![@<])[=<>](?![@>])|\b(?:and|or|not|select|from|where|group|having|order|limit|offset|"
    r"when|then|else|end|case|as|like|ilike|is|in|between|union|on|join)\b",
    re.IGNORECASE,
)


def _in_planned_operand(text: str, at: int) -> bool:
    """Whether the mention at ``at`` of masked ``text`` lies in an operand of ``||``, ``@>`` or ``<@``, at any depth."""
    start, end = at, at + 1
    while True:
        open_at = _enclosing_open(text, start)
        close_at = matching_close(text, open_at) if open_at >= 0 else -1
        if close_at < 0:
            close_at = len(text)
        level_start, level_end = open_at + 1, close_at
        left, right = start, end
        while left > level_start and not _ends_operand_before(text, left, level_start):
            left -= 1
        while right < level_end and not _ends_operand_after(text, right, level_end):
            right += 1
        operand = _flat(text[left:right])
        if any(op in operand for op in _PLANNED_OPERATORS):
            # ... unless the operand holding the mention is a cast, which keeps the diagnostic (500)
            return not _is_cast(_piece_holding(text, left, right, start, end))
        if open_at < 0 or re.match(r"\(\s*(select|with)\b", text[open_at:], re.IGNORECASE):
            return False
        start = open_at
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1  # the call the brackets belong to
        end = close_at + 1


def _enclosing_open(text: str, pos: int) -> int:
    depth = 0
    for i in range(pos - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            if depth == 0:
                return i
            depth -= 1
    return -1


def _ends_operand_before(text: str, pos: int, floor: int) -> bool:
    """Whether an operand boundary (at this depth) ends right before ``pos``."""
    if text[pos - 1] == ")":
        return False  # walked over as part of the operand by the caller's next step
    return any(m.end() == pos for m in _OPERAND_ENDS.finditer(text, max(floor, pos - 12), pos))


def _ends_operand_after(text: str, pos: int, ceiling: int) -> bool:
    return _OPERAND_ENDS.match(text, pos, ceiling) is not None


def _flat(text: str) -> str:
    """``text`` with what is inside brackets dropped: the operators at its own depth only."""
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


_CAST_CALL = re.compile(r"(?:try_)?cast\s*\(", re.IGNORECASE)


def _piece_holding(text: str, left: int, right: int, start: int, end: int) -> str:
    """Of ``text[left:right]`` split at its own ``||``/``@>``/``<@``, the piece that holds ``[start, end)``."""
    depth = 0
    piece_start = left
    pos = left
    while pos < right:
        ch = text[pos]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and any(text.startswith(op, pos) for op in _PLANNED_OPERATORS):
            if piece_start <= start and end <= pos:
                return text[piece_start:pos]
            pos += 2
            piece_start = pos
            continue
        pos += 1
    return text[piece_start:right]


def _is_cast(piece: str) -> bool:
    """Whether ``piece`` is as a whole a ``CAST``/``TRY_CAST`` call or ends in a ``::`` cast."""
    piece = piece.strip()
    if "::" in _flat(piece):
        return True
    call = _CAST_CALL.match(piece)
    return call is not None and matching_close(piece, call.end() - 1) == len(piece) - 1
