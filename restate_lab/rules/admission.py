"""Admission rules: what a new request meets before it runs, shared by the runtime and the simulator.

Three questions every driver asks the same way: does this handler take its key's exclusive lock,
what does a send answer when its idempotency key (or workflow id) was seen before, and what does
a call answer when a workflow's run handler was already invoked.
"""

from __future__ import annotations

from typing import Literal

from restate_lab.rules.errors import (  # re-exported: admission refusals live with the other texts
    RestateError,
    not_completed_yet,
    service_not_found,
    workflow_already_invoked,
)
from restate_lab.rules.targets import HandlerType, ServiceType

__all__ = [
    "DEFAULT_WORKFLOW_RETENTION_MS",
    "RestateError",
    "SendStatus",
    "handler_type_of",
    "is_workflow_run",
    "not_completed_yet",
    "refuses_repeated_call",
    "send_status",
    "service_not_found",
    "takes_key_lock",
    "workflow_already_invoked",
]

SendStatus = Literal["Accepted", "PreviouslyAccepted"]

#: Restate Server keeps a finished workflow (and so its once-per-id claim) for one day by default.
DEFAULT_WORKFLOW_RETENTION_MS = 24 * 3_600_000


def handler_type_of(service_type: ServiceType, declared: HandlerType | None) -> HandlerType | None:
    """The effective handler type: the declared one, else the service type's default.

    >>> handler_type_of(ServiceType.VIRTUAL_OBJECT, None), handler_type_of(ServiceType.SERVICE, None)
    (<HandlerType.EXCLUSIVE: 'EXCLUSIVE'>, None)
    """
    return declared if declared is not None else HandlerType.default_for(service_type)


def takes_key_lock(service_type: ServiceType, declared: HandlerType | None) -> bool:
    """True when invocations of this handler queue on their key and run one at a time.

    Plain services never lock; on objects exclusive handlers lock, shared handlers do not, and
    neither does a workflow's run handler (it runs once per workflow id: nothing could queue behind it).

    >>> takes_key_lock(ServiceType.VIRTUAL_OBJECT, None)
    True
    >>> wf = ServiceType.WORKFLOW
    >>> takes_key_lock(wf, HandlerType.SHARED), takes_key_lock(wf, HandlerType.WORKFLOW)
    (False, False)
    >>> takes_key_lock(ServiceType.SERVICE, None)
    False
    """
    if not service_type.keyed:
        return False
    effective = handler_type_of(service_type, declared)
    return effective is not None and effective.takes_lock


def is_workflow_run(service_type: ServiceType, declared: HandlerType | None) -> bool:
    """True for a workflow's run handler, which executes at most once per workflow id.

    >>> wf = ServiceType.WORKFLOW
    >>> is_workflow_run(wf, HandlerType.WORKFLOW), is_workflow_run(wf, HandlerType.SHARED)
    (True, False)
    """
    return service_type is ServiceType.WORKFLOW and declared is HandlerType.WORKFLOW


def send_status(claimed_new: bool) -> SendStatus:
    """What a send answers: ``Accepted`` for a new invocation, ``PreviouslyAccepted`` for a repeat.

    A repeated idempotency key (or a workflow id whose run was already submitted) answers with the
    first invocation's id and this status, whatever the new body is.

    >>> send_status(True), send_status(False)
    ('Accepted', 'PreviouslyAccepted')
    """
    return "Accepted" if claimed_new else "PreviouslyAccepted"


def refuses_repeated_call(workflow_run: bool, previously_accepted: bool, idempotency_key: str | None) -> bool:
    """True when a *call* meets :func:`workflow_already_invoked` instead of the first run's result.

    A repeated send answers ``PreviouslyAccepted``; a repeated call of a workflow's run handler is
    refused (409) unless it carries an idempotency key, which attaches to the first run.

    >>> refuses_repeated_call(True, True, None), refuses_repeated_call(True, True, "k")
    (True, False)
    >>> refuses_repeated_call(False, True, None), refuses_repeated_call(True, False, None)
    (False, False)
    """
    return workflow_run and previously_accepted and idempotency_key is None
