"""The introspection tables of Restate Server 1.7.12: names, columns, Arrow types, and the ``sys_invocation`` view.

Measured on the real server (``information_schema`` and its Arrow IPC answers; see
``docs/observed-restate-1.7.12.md``): every base-table column is nullable, strings are ``LargeUtf8``,
timestamps ``Timestamp(ms, "+00:00")``, retentions ``Duration(ms)``. ``sys_invocation`` is a view joining
``sys_invocation_status`` with ``sys_invocation_state``; its definition below is the text the server reports
in ``information_schema.views``, so the view's columns, types and computed ``status`` come out identical.
This module is pure data: pyarrow is imported only by :func:`arrow_schema`.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

#: Column kinds used below: ``str`` LargeUtf8, ``u64``/``u32`` unsigned ints, ``bool``, ``ts`` timestamp (ms, UTC),
#: ``dur`` duration (ms), ``bin`` LargeBinary, ``list_u32`` / ``list_str`` lists of those.
Column = tuple[str, str]

#: Base tables in the ``restate.public`` schema, columns in the server's order.
BASE_TABLES: dict[str, tuple[Column, ...]] = {
    "state": (
        ("partition_key", "u64"),
        ("scope", "str"),
        ("service_name", "str"),
        ("service_key", "str"),
        ("key", "str"),
        ("key_length", "u64"),
        ("value_utf8", "str"),
        ("value", "bin"),
        ("value_length", "u64"),
    ),
    "sys_deployment": (
        ("id", "str"),
        ("ty", "str"),
        ("endpoint", "str"),
        ("created_at", "ts"),
        ("min_service_protocol_version", "u32"),
        ("max_service_protocol_version", "u32"),
        ("services", "list_str"),
    ),
    "sys_inbox": (
        ("partition_key", "u64"),
        ("service_name", "str"),
        ("service_key", "str"),
        ("id", "str"),
        ("sequence_number", "u64"),
        ("created_at", "ts"),
    ),
    "sys_invocation_state": (
        ("partition_key", "u64"),
        ("id", "str"),
        ("in_flight", "bool"),
        ("retry_count", "u64"),
        ("last_start_at", "ts"),
        ("last_attempt_deployment_id", "str"),
        ("last_attempt_server", "str"),
        ("next_retry_at", "ts"),
        ("last_failure", "str"),
        ("last_failure_error_code", "str"),
        ("last_failure_related_command_index", "u64"),
        ("last_failure_related_command_name", "str"),
        ("last_failure_related_command_type", "str"),
        ("last_failure_related_entry_index", "u64"),
        ("last_failure_related_entry_name", "str"),
        ("last_failure_related_entry_type", "str"),
        ("last_awaiting_on_future_json", "str"),
    ),
    "sys_invocation_status": (
        ("partition_key", "u64"),
        ("id", "str"),
        ("vqueue_id", "str"),
        ("status", "str"),
        ("completion_result", "str"),
        ("completion_failure", "str"),
        ("target", "str"),
        ("target_service_name", "str"),
        ("target_service_key", "str"),
        ("target_handler_name", "str"),
        ("target_service_ty", "str"),
        ("scope", "str"),
        ("limit_key", "str"),
        ("idempotency_key", "str"),
        ("invoked_by", "str"),
        ("invoked_by_id", "str"),
        ("invoked_by_subscription_id", "str"),
        ("invoked_by_service_name", "str"),
        ("invoked_by_target", "str"),
        ("restarted_from", "str"),
        ("pinned_deployment_id", "str"),
        ("pinned_service_protocol_version", "u32"),
        ("trace_id", "str"),
        ("journal_size", "u32"),
        ("journal_commands_size", "u32"),
        ("created_at", "ts"),
        ("created_using_restate_version", "str"),
        ("modified_at", "ts"),
        ("inboxed_at", "ts"),
        ("scheduled_at", "ts"),
        ("scheduled_start_at", "ts"),
        ("running_at", "ts"),
        ("completed_at", "ts"),
        ("completion_retention", "dur"),
        ("journal_retention", "dur"),
        ("suspended_waiting_for_completions", "list_u32"),
        ("suspended_waiting_for_signals", "list_u32"),
        ("suspended_waiting_future_json", "str"),
    ),
    "sys_journal_events": (
        ("partition_key", "u64"),
        ("id", "str"),
        ("after_journal_entry_index", "u32"),
        ("appended_at", "ts"),
        ("event_type", "str"),
        ("event_json", "str"),
    ),
    "sys_journal": (
        ("partition_key", "u64"),
        ("id", "str"),
        ("index", "u32"),
        ("entry_type", "str"),
        ("name", "str"),
        ("completed", "bool"),
        ("invoked_id", "str"),
        ("invoked_target", "str"),
        ("sleep_wakeup_at", "ts"),
        ("promise_name", "str"),
        ("raw", "bin"),
        ("raw_length", "u64"),
        ("version", "u32"),
        ("entry_json", "str"),
        ("entry_lite_json", "str"),
        ("appended_at", "ts"),
    ),
    "sys_keyed_service_status": (
        ("partition_key", "u64"),
        ("service_name", "str"),
        ("service_key", "str"),
        ("invocation_id", "str"),
    ),
    "sys_locks": (
        ("partition_key", "u64"),
        ("scope", "str"),
        ("lock_name", "str"),
        ("acquired_at", "ts"),
        ("acquired_by", "str"),
    ),
    "sys_promise": (
        ("partition_key", "u64"),
        ("scope", "str"),
        ("service_name", "str"),
        ("service_key", "str"),
        ("key", "str"),
        ("completed", "bool"),
        ("completion_success_value", "bin"),
        ("completion_success_value_utf8", "str"),
        ("completion_failure", "str"),
    ),
    "sys_rules": (
        ("pattern", "str"),
        ("concurrency", "u32"),
        ("description", "str"),
        ("disabled", "bool"),
        ("version", "u32"),
        ("last_modified", "ts"),
    ),
    "sys_scheduler": (
        ("partition_key", "u64"),
        ("id", "str"),
        ("num_inbox", "u64"),
        ("status", "str"),
        ("head_entry_id", "str"),
        ("scheduled_at", "ts"),
        ("blocked_on", "str"),
        ("blocked_on_json", "str"),
        ("invoker_concurrency_block_duration", "dur"),
        ("throttling_rules_block_duration", "dur"),
        ("invoker_throttling_block_duration", "dur"),
        ("invoker_memory_block_duration", "dur"),
        ("concurrency_rules_block_duration", "dur"),
        ("lock_block_duration", "dur"),
        ("deployment_concurrency_block_duration", "dur"),
    ),
    "sys_service": (
        ("name", "str"),
        ("revision", "u64"),
        ("public", "bool"),
        ("ty", "str"),
        ("deployment_id", "str"),
    ),
    "sys_user_limits": (
        ("partition_key", "u64"),
        ("scope", "str"),
        ("l1", "str"),
        ("l2", "str"),
        ("level", "str"),
        ("usage", "u32"),
        ("concurrency_limit", "u32"),
        ("rule_pattern", "str"),
        ("available", "u32"),
        ("num_waiters", "u64"),
    ),
    "sys_vqueue_entry_status": (
        ("partition_key", "u64"),
        ("entry_id", "str"),
        ("vqueue_id", "str"),
        ("stage", "str"),
        ("status", "str"),
        ("has_lock", "bool"),
        ("next_at", "ts"),
        ("sequence_number", "u64"),
        ("entry_kind", "str"),
        ("created_at", "ts"),
        ("transitioned_at", "ts"),
        ("num_attempts", "u32"),
        ("num_errors", "u32"),
        ("num_pauses", "u32"),
        ("num_suspensions", "u32"),
        ("num_yields", "u32"),
        ("first_attempt_at", "ts"),
        ("latest_attempt_at", "ts"),
        ("first_runnable_at", "ts"),
        ("deployment", "str"),
        ("needed_memory", "u64"),
        ("retry_attempts", "u32"),
        ("retry_count_since_last_stored_command", "u32"),
        ("latest_attempt_blocked_on_invoker_concurrency", "dur"),
        ("latest_attempt_blocked_on_throttling_rules", "dur"),
        ("latest_attempt_blocked_on_invoker_throttling", "dur"),
        ("latest_attempt_blocked_on_invoker_memory", "dur"),
        ("latest_attempt_blocked_on_concurrency_rules", "dur"),
        ("latest_attempt_blocked_on_lock", "dur"),
        ("latest_attempt_blocked_on_deployment_concurrency", "dur"),
        ("total_blocked_on_invoker_concurrency", "dur"),
        ("total_blocked_on_throttling_rules", "dur"),
        ("total_blocked_on_invoker_throttling", "dur"),
        ("total_blocked_on_invoker_memory", "dur"),
        ("total_blocked_on_concurrency_rules", "dur"),
        ("total_blocked_on_lock", "dur"),
        ("total_blocked_on_deployment_concurrency", "dur"),
    ),
    "sys_vqueue_meta": (
        ("partition_key", "u64"),
        ("id", "str"),
        ("is_active", "bool"),
        ("queue_is_paused", "bool"),
        ("service_name", "str"),
        ("scope", "str"),
        ("limit_key", "str"),
        ("lock_name", "str"),
        ("created_at", "ts"),
        ("last_enqueued_at", "ts"),
        ("last_start_at", "ts"),
        ("last_attempt_at", "ts"),
        ("last_finish_at", "ts"),
        ("avg_queue_duration", "dur"),
        ("avg_inbox_duration", "dur"),
        ("avg_run_duration", "dur"),
        ("avg_suspension_duration", "dur"),
        ("avg_end_to_end_duration", "dur"),
        ("avg_blocked_on_concurrency_rules", "dur"),
        ("avg_blocked_on_invoker_concurrency", "dur"),
        ("avg_blocked_on_invoker_throttling", "dur"),
        ("avg_blocked_on_lock", "dur"),
        ("num_inbox", "u64"),
        ("num_running", "u64"),
        ("num_suspended", "u64"),
        ("num_paused", "u64"),
        ("num_finished", "u64"),
    ),
    "sys_vqueues": (
        ("partition_key", "u64"),
        ("id", "str"),
        ("stage", "str"),
        ("status", "str"),
        ("has_lock", "bool"),
        ("run_at", "ts"),
        ("sequence_number", "u64"),
        ("entry_id", "str"),
        ("entry_kind", "str"),
        ("created_at", "ts"),
        ("transitioned_at", "ts"),
        ("num_attempts", "u32"),
        ("num_errors", "u32"),
        ("num_pauses", "u32"),
        ("num_suspensions", "u32"),
        ("num_yields", "u32"),
        ("first_attempt_at", "ts"),
        ("latest_attempt_at", "ts"),
        ("first_runnable_at", "ts"),
        ("deployment", "str"),
    ),
}

#: ``information_schema.views.definition`` of ``sys_invocation`` on Restate Server 1.7.12, verbatim.
SYS_INVOCATION_VIEW = (
    "CREATE VIEW sys_invocation AS SELECT ss.id, ss.vqueue_id, ss.target, ss.target_service_name, "
    "ss.target_service_key, ss.target_handler_name, ss.target_service_ty, ss.scope, ss.limit_key, "
    "ss.idempotency_key, ss.invoked_by, ss.invoked_by_service_name, ss.invoked_by_id, "
    "ss.invoked_by_subscription_id, ss.invoked_by_target, ss.restarted_from, ss.pinned_deployment_id, "
    "ss.pinned_service_protocol_version, ss.trace_id, ss.journal_size, ss.journal_commands_size, "
    "ss.created_at, ss.created_using_restate_version, ss.modified_at, ss.inboxed_at, ss.scheduled_at, "
    "ss.scheduled_start_at, ss.running_at, ss.completed_at, ss.completion_retention, "
    "ss.journal_retention, ss.suspended_waiting_for_completions, ss.suspended_waiting_for_signals, "
    "ss.suspended_waiting_future_json, sis.retry_count, sis.last_start_at, sis.next_retry_at, "
    "sis.last_attempt_deployment_id, sis.last_attempt_server, sis.last_failure, "
    "sis.last_failure_error_code, sis.last_failure_related_entry_index, "
    "sis.last_failure_related_entry_name, sis.last_failure_related_entry_type, "
    "sis.last_failure_related_command_index, sis.last_failure_related_command_name, "
    "sis.last_failure_related_command_type, sis.last_awaiting_on_future_json, arrow_cast(CASE WHEN "
    "ss.status = 'inboxed' THEN 'pending' WHEN ss.status = 'scheduled' THEN 'scheduled' WHEN ss.status = "
    "'completed' THEN 'completed' WHEN ss.status = 'suspended' THEN 'suspended' WHEN ss.status = 'paused' "
    "THEN 'paused' WHEN sis.in_flight THEN 'running' WHEN ss.status = 'invoked' AND retry_count > 0 THEN "
    "'backing-off' ELSE 'ready' END, 'LargeUtf8') AS status, ss.completion_result, ss.completion_failure "
    "FROM sys_invocation_state sis RIGHT JOIN sys_invocation_status ss ON ss.id = sis.id"
)

#: The view's columns in order (from the server's ``information_schema.columns``).
VIEW_COLUMNS: tuple[str, ...] = (
    "id",
    "vqueue_id",
    "target",
    "target_service_name",
    "target_service_key",
    "target_handler_name",
    "target_service_ty",
    "scope",
    "limit_key",
    "idempotency_key",
    "invoked_by",
    "invoked_by_service_name",
    "invoked_by_id",
    "invoked_by_subscription_id",
    "invoked_by_target",
    "restarted_from",
    "pinned_deployment_id",
    "pinned_service_protocol_version",
    "trace_id",
    "journal_size",
    "journal_commands_size",
    "created_at",
    "created_using_restate_version",
    "modified_at",
    "inboxed_at",
    "scheduled_at",
    "scheduled_start_at",
    "running_at",
    "completed_at",
    "completion_retention",
    "journal_retention",
    "suspended_waiting_for_completions",
    "suspended_waiting_for_signals",
    "suspended_waiting_future_json",
    "retry_count",
    "last_start_at",
    "next_retry_at",
    "last_attempt_deployment_id",
    "last_attempt_server",
    "last_failure",
    "last_failure_error_code",
    "last_failure_related_entry_index",
    "last_failure_related_entry_name",
    "last_failure_related_entry_type",
    "last_failure_related_command_index",
    "last_failure_related_command_name",
    "last_failure_related_command_type",
    "last_awaiting_on_future_json",
    "status",
    "completion_result",
    "completion_failure",
)

#: Every table a query can name, with its column names (the view included).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    **{name: tuple(c for c, _ in columns) for name, columns in BASE_TABLES.items()},
    "sys_invocation": VIEW_COLUMNS,
}

#: The base tables the view reads.
VIEW_SOURCES = ("sys_invocation_status", "sys_invocation_state")


def arrow_type(kind: str) -> pa.DataType:
    """The Arrow type of one column kind."""
    import pyarrow as pa

    scalar = {
        "str": pa.large_string(),
        "u64": pa.uint64(),
        "u32": pa.uint32(),
        "bool": pa.bool_(),
        "ts": pa.timestamp("ms", tz="+00:00"),
        "dur": pa.duration("ms"),
        "bin": pa.large_binary(),
    }
    if kind.startswith("list_"):
        return pa.list_(scalar[kind.removeprefix("list_")])
    return scalar[kind]


@cache
def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a base table, every field nullable as on the server."""
    import pyarrow as pa

    return pa.schema([pa.field(name, arrow_type(kind), nullable=True) for name, kind in BASE_TABLES[table]])
