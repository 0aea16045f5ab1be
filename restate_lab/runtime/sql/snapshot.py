"""One consistent snapshot of the engine's state as Arrow tables shaped like Restate Server 1.7.12's.

:func:`take_snapshot` must run on the engine's event loop with no ``await`` inside, so every table shows the
same instant. Tables are built column by column (a list comprehension over the invocations per column, then
one ``pyarrow.array`` each), and only for what the query can see: a table the SQL does not name is registered
empty, and a column the SQL does not name is a run of nulls (see :mod:`restate_lab.runtime.sql.references`).
Values follow the real server (measured, see ``docs/observed-restate-1.7.12.md``): ``sys_invocation_status``
carries the internal status (``inboxed``, ``scheduled``, ``invoked``, ``suspended``, ``paused``, ``completed``)
from which the ``sys_invocation`` view derives the public one, and ``sys_invocation_state`` has a row only for
an invocation that is running or waiting for a retry.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from restate_lab.protocol.messages import Failure, MessageType, Value, WireError, entry_name
from restate_lab.rules.ids import partition_key_for
from restate_lab.rules.targets import ServiceType
from restate_lab.runtime.invocation import Invocation, InvocationStatus
from restate_lab.runtime.sql.cache import cache_for
from restate_lab.runtime.sql.entries import ENTRY_NAMES, Callee, render_journal
from restate_lab.runtime.sql.references import References
from restate_lab.runtime.sql.schemas import BASE_TABLES, arrow_schema, arrow_type

if TYPE_CHECKING:
    import pyarrow as pa

    from restate_lab.runtime.engine import Engine

#: The server version an invocation is created with, as the real server reports it.
RESTATE_VERSION = "1.7.12"

_SERVICE_TY = {
    ServiceType.SERVICE: "service",
    ServiceType.VIRTUAL_OBJECT: "virtual_object",
    ServiceType.WORKFLOW: "workflow",
}
_INTERNAL_STATUS = {
    InvocationStatus.PENDING: "inboxed",
    InvocationStatus.SCHEDULED: "scheduled",
    InvocationStatus.READY: "invoked",
    InvocationStatus.RUNNING: "invoked",
    InvocationStatus.BACKING_OFF: "invoked",
    InvocationStatus.SUSPENDED: "suspended",
    InvocationStatus.PAUSED: "paused",
    InvocationStatus.COMPLETED: "completed",
}
#: Before its first attempt an invocation has no journal length or pinned deployment on the server.
_NOT_STARTED = (InvocationStatus.PENDING, InvocationStatus.SCHEDULED)

Row = Callable[[Invocation], Any]


@dataclass(frozen=True)
class Snapshot:
    """The base tables a query names, at one instant (the tables it does not name are empty to it)."""

    tables: dict[str, pa.Table]


class _Builder:
    """Builds the tables a query needs from one engine, at one instant."""

    def __init__(self, engine: Engine, refs: References) -> None:
        self.engine = engine
        self.refs = refs
        self.invocations = list(engine.invocations.values())
        self._deployments: dict[str, Any] = {}
        completed = InvocationStatus.COMPLETED
        self.cache = cache_for(engine)
        self.cache.sync([i for i in self.invocations if i.status is completed])
        self.live = [i for i in self.invocations if i.status is not completed]

    # ---- helpers ----

    def deployment(self, inv: Invocation) -> Any:
        if inv.attempts == 0 or inv.status in _NOT_STARTED:
            return None
        service = self.engine.services.get(inv.target.service)
        return service.deployment if service is not None else None

    def sdk(self, inv: Invocation) -> str | None:
        from restate_lab.runtime.describe import sdk_version

        deployment = self.deployment(inv)
        if deployment is None:
            return None
        if deployment.id not in self._deployments:
            self._deployments[deployment.id] = sdk_version(deployment)
        known: str | None = self._deployments[deployment.id]
        return known

    def retention(self, inv: Invocation) -> int:
        return inv.retention_ms if inv.completed else self.engine.completion_retention_ms

    def table(self, name: str, rows: list[Any], columns: dict[str, Callable[[Any], Any]]) -> pa.Table:
        """Arrow table ``name`` from ``rows``: each needed column computed in one pass, the rest null."""
        import pyarrow as pa

        schema = arrow_schema(name)
        arrays = []
        for column, kind in BASE_TABLES[name]:
            fn = columns.get(column)
            if fn is None or not self.refs.needs(column):
                arrays.append(pa.nulls(len(rows), arrow_type(kind)))
            else:
                arrays.append(pa.array(list(map(fn, rows)), type=arrow_type(kind)))
        return pa.Table.from_arrays(arrays, schema=schema)

    def invocation_table(self, name: str, columns: dict[str, Callable[[list[Invocation]], list[Any]]]) -> pa.Table:
        """Table ``name`` with one row group per invocation set: the cached completed ones, then the rest."""
        import pyarrow as pa

        cached = self.cache
        parts: list[pa.ChunkedArray | None] = []
        for column, kind in BASE_TABLES[name]:
            dtype = arrow_type(kind)
            values = columns.get(column)
            if values is None or not self.refs.needs(column):
                parts.append(None)
                continue
            chunks = cached.column((name, column), dtype, values)
            parts.append(pa.chunked_array([*chunks, pa.array(values(self.live), type=dtype)], type=dtype))
        rows = None
        for part in parts:
            if part is not None:
                rows = len(part)
                break
        if rows is None:  # no column needed: only the row count matters
            rows = len(columns["id"](self.invocations))
        arrays = [
            pa.nulls(rows, arrow_type(kind)) if part is None else part
            for part, (_, kind) in zip(parts, BASE_TABLES[name], strict=True)
        ]
        return pa.Table.from_arrays(arrays, schema=arrow_schema(name))

    # ---- tables ----

    def invocation_status(self) -> pa.Table:
        engine = self.engine
        find = engine.find

        def caller(inv: Invocation) -> Invocation | None:
            return find(inv.invoked_by_id) if inv.invoked_by_id else None

        def result_kind(inv: Invocation) -> str | None:
            if inv.result is None:
                return None
            return "failure" if isinstance(inv.result, Failure) else "success"

        def awaiting(inv: Invocation, signals: bool) -> list[int] | None:
            point = inv.awaiting if inv.status is InvocationStatus.SUSPENDED else None
            if point is None:
                return None
            # Signal 1 (cancellation) always wakes a suspended invocation; the server lists it.
            return sorted(point.signals | {1}) if signals else sorted(point.completions)

        def started(inv: Invocation, value: Any) -> Any:
            return None if inv.status in _NOT_STARTED else value

        columns: dict[str, Row] = {
            "partition_key": lambda i: i.id.partition_key,
            "id": attrgetter("id_str"),
            "status": lambda i: _INTERNAL_STATUS[i.status],
            "completion_result": result_kind,
            "completion_failure": lambda i: (
                f"[{i.result.code}] {i.result.message}" if isinstance(i.result, Failure) else None
            ),
            "target": lambda i: str(i.target),
            "target_service_name": attrgetter("target.service"),
            "target_service_key": attrgetter("target.key"),
            "target_handler_name": attrgetter("target.handler"),
            "target_service_ty": lambda i: _SERVICE_TY[i.service_type],
            "idempotency_key": attrgetter("idempotency_key"),
            "invoked_by": attrgetter("invoked_by"),
            "invoked_by_id": attrgetter("invoked_by_id"),
            "invoked_by_subscription_id": attrgetter("invoked_by_subscription_id"),
            "restarted_from": attrgetter("restarted_from"),
            "invoked_by_service_name": lambda i: c.target.service if (c := caller(i)) else None,
            "invoked_by_target": lambda i: str(c.target) if (c := caller(i)) else None,
            "pinned_deployment_id": lambda i: d.id if (d := self.deployment(i)) else None,
            "pinned_service_protocol_version": lambda i: d.protocol_version if (d := self.deployment(i)) else None,
            "journal_size": lambda i: started(i, len(i.journal)),
            "journal_commands_size": lambda i: started(i, sum(1 for f in i.journal if f.is_command)),
            "created_at": attrgetter("created_at_ms"),
            "created_using_restate_version": lambda i: RESTATE_VERSION,
            "modified_at": attrgetter("modified_at_ms"),
            "inboxed_at": lambda i: i.created_at_ms if i.status is InvocationStatus.PENDING else None,
            "scheduled_at": lambda i: i.created_at_ms if i.execution_time_ms is not None else None,
            "scheduled_start_at": attrgetter("execution_time_ms"),
            "running_at": lambda i: started(i, i.running_since_ms),
            "completed_at": attrgetter("completed_at_ms"),
            "completion_retention": self.retention,
            "journal_retention": self.retention,
            "suspended_waiting_for_completions": lambda i: awaiting(i, False),
            "suspended_waiting_for_signals": lambda i: awaiting(i, True),
        }
        return self.invocation_table("sys_invocation_status", {name: _mapped(fn) for name, fn in columns.items()})

    def invocation_state(self) -> pa.Table:
        # The server keeps attempt state only while an attempt runs or a retry is due.
        running, backing_off = InvocationStatus.RUNNING, InvocationStatus.BACKING_OFF
        live = [i for i in self.live if i.status is running or i.status is backing_off]
        columns: dict[str, Row] = {
            "partition_key": lambda i: i.id.partition_key,
            "id": lambda i: i.id_str,
            "in_flight": lambda i: i.status is InvocationStatus.RUNNING,
            # Attempts since the journal last grew: the running one counts.
            "retry_count": lambda i: i.retry_count + (1 if i.status is InvocationStatus.RUNNING else 0),
            "last_start_at": lambda i: i.running_since_ms,
            "last_attempt_deployment_id": lambda i: d.id if (d := self.deployment(i)) else None,
            "last_attempt_server": self.sdk,
            "next_retry_at": lambda i: i.next_retry_at_ms if i.status is InvocationStatus.BACKING_OFF else None,
            "last_failure": lambda i: i.last_failure,
            "last_failure_error_code": lambda i: str(i.last_failure_code) if i.last_failure_code is not None else None,
        }
        return self.table("sys_invocation_state", live, columns)

    def journal(self) -> pa.Table:
        # Columns straight from nested comprehensions: no per-entry tuples, one pass per needed column.
        def per_invocation(fn: Row) -> Callable[[list[Invocation]], list[Any]]:
            return lambda invs: [v for i in invs if i.journal for v in [fn(i)] * len(i.journal)]

        def per_frame(fn: Callable[[Any], Any]) -> Callable[[list[Invocation]], list[Any]]:
            return lambda invs: [fn(f) for i in invs for f in i.journal]

        # Both JSON columns come from one rendering of each journal.
        renders: dict[str, list[tuple[str | None, str | None]]] = {}

        def rendered(inv: Invocation) -> list[tuple[str | None, str | None]]:
            if inv.id_str not in renders:
                renders[inv.id_str] = render_journal(inv.journal, self.callee)
            return renders[inv.id_str]

        columns: dict[str, Callable[[list[Invocation]], list[Any]]] = {
            "partition_key": per_invocation(lambda i: i.id.partition_key),
            "id": per_invocation(attrgetter("id_str")),
            "index": lambda invs: [n for i in invs for n in range(len(i.journal))],
            "entry_type": per_frame(lambda f: ENTRY_NAMES.get(f.type, f"0x{f.type:04x}")),
            "name": per_frame(lambda f: _command_name(f) if f.is_command else None),
            "raw": per_frame(attrgetter("payload")),
            "raw_length": per_frame(lambda f: len(f.payload)),
            "version": per_frame(lambda f: 2),
            "entry_json": lambda invs: [full for i in invs for full, _ in rendered(i)],
            "entry_lite_json": lambda invs: [lite for i in invs for _, lite in rendered(i)],
            "appended_at": lambda invs: [at for i in invs for at in i.appended_at()],
        }
        return self.invocation_table("sys_journal", columns)

    def callee(self, invocation_id: str) -> Callee | None:
        """What a call entry of ``sys_journal`` says of the invocation it started."""
        inv = self.engine.invocations.get(invocation_id)
        if inv is None:
            return None
        retention_s = self.engine.completion_retention_ms // 1000
        return Callee(inv.target, inv.service_type, inv.handler_type, retention_s)

    def state(self) -> pa.Table:
        store = self.engine.state
        rows = [(sid, name, value) for sid in store.service_ids() for name, value in store.all(sid).items()]
        columns: dict[str, Callable[[Any], Any]] = {
            "partition_key": lambda r: partition_key_for(r[0][0], r[0][1]),
            "service_name": lambda r: r[0][0],
            "service_key": lambda r: r[0][1],
            "key": lambda r: r[1].decode(errors="replace"),
            "key_length": lambda r: len(r[1]),
            "value_utf8": lambda r: r[2].decode("utf-8", errors="replace"),
            "value": lambda r: r[2],
            "value_length": lambda r: len(r[2]),
        }
        return self.table("state", rows, columns)

    def inbox(self) -> pa.Table:
        locks = self.engine.locks
        waiting = [(sid, inv) for sid in locks.locked_keys() for inv in locks.waiting(sid)]
        # The server numbers inbox entries in arrival order, from 0.
        order = {inv.id_str: n for n, inv in enumerate(sorted((w for _, w in waiting), key=lambda i: i.seq))}
        columns: dict[str, Callable[[Any], Any]] = {
            "partition_key": lambda r: r[1].id.partition_key,
            "service_name": lambda r: r[0][0],
            "service_key": lambda r: r[0][1],
            "id": lambda r: r[1].id_str,
            "sequence_number": lambda r: order[r[1].id_str],
        }
        return self.table("sys_inbox", waiting, columns)

    def keyed_service_status(self) -> pa.Table:
        locks = self.engine.locks
        held = [(sid, holder) for sid in locks.locked_keys() if (holder := locks.holder(sid)) is not None]
        columns: dict[str, Callable[[Any], Any]] = {
            "partition_key": lambda r: r[1].id.partition_key,
            "service_name": lambda r: r[0][0],
            "service_key": lambda r: r[0][1],
            "invocation_id": lambda r: r[1].id_str,
        }
        return self.table("sys_keyed_service_status", held, columns)

    def promise(self) -> pa.Table:
        store = self.engine.promises
        rows = [(sid, name, p) for sid in store.service_ids() for name, p in store.all(sid).items()]

        def value(r: Any) -> bytes | None:
            return r[2].result.content if isinstance(r[2].result, Value) else None

        columns: dict[str, Callable[[Any], Any]] = {
            "partition_key": lambda r: partition_key_for(r[0][0], r[0][1]),
            "service_name": lambda r: r[0][0],
            "service_key": lambda r: r[0][1],
            "key": lambda r: r[1],
            "completed": lambda r: r[2].result is not None,
            "completion_success_value": value,
            "completion_success_value_utf8": lambda r: (
                v.decode(errors="replace") if (v := value(r)) is not None else None
            ),
            "completion_failure": lambda r: (
                f"[{f.code}] {f.message}" if isinstance(f := r[2].result, Failure) else None
            ),
        }
        return self.table("sys_promise", rows, columns)

    def service(self) -> pa.Table:
        columns: dict[str, Callable[[Any], Any]] = {
            "name": lambda s: s.name,
            "revision": lambda s: s.revision,
            "public": lambda s: not s.manifest.get("ingressPrivate", False),
            "ty": lambda s: _SERVICE_TY[s.ty],
            "deployment_id": lambda s: s.deployment.id,
        }
        return self.table("sys_service", list(self.engine.services.values()), columns)

    def deployment_table(self) -> pa.Table:
        def endpoint(d: Any) -> str:
            uri = getattr(d.transport, "uri", None)
            return f"{uri}/" if isinstance(uri, str) else str(d.transport.description)

        columns: dict[str, Callable[[Any], Any]] = {
            "id": lambda d: d.id,
            "ty": lambda d: "http",
            "endpoint": endpoint,
            "created_at": lambda d: d.created_at_ms,
            "min_service_protocol_version": lambda d: d.manifest.get("minProtocolVersion"),
            "max_service_protocol_version": lambda d: d.manifest.get("maxProtocolVersion"),
            "services": lambda d: list(d.service_names),
        }
        return self.table("sys_deployment", list(self.engine.deployments.values()), columns)


def _mapped(fn: Row) -> Callable[[list[Invocation]], list[Any]]:
    """A per-row function as a whole-column one."""
    return lambda invs: list(map(fn, invs))


def _command_name(frame: Any) -> str:
    if frame.type == MessageType.INPUT_COMMAND:
        return ""
    try:
        return entry_name(frame.message())
    except WireError:
        return ""


_BUILDERS: dict[str, Callable[[_Builder], pa.Table]] = {
    "sys_invocation_status": _Builder.invocation_status,
    "sys_invocation_state": _Builder.invocation_state,
    "sys_journal": _Builder.journal,
    "state": _Builder.state,
    "sys_inbox": _Builder.inbox,
    "sys_keyed_service_status": _Builder.keyed_service_status,
    "sys_promise": _Builder.promise,
    "sys_service": _Builder.service,
    "sys_deployment": _Builder.deployment_table,
}


def empty_table(name: str) -> pa.Table:
    """A table with the server's schema and no rows (the tables restate_lab has nothing for)."""
    return arrow_schema(name).empty_table()


def take_snapshot(engine: Engine, refs: References, tables: Iterable[str] | None = None) -> Snapshot:
    """The tables ``refs`` names (or ``tables``) filled from ``engine``; a query sees the others empty."""
    builder = _Builder(engine, refs)
    wanted = set(tables) if tables is not None else refs.tables
    # Building allocates only acyclic values; the collector's passes over a large heap would cost more.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return Snapshot({name: build(builder) for name, build in _BUILDERS.items() if name in wanted})
    finally:
        if collecting:
            gc.enable()
