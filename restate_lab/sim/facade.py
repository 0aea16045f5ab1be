"""``SimulatedRestate``: the :class:`restate_lab.api.IngressApi` vocabulary over a simulation.

Calls and sends are submitted at the current virtual time; a call (or ``attach``) advances the
virtual clock until its invocation finishes, so a notebook cell reads as it would against a server.
``timeout=`` is in virtual seconds: a wait that runs out raises :class:`restate_lab.InvocationTimeout`.
``invocations()`` and ``query()`` read the same ``sys_invocation`` columns the other targets return.
What handlers without code cannot have -- awakeables, state, a journal, resuming a paused invocation
-- raises :class:`restate_lab.NotSupportedByTarget` (501).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from restate_lab.api import DEFAULT_TIMEOUT, Delay, InvocationTimeout, NotSupportedByTarget, SendReceipt
from restate_lab.rules.admission import refuses_repeated_call, send_status
from restate_lab.rules.durations import format_rfc3339, parse_duration_ms
from restate_lab.rules.errors import (
    RestateError,
    already_completed,
    attach_not_found,
    handler_not_found,
    invocation_does_not_exist,
    key_required,
    not_completed_yet,
    not_yet_completed,
    output_not_found,
    service_not_found,
    workflow_already_invoked,
)
from restate_lab.rules.lifecycle import CancelAction, KillAction
from restate_lab.sim.engine import Simulation
from restate_lab.sim.records import FINAL, STATUS_NAMES, SUCCEEDED

if TYPE_CHECKING:
    import pandas as pd

    from restate_lab.catalogue import Catalogue

_TARGET = "SimulatedRestate"
_NO_CODE = "simulated handlers are behaviour models without code"


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

    def __init__(self, simulation: Simulation, *, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        self.simulation = simulation
        #: Virtual seconds a wait lasts when the call names no ``timeout`` (``None``: until nothing is left).
        self.timeout = timeout
        self._rows: dict[str, int] = {}
        self._purged: set[int] = set()
        #: Rows whose ids have been indexed into ``_rows`` (workload submissions are indexed on demand).
        self._indexed = 0

    @property
    def now_ms(self) -> float:
        """The virtual clock, in ms since the simulation began."""
        return self.simulation.now

    def advance(self, ms: float) -> None:
        """Let ``ms`` of virtual time pass, running whatever falls due."""
        self.simulation.run(until=self.simulation.now + ms, progress=False)

    def _submit(
        self, service: str, handler: str, body: Any, key: str | None, delay_ms: float, idempotency_key: str | None
    ) -> int:
        if self.simulation.catalogue.service(service) is None:
            raise service_not_found(service)
        if self.simulation.catalogue.handler(service, handler) is None:
            raise handler_not_found(service, handler)
        if key is None and self.simulation.catalogue.services[service].keyed:
            raise key_required(service)
        row = self.simulation.submit(
            service, handler, key, idempotency_key=idempotency_key, delay_ms=delay_ms, body=body
        )
        self._rows[self.simulation.invocation_id(row)] = self.simulation.owner(row)
        return row

    def call(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Invoke and advance virtual time until the result is in (at most ``timeout`` virtual seconds)."""
        row = self._submit(service, handler, body, key, 0.0, idempotency_key)
        h = self.simulation.handler(service, handler)
        if refuses_repeated_call(h.workflow_run, self.simulation.records.dedup_of[row] >= 0, idempotency_key):
            raise workflow_already_invoked(self.simulation.invocation_id(row))
        return self._wait(row, timeout, h.target if key is None else f"{service}/{key}/{handler}")

    def send(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        delay: Delay | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendReceipt:
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
        if row is None:
            self._index_ids()
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

    def _index_ids(self) -> None:
        """Learn the ids of submissions made by workloads (and Kafka), so they can be looked up too."""
        sim = self.simulation
        for row in range(self._indexed, len(sim.records)):
            if sim.records.dedup_of[row] < 0:
                self._rows.setdefault(sim.invocation_id(row), row)
        self._indexed = len(sim.records)

    def _wait(self, row: int, timeout: float | None = None, what: str | None = None) -> Any:
        """Advance virtual time until ``row`` finishes, at most ``timeout`` virtual seconds."""
        sim = self.simulation
        owner = sim.owner(row)
        status = sim.records.status
        limit = timeout if timeout is not None else self.timeout
        deadline = sim.now + limit * 1000.0 if limit is not None else float("inf")
        while status[owner] < FINAL and sim.env.peek() <= deadline and sim.env.peek() != float("inf"):
            sim.env.step()
        if status[owner] < FINAL and limit is not None:
            if sim.now < deadline:
                sim.run(until=deadline, progress=False)  # nothing else happens before the wait would end
            raise self._timed_out(what or sim.invocation_id(owner), limit, owner)
        return self._outcome(owner)

    def _timed_out(self, what: str, limit: float, row: int) -> InvocationTimeout:
        attempts = self.simulation.records.attempts[row]
        failure = f"[500] simulated retryable failure (attempt {attempts - 1})" if attempts > 1 else None
        return InvocationTimeout(
            what, limit, self.simulation.invocation_id(row), self.status_of(row), max(attempts - 1, 0), failure
        )

    def status_of(self, row: int) -> str:
        """A row's status in Restate's names: every finished invocation is ``completed``."""
        code = self.simulation.records.status[row]
        return "completed" if code >= FINAL else STATUS_NAMES[code]

    def _outcome(self, row: int) -> Any:
        sim = self.simulation
        status = sim.records.status[row]
        if row in sim.dropped:
            raise attach_not_found(sim.invocation_id(row))
        if status >= FINAL:
            if sim.records.outcome[row] == SUCCEEDED:
                return sim.results.get(row)
            raise sim.failures[row].error(sim.invocation_id(row))
        raise RestateError(503, f"the invocation is {STATUS_NAMES[status]} and nothing else is scheduled", "invocation")

    def attach(self, invocation_id: str, *, timeout: float | None = None) -> Any:
        """Advance virtual time until the invocation finishes and return its result."""
        row = self._find(invocation_id)
        if row is None:
            raise attach_not_found(invocation_id)
        return self._wait(row, timeout, invocation_id)

    def output(self, invocation_id: str) -> Any:
        """The result if finished by now; 470 otherwise. Does not advance time."""
        row = self._row(invocation_id)
        if self.simulation.records.status[row] < FINAL:
            raise not_completed_yet()
        return self._outcome(row)

    def status(self, invocation_id: str) -> str:
        """The invocation's status in Restate's vocabulary (``pending``, ``running``, ``completed``...)."""
        return self.status_of(self._row(invocation_id))

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

    def resume(self, invocation_id: str) -> None:
        """Not modelled: the simulator does not resume paused invocations (raises 501)."""
        self._row(invocation_id)
        raise NotSupportedByTarget(_TARGET, "resume", "the simulator does not resume paused invocations")

    def resolve_awakeable(self, awakeable_id: str, value: Any = None) -> None:
        """Not modelled (raises 501): simulated handlers have no code to await an awakeable."""
        raise NotSupportedByTarget(_TARGET, "resolve_awakeable", f"the simulator has no awakeables ({_NO_CODE})")

    def reject_awakeable(self, awakeable_id: str, message: str) -> None:
        """Not modelled (raises 501): simulated handlers have no code to await an awakeable."""
        raise NotSupportedByTarget(_TARGET, "reject_awakeable", f"the simulator has no awakeables ({_NO_CODE})")

    # ---- results by workflow id and idempotency key ----

    def _latest(self, service: str, handler: str, key: str | None, idempotency_key: str | None) -> int:
        """The newest invocation of ``service/handler`` on ``key`` (with that idempotency key, if given)."""
        sim = self.simulation
        if sim.catalogue.service(service) is None:
            raise service_not_found(service)
        try:
            index = sim.handler(service, handler).index
        except KeyError:
            raise RestateError(404, "invocation not found", "ingress") from None
        rec = sim.records
        key_code = sim.key_code(key) if key is not None else -1
        idem_code = sim.idem_code(idempotency_key) if idempotency_key is not None else None
        for row in range(len(rec) - 1, -1, -1):
            if (
                rec.handler[row] == index
                and rec.key[row] == key_code
                and rec.dedup_of[row] < 0
                and (idem_code is None or rec.idem[row] == idem_code)
                and row not in self._purged
            ):
                self._rows.setdefault(sim.invocation_id(row), row)
                return row
        raise RestateError(404, "invocation not found", "ingress")

    def _workflow_row(self, workflow: str, workflow_id: str) -> int:
        model = self.simulation.catalogue.service(workflow)
        if model is None:
            raise service_not_found(workflow)
        run = next((h.name for h in model.handlers.values() if h.workflow_run), None)
        if run is None:
            raise RestateError(404, "invocation not found", "ingress")
        return self._latest(workflow, run, workflow_id, None)

    def attach_workflow(self, workflow: str, workflow_id: str, *, timeout: float | None = None) -> Any:
        """Advance virtual time until the workflow's ``run`` finishes and return its result."""
        return self._wait(self._workflow_row(workflow, workflow_id), timeout, f"{workflow}/{workflow_id}")

    def output_workflow(self, workflow: str, workflow_id: str) -> Any:
        """The workflow's ``run`` result if finished by now; 470 otherwise."""
        return self._output_row(self._workflow_row(workflow, workflow_id))

    def attach_idempotent(
        self, service: str, handler: str, idempotency_key: str, *, key: str | None = None, timeout: float | None = None
    ) -> Any:
        """Advance virtual time until the invocation the idempotency key started finishes."""
        row = self._latest(service, handler, key, idempotency_key)
        return self._wait(row, timeout, f"{service}/{handler} (idempotency key {idempotency_key!r})")

    def output_idempotent(self, service: str, handler: str, idempotency_key: str, *, key: str | None = None) -> Any:
        """The result of the invocation the idempotency key started, if finished; 470 otherwise."""
        return self._output_row(self._latest(service, handler, key, idempotency_key))

    def _output_row(self, row: int) -> Any:
        if self.simulation.records.status[row] < FINAL:
            raise not_completed_yet()
        return self._outcome(row)

    # ---- catalogue ----

    def services(self) -> list[dict[str, Any]]:
        """The simulated catalogue in the admin ``GET /services`` shape."""
        return self.simulation.catalogue.to_admin()

    def catalogue(self) -> Catalogue:
        """The simulation's catalogue (the one it was built from)."""
        return self.simulation.catalogue

    # ---- inspect ----

    def _invocation_rows(self) -> Iterator[dict[str, Any]]:
        """``sys_invocation`` rows of every invocation (repeats answered by another are not invocations)."""
        from restate_lab.rules.durations import format_rfc3339 as timestamp

        sim = self.simulation
        rec = sim.records
        epoch = sim.epoch_ms
        kinds = {"SERVICE": "service", "VIRTUAL_OBJECT": "virtual_object", "WORKFLOW": "workflow"}

        def at(ms: float) -> str | None:
            return None if ms != ms else timestamp(int(epoch + ms))  # NaN: not happened

        for row in range(len(rec)):
            if rec.dedup_of[row] >= 0 or row in self._purged:
                continue
            h = sim.handlers[rec.handler[row]]
            key = sim.key_names[rec.key[row]] if rec.key[row] >= 0 else None
            code = rec.status[row]
            attempts = rec.attempts[row]
            failure = None
            succeeded = code >= FINAL and rec.outcome[row] == SUCCEEDED
            if code >= FINAL and not succeeded:
                try:
                    self._outcome(row)
                except RestateError as exc:
                    failure = f"[{exc.code}] {exc.message}"
            times = [t for t in (rec.submitted[row], rec.ready[row], rec.started[row], rec.completed[row]) if t == t]
            parent = rec.parent[row]
            yield {
                "id": sim.invocation_id(row),
                "target": h.target if key is None else f"{h.model.service}/{key}/{h.model.name}",
                "target_service_name": h.model.service,
                "target_service_key": key,
                "target_handler_name": h.model.name,
                "target_service_ty": kinds[h.model.service_type.value],
                "idempotency_key": sim.idem_name(rec.idem[row]),
                "invoked_by": "service" if parent >= 0 else "ingress",
                "invoked_by_id": sim.invocation_id(parent) if parent >= 0 else None,
                "created_at": at(rec.submitted[row]),
                "modified_at": at(max(times)),
                "scheduled_at": at(rec.ready[row]) if rec.ready[row] > rec.submitted[row] else None,
                "running_at": at(rec.started[row]),
                "completed_at": at(rec.completed[row]),
                "retry_count": max(attempts - 1, 0),
                "last_failure": f"[500] simulated retryable failure (attempt {attempts - 1})" if attempts > 1 else None,
                "status": self.status_of(row),
                "completion_result": None if code < FINAL else ("success" if succeeded else "failure"),
                "completion_failure": failure,
            }

    def _database(self) -> sqlite3.Connection:
        """The simulation's ``sys_invocation`` (and empty other tables) in SQLite, as the runtime has them."""
        from restate_lab.runtime.introspection import TABLES

        db = sqlite3.connect(":memory:")
        for table, columns in TABLES.items():
            quoted = ", ".join(f'"{c}"' for c in columns)
            db.execute(f"CREATE TABLE {table} ({quoted})")
        columns = TABLES["sys_invocation"]
        marks = ", ".join("?" for _ in columns)
        db.executemany(
            f"INSERT INTO sys_invocation VALUES ({marks})",
            (tuple(r.get(c) for c in columns) for r in self._invocation_rows()),
        )
        return db

    def _select(self, sql: str) -> tuple[list[str], list[dict[str, Any]]]:
        db = self._database()
        try:
            cursor = db.execute(sql)
            columns = [d[0] for d in cursor.description or ()]
            rows = [{c: v for c, v in zip(columns, values, strict=True) if v is not None} for values in cursor]
        except sqlite3.Error as exc:
            raise RestateError(400, f"SQL error: {exc}") from exc
        finally:
            db.close()
        return columns, rows

    def invocations(
        self, *, service: str | None = None, status: str | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """The simulation's invocations, newest first, with ``sys_invocation``'s columns (virtual times)."""
        from restate_lab.runtime.frames import invocations_frame, invocations_sql

        return invocations_frame(self._select(invocations_sql(service, status, limit))[1])

    def query(self, sql: str) -> pd.DataFrame:
        """SQL (SQLite's dialect) over ``sys_invocation``; the journal and state tables exist but are empty."""
        from restate_lab.runtime.frames import frame

        columns, rows = self._select(sql)
        return frame(rows, columns)

    def journal(self, invocation_id: str) -> pd.DataFrame:
        """Not modelled (raises 501): the simulator runs behaviour models, not journaled handler code."""
        self._row(invocation_id)
        raise NotSupportedByTarget(_TARGET, "journal", f"the simulator keeps no journal ({_NO_CODE})")

    def state(self, service: str, key: str) -> dict[str, Any]:
        """Not modelled (raises 501): simulated handlers keep no state."""
        raise NotSupportedByTarget(_TARGET, "state", f"the simulator keeps no state ({_NO_CODE})")

    # ---- awaitable forms (virtual time never blocks on I/O, so they run at once) ----

    async def acall(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Awaitable :meth:`call`."""
        return self.call(
            service, handler, body, key=key, idempotency_key=idempotency_key, headers=headers, timeout=timeout
        )

    async def asend(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        delay: Delay | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendReceipt:
        """Awaitable :meth:`send`."""
        return self.send(service, handler, body, key=key, delay=delay, idempotency_key=idempotency_key, headers=headers)

    async def aattach(self, invocation_id: str, *, timeout: float | None = None) -> Any:
        """Awaitable :meth:`attach`."""
        return self.attach(invocation_id, timeout=timeout)

    async def aoutput(self, invocation_id: str) -> Any:
        """Awaitable :meth:`output`."""
        return self.output(invocation_id)

    # ---- lifetime ----

    def close(self) -> None:
        """Nothing to release: the simulation lives in this object."""

    def __enter__(self) -> SimulatedRestate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
