"""The engine as the modules cut out of it see it: a narrow, typed interface.

``attempt`` (one attempt against a deployment), ``commands`` (what each journal command does)
and ``recovery`` (rebuilding waits from journals) act on invocations only through these
methods, which ``restate_lab.runtime.engine.Engine`` implements. So they never import the
engine, the engine imports them, and every change of an invocation's status stays the engine's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from restate_lab.protocol.messages import Frame, Result
from restate_lab.rules.targets import Target
from restate_lab.runtime.clock import Timer
from restate_lab.runtime.idle import IdleWatch
from restate_lab.runtime.invocation import CompletionHook, Invocation
from restate_lab.runtime.registry import ServiceMeta
from restate_lab.runtime.stores import PromiseStore, ServiceId, StateStore

#: An idempotency key's scope: (service, object key, handler, idempotency key).
IdempotencyKey = tuple[str, str | None, str, str]


@dataclass(frozen=True)
class Submission:
    """An accepted invocation and whether it existed already (idempotency key or workflow id)."""

    invocation: Invocation
    previously_accepted: bool = False


class EngineCore(Protocol):
    """What ``attempt``, ``commands`` and ``recovery`` may ask of the engine."""

    services: dict[str, ServiceMeta]
    state: StateStore
    promises: PromiseStore
    inactivity_timeout_ms: int
    idle_watch: IdleWatch

    def now_ms(self) -> int:
        """The engine clock's time, in ms since the epoch."""
        ...

    def at(self, inv: Invocation | None, epoch_ms: int, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` at ``epoch_ms`` on the engine's clock; tied to ``inv``'s lifetime."""
        ...

    def from_host_ms(self, host_epoch_ms: int, since_host_ms: float | None = None) -> int:
        """A time the SDK computed from the host's wall clock, on the engine's clock."""
        ...

    def submit(
        self,
        target: Target,
        body: bytes,
        headers: list[tuple[str, str]],
        *,
        idempotency_key: str | None = None,
        execute_at_ms: int | None = None,
        invoked_by: Invocation | None = None,
        subscription_id: str | None = None,
    ) -> Submission:
        """Accept an invocation (or find the one its idempotency key or workflow id owns)."""
        ...

    def notify(
        self, inv: Invocation, frame: Frame, *, completion_id: int | None = None, signal: int | str | None = None
    ) -> None:
        """Append a notification to ``inv``'s journal and wake it if it waits for it."""
        ...

    def deliver_signal(self, invocation_id: str, signal: int | str, result: Result) -> None:
        """Signal an invocation (cancellation included)."""
        ...

    def signal_from(self, sender: Invocation, invocation_id: str, signal: int | str, result: Result) -> None:
        """Deliver a signal ``sender`` sends; one to ``sender`` itself is held until its chunk is read."""
        ...

    def release_self_signals(self, inv: Invocation, ended: bool) -> None:
        """Deliver the signals ``inv`` sent itself in the chunk just read; none if that chunk ended it."""
        ...

    def await_promise(self, inv: Invocation, name: str, completion_id: int) -> None:
        """Notify ``inv`` of its workflow's promise ``name`` once (or as soon as) it is completed."""
        ...

    def complete_promise(self, sid: ServiceId, name: str, result: Result) -> Result:
        """Complete a workflow promise once; the answer says whether it was."""
        ...

    def when_complete(self, inv: Invocation, hook: CompletionHook) -> None:
        """Call ``hook`` once ``inv`` has a result."""
        ...

    def find(self, invocation_id: str) -> Invocation | None: ...

    def find_idempotent(
        self, service: str, key: str | None, handler: str, idempotency_key: str
    ) -> Invocation | None: ...

    def find_workflow(self, workflow: str, workflow_id: str) -> Invocation | None: ...

    def mark(self, inv: Invocation) -> None:
        """``inv`` changed (journal or fields) and must reach the durable store at the next flush."""
        ...

    def flush(self) -> None:
        """Write what changed to the durable store now."""
        ...
