"""Compact column storage for simulated invocations: typed arrays, not one object per row.

A million invocations cost a few dozen bytes each here, so the large runs the issue asks for fit in
memory; frames are built from these columns only when asked for.
"""

from __future__ import annotations

from array import array

from restate_lab.rules.lifecycle import InvocationStatus

NAN = float("nan")

#: Status codes, in Restate's vocabulary and only its (``restate_lab.rules.lifecycle.InvocationStatus``).
PENDING, SCHEDULED, READY, RUNNING, BACKING_OFF, SUSPENDED, PAUSED, COMPLETED = range(8)
STATUS_NAMES = tuple(status.value for status in InvocationStatus)
STATUSES = tuple(InvocationStatus)
#: Codes >= FINAL are final: only ``completed``.
FINAL = COMPLETED

#: How a completed invocation ended (``outcome`` column); all but SUCCEEDED complete with a failure.
NOT_ENDED, SUCCEEDED, FAILED, EXHAUSTED, KILLED, CANCELLED = range(6)
#: ``ended_by`` names of the outcomes: a terminal error, retries run out (killed by the retry policy),
#: a kill, a cancel.
OUTCOME_NAMES = ("", "success", "terminal-error", "retries-exhausted", "killed", "cancelled")


class InvocationRecords:
    """One entry per submission, deduplicated ones included, in submission order."""

    def __init__(self) -> None:
        self.handler = array("i")  # index into the simulation's handler table
        self.key = array("i")  # interned key code, -1 for unkeyed
        self.idem = array("q")  # idempotency key code, -1 for none
        self.submitted = array("d")
        self.ready = array("d")  # when it became runnable (after its delay)
        self.started = array("d")  # first attempt start
        self.completed = array("d")
        self.attempts = array("i")
        self.status = array("b")
        self.outcome = array("b")  # NOT_ENDED until completed, then how it ended
        self.dedup_of = array("i")  # the invocation this submission was answered by, -1 if new
        self.parent = array("i")  # calling invocation, -1 for ingress and Kafka

    def add(
        self, handler: int, key: int, idem: int, now: float, status: int, dedup_of: int, parent: int
    ) -> int:
        i = len(self.handler)
        self.handler.append(handler)
        self.key.append(key)
        self.idem.append(idem)
        self.submitted.append(now)
        self.ready.append(NAN)
        self.started.append(NAN)
        self.completed.append(NAN)
        self.attempts.append(0)
        self.status.append(status)
        self.outcome.append(NOT_ENDED)
        self.dedup_of.append(dedup_of)
        self.parent.append(parent)
        return i

    def __len__(self) -> int:
        return len(self.handler)

    def nbytes(self) -> int:
        """Bytes held by the columns."""
        return sum(col.itemsize * len(col) for col in vars(self).values() if isinstance(col, array))


class QueueTrace:
    """Per-key queue depth (running plus waiting) after each change, for keys that take a lock."""

    def __init__(self) -> None:
        self.time = array("d")
        self.lock_key = array("q")
        self.depth = array("i")

    def record(self, now: float, lock_key: int, depth: int) -> None:
        self.time.append(now)
        self.lock_key.append(lock_key)
        self.depth.append(depth)
