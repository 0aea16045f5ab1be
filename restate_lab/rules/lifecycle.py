"""The invocation lifecycle as pure decisions: statuses, failed attempts, cancel, kill, suspension.

Both drivers ask these functions what happens next and then carry it out with their own clock:
the runtime on asyncio, the simulator on simpy. What each answer means was measured on Restate
Server 1.7.12 (``docs/observed-restate-1.7.12.md``, "Lifecycle decisions"):

- a failed attempt is retried after the policy's back-off until ``max_attempts`` attempts have
  failed; then the invocation is paused, or killed: it *completes* with the last failure;
- the failure count starts again after a suspension (the invocation made progress) and on resume;
- cancel and kill of an invocation that never ran (``pending`` in its key's inbox, or ``scheduled``
  by a delay) drop it: the server forgets it and output answers 404;
- cancel of a running or suspended invocation is a signal its handler sees at its next await;
  of a backing-off one, a signal seen by the next attempt when the back-off ends; of a paused one,
  a signal and a resume;
- kill of anything else completes it at once with ``[409] killed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from restate_lab.rules.retry import RetryPolicy


class InvocationStatus(StrEnum):
    """The statuses ``sys_invocation`` reports on Restate Server, and no others.

    A killed, cancelled or failed invocation is ``completed``; how it ended is its result.

    >>> [s.value for s in InvocationStatus]
    ['pending', 'scheduled', 'ready', 'running', 'backing-off', 'suspended', 'paused', 'completed']
    """

    PENDING = "pending"
    SCHEDULED = "scheduled"
    READY = "ready"
    RUNNING = "running"
    BACKING_OFF = "backing-off"
    SUSPENDED = "suspended"
    PAUSED = "paused"
    COMPLETED = "completed"


#: Statuses in which the invocation has not run yet: cancel and kill drop it.
NOT_STARTED = frozenset({InvocationStatus.PENDING, InvocationStatus.SCHEDULED})


# ---- after a failed attempt -------------------------------------------------------------------


@dataclass(frozen=True)
class Retry:
    """Run another attempt after ``delay_ms`` (status ``backing-off`` meanwhile)."""

    delay_ms: int


@dataclass(frozen=True)
class Pause:
    """Stop retrying and wait for a resume (status ``paused``; the key stays locked)."""


@dataclass(frozen=True)
class Kill:
    """Stop retrying and complete with the last attempt's failure."""


AfterFailure = Retry | Pause | Kill


def after_failure(policy: RetryPolicy, failures: int, requested_delay_ms: int | None = None) -> AfterFailure:
    """What follows the ``failures``-th failed attempt (counted since the last suspension or resume).

    ``requested_delay_ms`` is a back-off the SDK asked for with the failure (it wins over the policy's).

    >>> policy = RetryPolicy(initial_interval_ms=100, max_attempts=3, on_max_attempts="kill")
    >>> after_failure(policy, 1), after_failure(policy, 2, 7), after_failure(policy, 3)
    (Retry(delay_ms=100), Retry(delay_ms=7), Kill())
    >>> after_failure(RetryPolicy(max_attempts=1), 1)
    Pause()
    """
    if policy.exhausted(failures):
        return _KILL if policy.on_max_attempts == "kill" else _PAUSE
    delay = policy.delay_ms(failures) if requested_delay_ms is None else requested_delay_ms
    decision = _RETRIES.get(delay)
    if decision is None:
        decision = Retry(delay)
        if len(_RETRIES) < 4096:
            _RETRIES[delay] = decision
    return decision


# The decisions are immutable values: made once and handed out again (a simulation asks millions of times).
_KILL = Kill()
_PAUSE = Pause()
_RETRIES: dict[int, Retry] = {}


def failures_after_suspension(failures: int) -> int:
    """The failure count once an attempt suspends: progress was made, so the count starts again.

    Measured: a handler failing twice, suspending, then failing twice more under ``max_attempts=3``
    completes normally on Restate Server (request-response deployments, where a sleep suspends).

    >>> failures_after_suspension(2)
    0
    """
    return 0


def failures_after_resume(failures: int) -> int:
    """The failure count once a paused invocation is resumed (also by a cancel): a fresh budget.

    >>> failures_after_resume(70)
    0
    """
    return 0


# ---- cancel and kill --------------------------------------------------------------------------


class CancelAction(Enum):
    """What a cancel does; see :func:`cancel_action`."""

    #: Never ran: remove it without a trace (output then answers 404 ``invocation not found``).
    DROP = "drop"
    #: Admitted but no attempt started yet: complete now with ``[409] cancelled``.
    END = "end"
    #: Deliver the cancel signal; the handler sees it at its next await (running, suspended)
    #: or the next attempt sees it when the back-off ends (backing-off).
    SIGNAL = "signal"
    #: Deliver the signal and resume the paused invocation so an attempt sees it.
    SIGNAL_AND_RESUME = "signal-and-resume"
    #: Nothing to do; the admin API answers 409 ``was already completed``.
    ALREADY_COMPLETED = "already-completed"


class KillAction(Enum):
    """What a kill does; see :func:`kill_action`."""

    #: Never ran: remove it without a trace.
    DROP = "drop"
    #: Stop any attempt and complete now with ``[409] killed``; callees are killed too.
    END = "end"
    #: Nothing to do; the admin API answers 409 ``was already completed``.
    ALREADY_COMPLETED = "already-completed"


def cancel_action(status: InvocationStatus | str, attempts: int) -> CancelAction:
    """What cancelling an invocation in ``status`` does, ``attempts`` being how many attempts started.

    >>> [cancel_action(s, 1).value for s in ("pending", "running", "backing-off", "paused", "completed")]
    ['drop', 'signal', 'signal', 'signal-and-resume', 'already-completed']
    >>> cancel_action("ready", 0)
    <CancelAction.END: 'end'>
    """
    status = InvocationStatus(status)
    if status is InvocationStatus.COMPLETED:
        return CancelAction.ALREADY_COMPLETED
    if status in NOT_STARTED:
        return CancelAction.DROP
    if status is InvocationStatus.READY and attempts == 0:
        return CancelAction.END
    if status is InvocationStatus.PAUSED:
        return CancelAction.SIGNAL_AND_RESUME
    return CancelAction.SIGNAL


def kill_action(status: InvocationStatus | str) -> KillAction:
    """What killing an invocation in ``status`` does.

    >>> [kill_action(s).value for s in ("scheduled", "suspended", "paused", "completed")]
    ['drop', 'end', 'end', 'already-completed']
    """
    status = InvocationStatus(status)
    if status is InvocationStatus.COMPLETED:
        return KillAction.ALREADY_COMPLETED
    if status in NOT_STARTED:
        return KillAction.DROP
    return KillAction.END
