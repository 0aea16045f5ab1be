"""The server's SQL JSON functions (``json_get_str``, ``json_length``, ...) on DataFusion's Python binding.

Restate Server 1.7.12 registers the datafusion-functions-json family: variadic functions whose path
arguments are strings (object keys) or integers (array indexes). A Python UDF has one fixed signature and
loses that difference to type coercion, so each call is rewritten before planning into a private UDF
named for its shape (``__rl_json_get_str_xs``: one letter per argument, ``s`` a string literal, ``i`` an
integer literal, ``x`` any other expression, passed with its ``arrow_typeof`` so the UDF knows whether it
is a key or an index). The answer's column names and error messages get the server's spelling back
(:func:`restore_names`); literal arguments of the wrong type are refused with the server's planning error.
The values themselves come from :mod:`restate_lab.runtime.sql.json_reader`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from restate_lab.runtime.sql import json_reader
from restate_lab.runtime.sql.json_operators import (
    ARROW_PREFIX,
    BASE_DISPLAY,
    LEFT_OPERAND,
    MESSAGE_SEP,
    NAME_CLOSE,
    NAME_OPEN,
    UNION_NO_PATH,
    is_literal_key,
    label_literal,
    label_parts,
    rewrite_operators,
    spelled,
)
from restate_lab.runtime.sql.lexing import skip_quoted, skip_space

if TYPE_CHECKING:
    import pyarrow as pa

Reader = Callable[[str | None, Sequence[json_reader.PathElement]], Any]


@dataclass(frozen=True)
class _Function:
    reader: Reader
    returns: str  # utf8, int64, float64, bool, uint64, list, json_list (elements tagged as JSON text)
    min_args: int = 1


FUNCTIONS: dict[str, _Function] = {
    "json_get_str": _Function(json_reader.get_str, "utf8"),
    "json_get_int": _Function(json_reader.get_int, "int64"),
    "json_get_float": _Function(json_reader.get_float, "float64"),
    "json_get_bool": _Function(json_reader.get_bool, "bool"),
    "json_get_json": _Function(json_reader.get_json, "utf8"),
    "json_as_text": _Function(json_reader.as_text, "utf8"),
    "json_length": _Function(json_reader.length, "uint64"),
    "json_contains": _Function(json_reader.contains, "bool", min_args=2),
    "json_get_array": _Function(json_reader.get_array, "json_list"),
    "json_object_keys": _Function(json_reader.object_keys, "list"),
    "json_len": _Function(json_reader.length, "uint64"),  # the server's aliases
    "json_keys": _Function(json_reader.object_keys, "list"),
}
#: Readers only operator chains turn into (never recognised as a call in a query).
_OPERATOR_ONLY: dict[str, _Function] = {
    UNION_NO_PATH: _Function(json_reader.get_json_if_array, "utf8"),
    # a json_get given to a function that does not join it: its union read as JSON text (see _union_reader)
    "json_get": _Function(json_reader.get_json, "utf8"),
    "json_get_if_array": _Function(json_reader.get_json_if_array, "utf8"),
}
_ALL = {**FUNCTIONS, **_OPERATOR_ONLY}

_PREFIX = "__rl_"
#: A call of one of these UDFs in a plan's text: the function's name and the argument letters.
UDF_CALL = re.compile(f"{_PREFIX}(?P<function>{'|'.join(sorted(_ALL, key=len, reverse=True))})_(?P<shape>[six]+d?)\\(")
#: The field metadata the server's ``json_get_array`` puts on its elements (Arrow's JSON extension type).
_JSON_EXTENSION = {"ARROW:extension:name": "arrow.json", "ARROW:extension:metadata": "{}", "is_json": "true"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_INT_LITERAL = re.compile(r"-?\s*[0-9]+")
_FLOAT_LITERAL = re.compile(r"-?\s*(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]+)")
_STRING_LITERAL = re.compile(r"[eE]?'(?:[^']|'')*'")
_NAMES = frozenset(FUNCTIONS)
_INTERNAL = re.compile(_PREFIX + "(" + "|".join([*FUNCTIONS, "json_get_if_array", "json_get"]) + r")_[six]+\(")
#: Marks a json_get call the rewrite turned into a reader of its union (see _union_reader).
_UNION_PREFIX = _PREFIX + "union_"
_NOT_A_CALL = "(?:(?!" + _PREFIX + ")[^" + NAME_OPEN + "])"
_LABELLED = re.compile(
    f"{_PREFIX}(?P<function>{'|'.join(_ALL)})_[six]+d\\("
    f"(?P<args>(?:(?P<first>{_NOT_A_CALL}+?), ?arrow_typeof\\((?P=first)\\))?{_NOT_A_CALL}*?)"
    f', ?Utf8\\("{NAME_OPEN}(?P<name>[^{NAME_OPEN}{NAME_CLOSE}]*){NAME_CLOSE}"\\)\\)'
)
_QUALIFIED_COLUMN = re.compile(r"[^\s(),.]+\.[^\s(),.]+")
_LITERAL_END = re.compile(r'"\)(?=[,)]|$)')
_TYPE_TAG = re.compile(r"(?<=[(,])(?P<space> ?)(?P<arg>.+?), ?arrow_typeof\((?P=arg)\)")
_INT_TYPES = frozenset({"Int64", "UInt64"})  # measured: Int32, Int16, UInt32 ... are refused
_STRING_TYPES = frozenset({"Utf8", "LargeUtf8", "Utf8View"})


class JsonArgumentError(ValueError):
    """Arguments the server refuses: its message, without the ``Datafusion error: `` prefix."""


@dataclass(frozen=True)
class Rewritten:
    """A query with its JSON calls pointed at private UDFs, and the UDF shapes it needs."""

    sql: str
    shapes: frozenset[tuple[str, str]]  # (function, argument letters)


def rewrite(sql: str) -> Rewritten:
    """``sql`` with every call of a JSON function replaced by its private UDF; unchanged if there is none.

    :class:`JsonArgumentError` for a literal argument of a type the server refuses.
    """
    lowered = sql.lower()
    if "->" not in sql and not any(name in lowered for name in FUNCTIONS):
        return Rewritten(sql, frozenset())
    shapes: set[tuple[str, str]] = set()
    return Rewritten(_rewrite(rewrite_operators(sql, _NAMES), shapes), frozenset(shapes))


def _rewrite(sql: str, shapes: set[tuple[str, str]]) -> str:
    out: list[str] = []
    pos = 0
    while pos < len(sql):
        skipped = skip_quoted(sql, pos)
        if skipped != pos:
            out.append(sql[pos:skipped])
            pos = skipped
            continue
        name = _NAME.match(sql, pos)
        if name is None or (pos > 0 and (sql[pos - 1].isalnum() or sql[pos - 1] in "_.$")):
            out.append(sql[pos])
            pos += 1
            continue
        word = name.group().lower()
        operator = word.startswith(ARROW_PREFIX)  # a chain of -> / ->> (json_operators), its name last
        if operator:
            word = word[len(ARROW_PREFIX) :]
        union = word.startswith(_UNION_PREFIX)
        if union:
            word = word[len(_UNION_PREFIX) :]
        after = skip_space(sql, name.end())
        if word not in (_ALL if operator or union else FUNCTIONS) or after >= len(sql) or sql[after] != "(":
            out.append(name.group())
            pos = name.end()
            continue
        args, end = _arguments(sql, after)
        flat = _flattened(word, operator, args)
        if flat is None and args:
            args = [_union_reader(args), *args[1:]]
        rewritten = [_rewrite(a, shapes) for a in args]
        if operator:
            nested = _call(word, rewritten[:-1], shapes, label=rewritten[-1])
        else:
            nested = _call(word, rewritten, shapes)  # also refuses wrong arguments, as the nested call would
        if flat is None:
            out.append(nested)
        else:
            base, paths, column, message = flat
            out.append(_call(word, [_rewrite(base, shapes), *paths], shapes, label=label_literal(column, message)))
        pos = end
    return "".join(out)


#: Calls the server's planner joins with a json_get or json_as_text call in their first argument
#: (``json_get_int(json_as_text(x, 'a'), 'b')`` reads ``x`` at ``'a', 'b'``), when every path is a literal;
#: marked ``->``/``->>`` calls stand for json_get and json_as_text.
_JOINS_INNER = frozenset(
    {"json_get_str", "json_get_int", "json_get_float", "json_get_bool", "json_get_json", "json_as_text"}
)
_JOINED_PLAIN = frozenset({"json_as_text", "json_get"})
_JOINED_MARKED = frozenset({"json_as_text", "json_get_json", UNION_NO_PATH})
#: Where a joined call's column name spells its first argument as DataFusion names it (``f(a,b)``);
#: :data:`BASE_DISPLAY` is the printed form (``f(a, b)``), see :func:`restore_names`.
BASE_SCHEMA = "\x04"


def _flattened(word: str, operator: bool, args: list[str]) -> tuple[str, list[str], str, str] | None:
    """``(first argument, path, column name, message form)`` of the one call the planner makes of this nest.

    None when the call keeps its first argument (not a joinable call, or a path that is not a literal).
    """
    if operator:
        if word not in _JOINED_MARKED:
            return None
        paths, label = args[1:-1], label_parts(args[-1])
    elif word in _JOINS_INNER:
        paths, label = args[1:], None
    else:
        return None
    inner = _parse_call(args[0].strip()) if args else None
    if inner is None or not all(is_literal_key(p) for p in paths):
        return None
    parts = _joinable_parts(*inner)
    if parts is None:
        return None
    base, inner_paths, inner_schema, inner_display, inner_message = parts
    joined = [*inner_paths, *(p.strip() for p in paths)]
    if label is None:
        name = f"{word}(" + ",".join([inner_schema, *(spelled(p) for p in paths)]) + ")"
        message = f"{word}(" + ", ".join([inner_message, *(spelled(p) for p in paths)]) + ")"
        return base, joined, name, message
    name, message = label
    return (
        base,
        joined,
        substitute(name, {LEFT_OPERAND: inner_display}),
        substitute(message, {LEFT_OPERAND: inner_display, BASE_DISPLAY: inner_message}),
    )


def _joinable_parts(word: str, operator: bool, args: list[str]) -> tuple[str, list[str], str, str, str] | None:
    """An inner call the planner joins into its caller: first argument, path, and three spellings of it.

    The spellings: as a column name spells it inside a call, as an operator's operand, as a message prints it.
    """
    if (word not in _JOINED_MARKED) if operator else (word not in _JOINED_PLAIN):
        return None
    paths = args[1:-1] if operator else args[1:]
    if not args or not all(is_literal_key(p) for p in paths):
        return None
    deeper = _parse_call(args[0].strip())
    joined = _joinable_parts(*deeper) if deeper is not None else None
    if joined is not None:
        base, base_paths, schema, display, message = joined
    else:
        base, base_paths = args[0].strip(), []
        literal = _literal_type(base) == "Utf8"
        schema = spelled(base) if literal else BASE_SCHEMA
        display = message = spelled(base) if literal else BASE_DISPLAY
    all_paths = [*base_paths, *(p.strip() for p in paths)]
    if operator:
        name, template = label_parts(args[-1])
        operand = LEFT_OPERAND if joined is None else display
        name = substitute(name, {LEFT_OPERAND: operand})
        template = substitute(template, {LEFT_OPERAND: operand, BASE_DISPLAY: message})
        return base, all_paths, name, name, template
    keys = [spelled(p) for p in paths]
    return (
        base,
        all_paths,
        f"{word}(" + ",".join([schema, *keys]) + ")",
        f"{word}(" + ", ".join([display, *keys]) + ")",
        f"{word}(" + ", ".join([message, *keys]) + ")",
    )


def _union_reader(args: list[str]) -> str:
    """The first argument of a JSON function, when it is a ``json_get`` or ``->`` that was not joined into
    the call, as a reader of the union it gives on the server.

    Over a column, a function that reads the union with no path of its own sees only an array (an object
    or a scalar is null); with a path, or over literals alone, the union reads as the JSON text it holds.
    A plain ``json_get`` becomes a private reader named ``json_get`` or ``json_get_if_array``, so that the
    column keeps the call's name; a ``->`` keeps its label.
    """
    call = _parse_call(args[0].strip())
    if call is None or not call[2]:
        return args[0]
    word, marked, inner = call
    if marked and word in ("json_get_json", UNION_NO_PATH):
        paths = inner[:-1]
    elif not marked and word == "json_get":
        paths = inner
    else:
        return args[0]
    constant = all(_literal_type(a) is not None for a in paths)
    whole = constant or len(args) > 1
    if marked:
        reader = "json_get_json" if whole else UNION_NO_PATH
        return f"{ARROW_PREFIX}{reader}(" + ",".join(inner) + ")"
    return f"{_UNION_PREFIX}{'json_get' if whole else 'json_get_if_array'}(" + ",".join(inner) + ")"


def _parse_call(text: str) -> tuple[str, bool, list[str]] | None:
    """``(function, marked, arguments)`` when ``text`` is exactly one call of a name, else None."""
    name = _NAME.match(text)
    if name is None:
        return None
    after = skip_space(text, name.end())
    if after >= len(text) or text[after] != "(":
        return None
    args, end = _arguments(text, after)
    if skip_space(text, end) != len(text):
        return None
    word = name.group().lower()
    if word.startswith(ARROW_PREFIX):
        return word[len(ARROW_PREFIX) :], True, args
    return word, False, args


def _arguments(sql: str, open_at: int) -> tuple[list[str], int]:
    """The argument texts of the call whose ``(`` is at ``open_at``, and the position after its ``)``."""
    args: list[str] = []
    depth = 0
    start = pos = open_at + 1
    while pos < len(sql):
        skipped = skip_quoted(sql, pos)
        if skipped != pos:
            pos = skipped
            continue
        ch = sql[pos]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            if depth == 0:
                if sql[start:pos].strip() or args:
                    args.append(sql[start:pos])
                return args, pos + 1
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(sql[start:pos])
            start = pos + 1
        pos += 1
    args.append(sql[start:])  # unbalanced: DataFusion's parser reports it
    return args, len(sql)


def _literal_type(text: str) -> str | None:
    """The Arrow type the planner gives a literal argument, or None for any other expression."""
    text = text.strip()
    if _STRING_LITERAL.fullmatch(text):
        return "Utf8"
    if _INT_LITERAL.fullmatch(text):
        return "Int64"
    if _FLOAT_LITERAL.fullmatch(text):
        return "Float64"
    lowered = text.lower()
    if lowered == "null":
        return "Null"
    if lowered in ("true", "false"):
        return "Boolean"
    return None


def _call(name: str, args: list[str], shapes: set[tuple[str, str]], label: str | None = None) -> str:
    """The private UDF's call for ``name(args)``; ``label``: the column name an operator chain carries."""
    function = _ALL[name]
    if not args:
        raise JsonArgumentError(
            f"Error during planning: '{name}' does not support zero arguments. No function matches the given "
            f"name and argument types '{name}()'. You might need to add explicit type casts.\n\tCandidate "
            f"functions:\n\t{name}(Any, .., Any)"
        )
    if len(args) < function.min_args:
        raise JsonArgumentError(f"Error during planning: The '{name}' function requires two or more arguments.")
    letters = []
    texts = []
    for position, arg in enumerate(args, start=1):
        kind = _literal_type(arg)
        if kind not in (("Utf8",) if position == 1 else ("Utf8", "Int64")):
            # Read with its type at run time; a type the server refuses is refused when the query is
            # planned (json_plan_types), in the order and at the stage the server reports it.
            kind = None
        if kind is None:
            letters.append("x")
            texts.append(f"{arg},arrow_typeof({arg.strip()})")
        else:
            letters.append("s" if kind == "Utf8" else "i")
            texts.append(arg)
    if label is not None:
        letters.append("d")
        texts.append(label)
    shape = "".join(letters)
    shapes.add((name, shape))
    return f"{_PREFIX}{name}_{shape}(" + ",".join(texts) + ")"


def restore_names(text: str, *, message: bool = False) -> str:
    """Column names (or, with ``message``, an error's text) with the server's spelling of JSON calls.

    An operator chain is named as written (``x ->> 'a'``); in a message the server shows the call it
    stands for, step by step and aliased: ``json_as_text(t.x, Utf8("a")) AS x ->> 'a'``. A call the
    rewrite joined into one (``json_get_int(json_as_text(x, 'a'), 'b')``) keeps the nested spelling.
    Marked calls are restored innermost first; each becomes a token holding both its forms, so the
    call around it can use either.
    """
    if _PREFIX not in text:
        return text
    text = _INTERNAL.sub(lambda m: m.group(1).removesuffix("_if_array") + "(", text)

    def operator(match: re.Match[str]) -> str:
        first = _untagged(match.group("first") or "")
        schema = _as_name(first)
        display = _displayed(first)
        display_name = _as_name(display)
        left = schema.rsplit(".", 1)[-1] if _QUALIFIED_COLUMN.fullmatch(schema) else display_name
        name_form, _, message_form = match.group("name").partition(MESSAGE_SEP)
        places = {LEFT_OPERAND: left, BASE_SCHEMA: schema, BASE_DISPLAY: display_name}
        name = substitute(name_form, places)
        if message_form:
            printed = substitute(message_form, {**places, BASE_DISPLAY: _as_message(display)})
        else:  # a key from a column: the call itself, as printed, is the message form
            function = match.group("function")
            function = function if function == "json_as_text" else "json_get"
            printed = f"{function}({_as_message(_untagged(match.group('args')))}) AS {name}"
        return _TOKEN_OPEN + printed + _TOKEN_MID + name + _TOKEN_CLOSE

    for _ in range(text.count(NAME_OPEN)):  # operator chains, innermost first
        text, found = _LABELLED.subn(operator, text)
        if not found:
            break
    text = _untagged(text)
    return _as_message(text) if message else _as_name(text)


_TOKEN_OPEN, _TOKEN_MID, _TOKEN_CLOSE = "\x0e", "\x0f", "\x10"
_TOKEN = re.compile("\x0e([^\x0e\x0f\x10]*)\x0f([^\x0e\x0f\x10]*)\x10")
_PLACES = re.compile("[\x03\x04\x05]")


def _as_name(text: str) -> str:
    return _TOKEN.sub(lambda m: m.group(2), text)


def _as_message(text: str) -> str:
    return _TOKEN.sub(lambda m: m.group(1), text)


def substitute(template: str, places: dict[str, str]) -> str:
    """``template`` with each placeholder character replaced at once (replacements are not searched again)."""
    return _PLACES.sub(lambda m: places.get(m.group(), m.group()), template)


def _untagged(text: str) -> str:
    """``text`` without the ``arrow_typeof`` arguments the rewrite added after expressions (nested too)."""
    for _ in range(text.count("arrow_typeof(") + 1):
        text, found = _TYPE_TAG.subn(lambda m: m.group("space") + m.group("arg"), text)
        if not found:
            break
    return text


def _displayed(schema_name: str) -> str:
    """DataFusion's printed form of an expression from its column-name form: ``f(a, b)`` for ``f(a,b)``.

    Only the commas between a call's arguments change; those inside a string literal's ``Utf8("...")``
    are kept (a literal is taken to end at the first ``")`` that a comma or bracket follows).
    """
    if "," not in schema_name:
        return schema_name
    out: list[str] = []
    pos = 0
    while pos < len(schema_name):
        if schema_name.startswith('Utf8("', pos):
            close = _LITERAL_END.search(schema_name, pos + 6)
            end = len(schema_name) if close is None else close.start() + 2
            out.append(schema_name[pos:end])
            pos = end
            continue
        ch = schema_name[pos]
        out.append(", " if ch == "," and not schema_name.startswith(" ", pos + 1) else ch)
        pos += 1
    return "".join(out)


def udf_name(name: str, shape: str) -> str:
    return f"{_PREFIX}{name}_{shape}"


def make_udf(name: str, shape: str) -> Any:
    """The DataFusion UDF for calls of ``name`` whose arguments have the letters ``shape``."""
    import pyarrow as pa
    from datafusion import udf

    function = _ALL[name]
    returns = {
        "utf8": pa.utf8(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "uint64": pa.uint64(),
        "list": pa.list_(pa.utf8()),
        "json_list": pa.list_(pa.field("item", pa.utf8(), metadata=_JSON_EXTENSION)),
    }[function.returns]
    inputs: list[pa.DataType] = []
    for letter in shape:
        inputs.append(pa.int64() if letter == "i" else pa.utf8())  # d: the column name, not read
        if letter == "x":
            inputs.append(pa.utf8())  # its arrow_typeof

    def evaluate(*arrays: pa.Array) -> pa.Array:
        columns = [a.to_pylist() for a in arrays]
        rows = len(columns[0]) if columns else 0
        answers = [_row(name, function, shape, columns, row) for row in range(rows)]
        return pa.array(answers, type=returns)

    return udf(evaluate, inputs, returns, "immutable", name=udf_name(name, shape))


def _row(name: str, function: _Function, shape: str, columns: list[list[Any]], row: int) -> Any:
    """One row's answer: the JSON text and the path read from the columns of the call's arguments."""
    values: list[Any] = []
    column = 0
    for position, letter in enumerate(shape.rstrip("d"), start=1):
        value = columns[column][row]
        column += 1
        if letter == "x":
            arrow_type = columns[column][row]
            column += 1
            value = _typed(name, position, value, arrow_type)
        values.append(value)
    text, path = values[0], values[1:]
    if len(path) > 1 and "x" in shape[1:].rstrip("d"):
        raise JsonArgumentError(
            "Execution error: More than 1 path element is not supported when querying JSON using an array."
        )
    if any(element is None for element in path):
        return False if function.reader is json_reader.contains else None
    return function.reader(text, path)


def argument_refusal(name: str, position: int, arrow_type: str | None) -> str | None:
    """The server's planning error for an argument of type ``arrow_type`` at ``position`` of ``name``, if any.

    The JSON text (position 1) must be a string; a path element a string or a 64-bit integer.
    """
    base = (arrow_type or "").split("(")[0]
    if position == 1:
        if base in _STRING_TYPES:
            return None
        return (
            f"Error during planning: Unexpected argument type to '{name}' at position 1, "
            f"expected a string, got {arrow_type}."
        )
    if base in _INT_TYPES or base in _STRING_TYPES:
        return None
    return (
        f"Error during planning: Unexpected argument type to '{name}' at position {position}, "
        f"expected string or int, got {arrow_type}."
    )


def _typed(name: str, position: int, value: Any, arrow_type: str | None) -> Any:
    """An expression's value (coerced to text by the UDF's signature) back as its own type."""
    refusal = argument_refusal(name, position, arrow_type)
    if refusal is not None:
        raise JsonArgumentError(refusal)
    if position > 1 and (arrow_type or "").split("(")[0] in _INT_TYPES:
        return None if value is None else int(value)
    return value


def rename_columns(table: pa.Table) -> pa.Table:
    """``table`` with the server's spelling of JSON calls in its column names."""
    names = [restore_names(n) for n in table.column_names]
    return table if names == table.column_names else table.rename_columns(names)
