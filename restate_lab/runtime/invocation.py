"""An invocation's record: target, journal, status and outcome, in Restate's vocabulary."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from restate_lab.protocol.body import LiveBody
from restate_lab.protocol.messages import AwaitPoint, Frame, Result, Value
from restate_lab.rules.ids import InvocationId
from restate_lab.rules.lifecycle import InvocationStatus
from restate_lab.rules.targets import HandlerType, ServiceType, Target
from restate_lab.runtime.clock import Timer

__all__ = ["CompletionHook", "Invocation", "InvocationStatus"]


CompletionHook = Callable[["Invocation", Result], None]


@dataclass(eq=False, slots=True)
class Invocation:
    """Everything the runtime knows of one invocation (slotted: thousands may wait at once).

    A completed invocation is retained for a day, so it should hold few objects the cyclic collector
    tracks (every young collection of a busy runtime rescans what survives): the containers that most
    invocations never fill (waiters, hooks, callees, timers, notifications) are made on first use, and an
    invocation without headers keeps a shared empty tuple.
    """

    id: InvocationId
    target: Target
    service_type: ServiceType
    handler_type: HandlerType | None
    input: bytes
    headers: Sequence[tuple[str, str]]
    created_at_ms: int
    idempotency_key: str | None = None
    #: The key is the ULID Restate's ingress gives a plain request (kept for the engine's completion
    #: retention, and out of the idempotency table: the id it derives finds it), not one a client sent
    #: (kept in the table for the handler's idempotency retention).
    idempotency_key_generated: bool = False
    invoked_by: str = "ingress"
    invoked_by_id: str | None = None
    invoked_by_subscription_id: str | None = None
    #: The invocation this one restarts (admin restart-as-new; ``invoked_by`` is then ``restart_as_new``).
    restarted_from: str | None = None
    execution_time_ms: int | None = None
    status: InvocationStatus = InvocationStatus.READY
    #: The journal while the invocation may still change it; None once it is packed (see ``pack``).
    _journal: list[Frame] | None = field(default_factory=list, repr=False)
    #: When each entry of ``_journal`` was appended (engine ms); shorter than the journal where entries
    #: came without a time (recovered from the durable store), and those read as None.
    _appended_at: list[int | None] | None = field(default=None, repr=False)
    #: A completed invocation's journal as (type, payload, appended_at) triples: tuples of atomic values,
    #: which the collector stops tracking.
    _packed_journal: tuple[tuple[int, bytes, int | None], ...] = field(default=(), repr=False)
    command_count: int = 0
    #: Completion ids and signals notified so far (a shared empty frozenset until the first one).
    notified_completions: set[int] | frozenset[int] = frozenset()
    notified_signals: set[int | str] | frozenset[int | str] = frozenset()
    awaiting: AwaitPoint | None = None
    #: The outcome; a packed successful one is kept as its bytes alone (see ``pack``).
    _result: Result | bytes | None = field(default=None, repr=False)
    pending_output: Result | None = None
    attempts: int = 0
    retry_count: int = 0
    next_retry_at_ms: int | None = None
    last_failure: str | None = None
    last_failure_code: int | None = None
    modified_at_ms: int = 0
    #: When the journal last grew: with ``retries_since_stored`` the SDK's budget for ``ctx.run`` retries.
    stored_at_ms: int = 0
    #: Failed attempts since the journal last grew (``retry_count_since_last_stored_entry`` of the start
    #: message). Unlike ``retry_count`` (sys_invocation's, reset only by a suspension), a new entry resets it.
    retries_since_stored: int = 0
    running_since_ms: int | None = None
    #: Host wall time (ms, fractional) at which the current attempt started: bounds host-clock stamps.
    attempt_host_start_ms: float | None = None
    completed_at_ms: int | None = None
    retention_ms: int = 0
    random_seed: int = 0
    waiters: list[asyncio.Future[Result]] | None = None
    on_complete: list[CompletionHook] | None = None
    callees: list[str] | None = None
    live_input: LiveBody | None = None
    attempt_task: asyncio.Task[None] | None = None
    timer_handles: list[Timer] | None = None
    #: Submission order, which keeps per-key inbox order across a restart in durable mode.
    seq: int = 0
    #: How many journal entries the durable store already holds.
    persisted_journal: int = 0
    #: ``str(id)``, the key of ``Engine.invocations``.
    id_str: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.id_str = str(self.id)
        if not self.headers:
            self.headers = ()
        self.modified_at_ms = self.created_at_ms
        self.stored_at_ms = self.created_at_ms

    @property
    def journal(self) -> list[Frame]:
        """The journal, oldest entry first. A packed journal is read as a fresh list: it no longer changes
        (replace it, as purging it does, rather than change the list read)."""
        journal = self._journal
        if journal is not None:
            return journal
        return [Frame(msg_type, payload) for msg_type, payload, _ in self._packed_journal]

    @journal.setter
    def journal(self, frames: list[Frame]) -> None:
        """Replace the journal; its entries have no append time (``append_entry`` records one)."""
        self._journal = frames
        self._appended_at = None
        self._packed_journal = ()

    def restore_journal(self, frames: list[Frame], appended_at: list[int | None]) -> None:
        """Replace the journal with one read back from the durable store, with its append times."""
        self.journal = frames
        self._appended_at = list(appended_at[: len(frames)])

    def append_entry(self, frame: Frame, now_ms: int) -> None:
        """Append ``frame`` to the journal, remembering when (``sys_journal.appended_at``)."""
        journal = self.journal
        times = self._appended_at
        if times is None:
            times = self._appended_at = []
        if len(times) < len(journal):  # entries set without a time keep their place, as None
            times.extend([None] * (len(journal) - len(times)))
        journal.append(frame)
        times.append(now_ms)

    def truncate_journal(self, length: int) -> None:
        """Drop the entries from ``length`` on (a command the server could not act on)."""
        del self.journal[length:]
        if self._appended_at is not None:
            del self._appended_at[length:]

    def appended_at(self) -> list[int | None]:
        """When each journal entry was appended (engine ms), None where it is not known."""
        if self._journal is None:
            return [at for _, _, at in self._packed_journal]
        times = self._appended_at or []
        known = times[: len(self._journal)]
        return known + [None] * (len(self._journal) - len(known))

    @property
    def result(self) -> Result | None:
        """The outcome once completed (a ``Value`` or a ``Failure``), else None."""
        result = self._result
        if type(result) is bytes:
            return Value(result)
        return result  # type: ignore[return-value]

    @result.setter
    def result(self, result: Result | None) -> None:
        self._result = result

    def pack(self) -> None:
        """Keep a completed invocation in a form the cyclic collector does not scan.

        Completed invocations are retained for a day (``completion_retention_ms``), and a busy runtime's
        collections would otherwise rescan every retained journal entry and result object each time.
        Nothing changes for readers: ``journal`` and ``result`` read the same values back.
        """
        journal = self._journal
        if journal is not None:
            times = self.appended_at()
            self._packed_journal = tuple(
                (int(frame.type), frame.payload, at) for frame, at in zip(journal, times, strict=True)
            )
            self._journal = None
            self._appended_at = None
        if type(self._result) is Value:
            self._result = self._result.content
        self.pending_output = None

    def note_completion(self, completion_id: int) -> None:
        """Record that the notification for ``completion_id`` is in the journal."""
        notified = self.notified_completions
        if isinstance(notified, set):
            notified.add(completion_id)
        else:
            self.notified_completions = {completion_id}

    def note_signal(self, signal: int | str) -> None:
        """Record that ``signal`` was notified."""
        notified = self.notified_signals
        if isinstance(notified, set):
            notified.add(signal)
        else:
            self.notified_signals = {signal}

    def add_callee(self, invocation_id: str) -> None:
        """Remember a callee whose result this invocation waits for (cancel and kill reach it)."""
        if self.callees is None:
            self.callees = [invocation_id]
        else:
            self.callees.append(invocation_id)

    @property
    def holds_lock(self) -> bool:
        return self.handler_type is not None and self.handler_type.takes_lock and self.target.key is not None

    @property
    def lock_key(self) -> tuple[str, str | None]:
        return self.target.service_id

    @property
    def completed(self) -> bool:
        return self.status is InvocationStatus.COMPLETED

    def wakes_on(self, completion_id: int | None = None, signal: int | str | None = None) -> bool:
        """Whether a new notification is one the suspended attempt waits for."""
        point = self.awaiting
        if point is None:
            return False
        if completion_id is not None:
            return completion_id in point.completions
        if isinstance(signal, int):
            return signal in point.signals or signal == 1
        return signal in point.named_signals

    def already_satisfied(self) -> bool:
        """True if something the suspension waits for arrived before the suspension did."""
        point = self.awaiting
        if point is None:
            return False
        return bool(
            point.completions & self.notified_completions
            or (point.signals | {1}) & self.notified_signals
            or point.named_signals & {s for s in self.notified_signals if isinstance(s, str)}
        )
