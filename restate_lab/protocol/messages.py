"""Service-protocol messages: type codes, frames, and the messages the server reads and writes.

The messages are the classes generated from ``service_protocol.proto`` (our copy of the public
protocol definition, ``service-protocol/`` in restatedev/restate) by the ``protobuf`` runtime; no
field number is written by hand here or in the runtime. Commands the SDK sends are kept as raw
frames in the journal and replayed byte for byte, and decoded only where the server acts on them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage

from restate_lab.protocol import service_protocol_pb2 as pb


class WireError(ValueError):
    """Bytes that are not a well-formed message of the type their frame names."""


class MessageType(IntEnum):
    START = 0x0000
    SUSPENSION = 0x0001
    ERROR = 0x0002
    END = 0x0003
    COMMAND_ACK = 0x0004
    PROPOSE_RUN_COMPLETION = 0x0005
    AWAITING_ON = 0x0006
    INPUT_COMMAND = 0x0400
    OUTPUT_COMMAND = 0x0401
    GET_LAZY_STATE_COMMAND = 0x0402
    SET_STATE_COMMAND = 0x0403
    CLEAR_STATE_COMMAND = 0x0404
    CLEAR_ALL_STATE_COMMAND = 0x0405
    GET_LAZY_STATE_KEYS_COMMAND = 0x0406
    GET_EAGER_STATE_COMMAND = 0x0407
    GET_EAGER_STATE_KEYS_COMMAND = 0x0408
    GET_PROMISE_COMMAND = 0x0409
    PEEK_PROMISE_COMMAND = 0x040A
    COMPLETE_PROMISE_COMMAND = 0x040B
    SLEEP_COMMAND = 0x040C
    CALL_COMMAND = 0x040D
    ONE_WAY_CALL_COMMAND = 0x040E
    SEND_SIGNAL_COMMAND = 0x0410
    RUN_COMMAND = 0x0411
    ATTACH_INVOCATION_COMMAND = 0x0412
    GET_INVOCATION_OUTPUT_COMMAND = 0x0413
    COMPLETE_AWAKEABLE_COMMAND = 0x0414
    GET_LAZY_STATE_COMPLETION = 0x8002
    GET_LAZY_STATE_KEYS_COMPLETION = 0x8006
    GET_PROMISE_COMPLETION = 0x8009
    PEEK_PROMISE_COMPLETION = 0x800A
    COMPLETE_PROMISE_COMPLETION = 0x800B
    SLEEP_COMPLETION = 0x800C
    CALL_COMPLETION = 0x800D
    CALL_INVOCATION_ID_COMPLETION = 0x800E
    RUN_COMPLETION = 0x8011
    ATTACH_INVOCATION_COMPLETION = 0x8012
    GET_INVOCATION_OUTPUT_COMPLETION = 0x8013
    SIGNAL_NOTIFICATION = 0xFBFF

    @property
    def is_command(self) -> bool:
        return 0x0400 <= self.value <= 0x7FFF

    @property
    def is_notification(self) -> bool:
        return self.value >= 0x8000


#: The built-in signal that cancels an invocation.
CANCEL_SIGNAL = 1
HEADER_SIZE = 8


@dataclass(frozen=True, slots=True)
class Frame:
    """One protocol message: its type code and protobuf payload, exactly as on the wire."""

    type: int
    payload: bytes

    def encode(self) -> bytes:
        return struct.pack(">HHI", self.type, 0, len(self.payload)) + self.payload

    @property
    def is_command(self) -> bool:
        return 0x0400 <= self.type <= 0x7FFF

    @property
    def is_notification(self) -> bool:
        return self.type >= 0x8000

    def message(self) -> Any:
        """The payload as its generated message class; ``WireError`` if it is not one."""
        return decode(self.type, self.payload)


class FrameDecoder:
    """Splits a byte stream into frames, keeping any incomplete tail for the next chunk."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> list[Frame]:
        self._buf += chunk
        frames = []
        while len(self._buf) >= HEADER_SIZE:
            msg_type, _flags, size = struct.unpack_from(">HHI", self._buf)
            if len(self._buf) < HEADER_SIZE + size:
                break
            frames.append(Frame(msg_type, bytes(self._buf[HEADER_SIZE : HEADER_SIZE + size])))
            del self._buf[: HEADER_SIZE + size]
        return frames

    @property
    def pending(self) -> int:
        return len(self._buf)


#: The generated class of each frame type the server decodes; every notification shares one layout.
_CLASSES: dict[int, type[ProtoMessage]] = {
    MessageType.START: pb.StartMessage,
    MessageType.SUSPENSION: pb.SuspensionMessage,
    MessageType.ERROR: pb.ErrorMessage,
    MessageType.PROPOSE_RUN_COMPLETION: pb.ProposeRunCompletionMessage,
    MessageType.INPUT_COMMAND: pb.InputCommandMessage,
    MessageType.OUTPUT_COMMAND: pb.OutputCommandMessage,
    MessageType.GET_LAZY_STATE_COMMAND: pb.GetLazyStateCommandMessage,
    MessageType.SET_STATE_COMMAND: pb.SetStateCommandMessage,
    MessageType.CLEAR_STATE_COMMAND: pb.ClearStateCommandMessage,
    MessageType.CLEAR_ALL_STATE_COMMAND: pb.ClearAllStateCommandMessage,
    MessageType.GET_LAZY_STATE_KEYS_COMMAND: pb.GetLazyStateKeysCommandMessage,
    MessageType.GET_EAGER_STATE_COMMAND: pb.GetEagerStateCommandMessage,
    MessageType.GET_EAGER_STATE_KEYS_COMMAND: pb.GetEagerStateKeysCommandMessage,
    MessageType.GET_PROMISE_COMMAND: pb.GetPromiseCommandMessage,
    MessageType.PEEK_PROMISE_COMMAND: pb.PeekPromiseCommandMessage,
    MessageType.COMPLETE_PROMISE_COMMAND: pb.CompletePromiseCommandMessage,
    MessageType.SLEEP_COMMAND: pb.SleepCommandMessage,
    MessageType.CALL_COMMAND: pb.CallCommandMessage,
    MessageType.ONE_WAY_CALL_COMMAND: pb.OneWayCallCommandMessage,
    MessageType.SEND_SIGNAL_COMMAND: pb.SendSignalCommandMessage,
    MessageType.RUN_COMMAND: pb.RunCommandMessage,
    MessageType.ATTACH_INVOCATION_COMMAND: pb.AttachInvocationCommandMessage,
    MessageType.GET_INVOCATION_OUTPUT_COMMAND: pb.AttachInvocationCommandMessage,
    MessageType.COMPLETE_AWAKEABLE_COMMAND: pb.CompleteAwakeableCommandMessage,
}


def decode(msg_type: int, payload: bytes) -> Any:
    """Parse a frame's payload as the message its type names; ``WireError`` if it cannot be."""
    cls = _CLASSES.get(msg_type)
    if cls is None:
        if msg_type < 0x8000:
            raise WireError(f"no message class for type 0x{msg_type:04x}")
        cls = pb.NotificationMessage
    try:
        return cls.FromString(payload)
    except DecodeError as exc:
        raise WireError(str(exc) or "malformed message") from exc


def entry_name(message: Any) -> str:
    """The name the SDK gave a command (``ctx.run("name", ...)``; SendSignal keeps it apart)."""
    if isinstance(message, pb.SendSignalCommandMessage):
        return str(message.entry_name)
    return str(getattr(message, "name", ""))


# ---- results: the value, failure or void a command or notification carries ----


@dataclass(frozen=True)
class Failure:
    """A terminal failure: an HTTP-like status code and a message."""

    code: int
    message: str
    metadata: tuple[tuple[str, str], ...] = ()

    def to_proto(self) -> pb.Failure:
        return pb.Failure(
            code=self.code,
            message=self.message,
            metadata=[pb.FailureMetadata(key=k, value=v) for k, v in self.metadata],
        )

    @classmethod
    def from_proto(cls, failure: pb.Failure) -> Failure:
        meta = tuple((m.key, m.value) for m in failure.metadata)
        return cls(failure.code or 500, failure.message, meta)


@dataclass(frozen=True)
class Value:
    """A successful result: the serialized bytes the handler produced."""

    content: bytes


@dataclass(frozen=True)
class Void:
    """A result that carries nothing: a sleep fired, a state key was missing."""


Result = Value | Failure | Void
VOID = Void()


def result_of(
    message: Any, oneof: str = "result", *, value: str = "value", failure: str = "failure", void: str | None = "void"
) -> Result | None:
    """The result a message carries in its ``oneof`` (a wrapped ``Value``, a ``Failure`` or ``Void``); None if unset."""
    which = message.WhichOneof(oneof)
    if which is None:
        return None
    if which == value:
        content = getattr(message, value)
        return Value(content if isinstance(content, bytes) else content.content)
    if which == failure:
        return Failure.from_proto(getattr(message, failure))
    if which == void and void is not None:
        return VOID
    return None


def _notification(result: Result, **fields: Any) -> bytes:
    if isinstance(result, Value):
        fields["value"] = pb.Value(content=result.content)
    elif isinstance(result, Failure):
        fields["failure"] = result.to_proto()
    else:
        fields["void"] = _VOID_PROTO
    data: bytes = pb.NotificationMessage(**fields).SerializeToString()
    return data


_VOID_PROTO = pb.Void()


# ---- server → SDK ----


def start_message(
    *,
    invocation_id: bytes,
    debug_id: str,
    known_entries: int,
    state: Iterable[tuple[bytes, bytes]] | None,
    key: str | None,
    retry_count: int,
    duration_since_last_stored_entry_ms: int,
    random_seed: int,
) -> Frame:
    """The first message of every attempt; ``state=None`` means partial state (lazy gets)."""
    start = pb.StartMessage(
        id=invocation_id,
        debug_id=debug_id,
        known_entries=known_entries,
        partial_state=state is None,
        key=key or "",
        retry_count_since_last_stored_entry=retry_count,
        duration_since_last_stored_entry=duration_since_last_stored_entry_ms,
        random_seed=random_seed & 0xFFFF_FFFF_FFFF_FFFF,
    )
    if state is not None:
        start.state_map.extend(pb.StartMessage.StateEntry(key=k, value=v) for k, v in state)
    return Frame(MessageType.START, start.SerializeToString())


def input_command(headers: Iterable[tuple[str, str]], body: bytes) -> Frame:
    # Built once per invocation: no header list when there are none, the value from a mapping (cheaper in upb).
    command = pb.InputCommandMessage(value={"content": body})
    if headers:
        command.headers.extend(pb.Header(key=k, value=v) for k, v in headers)
    return Frame(MessageType.INPUT_COMMAND, command.SerializeToString())


def completion(msg_type: int, completion_id: int, result: Result) -> Frame:
    """A completion notification for the command that owns ``completion_id``."""
    return Frame(msg_type, _notification(result, completion_id=completion_id))


def invocation_id_completion(completion_id: int, invocation_id: str) -> Frame:
    notification = pb.NotificationMessage(completion_id=completion_id, invocation_id=invocation_id)
    return Frame(MessageType.CALL_INVOCATION_ID_COMPLETION, notification.SerializeToString())


def state_keys_completion(completion_id: int, keys: Iterable[bytes]) -> Frame:
    notification = pb.NotificationMessage(completion_id=completion_id, state_keys=pb.StateKeys(keys=list(keys)))
    return Frame(MessageType.GET_LAZY_STATE_KEYS_COMPLETION, notification.SerializeToString())


def signal_notification(signal: int | str, result: Result) -> Frame:
    if isinstance(signal, int):
        return Frame(MessageType.SIGNAL_NOTIFICATION, _notification(result, signal_id=signal))
    return Frame(MessageType.SIGNAL_NOTIFICATION, _notification(result, signal_name=signal))


def notified(notification: Any) -> tuple[int | None, int | str | None]:
    """What a notification answers: ``(completion id, None)`` or ``(None, signal index or name)``."""
    which = notification.WhichOneof("id")
    if which == "completion_id":
        return notification.completion_id, None
    if which == "signal_id":
        return None, notification.signal_id
    if which == "signal_name":
        return None, notification.signal_name
    return notification.completion_id, None


# ---- SDK → server: what suspension and error messages say ----


@dataclass(frozen=True, slots=True)
class AwaitPoint:
    """What a suspended invocation waits for; any one of these resumes it."""

    completions: frozenset[int]
    signals: frozenset[int]
    named_signals: frozenset[str]


def read_suspension(suspension: pb.SuspensionMessage) -> AwaitPoint:
    """Read v5/v6 flat lists, or flatten a v7 future tree (resuming on any leaf is safe)."""
    completions = set(suspension.waiting_completions)
    signals = set(suspension.waiting_signals)
    named = set(suspension.waiting_named_signals)
    stack = [suspension.awaiting_on] if suspension.HasField("awaiting_on") else []
    while stack:
        node = stack.pop()
        completions.update(node.waiting_completions)
        signals.update(node.waiting_signals)
        named.update(node.waiting_named_signals)
        stack.extend(node.nested_futures)
    return AwaitPoint(_frozen(completions), _frozen(signals), _frozen(named))


#: Small await sets seen so far, shared: most suspensions wait on the same few ids (the cancel signal 1, ...).
_SHARED_SETS: dict[frozenset[Any], frozenset[Any]] = {frozenset(): frozenset()}
_SHARED_SETS_MAX = 4096


def _frozen(items: set[Any]) -> frozenset[Any]:
    """``items`` frozen; a small set is one shared object (thousands of invocations may be suspended)."""
    frozen = frozenset(items)
    if len(frozen) > 2:
        return frozen
    shared = _SHARED_SETS.get(frozen)
    if shared is None:
        if len(_SHARED_SETS) >= _SHARED_SETS_MAX:
            return frozen
        shared = _SHARED_SETS[frozen] = frozen
    return shared


@dataclass(frozen=True)
class AttemptError:
    """An ErrorMessage: the attempt failed and may be retried."""

    code: int
    message: str
    stacktrace: str
    related_command_index: int | None
    related_command_name: str | None
    related_command_type: int | None
    next_retry_delay_ms: int | None

    @classmethod
    def from_proto(cls, error: pb.ErrorMessage) -> AttemptError:
        return cls(
            code=error.code or 500,
            message=error.message,
            stacktrace=error.stacktrace,
            related_command_index=error.related_command_index if error.HasField("related_command_index") else None,
            related_command_name=error.related_command_name if error.HasField("related_command_name") else None,
            related_command_type=error.related_command_type if error.HasField("related_command_type") else None,
            next_retry_delay_ms=error.next_retry_delay if error.HasField("next_retry_delay") else None,
        )
