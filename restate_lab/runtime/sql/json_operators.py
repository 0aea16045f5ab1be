"""The ``->`` and ``->>`` JSON operators, turned into JSON function calls before planning.

On Restate Server ``doc ->> 'a'`` is ``json_as_text(doc, 'a')`` and a chain ``doc -> 'a' ->> 'b'`` one call
with the whole path; the answer's column is named after the SQL as written (``doc ->> 'a'``). DataFusion's
Python binding cannot plan the operators, so :func:`rewrite_operators` replaces each chain that ends in
``->>`` -- and each ``->`` chain given straight to a JSON function, which reads it as the JSON text it
points at -- with a marked call (``__rl_arrow_json_as_text(doc, 'a', '<name>')``) that
:mod:`restate_lab.runtime.sql.json_functions` plans and names. An operand this reader cannot delimit (or a
``->`` chain anywhere else: its value is an Arrow union on the server) is left as written.
"""

from __future__ import annotations

import re

from restate_lab.runtime.sql.lexing import skip_quoted, skip_space

ARROW_PREFIX = "__rl_arrow_"
#: The private reader a `->` chain becomes inside ``json_length``/``json_object_keys`` (see _first_chain).
UNLESS_OBJECT = "json_get_json_unless_object"
#: Open and close the column name a marked call carries as its last argument; LEFT_OPERAND in it stands for
#: DataFusion's own spelling of the left operand (``upper(t.x)``; a bare column by its name alone).
NAME_OPEN, NAME_CLOSE, LEFT_OPERAND = "\x01", "\x02", "\x03"
_IDENT_CHARS = re.compile(r"[A-Za-z0-9_$]")
_KEY = re.compile(
    r"'(?:[^']|'')*'|-?[0-9]+|(?:\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_$]*)(?:\.(?:\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_$]*))*"
)
#: An arrow, unless more operator characters follow it: the parser then reads one longer custom operator
#: (``->>-1`` is ``->>-`` and 1, refused as on the server).
_ARROW = re.compile(r"->>?(?![-+*/<>=~!@#%^&|`?])")
_MAX_CHAINS = 200


def rewrite_operators(sql: str, functions: frozenset[str]) -> str:
    """``sql`` with its JSON operator chains as marked calls; unchanged where there is no ``->``."""
    for _ in range(_MAX_CHAINS):
        if "->" not in sql:
            return sql
        changed = _first_chain(sql, functions)
        if changed is None:
            return sql
        sql = changed
    return sql


def _masked(sql: str) -> str:
    """``sql`` with strings, quoted identifiers and comments blanked out (same length), to search safely."""
    out = list(sql)
    pos = 0
    while pos < len(sql):
        end = skip_quoted(sql, pos)
        if end != pos:
            for i in range(pos + 1, end - 1):
                out[i] = " "
            pos = end
        else:
            pos += 1
    return "".join(out)


def _first_chain(sql: str, functions: frozenset[str]) -> str | None:
    """``sql`` with its first rewritable operator chain replaced, or None if none is left."""
    masked = _masked(sql)
    for arrow in _ARROW.finditer(masked):
        left = _left_operand(sql, masked, arrow.start())
        if left is None:
            continue
        keys: list[str] = []
        ops: list[str] = []
        pos = end = arrow.start()
        while (op := _ARROW.match(masked, pos)) is not None:
            key = _KEY.match(sql, skip_space(sql, op.end()))
            if key is None:
                break
            ops.append(op.group())
            keys.append(key.group())
            end = key.end()
            pos = skip_space(sql, end)
        if not ops or "->>" in ops[:-1]:
            continue
        operand = sql[left : arrow.start()].strip()
        name = (operand if operand.startswith("'") else LEFT_OPERAND) + "".join(
            f" {op} {_key_name(key)}" for op, key in zip(ops, keys, strict=True)
        )
        outer = _enclosing_function(sql, masked, left)
        if ops[-1] == "->>":
            function = "json_as_text"
        elif outer in ("json_length", "json_object_keys") and not operand.startswith("'"):
            # measured: over a column, these read an object that `->` points at as null (arrays as such)
            function = UNLESS_OBJECT
        elif outer in functions:
            function = "json_get_json"
        else:
            continue
        label = "'" + NAME_OPEN + name.replace("'", "''") + NAME_CLOSE + "'"  # the server's column name
        call = f"{ARROW_PREFIX}{function}(" + ", ".join([operand, *keys, label]) + ")"
        return sql[:left] + call + sql[end:]
    return None


def _key_name(key: str) -> str:
    """A path key as the server's column name spells it: ``'it's'`` (not doubled), a column unqualified."""
    if key.startswith("'"):
        return key.replace("''", "'")
    return key.rsplit(".", 1)[-1].strip('"')


def _left_operand(sql: str, masked: str, arrow_at: int) -> int | None:
    """Where the operand left of the arrow at ``arrow_at`` starts: a literal, a name, a call or a group."""
    pos = arrow_at
    while pos > 0 and sql[pos - 1].isspace():
        pos -= 1
    if pos == 0:
        return None
    end_char = sql[pos - 1]
    if end_char == "'" or end_char == '"':  # a string literal or a quoted name: its opening quote
        start = pos - 2
        while start >= 0 and not (sql[start] == end_char and masked[start] == end_char):
            start -= 1
        if start < 0:
            return None
        return _name_start(sql, start) if end_char == '"' else start
    if end_char == ")":
        depth = 0
        start = pos - 1
        while start >= 0:
            if masked[start] == ")":
                depth += 1
            elif masked[start] == "(":
                depth -= 1
                if depth == 0:
                    break
            start -= 1
        if start < 0:
            return None
        name_end = start
        while name_end > 0 and _IDENT_CHARS.match(sql, name_end - 1):
            name_end -= 1
        return _name_start(sql, name_end) if name_end < start else start
    if _IDENT_CHARS.match(sql, pos - 1):
        start = pos
        while start > 0 and _IDENT_CHARS.match(sql, start - 1):
            start -= 1
        return _name_start(sql, start)
    return None


def _name_start(sql: str, start: int) -> int:
    """Extend a name back over its qualifiers (``t.x``, ``"T".x``)."""
    while start > 1 and sql[start - 1] == ".":
        before = start - 1
        if sql[before - 1] == '"':
            quote = sql.rfind('"', 0, before - 1)
            if quote < 0:
                break
            start = quote
            continue
        first = before
        while first > 0 and _IDENT_CHARS.match(sql, first - 1):
            first -= 1
        if first == before:
            break
        start = first
    return start


def _enclosing_function(sql: str, masked: str, left: int) -> str:
    """The function whose argument list the operand at ``left`` opens (``json_get_int(doc -> 'a'``), or ''."""
    pos = left
    while pos > 0 and sql[pos - 1].isspace():
        pos -= 1
    if pos == 0 or masked[pos - 1] != "(":
        return ""
    end = pos - 1
    while end > 0 and sql[end - 1].isspace():
        end -= 1
    start = end
    while start > 0 and _IDENT_CHARS.match(sql, start - 1):
        start -= 1
    return sql[start:end].lower()
