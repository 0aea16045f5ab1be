"""Services, handlers, deployments and invocations described as Restate's admin API lists them."""

from __future__ import annotations

from typing import Any

from restate_lab.rules.durations import format_rfc3339
from restate_lab.runtime.invocation import Invocation
from restate_lab.runtime.registry import DEFAULT_RETENTIONS, Deployment, HandlerMeta, ServiceMeta


def _duration(ms: int | None) -> str | None:
    """Admin API durations as humantime, e.g. ``1day`` or ``1h``."""
    if ms is None:
        return None
    for unit, size in (("day", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0 and ms >= size:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def describe_handler(handler: HandlerMeta) -> dict[str, Any]:
    raw = handler.manifest
    out: dict[str, Any] = {"name": handler.name}
    if handler.ty is not None:
        out["ty"] = handler.ty.value.capitalize()
    out["input_description"] = _payload_description(raw.get("input"))
    out["output_description"] = _payload_description(raw.get("output"))
    if raw.get("input", {}).get("jsonSchema") is not None:
        out["input_json_schema"] = raw["input"]["jsonSchema"]
    if raw.get("output", {}).get("jsonSchema") is not None:
        out["output_json_schema"] = raw["output"]["jsonSchema"]
    out["public"] = not handler.ingress_private
    return out


def _payload_description(payload: dict[str, Any] | None) -> str:
    if not payload or not payload.get("contentType"):
        return "none"
    ctype = payload["contentType"]
    if payload.get("required") is False:
        return f"one of [\"none\", \"value with content-type '{ctype}'\"]"
    return f"value with content-type '{ctype}'"


def describe_service(service: ServiceMeta) -> dict[str, Any]:
    """A service as ``GET /services/{name}`` shows it."""
    raw = service.manifest
    idem = raw.get("idempotencyRetention", DEFAULT_RETENTIONS["idempotency"])
    out: dict[str, Any] = {
        "name": service.name,
        "handlers": [describe_handler(h) for h in service.handlers.values()],
        "ty": {"SERVICE": "Service", "VIRTUAL_OBJECT": "VirtualObject", "WORKFLOW": "Workflow"}[service.ty.value],
        "deployment_id": service.deployment.id,
        "revision": service.revision,
        "public": not raw.get("ingressPrivate", False),
        "idempotency_retention": _duration(idem),
    }
    if service.ty.value == "WORKFLOW":
        out["workflow_completion_retention"] = _duration(DEFAULT_RETENTIONS["workflow"])
    return out


def describe_deployment(deployment: Deployment, services: list[ServiceMeta]) -> dict[str, Any]:
    return {
        "id": deployment.id,
        "uri": getattr(deployment.transport, "uri", deployment.transport.description),
        "protocol_type": "RequestResponse" if deployment.protocol_mode == "REQUEST_RESPONSE" else "BidiStream",
        "created_at": format_rfc3339(deployment.created_at_ms),
        "min_protocol_version": deployment.manifest.get("minProtocolVersion"),
        "max_protocol_version": deployment.manifest.get("maxProtocolVersion"),
        "services": [
            {"name": s.name, "revision": s.revision} for s in services if s.deployment is deployment
        ],
    }


def describe_invocation(inv: Invocation) -> dict[str, Any]:
    """A row shaped like the ``sys_invocation`` table."""
    return {
        "id": inv.id_str,
        "target": str(inv.target),
        "target_service_name": inv.target.service,
        "target_service_key": inv.target.key,
        "target_handler_name": inv.target.handler,
        "target_service_ty": {"SERVICE": "service", "VIRTUAL_OBJECT": "virtual_object",
                              "WORKFLOW": "workflow"}[inv.service_type.value],
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
