"""Restart-as-new: when a completed invocation may run again, and which of its journal the new one keeps.

Measured on Restate Server 1.7.12 (``docs/observed-restate-1.7.12.md``, "Restart as new"): only a
completed invocation restarts (an inboxed or scheduled one answers 425, any other 409); never one of
a workflow (422); never one whose journal is gone (410). The new invocation gets a fresh id on the
same partition, the original's input and headers, no idempotency key, and ``?from=N`` copies the
original journal's entries ``0..N`` plus the notifications completing the commands among them;
a prefix past the journal's end, or with a command still waiting, is refused. The engine carries the
restart out (:meth:`restate_lab.runtime.engine.Engine.restart_as_new`); these are the decisions.
"""

from __future__ import annotations

from collections.abc import Sequence

from restate_lab.protocol.messages import Frame, MessageType, Value, notified, result_of
from restate_lab.rules.errors import (
    RestateError,
    not_running_yet,
    restart_input_gone,
    restart_not_supported,
    still_running,
)
from restate_lab.rules.lifecycle import NOT_STARTED, InvocationStatus
from restate_lab.rules.targets import ServiceType
from restate_lab.runtime.invocation import Invocation

#: The fields through which a command names the notifications that complete it.
_COMPLETION_FIELDS = ("result_completion_id", "invocation_id_notification_idx")


def restart_refusal(inv: Invocation) -> RestateError | None:
    """Why ``inv`` cannot be restarted as new now (status, then service type, then journal), or ``None``."""
    if inv.status in NOT_STARTED:
        return not_running_yet(inv.id_str)
    if inv.status is not InvocationStatus.COMPLETED:
        return still_running(inv.id_str)
    if inv.service_type is ServiceType.WORKFLOW:
        return restart_not_supported(inv.id_str)
    if not inv.journal:
        return restart_input_gone(inv.id_str)
    return None


def _awaited(command: Frame) -> set[int]:
    message = command.message()
    fields = message.DESCRIPTOR.fields_by_name
    return {getattr(message, name) for name in _COMPLETION_FIELDS if name in fields}


def journal_prefix(journal: Sequence[Frame], last: int) -> list[Frame] | None:
    """Entries ``0..last`` of ``journal`` and the later notifications completing their commands.

    ``None`` when ``last`` is past the end or a command of the prefix has no completion in the journal.

    >>> from restate_lab.protocol.messages import input_command
    >>> [f.type == MessageType.INPUT_COMMAND for f in journal_prefix([input_command([], b"1")], 0)]
    [True]
    >>> journal_prefix([input_command([], b"1")], 1) is None
    True
    """
    if last >= len(journal):
        return None
    prefix = list(journal[: last + 1])
    wanted: set[int] = set()
    have: set[int] = set()
    for frame in prefix:
        if frame.is_command:
            wanted |= _awaited(frame)
        elif frame.is_notification:
            completion_id, _signal = notified(frame.message())
            if completion_id is not None:
                have.add(completion_id)
    for frame in journal[last + 1 :]:
        if frame.is_notification and len(have) < len(wanted):
            completion_id, _signal = notified(frame.message())
            if completion_id in wanted and completion_id not in have:
                prefix.append(frame)
                have.add(completion_id)
    return prefix if wanted <= have else None


def adopt_journal(inv: Invocation, journal: list[Frame], now_ms: int) -> None:
    """Give a new invocation a copied journal (appended now): what it was notified of, its commands, its
    output if any."""
    inv.journal = []
    for frame in journal:
        inv.append_entry(frame, now_ms)
    inv.command_count = sum(1 for f in journal if f.is_command) - 1  # the input is not counted
    for frame in journal:
        if frame.is_notification:
            completion_id, signal = notified(frame.message())
            if signal is not None:
                inv.note_signal(signal)
            elif completion_id is not None:
                inv.note_completion(completion_id)
        elif frame.type == MessageType.OUTPUT_COMMAND:
            inv.pending_output = result_of(frame.message(), void=None) or Value(b"")
