"""SQL introspection: Restate's table names and columns over the in-process runtime's state."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from restate_lab import LocalRestate, RestateError
from restate_lab.examples.demo import app
from restate_lab.ingress.server import LabServer
from restate_lab.runtime.introspection import TABLES
from restate_lab.server import RestateServer, RestateServerNotInstalled
from restate_lab.server.binary import find_restate_server


@pytest.fixture(scope="module")
def lab() -> Iterator[LocalRestate]:
    """Request-response mode, where a waiting handler is ``suspended`` at once (the default stays ``running``)."""
    with LocalRestate(app, http2=False) as local:
        yield local


def _wait_for_status(lab: LocalRestate, invocation_id: str, status: str) -> None:
    deadline = time.monotonic() + 10
    while lab.status(invocation_id) != status:
        assert time.monotonic() < deadline, f"{invocation_id} never became {status}"
        time.sleep(0.02)


def test_sys_invocation_reports_completed_and_suspended_invocations(lab: LocalRestate) -> None:
    """A finished call is ``completed``; a workflow waiting on a promise is ``suspended``."""
    key = uuid.uuid4().hex
    lab.call("Counter", "add", 3, key=key)
    run = lab.send("Signup", "run", "a@b", key=key)
    _wait_for_status(lab, run.invocation_id, "suspended")
    frame = lab.query(f"select target, status from sys_invocation where target_service_key = '{key}' order by target")
    assert frame.to_dict("records") == [
        {"target": f"Counter/{key}/add", "status": "completed"},
        {"target": f"Signup/{key}/run", "status": "suspended"},
    ]


def test_state_table_holds_object_state_as_utf8(lab: LocalRestate) -> None:
    """``state`` rows carry the service, key, state key and the JSON value as text."""
    key = uuid.uuid4().hex
    lab.call("Counter", "add", 7, key=key)
    frame = lab.query(f"select service_name, key, value_utf8 from state where service_key = '{key}'")
    assert frame.to_dict("records") == [{"service_name": "Counter", "key": "count", "value_utf8": "7"}]


def test_promise_and_journal_tables_follow_a_workflow(lab: LocalRestate) -> None:
    """An unresolved promise shows as not completed, and the run's journal lists its commands in order."""
    key = uuid.uuid4().hex
    run = lab.send("Signup", "run", "x@y", key=key)
    _wait_for_status(lab, run.invocation_id, "suspended")
    promises = lab.query(f"select key, completed from sys_promise where service_key = '{key}'")
    assert promises.to_dict("records") == [{"key": "approval", "completed": False}]
    journal = lab.query(f"select entry_type from sys_journal where id = '{run.invocation_id}' order by \"index\"")
    assert list(journal["entry_type"]) == ["Command: Input", "Command: SetState", "Command: GetPromise"]


def test_keyed_service_status_lists_no_workflow_waiting_on_its_promise(lab: LocalRestate) -> None:
    """A workflow run holds no key lock, even while it waits on its promise (as on Restate Server 1.7.12).

    The object side (an exclusive handler listed while it runs) is compared with the real server in
    tests/conformance/test_sql_conformance.py (running_workflow_holds_no_key_lock).
    """
    key = uuid.uuid4().hex
    run = lab.send("Signup", "run", "q@q", key=key)
    _wait_for_status(lab, run.invocation_id, "suspended")
    holder = lab.query(f"select invocation_id from sys_keyed_service_status where service_key = '{key}'")
    assert list(holder["invocation_id"]) == []
    assert lab.query(f"select status from sys_invocation where id = '{run.invocation_id}'")["status"].tolist() == [
        "suspended"
    ]


def test_bad_sql_is_a_400_error(lab: LocalRestate) -> None:
    """SQL that does not parse gets a clear 400-class error, not a crash."""
    with pytest.raises(RestateError) as err:
        lab.query("selec x")
    assert err.value.code == 400


def test_admin_query_answers_json_rows_without_nulls(lab: LocalRestate) -> None:
    """``POST /query`` answers ``{"rows": [...]}`` and leaves null columns out, as Restate does."""
    with LabServer(lab, port=0, admin_port=0) as server:
        answer = httpx.post(
            server.admin_url + "/query",
            json={"query": "select 1 as one, null as n"},
            headers={"accept": "application/json"},
            timeout=10,
        )
        bad = httpx.post(server.admin_url + "/query", json={"query": "selec x"}, timeout=10)
    assert (answer.status_code, answer.json()) == (200, {"rows": [{"one": 1}]})
    assert bad.status_code == 400 and "message" in bad.json()


@pytest.mark.realserver
def test_tables_have_the_real_servers_columns() -> None:
    """Every table has exactly the columns Restate Server 1.7.12 lists in ``information_schema``."""
    try:
        find_restate_server()
    except RestateServerNotInstalled as exc:
        pytest.skip(str(exc))
    with RestateServer.start(app) as real:
        for table, columns in TABLES.items():
            sql = f"select column_name from information_schema.columns where table_name = '{table}'"
            real_columns = list(real.client.query(sql)["column_name"])
            assert real_columns == list(columns), table


def test_query_frame_keeps_the_arrow_types(lab: LocalRestate) -> None:
    """Timestamps come back as tz-aware datetimes, counters as nullable unsigned integers."""
    key = uuid.uuid4().hex
    lab.call("Counter", "add", 1, key=key)
    frame = lab.query(
        f"select created_at, journal_size, retry_count, completion_retention from sys_invocation "
        f"where target_service_key = '{key}'"
    )
    assert str(frame["created_at"].dtype).startswith("datetime64[ms, ")
    assert str(frame["journal_size"].dtype) == "UInt32"
    assert str(frame["retry_count"].dtype) == "UInt64" and frame["retry_count"].isna().all()
    assert str(frame["completion_retention"].dtype) == "timedelta64[ms]"


def test_datafusion_dialect_answers_doc_queries(lab: LocalRestate) -> None:
    """``now() - interval``, case-sensitive LIKE and ``count(*)`` naming work as on Restate Server."""
    key = uuid.uuid4().hex
    lab.call("Counter", "add", 2, key=key)
    recent = lab.query(
        f"select count(*) from sys_invocation where target_service_key = '{key}' "
        "and modified_at > now() - interval '1 hour'"
    )
    assert recent.to_dict("records") == [{"count(*)": 1}]
    lower = lab.query(f"select count(*) as n from sys_invocation where target like 'counter/{key}%'")
    assert list(lower["n"]) == [0]
    assert list(lab.query("select 1").columns) == ["Int64(1)"]


def test_statements_and_unknown_tables_are_refused_with_the_servers_codes(lab: LocalRestate) -> None:
    """DML/DDL and an empty query are 400, an unknown table 500, as Restate Server answers."""
    for sql, code in [
        ("delete from sys_invocation", 400),
        ("drop table state", 400),
        ("", 400),
        ("select * from sqlite_master", 500),
        ("select 1/0", 500),
    ]:
        with pytest.raises(RestateError) as err:
            lab.query(sql)
        assert err.value.code == code, sql
        assert err.value.message.startswith("Datafusion error: ")


def test_a_snapshot_is_one_instant(lab: LocalRestate) -> None:
    """A snapshot taken before a call answers without it, even when executed after the call."""
    from restate_lab.runtime.introspection import execute, snapshot

    key = uuid.uuid4().hex
    sql = f"select count(*) as n from sys_invocation where target_service_key = '{key}'"

    async def take() -> object:
        return snapshot(lab.engine, sql)

    before = lab.portal.call(take())
    lab.call("Counter", "add", 1, key=key)
    assert execute(before, sql).to_pylist() == [{"n": 0}]  # type: ignore[arg-type]
    assert lab.query(sql).to_dict("records") == [{"n": 1}]


def test_admin_query_answers_arrow_without_json_accept_and_refuses_other_methods(lab: LocalRestate) -> None:
    """Without ``accept: application/json`` the answer is an Arrow IPC stream; GET is 405, text/plain 415."""
    import pyarrow as pa

    with LabServer(lab, port=0, admin_port=0) as server:
        arrow = httpx.post(server.admin_url + "/query", json={"query": "select 1 as one"}, timeout=10)
        get = httpx.get(server.admin_url + "/query", timeout=10)
        plain = httpx.post(
            server.admin_url + "/query",
            content=b'{"query": "select 1"}',
            headers={"content-type": "text/plain"},
            timeout=10,
        )
    assert arrow.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(arrow.content).read_all()
    assert table.to_pylist() == [{"one": 1}] and str(table.schema.field("one").type) == "int64"
    assert (get.status_code, get.headers.get("allow")) == (405, "POST")
    assert plain.status_code == 415


def test_client_query_reads_the_same_frame_as_the_runtime(lab: LocalRestate) -> None:
    """``RestateClient.query`` over HTTP (Arrow) and ``LocalRestate.query`` give equal frames and dtypes."""
    from restate_lab.server.client import RestateClient

    key = uuid.uuid4().hex
    lab.call("Counter", "add", 4, key=key)
    sql = (
        f"select id, target, status, created_at, journal_size, retry_count from sys_invocation "
        f"where target_service_key = '{key}'"
    )
    local = lab.query(sql)
    with LabServer(lab, port=0, admin_port=0) as server, RestateClient(server.ingress_url, server.admin_url) as c:
        remote = c.query(sql)
    assert list(remote.dtypes) == list(local.dtypes)
    assert remote.equals(local)


def test_cached_completed_invocations_follow_new_completions_and_purges(lab: LocalRestate) -> None:
    """Completed invocations are cached between queries, yet new ones appear and purged ones vanish."""
    key = uuid.uuid4().hex
    where = f"where i.target_service_key = '{key}'"
    totals = f"select count(*) as n, sum(journal_size) as entries from sys_invocation i {where}"
    journal = f"select count(*) as n from sys_journal j join sys_invocation i on i.id = j.id {where}"
    lab.call("Counter", "add", 1, key=key)
    assert lab.query(totals).to_dict("records") == [{"n": 1, "entries": 4}]
    lab.call("Counter", "add", 2, key=key)
    assert lab.query(totals).to_dict("records") == [{"n": 2, "entries": 8}]
    assert lab.query(journal).to_dict("records") == [{"n": 8}]
    first = lab.query(f"select id from sys_invocation i {where} order by created_at")["id"][0]
    lab.purge(first)
    assert lab.query(totals).to_dict("records") == [{"n": 1, "entries": 4}]
    assert lab.query(journal).to_dict("records") == [{"n": 4}]
