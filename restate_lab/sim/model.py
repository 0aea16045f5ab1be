"""What is simulated: the service catalogue, deployments, and how each handler behaves.

The catalogue has the shape of Restate's admin ``GET /services`` so a model can be read from a real
server, from our runtime's registry, or written by hand; behaviour is attached per ``service/handler``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from restate_lab.rules.admission import (
    DEFAULT_WORKFLOW_RETENTION_MS,
    handler_type_of,
    is_workflow_run,
    takes_key_lock,
)
from restate_lab.rules.errors import DEFAULT_TERMINAL_CODE, FailureText
from restate_lab.rules.idempotency import DEFAULT_IDEMPOTENCY_RETENTION_MS
from restate_lab.rules.retry import RetryPolicy
from restate_lab.rules.targets import HandlerType, ServiceType
from restate_lab.sim.distributions import Constant, Distribution, as_distribution
from restate_lab.sim.keys import KeyChooser

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


@dataclass
class HandlerModel:
    """A handler as the catalogue declares it."""

    service: str
    name: str
    service_type: ServiceType
    declared: HandlerType | None

    @property
    def takes_lock(self) -> bool:
        return takes_key_lock(self.service_type, self.declared)

    @property
    def workflow_run(self) -> bool:
        return is_workflow_run(self.service_type, self.declared)

    @property
    def handler_type(self) -> HandlerType | None:
        return handler_type_of(self.service_type, self.declared)


@dataclass
class ServiceModel:
    """A service and its deployment: ``concurrency`` attempts run at once (``None``: unlimited)."""

    name: str
    service_type: ServiceType
    handlers: dict[str, HandlerModel] = field(default_factory=dict)
    concurrency: int | None = None
    workflow_retention_ms: float = DEFAULT_WORKFLOW_RETENTION_MS


class Catalogue:
    """The services being simulated, readable from and writable to the admin ``/services`` shape.

    >>> handlers = [{"name": "add", "ty": "EXCLUSIVE"}, {"name": "get", "ty": "SHARED"}]
    >>> cat = Catalogue.from_admin([{"name": "Counter", "ty": "VIRTUAL_OBJECT", "handlers": handlers}])
    >>> cat.handler("Counter", "add").takes_lock, cat.handler("Counter", "get").takes_lock
    (True, False)
    """

    def __init__(self, services: Iterable[ServiceModel] = ()) -> None:
        self.services: dict[str, ServiceModel] = {s.name: s for s in services}

    @classmethod
    def from_admin(
        cls, services: Iterable[Mapping[str, Any]], concurrency: Mapping[str, int | None] | None = None
    ) -> Catalogue:
        """Read admin ``GET /services`` entries (the list, or the ``{"services": [...]}`` body's list)."""
        models = []
        for entry in services:
            ty = ServiceType(entry["ty"])
            model = ServiceModel(entry["name"], ty, concurrency=(concurrency or {}).get(entry["name"]))
            for handler in entry.get("handlers", []):
                declared = HandlerType(handler["ty"]) if handler.get("ty") else None
                model.handlers[handler["name"]] = HandlerModel(entry["name"], handler["name"], ty, declared)
            models.append(model)
        return cls(models)

    def to_admin(self) -> list[dict[str, Any]]:
        """The catalogue in the admin ``GET /services`` shape."""
        return [
            {
                "name": s.name,
                "ty": s.service_type.value,
                "handlers": [
                    {"name": h.name, "ty": h.declared.value if h.declared else None}
                    for h in s.handlers.values()
                ],
            }
            for s in self.services.values()
        ]

    def add(
        self,
        name: str,
        service_type: ServiceType | str,
        handlers: Mapping[str, HandlerType | str | None] | Iterable[str],
        concurrency: int | None = None,
    ) -> ServiceModel:
        """Declare a service in Python: ``add("Counter", "VIRTUAL_OBJECT", {"add": "EXCLUSIVE"})``."""
        ty = ServiceType(service_type)
        spec = handlers if isinstance(handlers, Mapping) else {h: None for h in handlers}
        model = ServiceModel(name, ty, concurrency=concurrency)
        for handler, declared in spec.items():
            hty = HandlerType(declared) if declared is not None else None
            model.handlers[handler] = HandlerModel(name, handler, ty, hty)
        self.services[name] = model
        return model

    def service(self, name: str) -> ServiceModel | None:
        return self.services.get(name)

    def handler(self, service: str, handler: str) -> HandlerModel | None:
        model = self.services.get(service)
        return model.handlers.get(handler) if model else None


def default_behaviour() -> HandlerBehaviour:
    """A handler with no declared behaviour: instantaneous and always succeeding."""
    return HandlerBehaviour(service_time=Constant(0.0))
