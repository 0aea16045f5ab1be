"""Ingress operations over the engine, shared by the Python API and the HTTP ingress.

They hold the rules a client sees, independent of HTTP: what a second workflow run answers,
that output before completion is a 470, which lookups are 404s, what a send returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from restate_lab.protocol.messages import Result
from restate_lab.rules.admission import refuses_repeated_call, send_status
from restate_lab.rules.durations import format_rfc3339
from restate_lab.rules.errors import (
    RestateError,
    already_completed,
    attach_not_found,
    completed_cannot_be_resumed,
    not_completed_yet,
    not_started_cannot_be_resumed,
    not_yet_completed,
    output_not_found,
    workflow_already_invoked,
)
from restate_lab.rules.targets import HandlerType, Target
from restate_lab.runtime.engine import Engine
from restate_lab.runtime.invocation import Invocation
from restate_lab.runtime.types import Submission

NOT_COMPLETED = not_completed_yet()


@dataclass(frozen=True)
class Accepted:
    """What a send answers: the invocation, whether it existed, and when it will run."""

    invocation: Invocation
    previously_accepted: bool
    execution_time: str | None

    @property
    def status(self) -> str:
        return send_status(not self.previously_accepted)


def submit_call(
    engine: Engine, target: Target, body: bytes, headers: list[tuple[str, str]], idempotency_key: str | None
) -> Submission:
    """Accept a request-response invocation; a second workflow run without idempotency key is refused."""
    submission = engine.submit(target, body, headers, idempotency_key=idempotency_key)
    inv = submission.invocation
    if refuses_repeated_call(inv.handler_type is HandlerType.WORKFLOW, submission.previously_accepted, idempotency_key):
        raise workflow_already_invoked(inv.id_str)
    return submission


async def call(
    engine: Engine, target: Target, body: bytes, headers: list[tuple[str, str]], idempotency_key: str | None = None
) -> tuple[Invocation, Result]:
    """Invoke and wait for the result."""
    inv = submit_call(engine, target, body, headers, idempotency_key).invocation
    return inv, await engine.wait(inv)


def send(
    engine: Engine,
    target: Target,
    body: bytes,
    headers: list[tuple[str, str]],
    idempotency_key: str | None = None,
    delay_ms: int | None = None,
) -> Accepted:
    """Invoke without waiting; with ``delay_ms`` the invocation is scheduled."""
    execute_at = engine.now_ms() + delay_ms if delay_ms is not None else None
    submission = engine.submit(target, body, headers, idempotency_key=idempotency_key, execute_at_ms=execute_at)
    inv = submission.invocation
    when = None
    if execute_at is not None:
        when = format_rfc3339(inv.execution_time_ms if inv.execution_time_ms is not None else execute_at)
    return Accepted(inv, submission.previously_accepted, when)


def lookup_invocation(engine: Engine, invocation_id: str, *, attach: bool = False) -> Invocation:
    """The invocation with this id; unknown ids answer as the real server's output (or attach) does."""
    inv = engine.find(invocation_id)
    if inv is None:
        raise attach_not_found(invocation_id) if attach else output_not_found()
    return inv


def lookup_idempotent(engine: Engine, service: str, key: str | None, handler: str, idem: str) -> Invocation:
    inv = engine.find_idempotent(service, key, handler, idem)
    if inv is None:
        raise output_not_found()
    return inv


def lookup_workflow(engine: Engine, workflow: str, workflow_id: str) -> Invocation:
    inv = engine.find_workflow(workflow, workflow_id)
    if inv is None:
        raise output_not_found()
    return inv


async def attach(engine: Engine, inv: Invocation) -> Result:
    return await engine.wait(inv)


def output(inv: Invocation) -> Result:
    if inv.result is None:
        raise NOT_COMPLETED
    return inv.result


def management_refusal(op: str, inv: Invocation) -> RestateError | None:
    """Why the admin API refuses ``op`` (cancel, kill, purge, purge-journal, resume) on ``inv`` now, or ``None``.

    Restate Server 1.7.12's answers: cancel/kill of a completed invocation and purge of an unfinished
    one are 409; resume of a completed one is 409, of an inboxed or scheduled one 425.
    """
    inv_id, status = inv.id_str, inv.status.value
    completed = status == "completed"
    if op in ("cancel", "kill") and completed:
        return already_completed(inv_id)
    if op in ("purge", "purge-journal") and not completed:
        return not_yet_completed(inv_id)
    if op == "resume":
        if completed:
            return completed_cannot_be_resumed(inv_id)
        if status in ("pending", "scheduled"):
            return not_started_cannot_be_resumed(inv_id)
    return None
