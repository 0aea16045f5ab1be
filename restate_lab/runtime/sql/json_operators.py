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

from restate_lab.runtime.sql.lexing import masked as masked_text
from restate_lab.runtime.sql.lexing import matching_close, skip_space

ARROW_PREFIX = "__rl_arrow_"
#: The private reader of the union a `->` chain (or ``json_get``) gives a JSON function reading it with no
#: path over a column (json_reader.get_json_if_array; see _chain_call).
UNION_NO_PATH = "json_get_json_if_array"
#: Open and close the column name a marked call carries as its last argument; LEFT_OPERAND in it stands for
#: DataFusion's own spelling of the left operand (``upper(t.x)``; a bare column by its name alone).
NAME_OPEN, NAME_CLOSE, LEFT_OPERAND = "\x01", "\x02", "\x03"
#: Inside a column name: where the form the server's error messages print begins (the call it stands for,
#: step by step, ``json_as_text(json_get(t.x, Utf8("a")) AS x -> 'a', Utf8("b")) AS x -> 'a' ->> 'b'``).
MESSAGE_SEP = "\x06"
#: In a message form: the first argument as DataFusion prints it.
BASE_DISPLAY = "\x05"
_IDENT_CHARS = re.compile(r"[A-Za-z0-9_$]")
_KEY = re.compile(
    r"'(?:[^']|'')*'|-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?:\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_$]*)(?:\.(?:\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_$]*))*"
)
#: An arrow, unless more operator characters follow it: the parser then reads one longer custom operator
#: (``->>-1`` is ``->>-`` and 1, refused as on the server).
_ARROW = re.compile(r"->>?(?![-+*/<>=~!@#%^&|`?])")
_MAX_CHAINS = 200
#: Words a parenthesised expression may follow (``SELECT (x -> 'a') ->> 'b'``): not the name of a call.
_KEYWORDS = frozenset(
    [
        "select",
        "and",
        "or",
        "not",
        "where",
        "on",
        "by",
        "when",
        "then",
        "else",
        "case",
        "as",
        "from",
        "having",
        "is",
        "like",
        "between",
        "distinct",
        "all",
    ]
)


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


def _first_chain(sql: str, functions: frozenset[str]) -> str | None:
    """``sql`` with its first rewritable operator chain replaced, or None if none is left."""
    masked = masked_text(sql)
    skip_to = 0
    for arrow in _ARROW.finditer(masked):
        if arrow.start() < skip_to:  # inside a chain already looked at
            continue
        left = _left_operand(sql, masked, arrow.start())
        if left is None:
            continue
        left = _over_tighter_operators(sql, masked, left)
        steps, end = _steps(sql, masked, arrow.start())
        if not steps:
            continue
        skip_to = end
        if _inside_operand_group(sql, masked, left, end):
            continue  # ``(x -> 'a') ->> 'b'``: the outer chain takes this one in
        operand_at, operand_end, inner = _operand(sql, masked, left, arrow.start())
        outer = _enclosing_function(sql, masked, _wrapping(sql, masked, left, end)[0])
        call = _chain_call(sql[operand_at:operand_end].strip(), inner + steps, outer, functions)
        if call is not None:
            return sql[:left] + call + sql[end:]
    return None


#: Binary operators the parser applies before an arrow on its left (``2 * x ->> 'a'`` is ``(2 * x) ->> 'a'``),
#: ``||`` because it has the arrow's own precedence and groups to the left.
_BEFORE_ARROW = ("||", "+", "-", "*", "/", "%")


#: Words after which an operator is unary (``select - x``, ``where not - x``).
_UNARY_AFTER = _KEYWORDS | {"in", "limit", "offset", "return", "using", "values", "interval", "exists", "any"}


def _over_tighter_operators(sql: str, masked: str, left: int) -> int:
    """The start of an arrow's left operand, widened over the binary operators that bind before the arrow."""
    for _ in range(_MAX_CHAINS):
        pos = left
        while pos > 0 and sql[pos - 1].isspace():
            pos -= 1
        operator = next((op for op in _BEFORE_ARROW if masked.startswith(op, pos - len(op))), None)
        if operator is None or masked[pos - len(operator) - 1 : pos - len(operator)] in ("-", "|", "<", ">"):
            return left
        before = pos - len(operator)
        while before > 0 and sql[before - 1].isspace():
            before -= 1
        if (
            before == 0
            or _word_before(sql, before) in _UNARY_AFTER
            or not (sql[before - 1].isalnum() or sql[before - 1] in "_'\")]")
        ):
            return left  # a unary minus or a sign: it binds tighter, and is the operand's own
        wider = _left_operand(sql, masked, pos - len(operator))
        if wider is None:
            return left
        left = wider
    return left


def _steps(sql: str, masked: str, at: int) -> tuple[list[tuple[str, str]], int]:
    """The arrows and keys of the chain whose first arrow is at ``at``, and where the chain ends."""
    steps: list[tuple[str, str]] = []
    pos = end = at
    while (op := _ARROW.match(masked, pos)) is not None:
        key_end = _key_end(sql, masked, skip_space(sql, op.end()))
        if key_end is None:
            break
        steps.append((op.group(), sql[skip_space(sql, op.end()) : key_end]))
        end = key_end
        pos = skip_space(sql, end)
    return steps, end


def _is_group(sql: str, masked: str, open_at: int) -> bool:
    """Whether the ``(`` at ``open_at`` opens a parenthesised expression rather than a call's arguments."""
    if masked[open_at] != "(":
        return False
    word = _word_before(sql, open_at)
    return not word or word in _KEYWORDS


def _wrapping(sql: str, masked: str, start: int, end: int) -> tuple[int, int]:
    """``sql[start:end]`` widened over the parentheses that hold nothing else (``((x -> 'a'))``)."""
    while True:
        before = start
        while before > 0 and sql[before - 1].isspace():
            before -= 1
        after = skip_space(sql, end)
        if before == 0 or after >= len(sql) or masked[before - 1] != "(" or masked[after] != ")":
            return start, end
        if not _is_group(sql, masked, before - 1):
            return start, end
        start, end = before - 1, after + 1


def _inside_operand_group(sql: str, masked: str, start: int, end: int) -> bool:
    """Whether ``sql[start:end]`` is all that parentheses hold (at any depth) before another arrow."""
    outer_start, outer_end = _wrapping(sql, masked, start, end)
    return outer_start != start and _ARROW.match(masked, skip_space(sql, outer_end)) is not None


def _operand(sql: str, masked: str, left: int, arrow_at: int) -> tuple[int, int, list[tuple[str, str]]]:
    """The operand left of an arrow, unwrapped: a parenthesised chain hands over its own operand and steps.

    The server reads ``(x -> 'a') ->> 'b'`` as the chain ``x -> 'a' ->> 'b'`` (and names it so).
    """
    close = arrow_at
    while close > left and sql[close - 1].isspace():
        close -= 1
    close -= 1
    if sql[left] != "(" or masked[close] != ")" or not _is_group(sql, masked, left):
        return left, arrow_at, []
    inner_start, inner_end = skip_space(sql, left + 1), close
    while inner_end > inner_start and sql[inner_end - 1].isspace():
        inner_end -= 1
    for arrow in _ARROW.finditer(masked, inner_start, inner_end):
        if _left_operand(sql, masked, arrow.start()) != inner_start:
            continue
        steps, end = _steps(sql, masked, arrow.start())
        if end != inner_end:
            break
        operand_at, operand_end, inner = _operand(sql, masked, inner_start, arrow.start())
        return operand_at, operand_end, inner + steps
    if sql[inner_start] == "(" and matching_close(masked, inner_start) == inner_end - 1:
        return _operand(sql, masked, inner_start, inner_end)  # ((chain)): one pair of parentheses less
    return left, arrow_at, []


def is_literal_key(key: str) -> bool:
    """A path key the planner sees as a literal: the server's rewrite joins paths made only of these."""
    return _LITERAL_KEY.fullmatch(key.strip()) is not None


#: A string (``E'...'`` too) or integer literal, as the planner types it: Utf8 or Int64.
_LITERAL_KEY = re.compile(r"[eE]?'(?:[^']|'')*'|-?\s*[0-9]+")
_CAST = re.compile(r"\s*::\s*[A-Za-z_][A-Za-z0-9_]*")


def _key_end(sql: str, masked: str, at: int) -> int | None:
    """Where the key right of an arrow ends: a literal, a name, a call or a bracket, with its ``::`` casts.

    The right operand of an arrow is a whole expression to the parser; what binds tighter than the arrow
    (a call's arguments, a cast) belongs to it: ``x ->> 'a'::int`` asks for the key ``'a'::int``.
    """
    if at < len(sql) and masked[at] == "(":
        end = matching_close(masked, at) + 1
        if end == 0:
            return None
    else:
        key = _KEY.match(sql, at)
        if key is None:
            return None
        end = key.end()
        after = skip_space(sql, end)
        if not key.group().startswith(("'", "-")) and not key.group()[0].isdigit() and sql.startswith("(", after):
            close = matching_close(masked, after)
            if close < 0:
                return None
            end = close + 1
    while (cast := _CAST.match(sql, end)) is not None:
        end = cast.end()
        after = skip_space(sql, end)
        if sql.startswith("(", after):  # varchar(10)
            close = matching_close(masked, after)
            end = close + 1 if close >= 0 else end
    return end


def _chain_call(operand: str, steps: list[tuple[str, str]], outer: str, functions: frozenset[str]) -> str | None:
    """The marked calls a chain becomes, or None to leave it as written.

    The server's planner joins consecutive steps into one call while every key is a literal
    (``x ->> 'a' ->> 'b'`` is ``json_as_text(x, 'a', 'b')``); a key read from a column starts a call of
    its own over the one before it. A ``->`` step inside the chain is JSON text read on, as the server
    reads the union ``->`` gives.
    """
    groups: list[list[tuple[str, str]]] = []
    for op, key in steps:
        if groups and is_literal_key(key) and all(is_literal_key(k) for _, k in groups[-1]):
            groups[-1].append((op, key))
        else:
            groups.append([(op, key)])
    text = operand
    for number, group in enumerate(groups):
        last = number == len(groups) - 1
        literal_operand = number == 0 and operand.startswith("'")
        name = operand if literal_operand else LEFT_OPERAND
        message = spelled(operand) if literal_operand else BASE_DISPLAY
        for op, key in group:
            name += f" {op} {_key_name(key)}"
            message = f"{'json_as_text' if op == '->>' else 'json_get'}({message}, {spelled(key)}) AS {name}"
        if not all(is_literal_key(key) for _, key in group):
            message = ""  # a key from a column: the message form is read off the call itself
        if group[-1][0] == "->>":
            function = "json_as_text"
        elif not last or outer in functions:
            function = "json_get_json"
        else:
            return None
        label = label_literal(name, message)
        text = f"{ARROW_PREFIX}{function}(" + ", ".join([text, *(key for _, key in group), label]) + ")"
    return text


def label_literal(name: str, message: str = "") -> str:
    """The string literal a marked call carries: the server's column name and, if known, its message form."""
    text = name + (MESSAGE_SEP + message if message else "")
    return "'" + NAME_OPEN + text.replace("'", "''") + NAME_CLOSE + "'"


def label_parts(literal: str) -> tuple[str, str]:
    """The column name and message form (or '') of a marked call's label literal."""
    name, _, message = literal.strip()[1:-1].replace("''", "'").strip(NAME_OPEN + NAME_CLOSE).partition(MESSAGE_SEP)
    return name, message


def spelled(literal: str) -> str:
    """A literal path argument as DataFusion spells it in names and messages: ``Utf8("a")``, ``Int64(-1)``."""
    text = literal.strip()
    if text[:1] in "eE" and text[1:2] == "'":
        text = text[1:]
    if text.startswith("'"):
        return 'Utf8("' + text[1:-1].replace("''", "'") + '")'
    return "Int64(" + text.replace(" ", "") + ")"


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
    return _word_before(sql, pos - 1)


def _word_before(sql: str, pos: int) -> str:
    """The name or keyword that ends right before ``pos`` (white space between allowed), lower case; or ''."""
    end = pos
    while end > 0 and sql[end - 1].isspace():
        end -= 1
    start = end
    while start > 0 and _IDENT_CHARS.match(sql, start - 1):
        start -= 1
    return sql[start:end].lower()
