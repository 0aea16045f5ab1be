"""Services, handlers, deployments and invocations described as Restate Server 1.7's admin API shows them.

Field names, their order, which fields are left out, and how durations and payloads are spelled
all follow the real server's JSON, so a client (or a diff against the real server) sees the same.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping
from typing import Any

from restate_lab.rules.durations import format_rfc3339
from restate_lab.runtime.invocation import Invocation
from restate_lab.runtime.registry import (
    DEFAULT_INACTIVITY_TIMEOUT_MS,
    DEFAULT_RETENTIONS,
    Deployment,
    HandlerMeta,
    ServiceMeta,
)

#: Restate Server's defaults, shown on every service unless the manifest overrides them.
DEFAULT_JOURNAL_RETENTION_MS = 86_400_000
DEFAULT_ABORT_TIMEOUT_MS = 600_000
DEFAULT_SERVICE_RETRY = {
    "initial_interval": 500,
    "exponentiation_factor": 2.0,
    "max_attempts": 70,
    "max_interval": 60_000,
    "on_max_attempts": "Pause",
}

_SERVICE_TY = {"SERVICE": "Service", "VIRTUAL_OBJECT": "VirtualObject", "WORKFLOW": "Workflow"}
_RETRY_FIELDS = (
    ("initial_interval", "retryPolicyInitialInterval"),
    ("exponentiation_factor", "retryPolicyExponentiationFactor"),
    ("max_attempts", "retryPolicyMaxAttempts"),
    ("max_interval", "retryPolicyMaxInterval"),
    ("on_max_attempts", "retryPolicyOnMaxAttempts"),
)
_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))
_INACTIVITY_INFO = (
    "The configured inactivity_timeout {} will not be applied because the {} is exposed in Request/Response mode."
)


def format_duration(ms: int) -> str:
    """A duration in the server's compact friendly spelling: ``1d``, ``1m 30s``, ``500ms``, ``0s``."""
    if ms <= 0:
        return "0s"
    parts = []
    for unit, size in _UNITS:
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return " ".join(parts)


def payload_description(payload: Mapping[str, Any] | None) -> str:
    """``none``, ``JSON string``, ``JSON 'Person'`` or the bare content type, as the server describes payloads."""
    if not payload or not payload.get("contentType"):
        return "none"
    schema = payload.get("jsonSchema")
    if isinstance(schema, Mapping):
        if isinstance(schema.get("title"), str):
            return f"JSON '{schema['title']}'"
        if isinstance(schema.get("type"), str):
            return f"JSON {schema['type']}"
    return str(payload["contentType"])


def _retry_value(name: str, value: Any) -> Any:
    if name in ("initial_interval", "max_interval"):
        return format_duration(int(value))
    if name == "exponentiation_factor":
        return float(value)
    if name == "on_max_attempts":
        return str(value).capitalize()
    return value


def _handler_retry(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, key in _RETRY_FIELDS:
        if raw.get(key) is not None:
            out[name] = _retry_value(name, raw[key])
        elif name == "max_attempts":
            out[name] = None
    return out


def _service_retry(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, key in _RETRY_FIELDS:
        value = raw.get(key)
        out[name] = _retry_value(name, value if value is not None else DEFAULT_SERVICE_RETRY[name])
    return out


def _bidi(service: ServiceMeta) -> bool:
    return service.deployment.bidi


def describe_handler(handler: HandlerMeta, *, bidi: bool = False) -> dict[str, Any]:
    """A handler as ``GET /services/{name}/handlers/{handler}`` shows it."""
    raw = handler.manifest
    out: dict[str, Any] = {"name": handler.name}
    if handler.ty is not None:
        out["ty"] = handler.ty.value.capitalize()
    if raw.get("documentation"):
        out["documentation"] = raw["documentation"]
    if raw.get("metadata"):
        out["metadata"] = raw["metadata"]
    for name, key in (
        ("idempotency_retention", "idempotencyRetention"),
        ("workflow_completion_retention", "workflowCompletionRetention"),
        ("journal_retention", "journalRetention"),
    ):
        if raw.get(key) is not None:
            out[name] = format_duration(int(raw[key]))
    info = []
    if raw.get("inactivityTimeout") is not None:
        if bidi:
            out["inactivity_timeout"] = format_duration(int(raw["inactivityTimeout"]))
        else:
            info.append(
                {
                    "code": "RT0021",
                    "message": _INACTIVITY_INFO.format(format_duration(raw["inactivityTimeout"]), "handler"),
                }
            )
    if raw.get("abortTimeout") is not None:
        out["abort_timeout"] = format_duration(int(raw["abortTimeout"]))
    if raw.get("enableLazyState") is not None:
        out["enable_lazy_state"] = bool(raw["enableLazyState"])
    out["public"] = not handler.ingress_private
    out["input_description"] = payload_description(raw.get("input"))
    out["output_description"] = payload_description(raw.get("output"))
    for side in ("input", "output"):
        payload = raw.get(side) or {}
        if payload.get("contentType") and "jsonSchema" in payload:
            out[f"{side}_json_schema"] = payload["jsonSchema"]
    out["retry_policy"] = _handler_retry(raw)
    if info:
        out["info"] = info
    return out


def describe_service(service: ServiceMeta) -> dict[str, Any]:
    """A service as ``GET /services/{name}`` shows it."""
    raw = service.manifest
    bidi = _bidi(service)
    out: dict[str, Any] = {
        "name": service.name,
        "ty": _SERVICE_TY[service.ty.value],
        "handlers": [describe_handler(h, bidi=bidi) for h in service.handlers.values()],
    }
    if raw.get("documentation"):
        out["documentation"] = raw["documentation"]
    if raw.get("metadata"):
        out["metadata"] = raw["metadata"]
    out["deployment_id"] = service.deployment.id
    out["revision"] = service.revision
    out["public"] = not raw.get("ingressPrivate", False)
    out["idempotency_retention"] = format_duration(
        int(raw.get("idempotencyRetention", DEFAULT_RETENTIONS["idempotency"]))
    )
    if service.ty.value == "WORKFLOW":
        out["workflow_completion_retention"] = format_duration(
            int(raw.get("workflowCompletionRetention", DEFAULT_RETENTIONS["workflow"]))
        )
    out["journal_retention"] = format_duration(int(raw.get("journalRetention", DEFAULT_JOURNAL_RETENTION_MS)))
    info = []
    if bidi:
        out["inactivity_timeout"] = format_duration(int(raw.get("inactivityTimeout", DEFAULT_INACTIVITY_TIMEOUT_MS)))
    else:
        out["inactivity_timeout"] = "0s"
        if raw.get("inactivityTimeout") is not None:
            info.append(
                {
                    "code": "RT0021",
                    "message": _INACTIVITY_INFO.format(format_duration(int(raw["inactivityTimeout"])), "service"),
                }
            )
    out["abort_timeout"] = format_duration(int(raw.get("abortTimeout", DEFAULT_ABORT_TIMEOUT_MS)))
    out["enable_lazy_state"] = bool(raw.get("enableLazyState", False))
    out["retry_policy"] = _service_retry(raw)
    if info:
        out["info"] = info
    return out


def sdk_version(deployment: Deployment) -> str | None:
    """The SDK's ``x-restate-server`` identity: known for in-process apps, or recorded at discovery."""
    known = getattr(deployment.transport, "sdk_version", None)
    if isinstance(known, str):
        return known
    if type(deployment.transport).__name__ == "AsgiTransport":
        try:
            return f"restate-sdk-python/{importlib.metadata.version('restate-sdk')}"
        except importlib.metadata.PackageNotFoundError:
            return None
    return None


def _deployment_head(deployment: Deployment) -> dict[str, Any]:
    uri = getattr(deployment.transport, "uri", None)
    out: dict[str, Any] = {
        "id": deployment.id,
        "uri": (uri.rstrip("/") + "/") if isinstance(uri, str) else deployment.transport.description,
        "protocol_type": "BidiStream" if deployment.bidi else "RequestResponse",
        "http_version": "HTTP/2.0" if deployment.bidi else "HTTP/1.1",
        "created_at": format_rfc3339(deployment.created_at_ms),
        "min_protocol_version": deployment.manifest.get("minProtocolVersion"),
        "max_protocol_version": deployment.manifest.get("maxProtocolVersion"),
    }
    version = sdk_version(deployment)
    if version is not None:
        out["sdk_version"] = version
    return out


def describe_deployment(
    deployment: Deployment,
    services: Iterable[ServiceMeta],
    *,
    detailed: bool = False,
    revisions: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """A deployment as ``GET /deployments`` lists it, or with ``detailed`` as ``GET /deployments/{id}`` shows it.

    ``services`` are the current services; a service since taken over by a newer deployment keeps the
    revision it had here when ``revisions`` (name to revision) remembers it.
    """
    out = _deployment_head(deployment)
    current = {s.name: s for s in services if s.deployment is deployment}
    if detailed:
        out["services"] = [describe_service(s) for s in current.values()]
        return out
    listed = []
    for name in deployment.service_names:
        if name in current:
            listed.append({"name": name, "revision": current[name].revision})
        else:
            listed.append({"name": name, "revision": (revisions or {}).get(name, 1)})
    out["services"] = listed
    return out


def describe_registration(deployment: Deployment, services: Iterable[ServiceMeta]) -> dict[str, Any]:
    """The answer to ``POST /deployments``: the id, the services as registered, and the protocol range."""
    out: dict[str, Any] = {
        "id": deployment.id,
        "services": [describe_service(s) for s in services if s.deployment is deployment],
        "min_protocol_version": deployment.manifest.get("minProtocolVersion"),
        "max_protocol_version": deployment.manifest.get("maxProtocolVersion"),
    }
    version = sdk_version(deployment)
    if version is not None:
        out["sdk_version"] = version
    return out


def describe_invocation(inv: Invocation) -> dict[str, Any]:
    """A row shaped like the ``sys_invocation`` table."""
    return {
        "id": inv.id_str,
        "target": str(inv.target),
        "target_service_name": inv.target.service,
        "target_service_key": inv.target.key,
        "target_handler_name": inv.target.handler,
        "target_service_ty": {"SERVICE": "service", "VIRTUAL_OBJECT": "virtual_object", "WORKFLOW": "workflow"}[
            inv.service_type.value
        ],
        "status": inv.status.value,
        "invoked_by": inv.invoked_by,
        "invoked_by_id": inv.invoked_by_id,
        "idempotency_key": inv.idempotency_key,
        "created_at": inv.created_at_ms,
        "modified_at": inv.modified_at_ms,
        "completed_at": inv.completed_at_ms,
        "scheduled_at": inv.execution_time_ms,
        "retry_count": inv.retry_count,
        "attempts": inv.attempts,
        "next_retry_at": inv.next_retry_at_ms,
        "last_failure": inv.last_failure,
        "last_failure_error_code": inv.last_failure_code,
        "journal_size": len(inv.journal),
        "journal_commands_size": inv.command_count + 1,
        "completion_result": None if inv.result is None else ("failure" if hasattr(inv.result, "code") else "success"),
        "completion_failure": getattr(inv.result, "message", None),
    }
