"""The wire codec: generated protobuf classes, with the field numbers of Restate's public protocol definition."""

from __future__ import annotations

import filecmp
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from restate_lab.protocol import service_protocol_pb2 as pb
from restate_lab.protocol.messages import (
    VOID,
    AttemptError,
    Failure,
    Frame,
    FrameDecoder,
    MessageType,
    Value,
    WireError,
    completion,
    decode,
    input_command,
    invocation_id_completion,
    notified,
    read_suspension,
    result_of,
    signal_notification,
    start_message,
    state_keys_completion,
)

ROOT = Path(__file__).resolve().parents[2]


def test_sleep_completion_has_the_public_field_numbers() -> None:
    """completion_id is field 1 (varint), void field 4 (empty message): bytes 08 03 22 00, as the spec lays out."""
    frame = completion(MessageType.SLEEP_COMPLETION, 3, VOID)
    assert frame.payload == bytes([0x08, 0x03, 0x22, 0x00])
    assert frame.encode() == bytes([0x80, 0x0C, 0, 0, 0, 0, 0, 4]) + frame.payload


def test_cancel_signal_and_invocation_id_notifications_have_the_public_field_numbers() -> None:
    """signal_id is field 2, invocation_id field 16 (tag 0x82 0x01), value field 5 wrapping content field 1."""
    assert signal_notification(1, VOID).payload == bytes([0x10, 0x01, 0x22, 0x00])
    assert invocation_id_completion(2, "inv_x").payload == b"\x08\x02\x82\x01\x05inv_x"
    assert completion(MessageType.CALL_COMPLETION, 1, Value(b"42")).payload == b"\x08\x01\x2a\x04\x0a\x0242"


@pytest.mark.parametrize("result", [Value(b'"ok"'), Failure(409, "no", (("k", "v"),)), VOID])
def test_completion_carries_its_result_back(result: Value | Failure) -> None:
    """Every result kind survives encoding and decoding; the notification names its completion."""
    frame = completion(MessageType.CALL_COMPLETION, 7, result)
    message = frame.message()
    assert notified(message) == (7, None)
    assert result_of(message) == result


def test_named_signal_notification_names_its_signal() -> None:
    """A named signal is field 3 of the id oneof; a failure travels with code and message."""
    message = signal_notification("approved", Failure(500, "rejected")).message()
    assert notified(message) == (None, "approved")
    assert result_of(message) == Failure(500, "rejected")


def test_start_message_round_trips_every_field() -> None:
    """The StartMessage the server writes reads back field for field; no state means partial state."""
    frame = start_message(
        invocation_id=b"\x01\x02",
        debug_id="inv_1",
        known_entries=3,
        state=None,
        key="alice",
        retry_count=2,
        duration_since_last_stored_entry_ms=150,
        random_seed=-1,
    )
    start = decode(frame.type, frame.payload)
    assert isinstance(start, pb.StartMessage)
    assert (start.id, start.debug_id, start.known_entries, start.partial_state, start.key) == (
        b"\x01\x02",
        "inv_1",
        3,
        True,
        "alice",
    )
    assert (start.retry_count_since_last_stored_entry, start.duration_since_last_stored_entry) == (2, 150)
    assert start.random_seed == 2**64 - 1
    eager = start_message(
        invocation_id=b"",
        debug_id="",
        known_entries=1,
        state=[(b"k", b"v")],
        key=None,
        retry_count=0,
        duration_since_last_stored_entry_ms=0,
        random_seed=0,
    ).message()
    assert not eager.partial_state and [(e.key, e.value) for e in eager.state_map] == [(b"k", b"v")]


def test_input_command_and_state_keys_round_trip() -> None:
    """The input command keeps headers and body; a state-keys completion keeps its keys in order."""
    command = input_command([("a", "1"), ("b", "2")], b"{}").message()
    assert [(h.key, h.value) for h in command.headers] == [("a", "1"), ("b", "2")]
    assert command.value.content == b"{}"
    keys = state_keys_completion(4, [b"x", b"y"]).message()
    assert (keys.completion_id, list(keys.state_keys.keys)) == (4, [b"x", b"y"])


def test_suspension_reads_v5_lists_and_a_v7_future_tree() -> None:
    """Versions 5/6 list waits flat; version 7 nests them in a Future tree; both flatten to one await point."""
    flat = pb.SuspensionMessage(waiting_completions=[1, 2], waiting_signals=[1], waiting_named_signals=["s"])
    tree = pb.SuspensionMessage(
        awaiting_on=pb.Future(
            waiting_completions=[1],
            nested_futures=[pb.Future(waiting_completions=[2], waiting_signals=[1], waiting_named_signals=["s"])],
        )
    )
    for suspension in (flat, tree):
        point = read_suspension(decode(MessageType.SUSPENSION, suspension.SerializeToString()))
        assert (point.completions, point.signals, point.named_signals) == ({1, 2}, {1}, {"s"})


def test_error_message_keeps_optional_fields_apart_from_absent_ones() -> None:
    """An ErrorMessage's related command and retry delay are None when absent, their values when present."""
    bare = AttemptError.from_proto(pb.ErrorMessage(code=500, message="boom"))
    assert (bare.related_command_index, bare.next_retry_delay_ms) == (None, None)
    full = AttemptError.from_proto(
        pb.ErrorMessage(code=503, message="later", related_command_index=0, next_retry_delay=300)
    )
    assert (full.code, full.related_command_index, full.next_retry_delay_ms) == (503, 0, 300)


def test_malformed_payload_is_a_wire_error() -> None:
    """Bytes that are not the named message raise WireError (a ValueError), never a protobuf exception."""
    with pytest.raises(WireError):
        Frame(MessageType.SLEEP_COMMAND, b"\x0a\xff").message()
    with pytest.raises(WireError):
        decode(0x7777, b"")


def test_frame_decoder_splits_a_stream_at_any_boundary() -> None:
    """Frames fed in arbitrary chunks come out whole and in order, the tail kept for the next chunk."""
    frames = [completion(MessageType.RUN_COMPLETION, i, Value(b"x" * i)) for i in range(5)]
    stream = b"".join(f.encode() for f in frames)
    decoder = FrameDecoder()
    out = []
    for i in range(0, len(stream), 3):
        out += decoder.feed(stream[i : i + 3])
    assert out == frames and decoder.pending == 0


@pytest.mark.skipif(importlib.util.find_spec("grpc_tools") is None, reason="grpcio-tools regenerates the classes")
def test_committed_classes_match_the_proto(tmp_path: Path) -> None:
    """service_protocol_pb2.py is what scripts/generate-protocol.sh makes of service_protocol.proto today."""
    proto = Path("restate_lab/protocol/service_protocol.proto")
    (tmp_path / proto.parent).mkdir(parents=True)
    shutil.copy(ROOT / proto, tmp_path / proto)
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I.", "--python_out=.", "--pyi_out=.", str(proto)],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    for generated in ("service_protocol_pb2.py", "service_protocol_pb2.pyi"):
        assert filecmp.cmp(tmp_path / proto.parent / generated, ROOT / proto.parent / generated, shallow=False)
