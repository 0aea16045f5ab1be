"""SQL over the runtime's state, with tables named and shaped like Restate Server's introspection.

Each query builds a fresh in-memory SQLite database from the engine (cheap at notebook scale),
so the answer is a snapshot. The dialect is SQLite's; the table and column names are Restate's.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from restate_lab.protocol.messages import Failure, MessageType, Value, entry_name
from restate_lab.rules.errors import RestateError
from restate_lab.runtime.engine import Engine
from restate_lab.runtime.invocation import Invocation

#: The tables and columns of Restate Server 1.7's introspection, in its column order.
TABLES: dict[str, tuple[str, ...]] = {
    "sys_invocation": (
        "id", "vqueue_id", "target", "target_service_name", "target_service_key", "target_handler_name",
        "target_service_ty", "scope", "limit_key", "idempotency_key", "invoked_by", "invoked_by_service_name",
        "invoked_by_id", "invoked_by_subscription_id", "invoked_by_target", "restarted_from", "pinned_deployment_id",
        "pinned_service_protocol_version", "trace_id", "journal_size", "journal_commands_size", "created_at",
        "created_using_restate_version", "modified_at", "inboxed_at", "scheduled_at", "scheduled_start_at",
        "running_at", "completed_at", "completion_retention", "journal_retention",
        "suspended_waiting_for_completions", "suspended_waiting_for_signals", "suspended_waiting_future_json",
        "retry_count", "last_start_at", "next_retry_at", "last_attempt_deployment_id", "last_attempt_server",
        "last_failure", "last_failure_error_code", "last_failure_related_entry_index",
        "last_failure_related_entry_name", "last_failure_related_entry_type", "last_failure_related_command_index",
        "last_failure_related_command_name", "last_failure_related_command_type", "last_awaiting_on_future_json",
        "status", "completion_result", "completion_failure",
    ),
    "state": ("partition_key", "scope", "service_name", "service_key", "key", "key_length", "value_utf8", "value",
              "value_length"),
    "sys_journal": ("partition_key", "id", "index", "entry_type", "name", "completed", "invoked_id",
                    "invoked_target", "sleep_wakeup_at", "promise_name", "raw", "raw_length", "version",
                    "entry_json", "entry_lite_json", "appended_at"),
    "sys_inbox": ("partition_key", "service_name", "service_key", "id", "sequence_number", "created_at"),
    "sys_keyed_service_status": ("partition_key", "service_name", "service_key", "invocation_id"),
    "sys_promise": ("partition_key", "scope", "service_name", "service_key", "key", "completed",
                    "completion_success_value", "completion_success_value_utf8", "completion_failure"),
    "sys_service": ("name", "revision", "public", "ty", "deployment_id"),
    "sys_deployment": ("id", "ty", "endpoint", "created_at", "min_service_protocol_version",
                       "max_service_protocol_version", "services"),
}
Row = dict[str, Any]
_LIST_COLUMNS = {"services", "suspended_waiting_for_completions", "suspended_waiting_for_signals"}
_SERVICE_TY = {"SERVICE": "service", "VIRTUAL_OBJECT": "virtual_object", "WORKFLOW": "workflow"}
_ENTRY_NAMES = {
    t.value: ("Command: " if t.is_command else "Notification: " if t.is_notification else "")
    + "".join(w.capitalize() for w in t.name.removesuffix("_COMMAND").removesuffix("_COMPLETION").split("_"))
    for t in MessageType
}


def timestamp(ms: int | None) -> str | None:
    """Restate's JSON timestamps: RFC 3339 at millisecond precision with ``Z``."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ms) % 1000:03d}Z"


def _pk(inv: Invocation) -> int:
    # SQLite integers are signed 64-bit; the top bit of our partition keys carries no meaning.
    return inv.id.partition_key & 0x7FFF_FFFF_FFFF_FFFF


def _iso_duration(ms: int) -> str:
    return f"PT{ms // 1000}S" if ms % 1000 == 0 else f"PT{ms / 1000}S"


def _invocation_row(engine: Engine, inv: Invocation) -> Row:
    service = engine.services.get(inv.target.service)
    deployment = service.deployment if service is not None and inv.attempts else None
    result = inv.result
    caller = engine.find(inv.invoked_by_id) if inv.invoked_by_id else None
    awaiting = inv.awaiting if inv.status.value == "suspended" else None
    return {
        "id": inv.id_str, "target": str(inv.target), "target_service_name": inv.target.service,
        "target_service_key": inv.target.key, "target_handler_name": inv.target.handler,
        "target_service_ty": _SERVICE_TY[inv.service_type.value], "idempotency_key": inv.idempotency_key,
        "invoked_by": inv.invoked_by, "invoked_by_service_name": caller.target.service if caller else None,
        "invoked_by_id": inv.invoked_by_id,
        "invoked_by_subscription_id": inv.invoked_by_subscription_id,
        "invoked_by_target": str(caller.target) if caller else None,
        "pinned_deployment_id": deployment.id if deployment else None,
        "pinned_service_protocol_version": deployment.protocol_version if deployment else None,
        "journal_size": len(inv.journal), "journal_commands_size": inv.command_count + 1,
        "created_at": timestamp(inv.created_at_ms), "created_using_restate_version": "restate-lab",
        "modified_at": timestamp(inv.modified_at_ms), "scheduled_at": timestamp(inv.execution_time_ms),
        "running_at": timestamp(inv.running_since_ms), "completed_at": timestamp(inv.completed_at_ms),
        "completion_retention": _iso_duration(inv.retention_ms) if inv.completed else None,
        "suspended_waiting_for_completions": json.dumps(sorted(awaiting.completions)) if awaiting else None,
        "suspended_waiting_for_signals": json.dumps(sorted(awaiting.signals)) if awaiting else None,
        "retry_count": inv.retry_count, "last_start_at": timestamp(inv.running_since_ms),
        "next_retry_at": timestamp(inv.next_retry_at_ms),
        "last_attempt_deployment_id": deployment.id if deployment else None, "last_failure": inv.last_failure,
        "last_failure_error_code": str(inv.last_failure_code) if inv.last_failure_code is not None else None,
        "status": inv.status.value,
        "completion_result": None if result is None else ("failure" if isinstance(result, Failure) else "success"),
        "completion_failure": f"[{result.code}] {result.message}" if isinstance(result, Failure) else None,
    }


def _journal_rows(inv: Invocation) -> Iterable[Row]:
    for index, frame in enumerate(inv.journal):
        message = frame.message() if frame.type != MessageType.INPUT_COMMAND else None
        row: Row = {
            "partition_key": _pk(inv), "id": inv.id_str, "index": index,
            "entry_type": _ENTRY_NAMES.get(frame.type, f"0x{frame.type:04x}"),
            "name": entry_name(message) if message is not None and frame.is_command else "",
            "raw": frame.payload, "raw_length": len(frame.payload), "version": 2,
        }
        if message is not None and frame.type in (
            MessageType.GET_PROMISE_COMMAND, MessageType.PEEK_PROMISE_COMMAND, MessageType.COMPLETE_PROMISE_COMMAND
        ):
            row["promise_name"] = message.key
        if message is not None and frame.type == MessageType.SLEEP_COMMAND:
            row["sleep_wakeup_at"] = timestamp(message.wake_up_time)
        yield row


def build_database(engine: Engine) -> sqlite3.Connection:
    """Materialise the introspection tables from the engine's current state."""
    db = sqlite3.connect(":memory:")
    for table, columns in TABLES.items():
        quoted = ", ".join(f'"{c}"' for c in columns)
        db.execute(f"CREATE TABLE {table} ({quoted})")
    invocations = list(engine.invocations.values())
    _insert(db, "sys_invocation", (_invocation_row(engine, inv) for inv in invocations))
    _insert(db, "sys_journal", (row for inv in invocations for row in _journal_rows(inv)))
    _insert(db, "state", _state_rows(engine))
    _insert(db, "sys_inbox", _inbox_rows(engine))
    _insert(db, "sys_keyed_service_status", (
        {"partition_key": _pk(holder), "service_name": service, "service_key": key, "invocation_id": holder.id_str}
        for service, key in engine.locks.locked_keys()
        if (holder := engine.locks.holder((service, key))) is not None
    ))
    _insert(db, "sys_promise", _promise_rows(engine))
    _insert(db, "sys_service", (
        {"name": s.name, "revision": s.revision, "public": not s.manifest.get("ingressPrivate", False),
         "ty": _SERVICE_TY[s.ty.value], "deployment_id": s.deployment.id}
        for s in engine.services.values()
    ))
    _insert(db, "sys_deployment", (
        {"id": d.id, "ty": "http", "endpoint": getattr(d.transport, "uri", d.transport.description),
         "created_at": timestamp(d.created_at_ms), "min_service_protocol_version": d.manifest.get("minProtocolVersion"),
         "max_service_protocol_version": d.manifest.get("maxProtocolVersion"),
         "services": json.dumps(sorted(d.service_names))}
        for d in engine.deployments.values()
    ))
    return db


def _state_rows(engine: Engine) -> Iterable[Row]:
    for service, key in engine.state.service_ids():
        for name, value in engine.state.all((service, key)).items():
            yield {"partition_key": 0, "service_name": service, "service_key": key,
                   "key": name.decode(errors="replace"), "key_length": len(name),
                   "value_utf8": value.decode("utf-8", errors="replace"), "value": value, "value_length": len(value)}


def _inbox_rows(engine: Engine) -> Iterable[Row]:
    for service, key in engine.locks.locked_keys():
        for seq, waiting in enumerate(engine.locks.waiting((service, key)), start=1):
            yield {"partition_key": _pk(waiting), "service_name": service, "service_key": key, "id": waiting.id_str,
                   "sequence_number": seq, "created_at": timestamp(waiting.created_at_ms)}


def _promise_rows(engine: Engine) -> Iterable[Row]:
    for service, key in engine.promises.service_ids():
        for name, promise in engine.promises.all((service, key)).items():
            value = promise.result.content if isinstance(promise.result, Value) else None
            failure = promise.result if isinstance(promise.result, Failure) else None
            yield {"partition_key": 0, "service_name": service, "service_key": key, "key": name,
                   "completed": promise.result is not None, "completion_success_value": value,
                   "completion_success_value_utf8": value.decode(errors="replace") if value is not None else None,
                   "completion_failure": f"[{failure.code}] {failure.message}" if failure else None}


def _insert(db: sqlite3.Connection, table: str, rows: Iterable[Row]) -> None:
    columns = TABLES[table]
    marks = ", ".join("?" for _ in columns)
    db.executemany(f"INSERT INTO {table} VALUES ({marks})", (tuple(r.get(c) for c in columns) for r in rows))


def query(engine: Engine, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql`` over a snapshot; ``RestateError`` 400 for SQL that does not run."""
    db = build_database(engine)
    try:
        cursor = db.execute(sql)
        columns = [d[0] for d in cursor.description or ()]
        return columns, cursor.fetchall()
    except sqlite3.Error as exc:
        raise RestateError(400, f"SQL error: {exc}") from exc
    finally:
        db.close()


def json_rows(columns: list[str], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Rows as Restate's JSON answer has them: nulls left out, bytes as hex, lists decoded."""
    out = []
    for row in rows:
        item: dict[str, Any] = {}
        for name, value in zip(columns, row, strict=True):
            if value is None:
                continue
            if isinstance(value, bytes):
                value = value.hex()
            elif name in ("completed", "public") and isinstance(value, int):
                value = bool(value)
            elif name in _LIST_COLUMNS and isinstance(value, str) and value.startswith("["):
                value = json.loads(value)
            item[name] = value
        out.append(item)
    return out
