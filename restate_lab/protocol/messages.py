"""Service-protocol messages: type codes, frames, and the fields the server reads and writes.

Field numbers follow the public protocol definition (``service-protocol/`` in restatedev/restate).
Commands the SDK sends are kept as raw frames in the journal and replayed byte for byte, so
only the fields the server acts on are decoded; notifications are encoded here.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from restate_lab.protocol.wire import (
    WireError,
    iter_fields,
    len_field,
    packed_uints,
    str_field,
    uint_field,
)


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


@dataclass(frozen=True)
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

    def fields(self) -> Fields:
        return Fields.parse(self.payload)


class FrameDecoder:
    """Splits a byte stream into frames, keeping any incomplete tail for the next chunk."""

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


@dataclass
class Fields:
    """Decoded fields of a message by number; repeated fields keep every occurrence."""

    values: dict[int, list[int | bytes]] = field(default_factory=dict)

    @classmethod
    def parse(cls, payload: bytes) -> Fields:
        values: dict[int, list[int | bytes]] = {}
        for number, _wire, value in iter_fields(payload):
            values.setdefault(number, []).append(value)
        return cls(values)

    def has(self, number: int) -> bool:
        return number in self.values

    def uint(self, number: int, default: int = 0) -> int:
        found = self.values.get(number)
        if not found:
            return default
        value = found[-1]
        if not isinstance(value, int):
            raise WireError(f"field {number} is not a varint")
        return value

    def raw(self, number: int) -> bytes | None:
        found = self.values.get(number)
        if not found:
            return None
        value = found[-1]
        if not isinstance(value, bytes):
            raise WireError(f"field {number} is not length-delimited")
        return value

    def bytes_(self, number: int) -> bytes:
        return self.raw(number) or b""

    def string(self, number: int) -> str:
        return self.bytes_(number).decode()

    def optional_string(self, number: int) -> str | None:
        raw = self.raw(number)
        return None if raw is None else raw.decode()

    def message(self, number: int) -> Fields | None:
        raw = self.raw(number)
        return None if raw is None else Fields.parse(raw)

    def messages(self, number: int) -> list[Fields]:
        return [Fields.parse(v) for v in self.values.get(number, []) if isinstance(v, bytes)]

    def uints(self, number: int) -> list[int]:
        out: list[int] = []
        for value in self.values.get(number, []):
            out.extend(packed_uints(value))
        return out

    def strings(self, number: int) -> list[str]:
        return [v.decode() for v in self.values.get(number, []) if isinstance(v, bytes)]


# ---- results: the value, failure or void a command or notification carries ----


@dataclass(frozen=True)
class Failure:
    """A terminal failure: an HTTP-like status code and a message."""

    code: int
    message: str
    metadata: tuple[tuple[str, str], ...] = ()

    def encode(self) -> bytes:
        out = uint_field(1, self.code) + str_field(2, self.message)
        for key, value in self.metadata:
            out += len_field(3, str_field(1, key) + str_field(2, value))
        return out

    @classmethod
    def decode(cls, fields: Fields) -> Failure:
        meta = tuple((m.string(1), m.string(2)) for m in fields.messages(3))
        return cls(fields.uint(1, 500), fields.string(2), meta)


@dataclass(frozen=True)
class Value:
    """A successful result: the serialized bytes the handler produced."""

    content: bytes


@dataclass(frozen=True)
class Void:
    """A result that carries nothing: a sleep fired, a state key was missing."""


Result = Value | Failure | Void
VOID = Void()


def read_result(fields: Fields, value_no: int, failure_no: int, void_no: int | None = None,
                value_is_wrapped: bool = True) -> Result | None:
    """Read a result oneof laid out at the given field numbers; None when absent."""
    if fields.has(value_no):
        if value_is_wrapped:
            wrapped = fields.message(value_no)
            return Value(wrapped.bytes_(1) if wrapped else b"")
        return Value(fields.bytes_(value_no))
    if fields.has(failure_no):
        nested = fields.message(failure_no)
        return Failure.decode(nested) if nested else Failure(500, "")
    if void_no is not None and fields.has(void_no):
        return VOID
    return None


def _result_fields(result: Result, value_no: int = 5, failure_no: int = 6, void_no: int = 4) -> bytes:
    if isinstance(result, Value):
        return len_field(value_no, len_field(1, result.content))
    if isinstance(result, Failure):
        return len_field(failure_no, result.encode())
    return len_field(void_no, b"")


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
    out = len_field(1, invocation_id) + str_field(2, debug_id) + uint_field(3, known_entries)
    if state is None:
        out += uint_field(5, 1)
    else:
        for state_key, value in state:
            out += len_field(4, len_field(1, state_key) + len_field(2, value))
    if key:
        out += str_field(6, key)
    if retry_count:
        out += uint_field(7, retry_count)
    if duration_since_last_stored_entry_ms:
        out += uint_field(8, duration_since_last_stored_entry_ms)
    out += uint_field(9, random_seed & 0xFFFF_FFFF_FFFF_FFFF)
    return Frame(MessageType.START, out)


def input_command(headers: Iterable[tuple[str, str]], body: bytes) -> Frame:
    out = b"".join(len_field(1, str_field(1, k) + str_field(2, v)) for k, v in headers)
    out += len_field(14, len_field(1, body))
    return Frame(MessageType.INPUT_COMMAND, out)


def completion(msg_type: int, completion_id: int, result: Result) -> Frame:
    """A completion notification for the command that owns ``completion_id``."""
    return Frame(msg_type, uint_field(1, completion_id) + _result_fields(result))


def invocation_id_completion(completion_id: int, invocation_id: str) -> Frame:
    return Frame(MessageType.CALL_INVOCATION_ID_COMPLETION, uint_field(1, completion_id) + str_field(16, invocation_id))


def state_keys_completion(completion_id: int, keys: Iterable[bytes]) -> Frame:
    nested = b"".join(len_field(1, k) for k in keys)
    return Frame(MessageType.GET_LAZY_STATE_KEYS_COMPLETION, uint_field(1, completion_id) + len_field(17, nested))


def signal_notification(signal: int | str, result: Result) -> Frame:
    head = uint_field(2, signal) if isinstance(signal, int) else str_field(3, signal)
    return Frame(MessageType.SIGNAL_NOTIFICATION, head + _result_fields(result))


# ---- SDK → server: what suspension and error messages say ----


@dataclass(frozen=True)
class AwaitPoint:
    """What a suspended invocation waits for; any one of these resumes it."""

    completions: frozenset[int]
    signals: frozenset[int]
    named_signals: frozenset[str]


def read_suspension(fields: Fields) -> AwaitPoint:
    """Read v5/v6 flat lists, or flatten a v7 future tree (resuming on any leaf is safe)."""
    completions = set(fields.uints(1))
    signals = set(fields.uints(2))
    named = set(fields.strings(3))
    stack = fields.messages(4)
    while stack:
        node = stack.pop()
        completions.update(node.uints(1))
        signals.update(node.uints(2))
        named.update(node.strings(3))
        stack.extend(node.messages(4))
    return AwaitPoint(frozenset(completions), frozenset(signals), frozenset(named))


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
    def decode(cls, fields: Fields) -> AttemptError:
        return cls(
            code=fields.uint(1, 500),
            message=fields.string(2),
            stacktrace=fields.string(3),
            related_command_index=fields.uint(4) if fields.has(4) else None,
            related_command_name=fields.optional_string(5),
            related_command_type=fields.uint(6) if fields.has(6) else None,
            next_retry_delay_ms=fields.uint(8) if fields.has(8) else None,
        )
