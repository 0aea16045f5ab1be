"""One small driver per target, so a parity scenario reads the same on all three.

A driver wraps an :class:`restate_lab.api.IngressApi` target (``api``) and adds what a scenario
needs beyond it: read a status, wait until an invocation reaches a status, and let time pass --
virtual time on the simulator, the wall clock (bounded) on the runtime and the real server.
Answers are recorded as plain tuples with invocation ids replaced by ``<id>``, so the three
targets' answers compare as equal values.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from typing import Any

from restate_lab.rules.errors import RestateError

Answer = tuple[Any, ...]
_ID = re.compile(r"inv_1[0-9A-Za-z]{33}")
#: Bound on every wall-clock wait of a scenario.
WAIT_S = 15.0


def answer(fn: Callable[[], Any]) -> Answer:
    """Run one request and record what it answered: ``("ok", value)`` or ``("error", code, message, source)``."""
    try:
        return ("ok", fn())
    except RestateError as err:
        return ("error", err.code, _ID.sub("<id>", err.message), err.source)


class Driver:
    """What a scenario drives; subclasses say how a target shows statuses and lets time pass."""

    name = "?"

    def __init__(self, api: Any) -> None:
        self.api = api
        self._names = itertools.count()

    def unique(self, prefix: str) -> str:
        """A key or idempotency key no other scenario on this target uses."""
        return f"{prefix}-{next(self._names)}"

    def status(self, invocation_id: str) -> str | None:
        raise NotImplementedError

    def settle(self, invocation_id: str, status: str) -> Answer:
        """Wait until the invocation is in ``status``; the answer is the status reached (or last seen)."""
        raise NotImplementedError

    def let_pass(self, ms: float) -> None:
        """Let ``ms`` of the target's time pass (for retention and delays)."""
        raise NotImplementedError

    def attach_workflow(self, workflow: str, workflow_id: str) -> Any:
        return self.api.attach_workflow(workflow, workflow_id)

    def output_workflow(self, workflow: str, workflow_id: str) -> Any:
        return self.api.output_workflow(workflow, workflow_id)


class _WallClock(Driver):
    """Runtime and real server: statuses change on their own; poll them, bounded in time."""

    #: Extra wait after a retention, for the server's cleaner to run.
    retention_margin_s = 0.2

    def settle(self, invocation_id: str, status: str) -> Answer:
        deadline = time.monotonic() + WAIT_S
        seen = self.status(invocation_id)
        while seen != status and time.monotonic() < deadline:
            time.sleep(0.02)
            seen = self.status(invocation_id)
        return ("status", seen)

    def let_pass(self, ms: float) -> None:
        time.sleep(ms / 1000 + self.retention_margin_s)


class SimDriver(Driver):
    """The simulator: virtual time runs only when the driver (or a blocking call) steps it."""

    name = "sim"

    def status(self, invocation_id: str) -> str | None:
        try:
            return str(self.api.status(invocation_id))
        except RestateError:
            return None

    def settle(self, invocation_id: str, status: str) -> Answer:
        env = self.api.simulation.env
        seen = self.status(invocation_id)
        for _ in range(100_000):
            if seen == status or env.peek() == float("inf"):
                break
            env.step()
            seen = self.status(invocation_id)
        return ("status", seen)

    def let_pass(self, ms: float) -> None:
        self.api.advance(ms)


class LocalDriver(_WallClock):
    """The in-process runtime (``LocalRestate``)."""

    name = "local"

    def status(self, invocation_id: str) -> str | None:
        try:
            return str(self.api.status(invocation_id))
        except (KeyError, RestateError):
            return None


class RealDriver(_WallClock):
    """The real Restate Server through ``RestateClient``; statuses from ``sys_invocation``."""

    name = "real"
    #: The parity server runs its cleaner every second (``RESTATE_WORKER__CLEANUP_INTERVAL``).
    retention_margin_s = 1.3

    def status(self, invocation_id: str) -> str | None:
        frame = self.api.query(f"select status from sys_invocation where id = '{invocation_id}'")
        return None if frame.empty else str(frame["status"].iloc[0])

    def output_workflow(self, workflow: str, workflow_id: str) -> Any:
        fn = getattr(self.api, "output_workflow", None)
        if fn is not None:
            return fn(workflow, workflow_id)
        return self.api.attach_workflow(workflow, workflow_id, wait=False)
