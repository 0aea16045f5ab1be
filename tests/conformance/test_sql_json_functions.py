"""The SQL JSON functions (``json_get_str`` & co.) answer generated documents exactly as Restate Server does.

Each round builds one query over a ``VALUES`` table of generated JSON texts -- nested objects and arrays,
duplicate keys, escapes, negative, huge and exponent numbers, number-like strings, random spacing, and a
quarter of them broken (cut short, a character inserted or dropped, garbage after the value) -- and reads
every function at generated paths (keys, indexes, negative indexes, paths from columns). Both servers get
the same bytes; the JSON answers must be equal as text. ``RESTATE_LAB_JSON_ROUNDS`` sets the rounds.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import httpx
import pytest

from tests.conformance.test_sql_conformance import Endpoint, lab, real  # noqa: F401 - the two servers

pytestmark = pytest.mark.realserver

ROUNDS = int(os.environ.get("RESTATE_LAB_JSON_ROUNDS", "8"))
DOCUMENTS = 40
FUNCTIONS = (
    "json_get_str",
    "json_get_int",
    "json_get_float",
    "json_get_bool",
    "json_get_json",
    "json_as_text",
    "json_length",
    "json_contains",
    "json_get_array",
    "json_object_keys",
)
KEYS = ("a", "b", "", "é", "a b", "1")
STRINGS = (
    "x",
    "\\u00e9",
    "\\ud83d\\ude00",
    "\\ud83d",
    '\\n\\t\\"\\\\\\/',
    "é",
    "tab\there",
    "\\q",
    "1",
    "-0",
    "+1",
    "01",
    " 1",
    "1.5",
    "1e2",
    "inf",
    "NaN",
    "true",
    "false",
    "True",
    "9223372036854775808",
    "it's",
)
NUMBERS = (
    "0",
    "1",
    "-1",
    "-0",
    "7",
    "999999999999999999",
    "1000000000000000000",
    "9223372036854775807",
    "1.5",
    "-1.5",
    "1.0",
    "1e2",
    "1E+2",
    "0.1",
    "1e400",
    "1e-400",
    "123456789012345678901234567890",
    "01",
    "1.",
)
BREAKERS = ',]}:"\\ 0.-x{['


def _space(rng: random.Random) -> str:
    return rng.choice(("", "", "", " ", "\n", "\t ", "  "))


def _value(rng: random.Random, depth: int) -> str:
    kind = rng.random()
    if depth < 3 and kind < 0.3:
        members = [
            f'{_space(rng)}"{rng.choice(KEYS)}"{_space(rng)}:{_space(rng)}{_value(rng, depth + 1)}{_space(rng)}'
            for _ in range(rng.randint(0, 4))
        ]
        return "{" + ",".join(members) + _space(rng) * (not members) + "}"
    if depth < 3 and kind < 0.5:
        items = [f"{_space(rng)}{_value(rng, depth + 1)}{_space(rng)}" for _ in range(rng.randint(0, 4))]
        return "[" + ",".join(items) + "]"
    if depth < 3 and kind < 0.56:  # JSON held in a string: read on by a nested call, not by a joined path
        return json.dumps(_value(rng, depth + 1))
    if kind < 0.7:
        return '"' + rng.choice(STRINGS) + '"'
    if kind < 0.9:
        return rng.choice(NUMBERS)
    return rng.choice(("true", "false", "null"))


def document(rng: random.Random) -> str | None:
    """A JSON text, a quarter of the time broken in one place; now and then SQL NULL."""
    if rng.random() < 0.03:
        return None
    text = _space(rng) + _value(rng, 0) + _space(rng)
    if rng.random() < 0.25 and text:
        at = rng.randrange(len(text) + 1)
        how = rng.randrange(4)
        if how == 0:
            text = text[:at]
        elif how == 1:
            text = text[:at] + rng.choice(BREAKERS) + text[at:]
        elif how == 2:
            text = text[:at] + text[at + 1 :]
        else:
            text += rng.choice((" trailing", "}", ",", "]", "x"))
    return text


def path(rng: random.Random, shortest: int = 0) -> str:
    """SQL path arguments (with their leading commas): keys, indexes, sometimes a negative one."""
    elements = []
    for _ in range(max(shortest, rng.choice((0, 1, 1, 2, 2, 3)))):
        if rng.random() < 0.6:
            elements.append("'" + rng.choice(KEYS).replace("'", "''") + "'")
        else:
            elements.append(str(rng.choice((0, 0, 1, 2, 3, -1))))
    return "".join(", " + e for e in elements)


def _sql_text(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def generated_query(seed: int) -> str:
    """One round: every function at two generated paths, plus paths from a text and an integer column."""
    rng = random.Random(seed)
    rows = [
        f"({i}, {_sql_text(document(rng))}, {_sql_text(rng.choice(KEYS))}, {rng.choice((0, 1, 2, -1))})"
        for i in range(DOCUMENTS)
    ]
    columns = [
        f"{name}(d.doc{path(rng, shortest=int(name == 'json_contains'))}) as c{n}"
        for n, name in enumerate(FUNCTIONS * 2)
    ]
    for n in range(6):  # operator chains: -> and ->> steps ending in ->>, spaced or not, a head in brackets
        steps = [e.strip(", ") for e in path(rng, shortest=1).split(", ") if e.strip(", ")]
        if rng.random() < 0.2:
            steps.insert(rng.randrange(len(steps)), "d.k")  # a key from a column: no longer one joined path
        # (a key right after an arrow must not start with '-': `->>-1` is the custom operator `->>-`)
        chain = "d.doc"
        for number, key in enumerate(steps):
            # Around a column key, ->> only: the server drops the connection when the union `->` gives holds
            # a number of 19 digits and is read on (docs/observed-restate-1.7.12.md).
            column_next = number + 1 < len(steps) and steps[number + 1] == "d.k"
            arrow = "->>" if number == len(steps) - 1 or key == "d.k" or column_next or rng.random() < 0.3 else "->"
            chain += f"{_space(rng)}{arrow}{_space(rng) or ' '}{key}"
            if number < len(steps) - 1 and rng.random() < 0.15:
                chain = f"({chain})"
        columns.append(f"{chain} as o{n}")
    for n in range(8):  # a JSON function over another: the server joins literal paths into one
        outer = rng.choice(FUNCTIONS)
        joins = outer in ("json_get_str", "json_get_int", "json_get_float", "json_get_bool", "json_get_json")
        inner = rng.choice(
            ("json_as_text", "json_get_str", "json_get_json") + ("json_get",) * (joins or outer == "json_as_text")
        )
        inner_path = path(rng)
        if inner != "json_get" and rng.random() < 0.2:
            inner_path = ", d.k"  # (a path from a column has one element: the server refuses more)
        columns.append(
            f"{outer}({inner}(d.doc{inner_path}){path(rng, shortest=int(outer == 'json_contains'))}) as f{n}"
        )
    columns += [
        f"json_as_text(d.doc{path(rng)}) ->> {path(rng, shortest=1).split(', ')[1]} as call_chain",
        "json_get_json(d.doc, d.k) as by_key",
        "json_get_json(d.doc, d.n) as by_index",
    ]
    return (
        "select d.i, " + ", ".join(columns) + " from (values " + ", ".join(rows) + ") as d(i, doc, k, n) order by d.i"
    )


def _answer(endpoint: Any, sql: str) -> tuple[int, str]:
    response = httpx.post(
        endpoint.admin_url + "/query", json={"query": sql}, headers={"accept": "application/json"}, timeout=30
    )
    return response.status_code, response.text


@pytest.mark.parametrize("seed", range(ROUNDS))
def test_json_functions_read_generated_documents_as_the_server(seed: int, real: Endpoint, lab: Endpoint) -> None:  # noqa: F811
    """Every JSON function, at generated paths over generated (and broken) documents: the same answer text."""
    sql = generated_query(seed)
    expected = _answer(real, sql)
    actual = _answer(lab, sql)
    assert expected[0] == 200, expected
    if actual != expected:
        import json

        want = json.loads(expected[1])["rows"]
        got = json.loads(actual[1]).get("rows", actual)
        diffs = [(w, g) for w, g in zip(want, got, strict=False) if w != g]
        pytest.fail(f"seed {seed}: {len(diffs)} rows differ; first: server {diffs[:1]!r}\nquery: {sql[:2000]}")


@pytest.mark.parametrize(
    "sql",
    [
        "select json_get_str(value_utf8) as name, json_get_int(value_utf8) as n, json_length(value_utf8) as size "
        "from state order by service_name, service_key, key",
        "select json_get_str('{\"a\":1}', 1.5) as v",
        "select json_get_str(1, 'a') as v",
        "select json_contains('{}') as v",
        "select json_length() as v",
        "select json_get_int(x, 'a') from (values (1)) as t(x)",
        "select json_get_str(d, 'a', k) from (values ('{\"a\":[\"x\"]}', 0)) as t(d, k)",
        "select json_get_str(d, k) as one from (values ('[\"x\"]', 0)) as t(d, k)",
        "select JSON_GET_STR('{\"a\":\"x\"}', 'a'), json_get_int(x, 'k') + 1 from (values ('{\"k\":1}')) as t(x)",
        "select json_get_str(json_get_json('{\"a\":{\"b\":\"in\"}}', 'a'), 'b') as nested /* json_length( */",
        'select \'json_get_str(\' as text, "json_get_str" from (values (1)) as t("json_get_str")',
        "select x->>'a', t.x ->> 'A', upper(x)->>'A', x->>k, x -> 'b' ->> 0, x->>'it''s' "
        'from (values (\'{"a":"y","A":1,"b":[5],"it\'\'s":2}\', \'a\')) as t(x, k)',
        "select json_length(x -> 'b'), x->>'a' = 'y' as same, x->>'a' || 'z' as more, '->>' as text "
        "from (values ('{\"a\":\"y\",\"b\":[5]}')) as t(x) where x ->> 'a' is not null order by x->>'a'",
        "select x->>-1 from (values ('[1]')) as t(x)",
        "select x->>'a', (t.x) ->> 'a' from (values ('{}')) as t(x)",
        "select json_as_text(x, 'a') ->> 'b', concat(x, '') ->> 'a', json_get_int(json_as_text(x, 'a'), 'b'), "
        "upper(json_get_str(json_as_text(x, 'a'), 'b')) from (values ('{\"a\":{\"b\":1}}')) as t(x)",
        "select ((x -> 'a')) ->> 'b', (x ->> 'a') ->> 'b', x ->> 'a' ->> 'b', (x -> 'a') -> 'b' ->> 0, "
        "json_length((x -> 'a')), x ->> k ->> 'b' from (values ('{\"a\":\"{\\\"b\\\":1}\"}', 'a'), "
        "('{\"a\":{\"b\":[1]}}', 'a')) as t(x, k)",
        "select json_get_str(json_get(x, 'a'), 'b') as g, json_get_int(json_as_text(x, 'a')) as one, "
        "json_get_str(json_as_text(x, 'a'), k) as by_column, json_as_text(json_as_text(x, 'a')) as twice "
        'from (values (\'{"a":"{\\"b\\":\\"q\\"}"}\', \'b\'), (\'{"a":"5"}\', \'b\')) as t(x, k)',
        "select json_get_str(json_get(x, k)) as s, json_get_int(json_get(x, k)) as i, "
        "json_get_json(json_get(x, k)) as j, json_as_text(x -> k) as t, json_length(json_get(x, k)) as l, "
        "json_get_str(json_get(x, k), 'b') as b, json_length(json_get(x, 'a')), json_object_keys(x -> k) as o "
        "from (values ('{\"a\":\"s\"}', 'a'), ('{\"a\":5}', 'a'), ('{\"a\":true}', 'a'), "
        "('{\"a\":null}', 'a'), ('{\"a\":{\"b\":\"q\"}}', 'a'), ('{\"a\":[1, 2]}', 'a'), "
        '(\'{"a":"{\\"b\\":1}"}\', \'a\')) as t(x, k)',
        "select 'x' || x ->> 'a' as concat_first, x ->> 'a' || y ->> 'b' as left_to_right, "
        "1 + length(x ->> 'a') as plus, x ->> lower('A') as by_call, x ->> ('a') as bracketed, "
        "x -> 'c' ->> 0::bigint as cast_key from (values ('{\"a\":\"{\\\"b\\\":\"}', '3}'), "
        '(\'{"a":"q","c":[7]}\', \'{}\')) as t(x, y)',
        "select json_get_str('[\"a\"]', 0::int) as narrow_int",
        "select json_get_str('[\"a\"]', arrow_cast(0, 'UInt64')) as wide_int",
        "select value_utf8 ->> 'a' as a from + 1 state",
        "select json_get_str(value_utf8, 1::int) as k from state",
        "select json_get_str(x, 1::smallint) from (values ('[1]')) as t(x) where false",
        "select value_utf8 ->> key::int as k, json_length(value_utf8, partition_key) as n from state",
        "select json_get_str(partition_key, 'a') as p from state",
        "select json_get_str('{\"a\":1}', 'a'::int) as bad_cast",
        "select json_get_str(value_utf8, 1.5::double) as f, json_get_int(value_utf8, key) as i from state",
        "select count(*) from (values ('1')) as t(x) where json_length(x, 1::int) > 0 or json_contains(x, true)",
        "select count(*) from state where json_get_str(value_utf8, null) is null and key = 'a'",
        "select x from (values ('1')) as t(x) where json_get_str(x, 1::int) is null order by json_get_str(x, 1.5)",
        "select x from (values ('1')) as t(x) order by json_get_str(x, 1::int) desc",
        "select x from (values ('1')) as t(x) group by x having json_length(x, 1::int) > 0",
        "select json_get_str(x, 1::int), json_get_str(x, true), json_get_str(1, 'a') from (values ('1')) as t(x)",
        "select json_get_str(x, 1::int) is null, json_get_str(x, 1.5) from (values ('1')) as t(x)",
        "select case when json_contains(x, 1::int) then 1 end from (values ('1')) as t(x)",
        "select row_number() over (order by json_get_str(x, 1::int)) from (values ('1')) as t(x)",
        "select count(*) filter (where json_get_str(x, 1::int) is null) from (values ('1')) as t(x)",
        "select x ->> 1.5 as f from (values ('1')) as t(x)",
        "select x ->> 1e2 as e from (values ('1')) as t(x)",
    ],
    ids=[
        "state-values",
        "float-path",
        "int-document",
        "contains-one-argument",
        "no-arguments",
        "non-text-column",
        "column-path-of-two",
        "column-path-of-one",
        "names-and-arithmetic",
        "nested-and-comment",
        "names-in-strings",
        "operator-names",
        "operators-in-expressions",
        "arrow-glued-to-minus",
        "same-name-twice",
        "call-operand-names",
        "bracketed-chains",
        "joined-calls",
        "unions-read-on",
        "operator-precedence-and-keys",
        "int32-path-refused",
        "uint64-path-read",
        "parser-error-position",
        "int32-path-over-empty-table",
        "int16-path-under-where-false",
        "cast-column-path-over-empty-table",
        "uint64-document-over-empty-table",
        "failing-cast-path-refused-before-evaluation",
        "float-path-over-empty-table",
        "refused-in-where-comparison",
        "refused-null-test-in-where",
        "where-before-order-by",
        "refused-bare-sort-key",
        "refused-in-having",
        "select-list-left-to-right",
        "null-test-in-select-list",
        "case-condition",
        "window-order-by",
        "aggregate-filter",
        "float-arrow-key",
        "exponent-arrow-key",
    ],
)
def test_json_function_corners_answer_as_the_server(sql: str, real: Endpoint, lab: Endpoint) -> None:  # noqa: F811
    """Column names, argument errors, nesting, and the function names inside strings and comments."""
    assert _answer(lab, sql) == _answer(real, sql)
