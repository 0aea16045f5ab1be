"""Services, handlers and invocation targets in Restate's vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ServiceType(StrEnum):
    SERVICE = "SERVICE"
    VIRTUAL_OBJECT = "VIRTUAL_OBJECT"
    WORKFLOW = "WORKFLOW"

    @property
    def keyed(self) -> bool:
        return self is not ServiceType.SERVICE


class HandlerType(StrEnum):
    EXCLUSIVE = "EXCLUSIVE"
    SHARED = "SHARED"
    WORKFLOW = "WORKFLOW"

    @classmethod
    def default_for(cls, service_type: ServiceType) -> HandlerType | None:
        """Handlers with no declared type: exclusive on objects, none on plain services."""
        return cls.EXCLUSIVE if service_type is ServiceType.VIRTUAL_OBJECT else None

    @property
    def takes_lock(self) -> bool:
        """Only exclusive handlers hold their key's lock.

        A workflow's run handler does not: it runs at most once per workflow id anyway, and Restate
        Server does not list a running one in ``sys_keyed_service_status``; shared handlers never lock.
        """
        return self is HandlerType.EXCLUSIVE


@dataclass(frozen=True)
class Target:
    """What an invocation runs: ``service/handler``, or ``service/key/handler`` when keyed."""

    service: str
    handler: str
    key: str | None = None

    def __str__(self) -> str:
        if self.key is None:
            return f"{self.service}/{self.handler}"
        return f"{self.service}/{self.key}/{self.handler}"

    @property
    def service_id(self) -> tuple[str, str | None]:
        """The (service, key) pair that scopes state and the exclusive lock."""
        return (self.service, self.key)
