"""The one interface every target shares: the in-process runtime, an HTTP server, the simulator.

Widgets and notebooks program against :class:`IngressApi`, so the same cell can drive the
in-process runtime (``LocalRestate``), ``restate-lab serve`` or a real Restate Server
(``RestateClient``), or a simulation (``SimulatedRestate``). Every target answers with the same
names, the same errors (:class:`restate_lab.RestateError` with the real server's code, message and
source) and the same frame columns (those of the real server's ``sys_invocation`` and
``sys_journal`` tables, timestamps as UTC pandas datetimes).

Two errors belong to the interface itself:

* :class:`InvocationTimeout` -- a blocking wait ran out; its message says what the invocation is
  doing (status, retry count, last failure), so a cell never hangs without a word.
* :class:`NotSupportedByTarget` -- the target cannot do this at all (the simulator has no
  awakeables, no state and no journal); code 501, and the message names the target and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from restate_lab.rules.errors import RestateError

if TYPE_CHECKING:
    import pandas as pd

    from restate_lab.catalogue import Catalogue

#: A delay as a duration string (``"10s"``, ``"PT10S"``), a ``timedelta``, or seconds.
Delay = str | timedelta | float | int

#: Seconds every blocking wait gives up after when the caller passes no ``timeout=``.
DEFAULT_TIMEOUT = 60.0

#: Invocation statuses in Restate's vocabulary, in lifecycle order.
STATUSES = ("pending", "scheduled", "ready", "running", "backing-off", "suspended", "paused", "completed")


@dataclass(frozen=True)
class SendReceipt:
    """What a send returns: the invocation id, whether it is new, and when it runs if delayed.

    ``execution_time`` is the RFC 3339 instant a delayed send runs at (``None`` when not delayed),
    as the real server's ``executionTime`` field spells it.
    """

    invocation_id: str
    status: Literal["Accepted", "PreviouslyAccepted"]
    execution_time: str | None = None


class InvocationTimeout(TimeoutError):
    """A blocking wait ran out before the invocation finished; says what the invocation is doing.

    ``status``, ``retry_count`` and ``last_failure`` are what the target knew when the wait ended
    (``None`` where it could not tell, e.g. a call whose id the server had not answered yet).

    >>> str(InvocationTimeout("Flaky/run", 1.0, "inv_1", "backing-off", 3, "[500] boom"))
    'Flaky/run (inv_1) did not finish within 1.0 s: status backing-off, retry_count 3, last failure: [500] boom'
    """

    def __init__(
        self,
        what: str,
        timeout: float,
        invocation_id: str | None = None,
        status: str | None = None,
        retry_count: int | None = None,
        last_failure: str | None = None,
    ) -> None:
        self.what = what
        self.timeout = timeout
        self.invocation_id = invocation_id
        self.status = status
        self.retry_count = retry_count
        self.last_failure = last_failure
        who = f"{what} ({invocation_id})" if invocation_id else what
        state = f"status {status or 'unknown'}, retry_count {retry_count if retry_count is not None else 'unknown'}"
        failure = f", last failure: {last_failure}" if last_failure else ", no failure recorded"
        super().__init__(f"{who} did not finish within {timeout} s: {state}{failure}")


class NotSupportedByTarget(RestateError):
    """The target cannot do this operation (code 501); the message names the target and the reason.

    >>> str(NotSupportedByTarget("SimulatedRestate", "resolve_awakeable", "the simulator has no awakeables"))
    '[501] SimulatedRestate does not support resolve_awakeable: the simulator has no awakeables'
    """

    def __init__(self, target: str, operation: str, reason: str) -> None:
        super().__init__(501, f"{target} does not support {operation}: {reason}", "ingress")
        self.target = target
        self.operation = operation
        self.reason = reason


@runtime_checkable
class IngressApi(Protocol):
    """Invoke, manage and inspect Restate handlers on any target.

    Bodies are JSON values (``bytes`` pass through raw). Errors raise :class:`RestateError` with the
    real server's code, message and source; every blocking method takes ``timeout=`` (seconds,
    ``None`` for the target's default) and raises :class:`InvocationTimeout` when it runs out.
    Frames are pandas DataFrames with the real server's column names (pandas is imported lazily).
    Each target is a context manager (``close()`` on exit).
    """

    # ---- invoke ----

    def call(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
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

    # ---- results ----

    def attach(self, invocation_id: str, *, timeout: float | None = None) -> Any:
        """Wait for an invocation's result."""
        ...

    def output(self, invocation_id: str) -> Any:
        """An invocation's result if it has completed; ``RestateError`` 470 if not yet."""
        ...

    def attach_workflow(self, workflow: str, workflow_id: str, *, timeout: float | None = None) -> Any:
        """Wait for a workflow's ``run`` result, by workflow id."""
        ...

    def output_workflow(self, workflow: str, workflow_id: str) -> Any:
        """A workflow's ``run`` result if it has completed; 470 if not yet."""
        ...

    def attach_idempotent(
        self,
        service: str,
        handler: str,
        idempotency_key: str,
        *,
        key: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Wait for the result of the invocation an idempotency key started."""
        ...

    def output_idempotent(self, service: str, handler: str, idempotency_key: str, *, key: str | None = None) -> Any:
        """The result of the invocation an idempotency key started, if completed; 470 if not yet."""
        ...

    def status(self, invocation_id: str) -> str:
        """The invocation's status in Restate's names (see :data:`STATUSES`)."""
        ...

    # ---- manage ----

    def cancel(self, invocation_id: str) -> None:
        """Cancel: the handler sees a terminal cancellation error and may compensate."""
        ...

    def kill(self, invocation_id: str) -> None:
        """Kill: stop at once, without running handler code again."""
        ...

    def purge(self, invocation_id: str) -> None:
        """Forget a completed invocation."""
        ...

    def resume(self, invocation_id: str) -> None:
        """Resume a paused invocation."""
        ...

    def resolve_awakeable(self, awakeable_id: str, value: Any = None) -> None:
        """Resolve an awakeable with a JSON value."""
        ...

    def reject_awakeable(self, awakeable_id: str, message: str) -> None:
        """Reject an awakeable; the handler awaiting it sees a terminal error."""
        ...

    # ---- catalogue ----

    def services(self) -> list[dict[str, Any]]:
        """The registered services, shaped as the admin API's ``GET /services`` lists them."""
        ...

    def catalogue(self) -> Catalogue:
        """The services as a :class:`restate_lab.catalogue.Catalogue` (kinds and JSON schemas)."""
        ...

    # ---- inspect ----

    def invocations(
        self, *, service: str | None = None, status: str | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """Invocations as a frame with ``sys_invocation``'s columns, newest first."""
        ...

    def state(self, service: str, key: str) -> dict[str, Any]:
        """An object's or workflow's state, values JSON-decoded (``bytes`` where not JSON)."""
        ...

    def journal(self, invocation_id: str) -> pd.DataFrame:
        """One invocation's journal with ``sys_journal``'s columns plus a decoded ``value``."""
        ...

    def query(self, sql: str) -> pd.DataFrame:
        """SQL over the introspection tables (``sys_invocation``, ``sys_journal``, ``state``, ...)."""
        ...

    # ---- awaitable forms ----

    async def acall(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Awaitable :meth:`call`."""
        ...

    async def asend(
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
        """Awaitable :meth:`send`."""
        ...

    async def aattach(self, invocation_id: str, *, timeout: float | None = None) -> Any:
        """Awaitable :meth:`attach`."""
        ...

    async def aoutput(self, invocation_id: str) -> Any:
        """Awaitable :meth:`output`."""
        ...

    # ---- lifetime ----

    def close(self) -> None:
        """Release what the target holds (threads, connections)."""
        ...
