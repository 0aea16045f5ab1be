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
from restate_lab.rules.idempotency import DEFAULT_IDEMPOTENCY_RETENTION_MS
from restate_lab.rules.retry import RetryPolicy
from restate_lab.sim.distributions import Constant, Distribution, as_distribution
from restate_lab.sim.keys import KeyChooser

__all__ = [
    "SAME_KEY", "Call", "Catalogue", "ChildKey", "FailureSchedule", "HandlerBehaviour", "HandlerModel",
    "Send", "ServiceModel", "Sleep", "Step", "Work", "default_behaviour",
]

#: Where a call or send from a handler goes: the caller's own key, no key, a fixed key, or a chooser.
ChildKey = str | KeyChooser | None
SAME_KEY = "$same"


@dataclass(frozen=True)
class Work:
    """Plain compute in the handler: not journaled, so it runs again on every retry."""

    duration: Distribution


@dataclass(frozen=True)
class Sleep:
    """``ctx.sleep``: journaled; the invocation suspends and frees its deployment slot meanwhile."""

    duration: Distribution


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


Step = Work | Sleep | Call | Send
#: Decides whether attempt number ``n`` (1-based) started at virtual time ``now_ms`` fails (retryably).
FailureSchedule = Callable[[int, float], bool]


@dataclass
class HandlerBehaviour:
    """How one handler behaves under simulation.

    ``steps`` is the handler's program; when empty it is a single :class:`Work` of ``service_time``.
    A failing attempt fails at its end, after its work; journaled steps (sleep, call, send) are replayed,
    not repeated, on the next attempt, as Restate's journal does.

    >>> b = HandlerBehaviour(service_time=10, failure_probability=0.1)
    >>> b.program()[0].duration.mean, b.retry_policy is None
    (10.0, True)
    """

    service_time: Distribution | float | Any = 0.0
    failure_probability: float = 0.0
    failure_schedule: FailureSchedule | Sequence[bool] | None = None
    terminal_failure_probability: float = 0.0
    steps: Sequence[Step] = ()
    retry_policy: RetryPolicy | None = None
    idempotency_retention_ms: float = DEFAULT_IDEMPOTENCY_RETENTION_MS
    result: Callable[[Any], Any] | None = None

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
