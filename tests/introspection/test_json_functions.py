"""The SQL JSON functions without the real server: the reader's rules, the rewrite, and a query end to end.

The rules themselves were measured on Restate Server 1.7.12 (tests/conformance/test_sql_json_functions.py
compares generated documents with it); these pin them where the server binary is absent.
"""

from __future__ import annotations

import pytest
import restate

from restate_lab import LocalRestate
from restate_lab.runtime.sql import json_reader as jr
from restate_lab.runtime.sql.json_functions import JsonArgumentError, restore_names, rewrite


def test_reading_stops_at_the_value_but_validates_what_it_walks_past() -> None:
    """Garbage after the value is never read; garbage before it makes the answer null."""
    assert jr.get_int('{"a":1} trailing', ["a"]) == 1
    assert jr.get_int('{"a":1, bad', ["a"]) == 1
    assert jr.get_int('{"b":x, "a":1}', ["a"]) is None
    assert jr.get_int('{"x":01, "a":2}', ["a"]) is None
    assert jr.get_json('{"a":[1, bad]}', ["a"]) is None


def test_keys_name_members_and_integers_index_arrays_only() -> None:
    """The first member of a name wins; an integer never names a member, a string never indexes."""
    assert jr.get_str('{"a":"x","a":"y"}', ["a"]) == "x"
    assert jr.get_int("[[1,2],[3,4]]", [1, 0]) == 3
    assert jr.get_str('{"1":"one"}', [1]) is None
    assert jr.get_str('["zero"]', ["0"]) is None
    assert jr.get_int('{"a":[10,20]}', ["a", -1]) is None


def test_numbers_read_as_the_server_reads_them() -> None:
    """Integers up to 18 digits, no negatives for int or float, strings parsed like Rust's i64/f64/bool."""
    assert jr.get_int("[999999999999999999]", [0]) == 999999999999999999
    assert jr.get_int("[1000000000000000000]", [0]) is None
    assert jr.get_int('{"a":-5}', ["a"]) is None and jr.get_float('{"a":-1.5}', ["a"]) is None
    assert jr.get_int('{"a":"+1"}', ["a"]) == 1 and jr.get_int('{"a":" 1"}', ["a"]) is None
    assert jr.get_float('{"a":"inf"}', ["a"]) == float("inf")
    assert jr.get_float('{"a":1e400}', ["a"]) == float("inf")
    assert jr.get_bool('{"a":"true"}', ["a"]) is True and jr.get_bool('{"a":"True"}', ["a"]) is None
    assert jr.get_int("0-1", []) == 0 and jr.get_float("1.5e", []) is None


def test_text_functions_keep_the_documents_own_spelling() -> None:
    """json_get_json and json_as_text give the value's text as written; strings are unescaped only by _str."""
    assert jr.get_json('{"a": {"b" : [1, 2]}}', ["a"]) == '{"b" : [1, 2]}'
    assert jr.get_json('{"a":"\\u00e9"}', ["a"]) == '"\\u00e9"'
    assert jr.as_text('{"a":"\\u00e9"}', ["a"]) == "é"
    assert jr.as_text('{"a":null}', ["a"]) is None and jr.get_json('{"a":null}', ["a"]) == "null"
    assert jr.get_str('{"a":"\\ud83d"}', ["a"]) is None  # a lone surrogate is not JSON


def test_containers_are_counted_listed_and_probed() -> None:
    """json_length counts duplicates, json_contains is false for bad input, arrays list their elements' text."""
    assert jr.length('{"a":1,"a":2}', []) == 2 and jr.length('"abc"', []) is None
    assert jr.contains('{"a":null}', ["a"]) is True and jr.contains("not json", ["b"]) is False
    assert jr.contains(None, ["a"]) is False
    assert jr.get_array("[ 1 , [2, 3] ]", []) == ["1", "[2, 3]"]
    assert jr.object_keys('{"a":1,"a":2,"b":3}', []) == ["a", "a", "b"]


def test_the_rewrite_leaves_strings_comments_and_other_names_alone() -> None:
    """Only real calls are rewritten; a literal of a refused type is read with its type (refused once planned)."""
    untouched = "select 'json_get_str(' as t, x.json_get_str, \"json_length\" from t -- json_length(x)"
    assert rewrite(untouched).sql == untouched
    done = rewrite("select JSON_GET_STR(v, 'a', 1), json_length(json_get_json(v, k)) from s")
    assert done.shapes == {("json_get_str", "xsi"), ("json_length", "x"), ("json_get_json", "xx")}
    assert rewrite("select json_get_str(v, 1.5, true, null), json_get_str(1, 'a') from s").shapes == {
        ("json_get_str", "xxxx"),
        ("json_get_str", "xs"),
    }
    with pytest.raises(JsonArgumentError, match="requires two or more arguments"):
        rewrite("select json_contains(v) from s")


def test_column_names_get_the_servers_spelling_back() -> None:
    """The private UDF's name and its type-tag arguments disappear from a result's column names."""
    name = '__rl_json_get_str_xs(state.value_utf8,arrow_typeof(state.value_utf8),Utf8("a"))'
    assert restore_names(name) == 'json_get_str(state.value_utf8,Utf8("a"))'


def test_state_values_are_read_with_json_functions_in_a_query() -> None:
    """LocalRestate.query answers json_get_* over the state table, with the server's column names."""
    counter = restate.VirtualObject("JsonCounter")

    @counter.handler()
    async def remember(ctx: restate.ObjectContext, value: dict[str, object]) -> None:
        ctx.set("profile", value)

    with LocalRestate(restate.app([counter])) as lab:
        lab.call("JsonCounter", "remember", {"name": "Ada", "tags": ["x", "y"], "age": 36}, key="ada")
        frame = lab.query(
            "select json_get_str(value_utf8, 'name'), json_get_int(value_utf8, 'age') as age, "
            "json_length(value_utf8, 'tags') as tags from state where service_name = 'JsonCounter'"
        )
    assert list(frame.columns) == ['json_get_str(state.value_utf8,Utf8("name"))', "age", "tags"]
    assert frame.iloc[0].tolist() == ["Ada", 36, 2]


def test_arrow_operators_read_like_json_as_text_and_keep_the_servers_names() -> None:
    """``x ->> 'a'`` is json_as_text(x, 'a'), chains are one path, and the column is named as written."""
    with LocalRestate() as lab:
        frame = lab.query(
            "select x->>'a', x -> 'b' ->> 0 as first, json_length(x -> 'b') as n, '->>' as text "
            'from (values (\'{"a":"y","b":[5,6]}\')) as t(x)'
        )
    assert list(frame.columns) == ["x ->> 'a'", "first", "n", "text"]
    assert frame.iloc[0].tolist() == ["y", "5", 2, "->>"]


def test_literal_paths_join_into_one_read_and_keep_the_nested_names() -> None:
    """As the server's planner does: a json_as_text/json_get inside a json_get_*/json_as_text, or a chain of
    arrows, reads one joined path (JSON held in a string is not read on), while the column keeps the name
    of the nest as written; a path from a column keeps the nesting (the string's JSON is read on)."""
    held = '{"a":"{\\"b\\":1}"}'  # "a" holds the text {"b":1}, not an object
    with LocalRestate() as lab:
        frame = lab.query(
            "select json_get_int(json_as_text(x, 'a'), 'b'), x ->> 'a' ->> 'b' as chain, "
            "(x ->> 'a') ->> 'b' as bracketed, json_get_int(json_get(x, 'a'), 'b') as via_get, "
            "x ->> k ->> 'b' as by_column, json_get_int(json_as_text(x, 'a')) as whole, "
            f"json_as_text(x, 'a') ->> 'b' from (values ('{held}', 'a')) as t(x, k)"
        )
    assert list(frame.columns) == [
        'json_get_int(json_as_text(t.x,Utf8("a")),Utf8("b"))',
        "chain",
        "bracketed",
        "via_get",
        "by_column",
        "whole",
        "json_as_text(t.x, Utf8(\"a\")) ->> 'b'",
    ]
    missing = frame.iloc[0].isna().tolist()
    assert missing == [True, True, True, True, False, True, True]
    assert frame.iloc[0]["by_column"] == "1"


def test_a_joined_nest_is_printed_step_by_step_in_messages() -> None:
    """The planner's duplicate-name error shows the nest before it was joined, one call per arrow."""
    with LocalRestate() as lab, pytest.raises(Exception) as raised:
        lab.query("select x -> 'a' ->> 'b', (x -> 'a') ->> 'b' from (values ('{}')) as t(x)")
    assert "json_as_text(json_get(t.x, Utf8(\"a\")) AS x -> 'a', Utf8(\"b\")) AS x -> 'a' ->> 'b'" in str(raised.value)


def test_a_json_get_that_is_not_joined_hands_its_union_to_the_function_around_it() -> None:
    """Over a column, a function reading the union with no path sees only an array; with a path, the JSON."""
    with LocalRestate() as lab:
        frame = lab.query(
            "select json_length(json_get(x, 'a')), json_get_str(json_get(x, k), 'b') as b, "
            "json_get_json(x -> k) as j from (values ('{\"a\":[1, 2]}', 'a'), ('{\"a\":{\"b\":\"q\"}}', 'a')) "
            "as t(x, k)"
        )
        with pytest.raises(Exception, match="json_get"):  # its own answer is a union the server cannot write
            lab.query("select json_get('{\"a\":1}', 'a') as v")
    assert list(frame.columns) == ['json_length(json_get(t.x,Utf8("a")))', "b", "j"]
    assert frame.iloc[0].isna().tolist() == [False, True, False] and frame.iloc[0]["j"] == "[1, 2]"
    assert frame.iloc[1].isna().tolist() == [True, False, True] and frame.iloc[1]["b"] == "q"


def test_an_arrow_glued_to_a_minus_is_left_to_the_parser() -> None:
    """``->>-1`` is one custom operator to the SQL parser (refused, as on the server), not ``->>`` and -1."""
    from restate_lab.runtime.sql.json_operators import rewrite_operators

    assert rewrite_operators("select x->>-1 from t", frozenset({"json_length"})) == "select x->>-1 from t"
    assert "__rl_arrow_json_as_text(x, -1" in rewrite_operators("select x->> -1 from t", frozenset())


def test_the_private_udfs_never_show_in_the_catalog_and_the_aliases_work() -> None:
    """After a JSON query, information_schema lists no ``__rl_`` function; json_len/json_keys are aliases."""
    with LocalRestate() as lab:
        frame = lab.query("select json_len('[1,2]') as n, json_keys('{\"a\":1}') as k")
        routines = lab.query("select routine_name from information_schema.routines")
    assert frame.iloc[0]["n"] == 2 and list(frame.iloc[0]["k"]) == ["a"]
    assert not any(name.startswith("__rl_") for name in routines["routine_name"])


def test_argument_types_are_refused_when_planned_whether_or_not_a_row_reaches_the_call() -> None:
    """An Int32 path, a UInt64 document or a failing cast is a 400 over an empty table and under WHERE false."""
    from restate_lab.runtime.sql.session import SqlError

    refused = {
        "select json_get_str(value_utf8, 1::int) from state": "at position 2, expected string or int, got Int32.",
        "select json_get_str(x, 1::smallint) from (values ('[1]')) as t(x) where false": "got Int16.",
        "select json_get_str(partition_key, 'a') from state": "at position 1, expected a string, got UInt64.",
        "select json_get_str('{\"a\":1}', 'a'::int)": "at position 2, expected string or int, got Int32.",
        # The select list is typed first, while the plan is built; a call's arguments before the call.
        "select json_get_str(x, 1.5::double) from (values ('1')) as t(x) where json_length(x, 1::int) > 0": (
            "'json_get_str' at position 2, expected string or int, got Float64."
        ),
        "select json_get_str(x, 1::int), json_get_str(x, true) from (values ('1')) as t(x)": "got Int32.",
        "select json_get_str(json_get_json(x, 1::int), 1.5::double) from (values ('1')) as t(x)": (
            "'json_get_json' at position 2"
        ),
    }
    # Outside the select list the analyzer or an optimizer rule reports it, as a 500 wrapping the message.
    wrapped = {
        "select count(*) from state where json_length(value_utf8, 1::int) > 0": "type_coercion\ncaused by\n",
        "select count(*) from state where json_get_str(value_utf8, 1.5) is null": (
            "Optimizer rule 'simplify_expressions' failed\ncaused by\n"
        ),
        "select key from state order by json_get_str(value_utf8, 1::int) desc": (
            "Optimizer rule 'extract_leaf_expressions' failed\ncaused by\n"
        ),
        "select a.key from state a join state b on json_get_str(a.value_utf8, 1::int) = b.key": (
            "type_coercion\ncaused by\n"
        ),
        "select case when json_contains(value_utf8, 1::int) then 1 end from state": (
            "type_coercion\ncaused by\nWHEN expressions in CASE couldn't be converted to common type (Boolean)\n"
            "caused by\n"
        ),
        "select row_number() over (order by json_get_str(value_utf8, 1::int)) from state": (
            "type_coercion\ncaused by\n"
        ),
        "select json_get_str(value_utf8, 1::int) is null from state": (
            "Optimizer rule 'simplify_expressions' failed\ncaused by\n"
        ),
    }
    with LocalRestate() as lab:
        for sql, message in refused.items():
            with pytest.raises(SqlError) as raised:
                lab.query(sql)
            assert raised.value.code == 400 and message in str(raised.value), sql
        for sql, prefix in wrapped.items():
            with pytest.raises(SqlError) as raised:
                lab.query(sql)
            assert raised.value.code == 500, sql
            assert raised.value.message.startswith("Datafusion error: " + prefix + "Error during planning: "), sql
        # Types the server takes are not refused: a column of text, a 64-bit integer, an expression.
        frame = lab.query(
            "select json_get_str(value_utf8, key) as a, json_get_int(value_utf8, partition_key) as b, "
            "json_get_str(value_utf8, 1::bigint) as c, json_get_str(upper(value_utf8), key || '(') as d from state"
        )
        assert list(frame.columns) == ["a", "b", "c", "d"] and len(frame) == 0
