"""Admission rules: what a new request meets before it runs, shared by the runtime and the simulator.

Three questions every driver asks the same way: does this handler take its key's exclusive lock,
what does a send answer when its idempotency key (or workflow id) was seen before, and what does
a call answer when a workflow's run handler was already invoked.
"""

from __future__ import annotations

from typing import Literal

from restate_lab.rules.errors import RestateError
from restate_lab.rules.targets import HandlerType, ServiceType

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

    Plain services never lock; on objects and workflows exclusive and workflow-run handlers
    lock, shared handlers do not.

    >>> takes_key_lock(ServiceType.VIRTUAL_OBJECT, None)
    True
    >>> takes_key_lock(ServiceType.WORKFLOW, HandlerType.SHARED)
    False
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


def workflow_already_invoked() -> RestateError:
    """The error a *call* to a workflow's run handler gets once that workflow id has run.

    >>> workflow_already_invoked().to_json()["code"]
    409
    """
    return RestateError(409, "the workflow method was already invoked", "invocation")


def refuses_workflow_rerun(previously_accepted: bool, workflow_run: bool, idempotency_key: str | None) -> bool:
    """Whether a *call* (from the ingress or from a handler) is refused with :func:`workflow_already_invoked`.

    A call to a workflow's run handler for a workflow id that already ran (or runs) is refused unless it
    carries an idempotency key (then it attaches); a *send* is accepted and answers the existing id.

    >>> refuses_workflow_rerun(True, True, None), refuses_workflow_rerun(True, True, "k")
    (True, False)
    """
    return previously_accepted and workflow_run and idempotency_key is None


def not_completed_yet() -> RestateError:
    """The error ``output`` answers for an invocation that exists but has no result yet."""
    return RestateError(470, "the invocation exists but has not completed yet", "ingress")


def service_not_found(service: str) -> RestateError:
    """The error an unknown service name gets at ingress."""
    return RestateError(
        404, f"service '{service}' not found, make sure to register the service before calling it.", "ingress"
    )
