"""Compact column storage for simulated invocations: typed arrays, not one object per row.

A million invocations cost a few dozen bytes each here, so the large runs the issue asks for fit in
memory; frames are built from these columns only when asked for.
"""

from __future__ import annotations

from array import array
from typing import Any

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


def intern(name: str | None, codes: dict[str, int], names: list[str]) -> int:
    """The code of ``name`` in a table of names (``codes`` maps back into ``names``), added if new; -1 for None."""
    if name is None:
        return -1
    code = codes.get(name)
    if code is None:
        code = codes[name] = len(names)
        names.append(name)
    return code


class InvocationRecords:
    """One entry per submission, deduplicated ones included, in submission order."""

    #: Rows added at a time: columns grow in blocks of defaults, so adding a row writes only the
    #: columns it sets (the rest keep NaN, 0, -1 for ``idem``, ``dedup_of`` and ``parent``, or NOT_ENDED until
    #: the row's invocation sets them).
    BLOCK = 8192
    #: The column attributes, named here rather than found through ``vars(self)``: on Python 3.11 an
    #: instance whose ``__dict__`` was materialised loses the specialised attribute access of its
    #: other instances, and the simulator reads these columns several times per event.
    COLUMNS = (
        "handler",
        "key",
        "idem",
        "submitted",
        "ready",
        "started",
        "completed",
        "attempts",
        "status",
        "outcome",
        "dedup_of",
        "parent",
    )

    def __init__(self) -> None:
        self.n = 0  # rows in use; the columns hold ``capacity`` entries
        self.capacity = 0
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
        # -1 ("none") where a new row most often has it, so the simulator's hot path need not write it
        minus_one = {"idem", "dedup_of", "parent"}
        self._blocks: dict[str, array[Any]] = {}
        for name in self.COLUMNS:
            typecode = getattr(self, name).typecode
            default = NAN if typecode == "d" else -1 if name in minus_one else 0
            self._blocks[name] = array(typecode, [default]) * self.BLOCK

    def grow(self) -> None:
        """Make room for another block of rows."""
        for name, block in self._blocks.items():
            getattr(self, name).extend(block)
        self.capacity += self.BLOCK

    def add(self, handler: int, key: int, idem: int, now: float, status: int, dedup_of: int, parent: int) -> int:
        """Add a row (the simulator inlines this on its hot path) and return its index."""
        i = self.n
        if i == self.capacity:
            self.grow()
        self.n = i + 1
        self.handler[i] = handler
        self.key[i] = key
        self.idem[i] = idem
        self.submitted[i] = now
        self.status[i] = status
        self.dedup_of[i] = dedup_of
        self.parent[i] = parent
        return i

    def __len__(self) -> int:
        return self.n

    def nbytes(self) -> int:
        """Bytes held by the rows in use."""
        return sum(getattr(self, name).itemsize * self.n for name in self.COLUMNS)


class QueueTrace:
    """Per-key queue changes (one more, or one less, running or waiting), for keys that take a lock.

    Each change is one time and one code, ``lock_key << 1 | 1`` for an arrival and ``lock_key << 1``
    for a departure: two appends, no depth lookup on the simulator's hot path. The depth after each
    change is their running sum per key (``restate_lab.sim.results.queue_depth_frame``).
    """

    def __init__(self) -> None:
        self.time = array("d")
        self.change = array("q")

    def arrived(self, now: float, lock_key: int) -> None:
        self.time.append(now)
        self.change.append(lock_key << 1 | 1)

    def left(self, now: float, lock_key: int) -> None:
        self.time.append(now)
        self.change.append(lock_key << 1)


class RowQueueTrace:
    """The simulator's per-key queue changes, as :class:`QueueTrace` s but one append per change.

    Each change is a row code, ``row << 1 | 1`` when the row joins its key's queue (at its ``ready``
    time) and ``row << 1`` when it leaves (at its ``completed`` time): the key and the time are the
    row's own, read from the records when the frame is built (``queue_depth_frame``).
    """

    def __init__(self) -> None:
        self.change = array("q")
