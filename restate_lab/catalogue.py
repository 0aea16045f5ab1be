"""The service catalogue: services, their handlers, kinds and JSON schemas, as every target sees them.

One type for all: a target's :meth:`~restate_lab.api.IngressApi.catalogue` returns it (read from the
admin API's ``GET /services``), and the simulator is built from it, so a simulation of your own
services needs nothing written by hand::

    sim = Simulation(LocalRestate(app).catalogue())     # or RestateClient(...).catalogue()

Both spellings of the kinds are read: the admin API's (``"VirtualObject"``, ``"Exclusive"``) and the
discovery manifest's (``"VIRTUAL_OBJECT"``, ``"EXCLUSIVE"``); what is written back is the admin
API's, or exactly the entries the catalogue was read from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from restate_lab.rules.admission import (
    DEFAULT_WORKFLOW_RETENTION_MS,
    handler_type_of,
    is_workflow_run,
    takes_key_lock,
)
from restate_lab.rules.targets import HandlerType, ServiceType

#: The admin API's spelling of each service kind.
SERVICE_KINDS = {
    ServiceType.SERVICE: "Service",
    ServiceType.VIRTUAL_OBJECT: "VirtualObject",
    ServiceType.WORKFLOW: "Workflow",
}
#: The admin API's spelling of each handler kind.
HANDLER_KINDS = {HandlerType.SHARED: "Shared", HandlerType.EXCLUSIVE: "Exclusive", HandlerType.WORKFLOW: "Workflow"}


def service_type(spelled: str) -> ServiceType:
    """A service kind from either spelling; ``ValueError`` naming the accepted ones otherwise.

    >>> service_type("VirtualObject"), service_type("WORKFLOW")
    (<ServiceType.VIRTUAL_OBJECT: 'VIRTUAL_OBJECT'>, <ServiceType.WORKFLOW: 'WORKFLOW'>)
    """
    for ty, admin in SERVICE_KINDS.items():
        if spelled in (ty.value, admin):
            return ty
    raise ValueError(f"{spelled!r} is not a service kind (expected one of {', '.join(SERVICE_KINDS.values())})")


def handler_type(spelled: str | None) -> HandlerType | None:
    """A handler kind from either spelling (``None`` stays ``None``).

    >>> handler_type("Shared"), handler_type("EXCLUSIVE"), handler_type(None)
    (<HandlerType.SHARED: 'SHARED'>, <HandlerType.EXCLUSIVE: 'EXCLUSIVE'>, None)
    """
    if spelled is None:
        return None
    for ty, admin in HANDLER_KINDS.items():
        if spelled in (ty.value, admin):
            return ty
    raise ValueError(f"{spelled!r} is not a handler kind (expected one of {', '.join(HANDLER_KINDS.values())})")


@dataclass
class HandlerModel:
    """A handler as the catalogue declares it, with its input and output JSON schemas (may be ``None``)."""

    service: str
    name: str
    service_type: ServiceType
    declared: HandlerType | None
    input_schema: Any = None
    output_schema: Any = None
    documentation: str | None = None

    @property
    def takes_lock(self) -> bool:
        return takes_key_lock(self.service_type, self.declared)

    @property
    def workflow_run(self) -> bool:
        return is_workflow_run(self.service_type, self.declared)

    @property
    def handler_type(self) -> HandlerType | None:
        return handler_type_of(self.service_type, self.declared)

    @property
    def kind(self) -> str | None:
        """``"Shared"``, ``"Exclusive"``, ``"Workflow"`` or ``None`` (plain services), as the admin API says."""
        return HANDLER_KINDS[self.declared] if self.declared is not None else None

    @property
    def keyed(self) -> bool:
        """Whether calls name a key (objects and workflows)."""
        return self.service_type.keyed


@dataclass
class ServiceModel:
    """A service and its deployment: ``concurrency`` attempts run at once (``None``: unlimited)."""

    name: str
    service_type: ServiceType
    handlers: dict[str, HandlerModel] = field(default_factory=dict)
    concurrency: int | None = None
    workflow_retention_ms: float = DEFAULT_WORKFLOW_RETENTION_MS
    #: The admin entry this service was read from, written back unchanged by :meth:`Catalogue.to_admin`.
    raw: Mapping[str, Any] | None = None

    @property
    def kind(self) -> str:
        """``"Service"``, ``"VirtualObject"`` or ``"Workflow"``, as the admin API says."""
        return SERVICE_KINDS[self.service_type]

    @property
    def keyed(self) -> bool:
        return self.service_type.keyed


class Catalogue:
    """The services of a target, readable from and writable to the admin ``GET /services`` shape.

    >>> handlers = [{"name": "add", "ty": "Exclusive"}, {"name": "get", "ty": "Shared"}]
    >>> cat = Catalogue.from_admin({"services": [{"name": "Counter", "ty": "VirtualObject", "handlers": handlers}]})
    >>> cat.handler("Counter", "add").takes_lock, cat.handler("Counter", "get").takes_lock
    (True, False)
    >>> cat.service("Counter").kind, [h.kind for h in cat.handlers("Counter")]
    ('VirtualObject', ['Exclusive', 'Shared'])
    """

    def __init__(self, services: Iterable[ServiceModel] = ()) -> None:
        self.services: dict[str, ServiceModel] = {s.name: s for s in services}

    @classmethod
    def from_admin(
        cls,
        services: Iterable[Mapping[str, Any]] | Mapping[str, Any],
        concurrency: Mapping[str, int | None] | None = None,
    ) -> Catalogue:
        """Read admin ``GET /services`` entries: the ``{"services": [...]}`` body or its list.

        Kinds may be spelled as the admin API does (``"VirtualObject"``) or as discovery manifests do
        (``"VIRTUAL_OBJECT"``); ``input_json_schema``/``output_json_schema`` become the handlers' schemas.
        """
        entries = services["services"] if isinstance(services, Mapping) else services
        models = []
        for entry in entries:
            try:
                ty = service_type(entry["ty"])
                name = entry["name"]
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"not an admin GET /services entry: {entry!r} ({exc})") from exc
            model = ServiceModel(name, ty, concurrency=(concurrency or {}).get(name), raw=entry)
            for handler in entry.get("handlers", []):
                model.handlers[handler["name"]] = HandlerModel(
                    name,
                    handler["name"],
                    ty,
                    handler_type(handler.get("ty")),
                    input_schema=handler.get("input_json_schema"),
                    output_schema=handler.get("output_json_schema"),
                    documentation=handler.get("documentation"),
                )
            models.append(model)
        return cls(models)

    def to_admin(self) -> list[dict[str, Any]]:
        """The catalogue in the admin ``GET /services`` shape (entries read in are written back as read)."""
        out: list[dict[str, Any]] = []
        for s in self.services.values():
            if s.raw is not None:
                out.append(dict(s.raw))
                continue
            handlers = []
            for h in s.handlers.values():
                entry: dict[str, Any] = {"name": h.name}
                if h.kind is not None:
                    entry["ty"] = h.kind
                for side, schema in (("input", h.input_schema), ("output", h.output_schema)):
                    if schema is not None:
                        entry[f"{side}_json_schema"] = schema
                handlers.append(entry)
            out.append({"name": s.name, "ty": s.kind, "handlers": handlers})
        return out

    def add(
        self,
        name: str,
        service_type: ServiceType | str,
        handlers: Mapping[str, HandlerType | str | None] | Iterable[str],
        concurrency: int | None = None,
    ) -> ServiceModel:
        """Declare a service in Python: ``add("Counter", "VirtualObject", {"add": "Exclusive"})``."""
        ty = service_type if isinstance(service_type, ServiceType) else _service_type(service_type)
        spec = handlers if isinstance(handlers, Mapping) else {h: None for h in handlers}
        model = ServiceModel(name, ty, concurrency=concurrency)
        for handler, declared in spec.items():
            hty = declared if isinstance(declared, HandlerType) else handler_type(declared)
            model.handlers[handler] = HandlerModel(name, handler, ty, hty)
        self.services[name] = model
        return model

    def service(self, name: str) -> ServiceModel | None:
        return self.services.get(name)

    def handler(self, service: str, handler: str) -> HandlerModel | None:
        model = self.services.get(service)
        return model.handlers.get(handler) if model else None

    def handlers(self, service: str) -> list[HandlerModel]:
        """A service's handlers in declaration order (empty for an unknown service)."""
        model = self.services.get(service)
        return list(model.handlers.values()) if model else []

    def __iter__(self) -> Iterator[ServiceModel]:
        return iter(self.services.values())

    def __len__(self) -> int:
        return len(self.services)

    def __repr__(self) -> str:
        return f"Catalogue({', '.join(f'{s.name}:{s.kind}' for s in self.services.values())})"


_service_type = service_type  # ``add`` takes a parameter of the same name
