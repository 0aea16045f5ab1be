"""The server's type check of JSON function arguments, made when the query is planned, not per row.

Restate Server refuses ``json_get_str(doc, 1::int)`` or ``json_get_str(partition_key, 'a')`` while planning
(400), whether or not any row reaches the call: over an empty table, under ``WHERE false``, or where the
argument is a cast that cannot be evaluated (``'a'::int``). restate_lab's UDFs see an argument's type only
with its rows, so this reads the types the plan already knows (a column's, a cast's, a literal's) from
DataFusion's unoptimised plan text. An argument whose type the text does not give is left to the row check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from restate_lab.runtime.sql.json_functions import UDF_CALL, argument_refusal
from restate_lab.runtime.sql.lexing import masked, matching_close

#: A literal as a plan prints it, and the type it has: ``Int64(1)``, ``Utf8("a")``, ``Float64(1.5)``.
_LITERAL = re.compile(r"^(?P<type>U?Int(?:8|16|32|64)|Float(?:16|32|64)|Utf8|LargeUtf8|Utf8View|Boolean)\(.*\)$")
_COLUMN = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*\.)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")
#: A field of a plan node's schema, ``[name:Type;N, ...]``, with a plain name and a plain type.
_FIELD = re.compile(r"(?<=[\[ ])(?P<name>[A-Za-z_][A-Za-z0-9_]*):(?P<type>[A-Za-z0-9]+)(?=[;,\]])")
_CASTS = ("CAST(", "TRY_CAST(")
_PLAIN_TYPE = re.compile(r"^[A-Za-z0-9]+$")


@dataclass(frozen=True)
class Refusal:
    """A refused argument, and the stage of the server's planning that reports it."""

    message: str
    stage: str  # one of STAGES
    #: Refused in a ``CASE WHEN`` condition, which the analyzer reports with a line of its own.
    in_case_condition: bool = False

    @property
    def status(self) -> int:
        """400 when the plan is built; 500 from the analyzer or the optimizer, which wrap the message."""
        return 400 if self.stage == PLANNING else 500

    @property
    def text(self) -> str:
        """The message as the server's answer gives it, after ``Datafusion error: ``."""
        if self.stage == PLANNING:
            return self.message
        if self.stage == TYPE_COERCION:
            case = "WHEN expressions in CASE couldn't be converted to common type (Boolean)\ncaused by\n"
            return f"type_coercion\ncaused by\n{case if self.in_case_condition else ''}{self.message}"
        return f"Optimizer rule '{self.stage}' failed\ncaused by\n{self.message}"


PLANNING = "planning"
TYPE_COERCION = "type_coercion"
#: In the order the server reaches them: building the plan (a call whose type the select list's
#: schema needs), the analyzer's type coercion (a call whose type an expression around it needs: a
#: comparison, a function, a filter, a CASE condition, a window's ORDER BY), then two optimizer rules (a
#: call only ``IS [NOT] NULL`` reads; a bare sort key).
STAGES = (PLANNING, TYPE_COERCION, "simplify_expressions", "extract_leaf_expressions")
_NODE = re.compile(r"^\s*(?P<node>[A-Za-z ]+?):")
_ONLY_NULL_TESTED = re.compile(r"^\s*IS (?:NOT )?NULL\b")
_SORT_KEY_END = re.compile(r"^\s*(?:ASC|DESC)\b")
_SORT_KEY_START = re.compile(r"(?:^\s*Sort:|,)\s*$")
_CASE_CONDITION = re.compile(r"\bWHEN\s*$")


def refusal_in_plan(plan: str) -> Refusal | None:
    """The refusal the server reports for a JSON call's argument in ``plan``, or None.

    ``plan`` is ``LogicalPlan.display_indent_schema()`` of the rewritten query: each node's schema gives
    the columns' types. The earliest stage wins; within one, the lowest plan node, and a call's arguments
    before the call (post-order), then left to right.
    """
    columns = _column_types(plan)
    found: list[Refusal] = []
    named_below: set[str] = set()  # calls in window and aggregate results, which nodes above name as columns
    for line in reversed(plan.splitlines()):
        line = _without_schema(line)
        hidden = masked(line)
        node = _NODE.match(line)
        calls = [(matching_close(hidden, call.end() - 1), call) for call in UDF_CALL.finditer(hidden)]
        for close, call in sorted((c for c in calls if c[0] >= 0), key=lambda c: c[0]):
            written = line[call.start() : close + 1]
            if node is not None and node["node"] in ("WindowAggr", "Aggregate"):
                named_below.add(written)
            elif written in named_below:
                continue
            arguments = _split(line, hidden, call.end(), close)
            message = _refusal_of_call(call["function"], call["shape"], arguments, columns)
            if message is not None:
                stage, in_case = _stage(node["node"] if node else "", line[: call.start()], line[close + 1 :])
                found.append(Refusal(message, stage, in_case))
    return min(found, key=lambda r: STAGES.index(r.stage)) if found else None


def _stage(node: str, before: str, after: str) -> tuple[str, bool]:
    """Which stage of the server's planning types a call, from the plan node and the text around it;
    and whether the call is a ``CASE WHEN`` condition."""
    if _ONLY_NULL_TESTED.match(after):
        return "simplify_expressions", False
    if _CASE_CONDITION.search(before):
        return TYPE_COERCION, True
    if node == "WindowAggr":
        in_order_by = before.rfind("ORDER BY [") > before.rfind("PARTITION BY [")
        return (TYPE_COERCION if in_order_by else PLANNING), False
    if node not in ("Filter", "Sort") and "Join" not in node:
        return PLANNING, False
    if node == "Sort" and _SORT_KEY_END.match(after) and _SORT_KEY_START.search(before):
        return "extract_leaf_expressions", False
    return TYPE_COERCION, False


def _refusal_of_call(function: str, shape: str, arguments: list[str], columns: dict[str, str | None]) -> str | None:
    """The refusal of the first expression argument whose type the plan gives and the server refuses."""
    index = 0
    for position, letter in enumerate(shape.rstrip("d"), start=1):
        if index >= len(arguments):
            break
        if letter == "x":
            arrow_type = _type_of(arguments[index], columns)
            refusal = None if arrow_type is None else argument_refusal(function, position, arrow_type)
            if refusal is not None:
                return refusal
            index += 2  # the expression and its arrow_typeof(...) tag
        else:
            index += 1
    return None


def _without_schema(line: str) -> str:
    """A plan line without the node's schema, the ``[name:Type, ...]`` that ends it."""
    hidden = masked(line)
    if not hidden.endswith("]"):
        return line
    depth = 0
    for pos in range(len(hidden) - 1, -1, -1):
        depth += (hidden[pos] == "]") - (hidden[pos] == "[")
        if depth == 0:
            return line[:pos]
    return line


def _column_types(plan: str) -> dict[str, str | None]:
    """Every plainly named field in the plan's schemas and its type; None for a name with two types."""
    types: dict[str, str | None] = {}
    for field in _FIELD.finditer(plan):
        name, arrow_type = field["name"], field["type"]
        if types.get(name, arrow_type) != arrow_type:
            types[name] = None
        else:
            types[name] = arrow_type
    return types


def _split(plan: str, hidden: str, start: int, end: int) -> list[str]:
    """The top-level arguments of the call whose parentheses enclose ``start:end``."""
    arguments: list[str] = []
    depth = 0
    begin = start
    for pos in range(start, end):
        char = hidden[pos]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            arguments.append(plan[begin:pos].strip())
            begin = pos + 1
    arguments.append(plan[begin:end].strip())
    return arguments


def _type_of(expression: str, columns: dict[str, str | None]) -> str | None:
    """The type of ``expression`` if the plan's text gives it plainly: a cast, a literal or a column."""
    hidden = masked(expression)
    for cast in _CASTS:
        if hidden.startswith(cast) and matching_close(hidden, len(cast) - 1) == len(hidden) - 1:
            inner = hidden[len(cast) : -1]
            depth, split = 0, -1
            for pos, char in enumerate(inner):
                depth += (char == "(") - (char == ")")
                if depth == 0 and inner.startswith(" AS ", pos):
                    split = pos
            if split < 0:
                return None
            arrow_type = expression[len(cast) + split + 4 : -1].strip()
            return arrow_type if _PLAIN_TYPE.match(arrow_type) else None
    if expression == "NULL":
        return "Null"
    literal = _LITERAL.match(expression)
    if literal is not None and matching_close(hidden, len(literal["type"])) == len(hidden) - 1:
        return literal["type"]
    column = _COLUMN.match(expression)
    if column is not None:
        return columns.get(column["name"])
    return None
