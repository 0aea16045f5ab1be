"""What is simulated: the service catalogue, deployments, and how each handler behaves.

The catalogue (``restate_lab.catalogue``, re-exported here) has the shape of Restate's admin
``GET /services``, so a model is read from any target's ``catalogue()`` or written by hand; behaviour
is attached per ``service/handler``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from restate_lab.catalogue import Catalogue, HandlerModel, ServiceModel
from restate_lab.rules.errors import DEFAULT_TERMINAL_CODE, FailureText
from restate_lab.rules.idempotency import DEFAULT_IDEMPOTENCY_RETENTION_MS
from restate_lab.rules.retry import RetryPolicy
from restate_lab.sim.distributions import Constant, Distribution, as_distribution
from restate_lab.sim.keys import KeyChooser

__all__ = [
    "SAME_KEY",
    "Call",
    "Catalogue",
    "ChildKey",
    "FailureSchedule",
    "HandlerBehaviour",
    "HandlerModel",
    "Send",
    "ServiceModel",
    "Sleep",
    "Step",
    "Work",
    "default_behaviour",
]

#: Where a call or send from a handler goes: the caller's own key, no key, a fixed key, or a chooser.
ChildKey = str | KeyChooser | None
SAME_KEY = "$same"


@dataclass(frozen=True)
class Work:
    """Plain compute in the handler: not journaled, so it runs again on every retry."""

    duration: Distribution

    def __post_init__(self) -> None:
        # A plain number of milliseconds is a constant duration.
        object.__setattr__(self, "duration", as_distribution(self.duration))


@dataclass(frozen=True)
class Sleep:
    """``ctx.sleep``: journaled; the invocation suspends and frees its deployment slot meanwhile."""

    duration: Distribution

    def __post_init__(self) -> None:
        # A plain number of milliseconds is a constant duration.
        object.__setattr__(self, "duration", as_distribution(self.duration))


@dataclass(frozen=True)
class Call:
    """``ctx.service_call``/``object_call``: journaled; the caller suspends until the callee completes."""

    service: str
    handler: str
    key: ChildKey = None


@dataclass(frozen=True)
class Send:
    """``ctx.service_send``: journaled, fire-and-forget, optionally delayed."""

    service: str
    handler: str
    key: ChildKey = None
    delay_ms: float = 0.0


@dataclass(frozen=True)
class Fail:
    """A point where the handler raises (a retryable error) the first ``times`` times it gets there.

    Not journaled: every attempt that reaches it counts, so ``Fail(2)`` before a sleep fails two
    attempts and lets the third go on, as a handler that throws until it has been retried twice.
    The failure reports the behaviour's ``failure_code`` and ``failure_message``.
    """

    times: int


Step = Work | Sleep | Call | Send | Fail
#: Decides whether attempt number ``n`` (1-based) started at virtual time ``now_ms`` fails (retryably).
FailureSchedule = Callable[[int, float], bool]


@dataclass
class HandlerBehaviour:
    """How one handler behaves under simulation.

    ``steps`` is the handler's program; when empty it is a single :class:`Work` of ``service_time``.
    A failing attempt fails at its end, after its work; journaled steps (sleep, call, send) are replayed,
    not repeated, on the next attempt, as Restate's journal does.

    What a failure answers is part of the model: a terminal failure (``TerminalError`` in the SDK)
    completes the invocation with ``terminal_code`` and ``terminal_message``; a retryable failure
    that exhausts a ``kill`` retry policy completes it with ``failure_code`` and ``failure_message``
    (the SDK reports a plain exception as 500 with its ``repr``, e.g. ``ValueError('boom')``).

    >>> b = HandlerBehaviour(service_time=10, failure_probability=0.1)
    >>> b.program()[0].duration.mean, b.retry_policy is None
    (10.0, True)
    >>> HandlerBehaviour(terminal_failure_probability=1.0, terminal_code=418).terminal_failure.render()
    '[418] simulated terminal failure'
    """

    service_time: Distribution | float | Any = 0.0
    failure_probability: float = 0.0
    failure_schedule: FailureSchedule | Sequence[bool] | None = None
    terminal_failure_probability: float = 0.0
    steps: Sequence[Step] = ()
    retry_policy: RetryPolicy | None = None
    idempotency_retention_ms: float = DEFAULT_IDEMPOTENCY_RETENTION_MS
    result: Callable[[Any], Any] | None = None
    terminal_code: int = DEFAULT_TERMINAL_CODE
    terminal_message: str = "simulated terminal failure"
    failure_code: int = 500
    failure_message: str = "simulated failure"

    @property
    def terminal_failure(self) -> FailureText:
        """What a terminal failure of this handler completes with."""
        return FailureText(self.terminal_code, self.terminal_message)

    @property
    def retry_failure(self) -> FailureText:
        """What the last retryable failure completes with when the retry policy kills the invocation."""
        return FailureText(self.failure_code, self.failure_message)

    def program(self) -> tuple[Step, ...]:
        """The steps one attempt executes."""
        if self.steps:
            return tuple(self.steps)
        return (Work(as_distribution(self.service_time)),)

    def attempt_fails(self, attempt: int, now_ms: float, rng: random.Random) -> bool:
        """Whether attempt ``attempt`` fails retryably, by schedule first, else by probability."""
        schedule = self.failure_schedule
        if schedule is not None:
            if callable(schedule):
                return bool(schedule(attempt, now_ms))
            return attempt <= len(schedule) and bool(schedule[attempt - 1])
        return self.failure_probability > 0 and rng.random() < self.failure_probability


def default_behaviour() -> HandlerBehaviour:
    """A handler with no declared behaviour: instantaneous and always succeeding."""
    return HandlerBehaviour(service_time=Constant(0.0))
