"""The one interface every target shares: the in-process runtime, an HTTP server, the simulator.

Widgets and notebooks program against :class:`IngressApi`, so the same cell can drive the
in-process runtime, ``restate-lab serve``, or a real Restate Server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol, runtime_checkable

#: A delay as a duration string (``"10s"``, ``"PT10S"``), a ``timedelta``, or seconds.
Delay = str | timedelta | float | int


@dataclass(frozen=True)
class SendReceipt:
    """What a send returns: the invocation id, whether it is new, and when it runs if delayed."""

    invocation_id: str
    status: Literal["Accepted", "PreviouslyAccepted"]
    execution_time: str | None = None


@runtime_checkable
class IngressApi(Protocol):
    """Invoke and inspect Restate handlers. Bodies are JSON values (``bytes`` pass through raw).

    Errors raise :class:`restate_lab.RestateError` with the real server's code, message and source.
    """

    def call(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Invoke and wait for the result."""
        ...

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
        """Invoke without waiting, optionally after ``delay``."""
        ...

    def attach(self, invocation_id: str) -> Any:
        """Wait for an invocation's result."""
        ...

    def output(self, invocation_id: str) -> Any:
        """An invocation's result if it has completed; ``RestateError`` 470 if not yet."""
        ...

    def cancel(self, invocation_id: str) -> None: ...

    def kill(self, invocation_id: str) -> None: ...

    def purge(self, invocation_id: str) -> None: ...

    def resolve_awakeable(self, awakeable_id: str, value: Any = None) -> None: ...

    def reject_awakeable(self, awakeable_id: str, message: str) -> None: ...

    def services(self) -> list[dict[str, Any]]:
        """The registered services, shaped as the admin API's ``GET /services`` lists them."""
        ...
