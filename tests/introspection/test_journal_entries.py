"""``sys_journal.entry_json``/``entry_lite_json`` rendering and ``appended_at`` bookkeeping, without a server.

The expected texts are ones Restate Server 1.7.12 answered (docs/observed-restate-1.7.12.md, "entry_json").
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from google.protobuf.message import Message

from restate_lab.protocol import service_protocol_pb2 as pb
from restate_lab.protocol.messages import Frame, MessageType
from restate_lab.rules.ids import InvocationId
from restate_lab.rules.targets import HandlerType, ServiceType, Target
from restate_lab.runtime.durable import DurableStore
from restate_lab.runtime.invocation import Invocation
from restate_lab.runtime.sql.entries import Callee, render_journal

CALLEE = "inv_16ZWufFRKdpy0dbKPloI0edWgvNXDxzAtj"


def frame(msg_type: MessageType, message: Message) -> Frame:
    return Frame(msg_type, message.SerializeToString())


def render_one(msg_type: MessageType, message: Message) -> tuple[str | None, str | None]:
    return render_journal([frame(msg_type, message)], lambda _: None)[0]


def test_set_state_is_rendered_with_its_value_as_bytes_and_lite_with_the_key_alone() -> None:
    """SetState: the value as a byte array and an empty name; the lite form keeps only the key."""
    m = pb.SetStateCommandMessage(key=b"count", value=pb.Value(content=b"3"))
    assert render_one(MessageType.SET_STATE_COMMAND, m) == (
        '{"Command":{"SetState":{"key":"count","value":[51],"name":""}}}',
        '{"Command":{"SetState":{"key":"count"}}}',
    )


def test_sleep_spells_its_wake_up_time_as_epoch_milliseconds() -> None:
    """Sleep: ``wake_up_time`` is a plain number of ms, and stays in the lite form."""
    m = pb.SleepCommandMessage(wake_up_time=1796252432345, result_completion_id=4)
    assert render_one(MessageType.SLEEP_COMMAND, m) == (
        '{"Command":{"Sleep":{"wake_up_time":1796252432345,"completion_id":4,"name":""}}}',
        '{"Command":{"Sleep":{"wake_up_time":1796252432345,"completion_id":4}}}',
    )


def test_failed_output_names_code_and_message_and_lite_names_the_variant() -> None:
    """A failure result is ``{"Failure":{"code":..,"message":..}}``; the lite form says ``"Failure"``."""
    m = pb.OutputCommandMessage(failure=pb.Failure(code=418, message="custom failure"))
    assert render_one(MessageType.OUTPUT_COMMAND, m) == (
        '{"Command":{"Output":{"result":{"Failure":{"code":418,"message":"custom failure"}},"name":""}}}',
        '{"Command":{"Output":{"result":"Failure"}}}',
    )


def test_completions_are_nested_under_completion_and_lite_has_ty_id_result() -> None:
    """A run's completion holds its result bytes; a sleep's completion has no result field at all."""
    run = pb.NotificationMessage(completion_id=8, value=pb.Value(content=b'"x"'))
    assert render_one(MessageType.RUN_COMPLETION, run) == (
        '{"Notification":{"Completion":{"Run":{"completion_id":8,"result":{"Success":[34,120,34]}}}}}',
        '{"Notification":{"ty":{"Completion":"Run"},"id":{"CompletionId":8},"result":"Success"}}',
    )
    sleep = pb.NotificationMessage(completion_id=4, void=pb.Void())
    assert render_one(MessageType.SLEEP_COMPLETION, sleep) == (
        '{"Notification":{"Completion":{"Sleep":{"completion_id":4}}}}',
        '{"Notification":{"ty":{"Completion":"Sleep"},"id":{"CompletionId":4},"result":"Void"}}',
    )


def test_signals_are_named_by_index_or_name() -> None:
    """An awakeable's signal is ``{"Index":17}`` (lite ``SignalIndex``), a named one ``{"Name":..}``."""
    by_index = pb.NotificationMessage(signal_id=17, value=pb.Value(content=b"1"))
    assert render_one(MessageType.SIGNAL_NOTIFICATION, by_index) == (
        '{"Notification":{"Signal":{"id":{"Index":17},"result":{"Success":[49]}}}}',
        '{"Notification":{"ty":"Signal","id":{"SignalIndex":17},"result":"Success"}}',
    )
    by_name = pb.NotificationMessage(signal_name="ping", void=pb.Void())
    assert render_one(MessageType.SIGNAL_NOTIFICATION, by_name)[1] == (
        '{"Notification":{"ty":"Signal","id":{"SignalName":"ping"},"result":"Void"}}'
    )


def test_a_call_names_the_callee_id_from_its_invocation_id_notification() -> None:
    """A Call's lite form carries the callee's id (from the journal) and its target with handler type."""
    call = pb.CallCommandMessage(
        service_name="Counter", handler_name="add", key="k", parameter=b"1",
        invocation_id_notification_idx=1, result_completion_id=2,
    )  # fmt: skip
    journal = [
        frame(MessageType.CALL_COMMAND, call),
        frame(MessageType.CALL_INVOCATION_ID_COMPLETION, pb.NotificationMessage(completion_id=1, invocation_id=CALLEE)),
    ]
    callee = Callee(Target("Counter", "add", "k"), ServiceType.VIRTUAL_OBJECT, HandlerType.EXCLUSIVE, 86400)
    full, lite = render_journal(journal, {CALLEE: callee}.get)[0]
    assert lite == (
        '{"Command":{"Call":{"invocation_id":"' + CALLEE + '","invocation_target":{"VirtualObject":{"name":"Counter",'
        '"key":"k","handler":"add","handler_ty":"Exclusive","scope":null}},"invocation_id_completion_id":1,'
        '"result_completion_id":2}}}'
    )
    assert full is not None and '"completion_retention_duration":{"secs":86400,"nanos":0}' in full


def test_entries_whose_shape_was_not_measured_read_null() -> None:
    """A lazy state read and a call whose callee is unknown render as None rather than a guess."""
    lazy = pb.GetLazyStateCommandMessage(key=b"k", result_completion_id=1)
    assert render_one(MessageType.GET_LAZY_STATE_COMMAND, lazy) == (None, None)
    call = pb.CallCommandMessage(service_name="Greeter", handler_name="greet", invocation_id_notification_idx=1)
    assert render_one(MessageType.CALL_COMMAND, call) == (None, None)


def invocation() -> Invocation:
    inv_id = InvocationId.parse(CALLEE)
    return Invocation(inv_id, Target("Greeter", "greet"), ServiceType.SERVICE, None, b"", (), created_at_ms=1000)


def test_appended_at_follows_appends_truncation_and_packing() -> None:
    """Each appended entry keeps its time through a rollback and the packing of a completed journal."""
    inv = invocation()
    for n, at in enumerate((1000, 1005, 1010)):
        inv.append_entry(Frame(MessageType.RUN_COMMAND, bytes([n])), at)
    inv.truncate_journal(2)
    assert inv.appended_at() == [1000, 1005]
    inv.pack()
    assert inv.appended_at() == [1000, 1005]
    assert [f.payload for f in inv.journal] == [b"\x00", b"\x01"]


def test_entries_set_without_a_time_read_none() -> None:
    """A journal replaced wholesale has no append times: they read None, later appends do not."""
    inv = invocation()
    inv.journal = [Frame(MessageType.RUN_COMMAND, b"")]
    inv.append_entry(Frame(MessageType.RUN_COMMAND, b""), 2000)
    assert inv.appended_at() == [None, 2000]


def test_the_durable_store_keeps_append_times_and_reads_old_files_as_null(tmp_path: Path) -> None:
    """appended_at round-trips through SQLite; a file from before the column reads None, not an error."""
    old = tmp_path / "old.db"
    db = sqlite3.connect(old)
    db.executescript(
        "CREATE TABLE journal (id TEXT NOT NULL, idx INTEGER NOT NULL, type INTEGER NOT NULL, payload BLOB NOT NULL,"
        " PRIMARY KEY (id, idx));"
        "CREATE TABLE invocations (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, record TEXT NOT NULL);"
        "INSERT INTO journal VALUES ('a', 0, 1024, x'');"
        "INSERT INTO invocations VALUES ('a', 1, '{}');"
    )
    db.commit()
    db.close()
    store = DurableStore(old)
    store.write([("b", 2, {}, 0, [Frame(MessageType.INPUT_COMMAND, b"")], [1234])], [], [], [], [])
    assert [(s.journal[0].type, s.appended_at) for s in store.invocations()] == [(1024, [None]), (1024, [1234])]
    store.close()
