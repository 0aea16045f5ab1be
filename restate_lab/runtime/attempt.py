"""One attempt: stream the journal to the deployment and act on every message it sends back."""

from __future__ import annotations

import time
from dataclasses import dataclass

from restate_lab.protocol.body import ClosedBody, LiveBody, RequestBody
from restate_lab.protocol.messages import (
    AttemptError,
    AwaitPoint,
    Frame,
    FrameDecoder,
    MessageType,
    Value,
    WireError,
    completion,
    read_suspension,
    result_of,
    start_message,
)
from restate_lab.protocol.transport import DeploymentError
from restate_lab.runtime import commands
from restate_lab.runtime.clock import Timer
from restate_lab.runtime.invocation import Invocation
from restate_lab.runtime.types import EngineCore

PROTOCOL_VIOLATION = 571


@dataclass(frozen=True)
class Ended:
    """The handler finished; its Output command set the result."""


@dataclass(frozen=True)
class Suspended:
    point: AwaitPoint


@dataclass(frozen=True)
class Failed:
    code: int
    message: str
    next_retry_delay_ms: int | None = None
    related_command: str | None = None


Outcome = Ended | Suspended | Failed
#: Every attempt that ends with End has this outcome (nothing to tell apart: one object).
ENDED = Ended()


def _read_message(engine: EngineCore, inv: Invocation, frame: Frame) -> Outcome | None:
    """Apply one message from the SDK; return the attempt's outcome when the message ends it."""
    if frame.is_command:
        return _journal_command(engine, inv, frame)
    msg_type = frame.type
    if msg_type == MessageType.PROPOSE_RUN_COMPLETION:
        proposal = frame.message()
        result = result_of(proposal, void=None) or Value(b"")
        cid = proposal.result_completion_id
        engine.notify(inv, completion(MessageType.RUN_COMPLETION, cid, result), completion_id=cid)
        return None
    if msg_type == MessageType.SUSPENSION:
        return Suspended(read_suspension(frame.message()))
    if msg_type == MessageType.ERROR:
        err = AttemptError.from_proto(frame.message())
        related = err.related_command_name or (
            f"command #{err.related_command_index}" if err.related_command_index is not None else None
        )
        return Failed(err.code, err.message, err.next_retry_delay_ms, related)
    if msg_type == MessageType.END:
        return ENDED
    if msg_type in (MessageType.COMMAND_ACK, MessageType.AWAITING_ON):
        return None
    return Failed(PROTOCOL_VIOLATION, f"unexpected message type 0x{msg_type:04x} from the deployment")


def _journal_command(engine: EngineCore, inv: Invocation, frame: Frame) -> Failed | None:
    """Store a command and carry it out; a command the server cannot read is refused, not stored.

    A stored command is replayed on every later attempt, so storing garbage from a broken
    deployment would make the invocation fail forever, even against a fixed deployment.
    """
    if frame.type not in commands.KNOWN_COMMANDS:
        return Failed(PROTOCOL_VIOLATION, f"unknown command type 0x{frame.type:04x} from the deployment")
    try:
        message = frame.message()
    except WireError as exc:
        return Failed(PROTOCOL_VIOLATION, f"malformed {_name(frame.type)} from the deployment: {exc}")
    stored = len(inv.journal)
    inv.append_entry(frame, engine.now_ms())
    try:
        commands.apply(engine, inv, frame, message)
    except ValueError as exc:  # a message the server cannot act on (a bad awakeable id, ...)
        inv.truncate_journal(stored)
        return Failed(PROTOCOL_VIOLATION, f"malformed {_name(frame.type)} from the deployment: {exc}")
    inv.command_count += 1
    inv.modified_at_ms = inv.stored_at_ms = engine.now_ms()
    inv.retries_since_stored = 0
    # A new journal entry does not reset the failure count (only a suspension does:
    # restate_lab.rules.lifecycle.failures_after_suspension), as measured on Restate Server 1.7.12.
    engine.mark(inv)
    return None


def _name(msg_type: int) -> str:
    try:
        return MessageType(msg_type).name
    except ValueError:
        return f"message 0x{msg_type:04x}"


async def run_attempt(engine: EngineCore, inv: Invocation, since_stored_ms: int) -> Outcome:
    """Run one attempt of ``inv`` (the engine has marked it running) and say how it ended.

    ``since_stored_ms``: how long ago the journal last grew, which the SDK is told.
    """
    service = engine.services[inv.target.service]
    handler = service.handlers[inv.target.handler]
    deployment = service.deployment
    state: tuple[()] | list[tuple[bytes, bytes]] | None = None
    if not service.keyed:
        state = ()
    elif not handler.lazy_state:
        state = list(engine.state.all(inv.lock_key).items())
    start = start_message(
        invocation_id=inv.id.raw,
        debug_id=inv.id_str,
        known_entries=len(inv.journal),
        state=state,
        key=inv.target.key,
        retry_count=inv.retries_since_stored,
        duration_since_last_stored_entry_ms=since_stored_ms,
        random_seed=inv.random_seed,
    )
    engine.mark(inv)
    engine.flush()  # the SDK may act only on what is already durable
    journal = inv.journal
    request = start.encode() + (journal[0].encode() if len(journal) == 1 else b"".join([f.encode() for f in journal]))
    inv.attempt_host_start_ms = time.time() * 1000
    body: RequestBody
    watchdog: list[Timer] = []  # the attempt's own inactivity timer, once it has outlived its first deadline
    timeout_ms = 0
    if deployment.bidi:
        live = LiveBody(request)
        inv.live_input = body = live
        timeout_ms = handler.inactivity_timeout_ms or engine.inactivity_timeout_ms
        engine.idle_watch.watch(inv, live, timeout_ms, watchdog)
    else:
        body = ClosedBody(request)
    reader = _Reader(engine, inv)
    content_type = f"application/vnd.restate.invocation.v{deployment.protocol_version}"
    # Request-response on a transport that can answer in one piece: no async generator per attempt.
    whole = None if deployment.bidi else getattr(deployment.transport, "request_response", None)
    # Bidirectional on a transport that hands chunks to a callback: no async generator, no wake-up per chunk.
    stream = getattr(deployment.transport, "stream", None) if deployment.bidi else None
    try:
        if whole is not None:
            answer = await whole(inv.target.service, inv.target.handler, content_type, body)
            reader.outcome = _take(engine, inv, reader.decoder, answer)
        elif stream is not None:
            await stream(inv.target.service, inv.target.handler, content_type, body, reader)
        else:
            async for chunk in deployment.transport.invoke(
                inv.target.service, inv.target.handler, content_type, body, deployment.bidi
            ):
                if reader.outcome is None:
                    reader.outcome = _take(engine, inv, reader.decoder, chunk)
    except DeploymentError as exc:
        reader.outcome = reader.outcome or Failed(500, str(exc))
    except WireError as exc:
        reader.outcome = Failed(PROTOCOL_VIOLATION, f"malformed message from the deployment: {exc}")
    finally:
        inv.live_input = None
        if deployment.bidi:
            engine.idle_watch.unwatch(inv, timeout_ms)
            for timer in watchdog:
                timer.cancel()
    outcome = reader.outcome
    if outcome is None:
        return Failed(PROTOCOL_VIOLATION, "the deployment closed the attempt without End, Suspension or Error")
    if outcome is ENDED and inv.pending_output is None:
        return Failed(PROTOCOL_VIOLATION, "the deployment ended the invocation without an Output command")
    return outcome


class _Reader:
    """Acts on the chunks of one attempt's answer as they come, and keeps the outcome once one ends it.

    Called by a streaming transport with each chunk; answers True when the attempt is over because
    the answer is malformed (the transport then stops the app). An object rather than a closure:
    one allocation per attempt instead of a function and a cell per variable.
    """

    __slots__ = ("engine", "inv", "decoder", "outcome")

    def __init__(self, engine: EngineCore, inv: Invocation) -> None:
        self.engine = engine
        self.inv = inv
        self.decoder = FrameDecoder()
        self.outcome: Outcome | None = None

    def __call__(self, chunk: bytes) -> bool:
        if self.outcome is None:
            try:
                self.outcome = _take(self.engine, self.inv, self.decoder, chunk)
            except WireError as exc:
                self.outcome = Failed(PROTOCOL_VIOLATION, f"malformed message from the deployment: {exc}")
                return True  # the attempt is over: the transport stops the app
        return False


def _take(engine: EngineCore, inv: Invocation, decoder: FrameDecoder, chunk: bytes) -> Outcome | None:
    """Act on one chunk of the deployment's answer; the outcome once a message ends the attempt."""
    outcome: Outcome | None = None
    inv.modified_at_ms = engine.now_ms()
    try:
        for frame in decoder.feed(chunk):
            outcome = _read_message(engine, inv, frame)
            if outcome is not None:
                break
        if outcome is not None and inv.live_input is not None:
            inv.live_input.put_nowait(None)
            inv.live_input = None
    finally:  # a malformed frame later in the chunk does not take back the signals journaled before it
        engine.release_self_signals(inv, ended=outcome is ENDED)
    return outcome
