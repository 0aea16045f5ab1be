"""SQL introspection scenarios, run on the real Restate Server and on restate_lab; answers must match.

Each scenario sends a few invocations (on a key unique to the run) and then ``POST /query`` requests: the
queries of Restate's introspection docs, aggregates, filters on status and time, joins of ``sys_invocation``
with ``sys_journal`` and ``state``, the catalog (``show tables``, ``describe``, ``information_schema``), the
dialect's corners and the errors. JSON answers are compared after ids, timestamps and the key become tokens;
Arrow answers by schema (names, types, nullability) and normalised rows. Without the real server binary
every scenario is skipped with the reason.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conformance.app import make_app
from tests.conformance.normalize import Normalizer
from tests.conformance.test_conformance import Endpoint

pytestmark = pytest.mark.realserver
TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Call:
    """An ingress request that sets the scene; its invocation id becomes ``{idN}`` (N: its step number)."""

    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    wait: float = 0.0


@dataclass(frozen=True)
class Query:
    """A ``/query`` request; ``raw`` replaces the JSON body, ``arrow`` asks without ``accept: application/json``."""

    sql: str = ""
    arrow: bool = False
    method: str = "POST"
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    wait: float = 0.0
    sort: bool = False  # compare rows as a set (the server's order is not defined)
    text: bool = False  # compare the JSON text itself (number spelling), not only its parsed value


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Call | Query, ...]
    #: Runs of the real server to collect its answers from, when it answers this scenario in more than one
    #: way (a race inside the server): restate_lab's answer must be one of them.
    real_runs: int = 1


def S(name: str, *steps: Call | Query, real_runs: int = 1) -> Scenario:  # noqa: N802 - reads like a table row
    return Scenario(name, steps, real_runs)


def Q(sql: str = "", **kw: Any) -> Query:  # noqa: N802
    return Query(sql, **kw)


K = "target_service_key = '{key}'"
HOLD = Call("/Counter/{key}/hold/send", 30)
#: Both JSON columns, epoch-ms instants (a sleep's ``wake_up_time``, a delayed send's ``invoke_time``) as ``<ms>``.
ENTRY_JSON = (
    "regexp_replace(entry_json, '[0-9]{13}', '<ms>', 'g') as entry_json, "
    "regexp_replace(entry_lite_json, '[0-9]{13}', '<ms>', 'g') as entry_lite_json"
)
#: Every journal entry of the invocations on the scenario's key, by target; an entry_json holding an
#: awakeable id as bytes (``"sign_...`` is ``[34,115,105,103,110,95,...]``), which no token can replace, is
#: compared by its lite form only.
JOURNALS_OF_KEY = (
    "select i.target, j.index, j.entry_type, case when j.entry_json like '%[34,115,105,103,110,95,%' "
    "then 'holds an awakeable id' else j.entry_json end as entry_json, j.entry_lite_json from sys_journal j "
    f"join sys_invocation i on i.id = j.id where {K} order by i.target, j.index"
)

SCENARIOS: list[Scenario] = [
    # ---- the queries of the introspection docs ----
    S(
        "doc_status_of_one_invocation",
        Call("/Greeter/greet", "Ada"),
        Q("select id, target, status, completion_result from sys_invocation where id = '{id0}'"),
    ),
    S(
        "doc_invocations_by_status",
        HOLD,
        Call("/Counter/{key}/add/send", 1),
        Call("/Counter/{key}/add/send", 2),
        Q(f"select status, count(*) from sys_invocation where {K} group by status order by status", wait=0.5),
    ),
    S(
        "doc_long_running_invocations",
        HOLD,
        Q(
            f"select id, target, status from sys_invocation where {K} and status = 'running' "
            "and modified_at > now() - interval '1 hour' order by created_at",
            wait=0.5,
        ),
        Q(f"select id from sys_invocation where {K} and modified_at <= now() - interval '1 hour'"),
    ),
    S(
        "doc_invocation_blocking_an_object",
        HOLD,
        Call("/Counter/{key}/add/send", 1),
        Q(
            "select invocation_id from sys_keyed_service_status where service_name = 'Counter' "
            "and service_key = '{key}'",
            wait=0.5,
        ),
        Q("select service_name, service_key, id from sys_inbox where service_key = '{key}' order by sequence_number"),
    ),
    S(
        "running_workflow_holds_no_key_lock",
        Call("/Signup/{key}/run/send", "bob"),
        Call("/Counter/{key}/hold/send", 30),
        Q(
            "select service_name, service_key from sys_keyed_service_status where service_key = '{key}' order by 1",
            wait=0.5,
        ),
        Q(f"select target_service_name, status from sys_invocation where {K} order by 1"),
    ),
    S(
        "doc_state_of_an_object",
        Call("/Counter/{key}/add", 3),
        Call("/Counter/{key}/add", 4),
        Q(
            "select service_name, service_key, key, value_utf8, value, key_length, value_length from state "
            "where service_key = '{key}'"
        ),
    ),
    S(
        "doc_journal_of_an_invocation",
        Call("/Counter/{key}/add", 5),
        Q("select index, entry_type, name, version from sys_journal where id = '{id0}' order by index"),
    ),
    S(
        "doc_retried_invocations",
        Call("/Flaky/{key}/attempt", None),
        Q(f"select target, status, completion_result, journal_commands_size from sys_invocation where {K}"),
    ),
    S(
        "doc_workflow_promise",
        Call("/Signup/{key}/run/send", "bob"),
        Q("select key, completed from sys_promise where service_key = '{key}'", wait=0.5),
        Q(f"select target, status, target_service_ty from sys_invocation where {K}"),
    ),
    # ---- statuses and values of sys_invocation ----
    S(
        "sleeping_invocation_is_running",
        Call("/Greeter/slow/send", 30),
        Q(
            "select status, retry_count, suspended_waiting_for_signals, journal_size from sys_invocation "
            "where id = '{id0}'",
            wait=0.5,
        ),
    ),
    S(
        "delayed_invocation_is_scheduled",
        Call("/Greeter/greet/send?delay=1h", "later"),
        Q(
            "select status, scheduled_at is not null as has_scheduled_at, scheduled_start_at > now() as in_future, "
            "journal_size, pinned_deployment_id, retry_count from sys_invocation where id = '{id0}'",
            wait=0.3,
        ),
    ),
    S(
        "failed_invocation_records_its_failure",
        Call("/Greeter/terminal", None),
        Q("select status, completion_result, completion_failure, retry_count from sys_invocation where id = '{id0}'"),
    ),
    S(
        "completed_invocation_columns",
        Call("/Counter/{key}/add", 1),
        Q(
            "select target, target_service_name, target_service_key, target_handler_name, target_service_ty, "
            "invoked_by, journal_size, journal_commands_size, created_using_restate_version, completion_retention, "
            "journal_retention, pinned_service_protocol_version, status, completion_result, retry_count, "
            "inboxed_at, scheduled_at from sys_invocation where id = '{id0}'"
        ),
    ),
    S(
        "pending_invocation_columns",
        HOLD,
        Call("/Counter/{key}/add/send", 1),
        Q(
            "select status, inboxed_at is not null as inboxed, journal_size, pinned_deployment_id, running_at "
            "from sys_invocation where id = '{id1}'",
            wait=0.5,
        ),
    ),
    S(
        "running_invocation_attempt_columns",
        HOLD,
        Q(
            "select status, retry_count, last_attempt_server, last_start_at is not null as started, "
            "last_attempt_deployment_id is not null as has_deployment from sys_invocation where id = '{id0}'",
            wait=0.5,
        ),
        Q("select in_flight, retry_count from sys_invocation_state where id = '{id0}'"),
        Q("select status from sys_invocation_status where id = '{id0}'"),
    ),
    # ---- aggregates, filters, joins ----
    S(
        "aggregates_over_invocations",
        Call("/Counter/{key}/add", 1),
        Call("/Counter/{key}/add", 2),
        Call("/Counter/{key}/get", None),
        Q(
            f"select target_handler_name, count(*) as n, sum(journal_size) as entries, min(journal_size), "
            f"max(journal_commands_size), avg(journal_size) from sys_invocation where {K} "
            "group by target_handler_name order by target_handler_name"
        ),
    ),
    S(
        "filters_on_status_and_time",
        HOLD,
        Call("/Counter/{key}/add/send", 1),
        Call("/Counter/{key}/add/send", 9),
        Q(
            f"select target_handler_name, status from sys_invocation where {K} and status in ('running', 'pending') "
            "order by created_at",
            wait=0.5,
        ),
        Q(
            f"select count(*) from sys_invocation where {K} and created_at between now() - interval '10 minutes' "
            "and now()"
        ),
        Q(
            f"select count(*) from sys_invocation where {K} and date_trunc('day', created_at) = "
            "date_trunc('day', now())"
        ),
    ),
    S(
        "join_invocation_with_journal",
        Call("/Counter/{key}/add", 2),
        Call("/Greeter/greet", "J"),
        Q(
            "select i.target_handler_name, j.index, j.entry_type from sys_invocation i join sys_journal j "
            f"on i.id = j.id where i.{K} order by j.index"
        ),
        Q(
            "select i.target, count(*) as entries from sys_invocation i join sys_journal j on i.id = j.id "
            "where i.id = '{id1}' group by i.target"
        ),
    ),
    S(
        "join_invocation_with_state",
        Call("/Counter/{key}/add", 3),
        Q(
            "select i.target, s.key, s.value_utf8 from sys_invocation i join state s "
            "on i.target_service_name = s.service_name and i.target_service_key = s.service_key "
            f"where i.{K}"
        ),
    ),
    S(
        "like_is_case_sensitive",
        Call("/Counter/{key}/add", 1),
        Q("select count(*) from sys_invocation where target like 'counter/{key}%'"),
        Q("select count(*) from sys_invocation where target like 'Counter/{key}%'"),
        Q("select count(*) from sys_invocation where target ilike 'counter/{key}%'"),
    ),
    # ---- the catalog ----
    S(
        "catalog_tables",
        Q(
            "select table_catalog, table_schema, table_name, table_type from information_schema.tables "
            "order by table_schema, table_name"
        ),
        Q("show tables", sort=True),
    ),
    S(
        "catalog_columns",
        Q(
            "select table_name, column_name, ordinal_position, data_type, is_nullable "
            "from information_schema.columns where table_schema = 'public' "
            "order by table_name, ordinal_position"
        ),
    ),
    S(
        "catalog_describe_and_show_columns",
        Q("describe sys_invocation"),
        Q("describe sys_journal"),
        Q("show columns from state"),
    ),
    S(
        "catalog_view_definition",
        Q(
            "select table_name, definition from information_schema.views "
            "where table_schema = 'public' and definition is not null"
        ),
    ),
    S(
        "services_and_deployments",
        Q("select name, revision, public, ty from sys_service order by name"),
        Q(
            "select ty, min_service_protocol_version, max_service_protocol_version, array_sort(services) as services "
            "from sys_deployment"
        ),
    ),
    # ---- the dialect and its JSON ----
    S(
        "column_naming",
        Q("select 1"),
        Q("select count(*) from sys_service"),
        Q("select COUNT(*) from sys_service"),
        Q("select count(*) as N from sys_service"),
        Q("select 1 + 2, 'a' || 'b', abs(-1)"),
    ),
    S(
        "json_values",
        Q(
            "select true as t, false as f, null as n, 1.5 as x, 1e20 as big, 1e-7 as small, "
            "0.1 + 0.2 as sum, 100.0 as hundred, -0.0 as negzero, 1e400 as inf, "
            "cast('NaN' as double) as nan, cast(1 as decimal(10, 2)) as dec, [1, 2] as list, "
            "struct(1, 'a') as st, date '2024-01-02' as d, cast('x' as bytea) as bin, "
            "arrow_cast(1500, 'Duration(Millisecond)') as dur, arrow_cast(0, 'Duration(Millisecond)') "
            "as zero, 18446744073709551615 as u64max, 'é\"\\\\' as s",
            text=True,
        ),
        Q(
            "select arrow_cast(1000, 'Timestamp(Millisecond, Some(\"+00:00\"))') as a, "
            "arrow_cast(1500, 'Timestamp(Microsecond, Some(\"UTC\"))') as b, to_timestamp_millis(0) as c, "
            "interval '1 day 2 minutes' as i",
            text=True,
        ),
        Q(
            "select 1e5 a, 1e9 b, 1e10 c, 12345678901.5 d, 0.00001 e, 1e-6 f, 5e-324 g, 9.999999e9 h, "
            "cast(0.1 as float) i, cast(1 as decimal(38, 10)) j, cast(-12.5 as decimal(5, 1)) k",
            text=True,
        ),
        Q("select 'a' || null as x, 1 as one"),
    ),
    S(
        "interval_arithmetic",
        Q(
            "select now() - interval '1 hour' < now() as earlier, "
            "now() + interval '1 day' > now() as later, "
            "arrow_typeof(now() - interval '1 hour') as ty"
        ),
    ),
    # ---- errors ----
    S(
        "engine_errors",
        Q("selec x"),
        Q(""),
        Q("   "),
        Q("select 1/0"),
        Q("select * from nope"),
        Q("select * from sqlite_master"),
        Q("select nope from sys_service"),
        Q("select * from sys_service order by nope"),
        Q("select 1; select 2"),
        Q("select 1 union select 1, 2"),
        Q("select cast('abc' as int)"),
        Q("select name from sys_service group by ty"),
        Q("select abs('x')"),
        Q("select 1 as a, 2 as a"),
        Q("select 'a' + 1"),
        Q("select * from sys_service a join sys_service b on a.name = b.name where name = 'x'"),
        Q("select (select 1, 2)"),
        Q("select * from sys_service limit -1"),
    ),
    S(
        "describing_what_is_not_there",  # 400 here, where the same unknown table in a query is 500
        Q("describe nope"),
        Q("describe sys_invocation.nope"),
        Q("show columns from nope"),
        Q("explain select * from nope"),
        Q("select * from (select * from nope) t"),
    ),
    S(
        "unknown_columns_by_clause",  # 400 where the select list is in scope too (GROUP BY, HAVING, ORDER BY)
        Q("select 1 as a order by nope"),
        Q("select name as n from sys_service group by n, nope"),
        Q("select count(*) from sys_service having nope > 1"),
        Q("select name from sys_service s order by s.nope"),
        Q("select name from sys_service order by sys_service"),
        Q("select name as n from sys_service where n = 'x'"),
        Q("select sys_invocation from sys_invocation"),
        Q("select name"),
        Q("select name from sys_service order by (select nope from sys_deployment)"),
    ),
    S(
        "unknown_columns_in_operators_planned_apart",  # an operand of || or @> loses the diagnostic: 400
        Q("select name || nope from sys_service"),
        Q("select upper(nope) || 'a' from sys_service"),
        Q("select coalesce(nope, 'a') || 'b' from sys_service"),
        Q("select name from sys_service where name = 'a' || nope"),
        Q("select nope @> [1] from sys_service"),
        Q("select name from sys_service where nope = 1 and name || 'a' = 'b'"),
        Q("select upper(name || 'x'), lower(nope) from sys_service"),
        Q("select name from sys_service where name || 'a' = nope"),
        Q("select nope ->> 'a' from sys_service"),
        Q("select cast(nope as varchar) || 'x' from sys_service"),  # a cast keeps the diagnostic: 500
        Q("select 'x' || nope::varchar from sys_service"),
        Q("select upper(cast(nope as varchar)) || 'x' from sys_service"),
    ),
    S(
        "planning_errors_wrapped_in_the_select_list",
        Q("select count(*) from sys_service group by name order by revision"),
        Q("select modified_at > interval '1 hour' as recent from sys_invocation"),
    ),
    S(
        "parser_errors_past_a_statement",  # "Expected: end of statement" is wrapped (500); the others are 400
        Q("select 1 1"),
        Q("select * from sys_service group"),
        Q("select name from sys_service order by name desc nope"),
        Q("select 1 from"),
        Q("select (1"),
    ),
    S(
        "filters_on_malformed_invocation_ids",  # the scan reads ids from the filter: a bad one fails the query
        Q("select 1 from sys_journal where id = 'inv_1'"),
        Q("select count(*) from sys_invocation where 'x' = id"),
        Q("select 1 from sys_invocation_status where id in ('inv_1', 'inv_2') and status = 'completed'"),
        Q("select 1 from sys_journal where id = 'inv_1' or id = 'x'"),
        Q("select 1 from sys_keyed_service_status where invocation_id = upper('x')"),
        Q("select 1 from sys_inbox where id = ''"),
        Q("select 1 from sys_journal where id = 'inv_1' or index = 0"),
        Q("select 1 from sys_journal where id like 'inv_1'"),
        Q("select 1 from sys_journal where partition_key = 1 and id = 'inv_1'"),
        Q("select 1 from sys_journal where id = 'inv_1' limit 0"),
        Q("select 1 from sys_journal where invoked_id = 'x'"),
    ),
    S(
        "settings_as_the_server_reports_them",  # parsed as PostgreSQL, reported as generic; 1 GiB of memory
        Q("show datafusion.sql_parser.dialect"),
        Q("select name, value from information_schema.df_settings where name like 'datafusion.runtime.memory%'"),
        Q("select 2 ^ 3"),
    ),
    S(
        "statements_that_change_nothing",
        Q("delete from sys_invocation"),
        Q("drop table sys_invocation"),
        Q("create table x (a int)"),
        Q("create view v as select 1"),
        Q("insert into sys_service values (1)"),
        Q("pragma table_info(sys_invocation)"),
        Q("update sys_service set name = 'x'"),
        Q("select count(*) > 0 as still_there from sys_service"),
    ),
    S(
        "http_of_query",
        Q("select 1", method="GET"),
        Q("select 1", method="PUT"),
        Q("select 1", method="DELETE"),
        Q("select 1", headers={"content-type": "text/plain"}),
        Q(raw=b'{"query": "select 1"}', headers={}),
        Q(raw=b'{"query": "x"', headers={"content-type": "application/json"}),
        Q(raw=b'{"q": 1}', headers={"content-type": "application/json"}),
        Q(raw=b'{"query": 1}', headers={"content-type": "application/json"}),
        Q(raw=b'{"query": null}', headers={"content-type": "application/json"}),
        Q(raw=b'["select 1"]', headers={"content-type": "application/json"}),
        Q(raw=b'{"query": "select 1", "other": 2}', headers={"content-type": "application/json"}),
        Q("select 1", headers={"content-type": "application/json; charset=utf-8"}),
    ),
    # ---- Arrow IPC answers ----
    S(
        "arrow_answer_of_a_query",
        Call("/Counter/{key}/add", 1),
        HOLD,
        Q(
            f"select id, target, status, created_at, retry_count, journal_size, completion_retention, "
            f"suspended_waiting_for_signals, completion_result from sys_invocation where {K} order by created_at",
            arrow=True,
            wait=0.5,
        ),
        Q("select 1, true, 1e400, 'x' as s", arrow=True),
        Q("select 1", arrow=True, headers={"accept": "text/csv"}),
        Q("select 1", arrow=True, headers={"accept": "application/json, text/plain"}),
        Q("select * from sys_inbox where service_key = '{key}'", arrow=True),
        Q("selec x", arrow=True),
    ),
    S(
        "arrow_schema_of_every_table",
        *(
            Q(f"select * from {t} limit 0", arrow=True)
            for t in (
                "sys_invocation",
                "sys_invocation_status",
                "sys_invocation_state",
                "sys_journal",
                "sys_journal_events",
                "state",
                "sys_inbox",
                "sys_keyed_service_status",
                "sys_promise",
                "sys_service",
                "sys_deployment",
                "sys_locks",
                "sys_rules",
                "sys_scheduler",
                "sys_user_limits",
                "sys_vqueues",
                "sys_vqueue_meta",
                "sys_vqueue_entry_status",
            )
        ),
    ),
    # ---- sys_journal's entry_json, entry_lite_json and appended_at ----
    S(
        "journal_entry_json_of_state_sleep_call_send_run",
        Call("/Journal/{key}/every_entry", "Ada"),
        Q(f"select index, entry_type, {ENTRY_JSON} from sys_journal where id = '{{id0}}' order by index"),
    ),
    S(
        "journal_entry_json_of_failed_call_and_run",
        Call("/Journal/{key}/failing_call", None),
        Q(f"select index, entry_type, {ENTRY_JSON} from sys_journal where id = '{{id0}}' order by index"),
    ),
    S(
        "journal_entry_json_of_attach",
        Call("/Journal/{key}/attach", "Bo"),
        Q(f"select index, entry_type, {ENTRY_JSON} from sys_journal where id = '{{id0}}' order by index"),
    ),
    S(
        "journal_entry_json_of_object_call_delayed_send_and_signal",
        Call("/Journal/{key}/keyed_calls", None),
        Q(f"select index, entry_type, {ENTRY_JSON} from sys_journal where id = '{{id0}}' order by index"),
    ),
    S(
        "journal_entry_json_of_promises",
        Call("/JournalFlow/{key}/flow", None),
        Q(f"select index, entry_type, {ENTRY_JSON} from sys_journal where id = '{{id0}}' order by index"),
    ),
    S(
        "journal_entry_json_of_resolved_awakeable",
        Call("/Counter/{key}/wait_awakeable/send"),
        Call("/Journal/{key}/complete_awakeable", None, wait=0.5),
        Q(JOURNALS_OF_KEY, wait=0.5),
    ),
    S(
        "journal_entry_json_of_rejected_awakeable",
        Call("/Counter/{key}/wait_awakeable/send"),
        Call("/Journal/{key}/complete_awakeable", "no", wait=0.5),
        Q(JOURNALS_OF_KEY, wait=0.5),
    ),
    S(
        "journal_entry_json_of_workflow_run_and_its_promise",
        Call("/Signup/{key}/run/send", "Ann"),
        Call("/Signup/{key}/approve", "Bob", wait=0.5),
        Q(JOURNALS_OF_KEY, wait=0.5),
    ),
    S(
        # About one run in twenty the server journals the signal after the Output after all (measured 2026-12-03)
        "journal_of_own_awakeable_resolved_then_returned_has_no_signal",
        Call("/Journal/{key}/own_awakeable", "return"),
        Q(f"select index, entry_type, {ENTRY_JSON} from sys_journal where id = '{{id0}}' order by index", wait=0.3),
        real_runs=3,
    ),
    S(
        "journal_of_own_awakeable_resolved_then_awaited",
        Call("/Journal/{key}/own_awakeable", "await"),
        Q(f"select index, entry_type, {ENTRY_JSON} from sys_journal where id = '{{id0}}' order by index", wait=0.3),
    ),
    S(
        "journal_of_own_awakeable_resolved_then_slept_on",
        Call("/Journal/{key}/own_awakeable", "sleep"),
        Q(f"select index, entry_type, {ENTRY_JSON} from sys_journal where id = '{{id0}}' order by index", wait=0.3),
    ),
    S(
        "journal_of_own_signal_sent_then_returned_has_no_signal",
        Call("/Journal/{key}/own_signal", "return"),
        Q(f"select index, entry_type, {ENTRY_JSON} from sys_journal where id = '{{id0}}' order by index", wait=0.3),
    ),
    S(
        "journal_of_own_signal_sent_then_awaited",
        Call("/Journal/{key}/own_signal", "await"),
        Q(f"select index, entry_type, {ENTRY_JSON} from sys_journal where id = '{{id0}}' order by index", wait=0.3),
    ),
    S(
        "journal_of_own_cancel_then_slept_on",
        Call("/Journal/{key}/own_cancel/send", "sleep"),
        Q(f"select index, entry_type, {ENTRY_JSON} from sys_journal where id = '{{id0}}' order by index", wait=0.6),
        Q("select status, completion_result, completion_failure from sys_invocation where id = '{id0}'"),
    ),
    S(
        "journal_appended_at_is_set_in_order_after_creation",
        Call("/Journal/{key}/every_entry", "Ada"),
        Call("/Counter/{key}/add", 2),
        Q(
            "select i.target, j.index, j.appended_at is not null as known, j.appended_at >= i.created_at as after, "
            "j.appended_at <= i.modified_at as before_modified, coalesce(j.appended_at >= lag(j.appended_at) "
            "over (partition by j.id order by j.index), true) as in_order from sys_journal j "
            f"join sys_invocation i on i.id = j.id where {K} order by i.target, j.index"
        ),
        Q(
            "select count(*) as entries, count(appended_at) as timed from sys_journal j "
            f"join sys_invocation i on i.id = j.id where {K}"
        ),
    ),
    S(
        "journal_entry_lite_json_filter",
        Call("/Counter/{key}/add", 3),
        Q("select index, entry_lite_json from sys_journal where id = '{id0}' and entry_lite_json like '%SetState%'"),
        Q("select index from sys_journal where id = '{id0}' and entry_json like '%\"value\":[51]%' order by index"),
    ),
]


@pytest.fixture(scope="module")
def real() -> Iterator[Endpoint]:
    from restate_lab.server import RestateServer
    from restate_lab.server.binary import RestateServerNotInstalled

    try:
        ctx = RestateServer.start(make_app())
        srv = ctx.__enter__()
    except RestateServerNotInstalled as exc:
        pytest.skip(f"real Restate Server not installed, nothing to compare against: {exc}")
    try:
        yield Endpoint("restate-server", srv.ingress_url, srv.admin_url)
    finally:
        ctx.__exit__(None, None, None)


@pytest.fixture(scope="module")
def lab() -> Iterator[Endpoint]:
    pytest.importorskip("datafusion", reason="SQL introspection needs the datafusion package")
    from restate_lab import LocalRestate
    from restate_lab.ingress.server import LabServer

    local = LocalRestate()
    local.register(make_app(), http2=True)  # as the harness registers the real server's deployment
    server = LabServer(local, port=0, admin_port=0).start()
    try:
        yield Endpoint("restate_lab", server.ingress_url, server.admin_url)
    finally:
        server.stop()
        local.close()


def _fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def _plain(value: Any) -> Any:
    """An Arrow value as JSON-able data (timestamps and durations as ISO text, bytes as hex)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _arrow_view(raw: bytes, norm: Normalizer) -> dict[str, Any]:
    import pyarrow as pa

    with pa.ipc.open_stream(raw) as reader:
        table = reader.read_all()
    schema = [(f.name, str(f.type), f.nullable) for f in table.schema]
    return {"schema": schema, "rows": norm.value(_plain(table.to_pylist()))}


def _observe(step: Query, response: httpx.Response, norm: Normalizer) -> dict[str, Any]:
    ctype = response.headers.get("content-type")
    seen: dict[str, Any] = {
        "status": response.status_code,
        "content-type": ctype,
        "allow": response.headers.get("allow"),
    }
    if ctype == "application/vnd.apache.arrow.stream":
        seen["arrow"] = _arrow_view(response.content, norm)
    elif ctype == "application/json" and step.text:
        seen["text"] = norm.text(response.text)
    elif ctype == "application/json":
        body = norm.value(response.json())
        if step.sort and isinstance(body, dict) and isinstance(body.get("rows"), list):
            body["rows"] = sorted(body["rows"], key=lambda r: json.dumps(r, sort_keys=True))
        seen["body"] = body
    else:
        seen["body"] = norm.text(response.text)
    return seen


def run(endpoint: Endpoint, scenario: Scenario) -> list[dict[str, Any]]:
    """Send the scenario to ``endpoint``; what the queries answered, normalised."""
    key = f"{scenario.name[:20]}-{uuid.uuid4().hex[:10]}"
    norm = Normalizer(key)
    values = {"key": key}
    seen: list[dict[str, Any]] = []
    assert endpoint.admin_url is not None
    with httpx.Client(timeout=TIMEOUT_S) as http:
        for index, step in enumerate(scenario.steps):
            if step.wait:
                time.sleep(step.wait)
            if isinstance(step, Call):
                response = http.post(
                    endpoint.ingress_url + _fill(step.path, values), json=step.body, headers=step.headers
                )
                assert response.status_code < 300 or step.path.endswith("terminal"), response.text
                answer = response.json() if response.headers.get("content-type") == "application/json" else None
                invocation_id = response.headers.get("x-restate-id")
                if isinstance(answer, dict) and isinstance(answer.get("invocationId"), str):
                    invocation_id = answer["invocationId"]
                if invocation_id:
                    values[f"id{index}"] = invocation_id
                continue
            headers = dict(step.headers)
            if step.raw is None:
                content = json.dumps({"query": _fill(step.sql, values)}).encode()
                headers.setdefault("content-type", "application/json")
            else:
                content = step.raw
            if not step.arrow:
                headers.setdefault("accept", "application/json")
            response = http.request(step.method, endpoint.admin_url + "/query", content=content, headers=headers)
            seen.append(_observe(step, response, norm))
    return seen


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_sql_conformance(scenario: Scenario, real: Endpoint, lab: Endpoint) -> None:
    """restate_lab answers the SQL scenario as Restate Server 1.7.12 does (ids and times as tokens)."""
    actual = run(lab, scenario)
    expected = run(real, scenario)
    for _ in range(scenario.real_runs - 1):  # a racy scenario: the server's other answers count as well
        if actual == expected:
            break
        expected = run(real, scenario)
    queries = [s for s in scenario.steps if isinstance(s, Query)]
    for index, (step, exp, act) in enumerate(zip(queries, expected, actual, strict=True)):
        assert act == exp, (
            f"query {index} ({step.sql or step.raw!r}) differs\nrestate-server: {json.dumps(exp, sort_keys=True)}\n"
            f"restate_lab:    {json.dumps(act, sort_keys=True)}"
        )
