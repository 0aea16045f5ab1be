"""Simulator twins of the handlers in :mod:`tests.parity.app`: the same failures, sleeps and answers.

Each behaviour does in virtual time what its restate-sdk handler does in code, so the parity
scenarios read the same on the simulator as on the runtime and the real server.
"""

from __future__ import annotations

from restate_lab.rules.retry import RetryPolicy
from restate_lab.sim import Fail, HandlerBehaviour, Simulation, Sleep, Work
from restate_lab.sim.facade import SimulatedRestate

from .app import BRIEF_RETENTION_MS, BUSY_S, LONG_SLEEP_S, RETRY_MS, SLOW_RETRY_MS

CATALOGUE = [
    {
        "name": "Lifecycle",
        "ty": "SERVICE",
        "handlers": [
            {"name": name, "ty": None}
            for name in (
                "greet",
                "greet_brief",
                "fail_twice",
                "always_pause",
                "always_kill",
                "teapot",
                "terminal_default",
                "nap",
                "short_nap",
                "busy",
                "fail_then_nap",
                "pause_then_nap",
                "fail_around_sleep",
            )
        ],
    },
    {
        "name": "Locker",
        "ty": "VIRTUAL_OBJECT",
        "handlers": [
            {"name": "hold", "ty": "EXCLUSIVE"},
            {"name": "quick", "ty": "EXCLUSIVE"},
        ],
    },
    {"name": "Signup", "ty": "WORKFLOW", "handlers": [{"name": "run", "ty": "WORKFLOW"}]},
]


def _quick(max_attempts: int, on_max: str, interval_ms: int = RETRY_MS) -> RetryPolicy:
    return RetryPolicy(
        initial_interval_ms=interval_ms,
        factor=1.0,
        max_interval_ms=interval_ms,
        max_attempts=max_attempts,
        on_max_attempts=on_max,
    )  # type: ignore[arg-type]


def _hello(name: object) -> str:
    return f"Hello {name}!"


ALWAYS = 1_000_000  # a Fail step that never lets the handler through
ALWAYS_FAILS = "ValueError('always fails')"
LONG_MS = LONG_SLEEP_S * 1000

BEHAVIOURS = {
    "Lifecycle/greet": HandlerBehaviour(result=_hello),
    "Lifecycle/greet_brief": HandlerBehaviour(result=_hello, idempotency_retention_ms=BRIEF_RETENTION_MS),
    "Lifecycle/fail_twice": HandlerBehaviour(
        steps=[Fail(2)], retry_policy=_quick(5, "pause"), result=lambda _body: "ok"
    ),
    "Lifecycle/always_pause": HandlerBehaviour(
        steps=[Fail(ALWAYS)], retry_policy=_quick(2, "pause"), failure_message=ALWAYS_FAILS
    ),
    "Lifecycle/always_kill": HandlerBehaviour(
        steps=[Fail(ALWAYS)], retry_policy=_quick(2, "kill"), failure_message=ALWAYS_FAILS
    ),
    "Lifecycle/teapot": HandlerBehaviour(
        terminal_failure_probability=1.0, terminal_code=418, terminal_message="custom failure"
    ),
    "Lifecycle/terminal_default": HandlerBehaviour(
        terminal_failure_probability=1.0, terminal_message="plain terminal failure"
    ),
    "Lifecycle/nap": HandlerBehaviour(steps=[Sleep(LONG_MS)], result=lambda _body: "rested"),
    "Lifecycle/short_nap": HandlerBehaviour(steps=[Sleep(50)], result=lambda _body: "rested"),
    "Lifecycle/busy": HandlerBehaviour(steps=[Work(BUSY_S * 1000), Sleep(10)], result=lambda _body: "done"),
    "Lifecycle/fail_then_nap": HandlerBehaviour(
        steps=[Fail(1), Sleep(LONG_MS)], retry_policy=_quick(5, "pause", SLOW_RETRY_MS), result=lambda _body: "rested"
    ),
    "Lifecycle/pause_then_nap": HandlerBehaviour(
        steps=[Fail(1), Sleep(LONG_MS)], retry_policy=_quick(1, "pause"), result=lambda _body: "rested"
    ),
    "Lifecycle/fail_around_sleep": HandlerBehaviour(
        steps=[Fail(2), Sleep(50), Fail(2)], retry_policy=_quick(3, "kill"), result=lambda _body: "made it"
    ),
    "Locker/hold": HandlerBehaviour(steps=[Sleep(LONG_MS)], result=lambda _body: "held"),
    "Locker/quick": HandlerBehaviour(result=lambda _body: "quick"),
    "Signup/run": HandlerBehaviour(result=lambda email: f"signed up {email}"),
}


def simulated_restate() -> SimulatedRestate:
    """A fresh simulated target with the parity app's twins."""
    return SimulatedRestate(Simulation(CATALOGUE, BEHAVIOURS))
