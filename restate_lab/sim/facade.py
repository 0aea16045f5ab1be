"""``SimulatedRestate``: the :class:`restate_lab.api.IngressApi` vocabulary over a simulation.

Calls and sends are submitted at the current virtual time; a call (or ``attach``) advances the
virtual clock until its invocation finishes, so a notebook cell reads as it would against a server.
Awakeables are not modelled (handlers here have no code to await them): those methods raise 501.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from restate_lab.api import Delay, SendReceipt
from restate_lab.rules.admission import refuses_repeated_call, send_status
from restate_lab.rules.durations import format_rfc3339, parse_duration_ms
from restate_lab.rules.errors import (
    RestateError,
    already_completed,
    attach_not_found,
    handler_not_found,
    invocation_does_not_exist,
    not_completed_yet,
    not_yet_completed,
    output_not_found,
    service_not_found,
    workflow_already_invoked,
)
from restate_lab.rules.lifecycle import CancelAction, KillAction
from restate_lab.sim.engine import Simulation
from restate_lab.sim.records import FINAL, STATUS_NAMES, SUCCEEDED


def delay_to_ms(delay: Delay | None) -> float:
    """A delay as the ingress API accepts it (duration string, ``timedelta``, seconds) in ms.

    >>> delay_to_ms("2s"), delay_to_ms(timedelta(milliseconds=5)), delay_to_ms(1.5)
    (2000.0, 5.0, 1500.0)
    """
    if delay is None:
        return 0.0
    if isinstance(delay, str):
        return float(parse_duration_ms(delay))
    if isinstance(delay, timedelta):
        return delay.total_seconds() * 1000.0
    return float(delay) * 1000.0


class SimulatedRestate:
    """Drive a :class:`Simulation` one invocation at a time, in the ingress API's terms.

    >>> sim = Simulation([{"name": "Greeter", "ty": "SERVICE", "handlers": [{"name": "greet", "ty": None}]}])
    >>> restate = SimulatedRestate(sim)
    >>> receipt = restate.send("Greeter", "greet", "Ada", delay="1s", idempotency_key="k1")
    >>> receipt.status, restate.send("Greeter", "greet", "Bob", idempotency_key="k1").status
    ('Accepted', 'PreviouslyAccepted')
    >>> restate.attach(receipt.invocation_id) is None, restate.now_ms
    (True, 1000.0)
    """

    def __init__(self, simulation: Simulation) -> None:
        self.simulation = simulation
        self._rows: dict[str, int] = {}
        self._purged: set[int] = set()

    @property
    def now_ms(self) -> float:
        """The virtual clock, in ms since the simulation began."""
        return self.simulation.now

    def advance(self, ms: float) -> None:
        """Let ``ms`` of virtual time pass, running whatever falls due."""
        self.simulation.run(until=self.simulation.now + ms, progress=False)

    def _submit(self, service: str, handler: str, body: Any, key: str | None, delay_ms: float,
                idempotency_key: str | None) -> int:
        if self.simulation.catalogue.service(service) is None:
            raise service_not_found(service)
        if self.simulation.catalogue.handler(service, handler) is None:
            raise handler_not_found(service, handler)
        row = self.simulation.submit(
            service, handler, key, idempotency_key=idempotency_key, delay_ms=delay_ms, body=body
        )
        self._rows[self.simulation.invocation_id(row)] = self.simulation.owner(row)
        return row

    def call(self, service: str, handler: str, body: Any = None, *, key: str | None = None,
             idempotency_key: str | None = None, headers: Mapping[str, str] | None = None) -> Any:
        """Invoke and advance virtual time until the result is in."""
        row = self._submit(service, handler, body, key, 0.0, idempotency_key)
        h = self.simulation.handler(service, handler)
        if refuses_repeated_call(h.workflow_run, self.simulation.records.dedup_of[row] >= 0, idempotency_key):
            raise workflow_already_invoked(self.simulation.invocation_id(row))
        return self._wait(row)

    def send(self, service: str, handler: str, body: Any = None, *, key: str | None = None,
             delay: Delay | None = None, idempotency_key: str | None = None,
             headers: Mapping[str, str] | None = None) -> SendReceipt:
        """Submit without waiting; ``executionTime`` is stamped for delayed sends."""
        delay_ms = delay_to_ms(delay)
        row = self._submit(service, handler, body, key, delay_ms, idempotency_key)
        owner = self.simulation.owner(row)
        execution_time = None
        if delay_ms > 0:
            first_submitted = self.simulation.records.submitted[owner]
            execution_time = format_rfc3339(self.simulation.epoch_ms + first_submitted + delay_ms)
        return SendReceipt(self.simulation.invocation_id(row), send_status(owner == row), execution_time)

    def _find(self, invocation_id: str) -> int | None:
        """The row of a known invocation; None for ids never seen, purged, or dropped by cancel/kill."""
        row = self._rows.get(invocation_id)
        if row is None or row in self._purged or row in self.simulation.dropped:
            return None
        return row

    def _row(self, invocation_id: str) -> int:
        """The row of ``invocation_id``; unknown ids answer as output does (404 ``invocation not found``)."""
        row = self._find(invocation_id)
        if row is None:
            raise output_not_found()
        return row

    def _managed_row(self, invocation_id: str) -> int:
        """The row for cancel, kill and purge; unknown ids answer as the admin API does."""
        row = self._find(invocation_id)
        if row is None:
            raise invocation_does_not_exist(invocation_id)
        return row

    def _wait(self, row: int) -> Any:
        sim = self.simulation
        owner = sim.owner(row)
        status = sim.records.status
        while status[owner] < FINAL and sim.env.peek() != float("inf"):
            sim.env.step()
        return self._outcome(owner)

    def _outcome(self, row: int) -> Any:
        sim = self.simulation
        status = sim.records.status[row]
        if row in sim.dropped:
            raise attach_not_found(sim.invocation_id(row))
        if status >= FINAL:
            if sim.records.outcome[row] == SUCCEEDED:
                return sim.results.get(row)
            raise sim.failures[row].error(sim.invocation_id(row))
        raise RestateError(
            503, f"the invocation is {STATUS_NAMES[status]} and nothing else is scheduled", "invocation"
        )

    def attach(self, invocation_id: str) -> Any:
        """Advance virtual time until the invocation finishes and return its result."""
        row = self._find(invocation_id)
        if row is None:
            raise attach_not_found(invocation_id)
        return self._wait(row)

    def output(self, invocation_id: str) -> Any:
        """The result if finished by now; 470 otherwise. Does not advance time."""
        row = self._row(invocation_id)
        if self.simulation.records.status[row] < FINAL:
            raise not_completed_yet()
        return self._outcome(row)

    def status(self, invocation_id: str) -> str:
        """The invocation's status in Restate's vocabulary (``pending``, ``running``, ``completed``...)."""
        return STATUS_NAMES[self.simulation.records.status[self._row(invocation_id)]]

    def cancel(self, invocation_id: str) -> None:
        """Cancel in virtual time (see :meth:`Simulation.cancel`); 409 once it has completed."""
        if self.simulation.cancel(self._managed_row(invocation_id)) is CancelAction.ALREADY_COMPLETED:
            raise already_completed(invocation_id)

    def kill(self, invocation_id: str) -> None:
        """Kill in virtual time (see :meth:`Simulation.kill`); 409 once it has completed."""
        if self.simulation.kill(self._managed_row(invocation_id)) is KillAction.ALREADY_COMPLETED:
            raise already_completed(invocation_id)

    def purge(self, invocation_id: str) -> None:
        """Forget a finished invocation's result; 409 if it has not finished."""
        row = self._managed_row(invocation_id)
        if self.simulation.records.status[row] < FINAL:
            raise not_yet_completed(invocation_id)
        self._purged.add(row)
        self.simulation.results.pop(row, None)

    def resolve_awakeable(self, awakeable_id: str, value: Any = None) -> None:
        raise RestateError(501, "awakeables are not modelled by the simulator", "ingress")

    def reject_awakeable(self, awakeable_id: str, message: str) -> None:
        raise RestateError(501, "awakeables are not modelled by the simulator", "ingress")

    def services(self) -> list[dict[str, Any]]:
        """The simulated catalogue in the admin ``GET /services`` shape."""
        return self.simulation.catalogue.to_admin()
