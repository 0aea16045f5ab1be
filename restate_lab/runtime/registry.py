"""Deployments and the services they offer, read from the SDK's discovery manifest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from restate_lab.protocol.transport import DeploymentError, Transport
from restate_lab.rules.admission import DEFAULT_WORKFLOW_RETENTION_MS
from restate_lab.rules.idempotency import DEFAULT_IDEMPOTENCY_RETENTION_MS
from restate_lab.rules.ids import new_deployment_id
from restate_lab.rules.retry import RetryPolicy
from restate_lab.rules.targets import HandlerType, ServiceType

#: Restate Server's default retentions, in milliseconds.
DEFAULT_RETENTIONS = {"idempotency": DEFAULT_IDEMPOTENCY_RETENTION_MS, "workflow": DEFAULT_WORKFLOW_RETENTION_MS}

#: How long a bidirectional attempt may sit idle before its input closes and the SDK suspends.
DEFAULT_INACTIVITY_TIMEOUT_MS = 60_000

#: Protocol versions this runtime speaks, in order of preference (Restate Server 1.7 picks 6).
SUPPORTED_PROTOCOL_VERSIONS = (6, 5)


@dataclass
class HandlerMeta:
    """One handler as the manifest declares it."""

    name: str
    ty: HandlerType | None
    manifest: dict[str, Any]
    retry_policy: RetryPolicy | None = None
    idempotency_retention_ms: int | None = None
    workflow_completion_retention_ms: int | None = None
    journal_retention_ms: int | None = None
    inactivity_timeout_ms: int | None = None
    ingress_private: bool = False
    lazy_state: bool = False

    @property
    def takes_lock(self) -> bool:
        return self.ty is not None and self.ty.takes_lock


@dataclass
class ServiceMeta:
    """A service, virtual object or workflow and its handlers."""

    name: str
    ty: ServiceType
    handlers: dict[str, HandlerMeta]
    deployment: Deployment
    manifest: dict[str, Any]
    revision: int = 1

    @property
    def keyed(self) -> bool:
        return self.ty.keyed


@dataclass
class Deployment:
    """A registered deployment: how to reach it and what it negotiated."""

    id: str
    transport: Transport
    protocol_mode: str
    protocol_version: int
    manifest: dict[str, Any]
    #: Set by the engine from its clock when it registers the deployment.
    created_at_ms: int = 0

    @property
    def bidi(self) -> bool:
        return self.protocol_mode == "BIDI_STREAM"

    @property
    def service_names(self) -> list[str]:
        return [s["name"] for s in self.manifest.get("services", [])]


def _retry_policy(entry: dict[str, Any], inherited: RetryPolicy | None) -> RetryPolicy | None:
    keys = (
        "retryPolicyInitialInterval",
        "retryPolicyMaxInterval",
        "retryPolicyMaxAttempts",
        "retryPolicyExponentiationFactor",
        "retryPolicyOnMaxAttempts",
    )
    if not any(k in entry and entry[k] is not None for k in keys):
        return inherited
    base = inherited or RetryPolicy()
    on_max = str(entry.get("retryPolicyOnMaxAttempts") or base.on_max_attempts).lower()
    return RetryPolicy(
        initial_interval_ms=int(entry.get("retryPolicyInitialInterval") or base.initial_interval_ms),
        factor=float(entry.get("retryPolicyExponentiationFactor") or base.factor),
        max_interval_ms=int(entry.get("retryPolicyMaxInterval") or base.max_interval_ms),
        max_attempts=int(entry["retryPolicyMaxAttempts"])
        if entry.get("retryPolicyMaxAttempts") is not None
        else base.max_attempts,
        on_max_attempts="kill" if on_max == "kill" else "pause",
    )


def _choose_version(manifest: dict[str, Any], where: str) -> int:
    try:
        low, high = int(manifest["minProtocolVersion"]), int(manifest["maxProtocolVersion"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DeploymentError(f"manifest from {where} has no valid protocol version range") from exc
    for version in SUPPORTED_PROTOCOL_VERSIONS:
        if low <= version <= high:
            return version
    raise DeploymentError(
        f"deployment {where} speaks service protocol v{low}..v{high}; "
        f"restate_lab speaks {sorted(SUPPORTED_PROTOCOL_VERSIONS)}"
    )


def parse_manifest(manifest: dict[str, Any], transport: Transport) -> tuple[Deployment, list[ServiceMeta]]:
    """Validate a manifest and build the deployment and its services; ``DeploymentError`` if invalid."""
    where = transport.description
    mode = manifest.get("protocolMode", "BIDI_STREAM")
    if mode not in ("REQUEST_RESPONSE", "BIDI_STREAM"):
        raise DeploymentError(f"manifest from {where} has unknown protocolMode {mode!r}")
    services_raw = manifest.get("services")
    if not isinstance(services_raw, list) or not services_raw:
        raise DeploymentError(f"manifest from {where} lists no services")
    deployment = Deployment(new_deployment_id(), transport, mode, _choose_version(manifest, where), manifest)
    services = []
    for raw in services_raw:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
            raise DeploymentError(f"manifest from {where} has a service without a name")
        try:
            ty = ServiceType(str(raw.get("ty")))
        except ValueError as exc:
            raise DeploymentError(f"service {raw['name']!r} has unknown type {raw.get('ty')!r}") from exc
        service_policy = _retry_policy(raw, None)
        handlers = {}
        for h in raw.get("handlers", []):
            if not isinstance(h, dict) or not isinstance(h.get("name"), str):
                raise DeploymentError(f"service {raw['name']!r} has a handler without a name")
            try:
                hty = HandlerType(h["ty"]) if h.get("ty") else HandlerType.default_for(ty)
            except ValueError as exc:
                raise DeploymentError(f"handler {raw['name']}/{h['name']} has unknown type {h['ty']!r}") from exc
            if ty is ServiceType.SERVICE and hty is not None:
                raise DeploymentError(f"handler {raw['name']}/{h['name']} of a plain service cannot be {hty.value}")
            handlers[h["name"]] = HandlerMeta(
                name=h["name"],
                ty=hty,
                manifest=h,
                retry_policy=_retry_policy(h, service_policy),
                idempotency_retention_ms=h.get("idempotencyRetention", raw.get("idempotencyRetention")),
                workflow_completion_retention_ms=h.get("workflowCompletionRetention"),
                journal_retention_ms=h.get("journalRetention", raw.get("journalRetention")),
                inactivity_timeout_ms=h.get("inactivityTimeout", raw.get("inactivityTimeout")),
                ingress_private=bool(h.get("ingressPrivate", raw.get("ingressPrivate", False))),
                lazy_state=bool(h.get("enableLazyState", raw.get("enableLazyState", False))),
            )
        services.append(ServiceMeta(raw["name"], ty, handlers, deployment, raw))
    return deployment, services
