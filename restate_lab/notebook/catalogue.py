"""What the pickers offer: every handler of a target, read from its admin ``GET /services`` answer.

Every target answers ``services()`` in the admin API's shape; the simulator spells kinds in upper case
(``VIRTUAL_OBJECT``, ``EXCLUSIVE``), the servers as the admin API does (``VirtualObject``, ``Exclusive``).
Both are read here into one spelling: the admin API's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_SERVICE_KIND = {"SERVICE": "Service", "VIRTUAL_OBJECT": "VirtualObject", "WORKFLOW": "Workflow"}
_HANDLER_KIND = {"SHARED": "Shared", "EXCLUSIVE": "Exclusive", "WORKFLOW": "Workflow"}


@dataclass(frozen=True)
class HandlerInfo:
    """One handler as the composer shows it.

    ``handler_kind`` is the admin API's ``ty`` (``Shared``, ``Exclusive``, ``Workflow``) or ``None`` for a
    plain service's handler; ``input_schema`` is the handler's input JSON schema, ``None`` when it takes no
    JSON (or declares none).
    """

    service: str
    handler: str
    service_kind: str
    handler_kind: str | None
    input_schema: Mapping[str, Any] | None
    output_schema: Mapping[str, Any] | None
    input_description: str
    documentation: str

    @property
    def keyed(self) -> bool:
        """Whether the target needs a key (virtual objects and workflows)."""
        return self.service_kind in ("VirtualObject", "Workflow")

    @property
    def takes_input(self) -> bool:
        """Whether the handler reads a body (the admin API says ``none`` for handlers that do not)."""
        return self.input_schema is not None or self.input_description not in ("none", "")

    @property
    def label(self) -> str:
        """``add (Exclusive)``: the handler with its kind, as the handler picker lists it."""
        return f"{self.handler} ({self.handler_kind})" if self.handler_kind else self.handler


def service_kind(entry: Mapping[str, Any]) -> str:
    ty = str(entry.get("ty") or "Service")
    return _SERVICE_KIND.get(ty, ty)


def handler_infos(services: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, HandlerInfo]]:
    """``{service: {handler: HandlerInfo}}`` from an admin ``GET /services`` list, in catalogue order."""
    out: dict[str, dict[str, HandlerInfo]] = {}
    for entry in services:
        kind = service_kind(entry)
        handlers: dict[str, HandlerInfo] = {}
        for h in entry.get("handlers", []):
            raw_kind = h.get("ty")
            hkind = _HANDLER_KIND.get(str(raw_kind), str(raw_kind)) if raw_kind else None
            if hkind is None and kind == "VirtualObject":
                hkind = "Exclusive"
            handlers[h["name"]] = HandlerInfo(
                service=entry["name"],
                handler=h["name"],
                service_kind=kind,
                handler_kind=hkind,
                input_schema=h.get("input_json_schema"),
                output_schema=h.get("output_json_schema"),
                input_description=str(h.get("input_description", "JSON value")),
                documentation=str(h.get("documentation") or ""),
            )
        out[entry["name"]] = handlers
    return out
