"""The real server's answer texts, built once in restate_lab.rules.errors (measured on 1.7.12)."""

from __future__ import annotations

import random

from restate_lab.rules import admission, errors
from restate_lab.rules.admission import refuses_repeated_call, send_status, takes_key_lock
from restate_lab.rules.ids import invocation_id_for
from restate_lab.rules.targets import HandlerType, ServiceType


def test_unknown_service_and_handler_texts() -> None:
    """Unknown service and handler answer 404 from ingress with the server's sentences."""
    assert errors.service_not_found("Nope").to_json() == {
        "code": 404,
        "message": "service 'Nope' not found, make sure to register the service before calling it.",
        "source": "ingress",
    }
    assert errors.handler_not_found("Greeter", "nope").message == (
        "the service 'Greeter' exists, but the handler 'nope' was not found, check that the handler exists "
        "in the latest registered service version."
    )


def test_unknown_invocation_answers_differ_between_output_attach_and_admin() -> None:
    """Output says 'invocation not found' (ingress), attach 'not found' (invocation), admin 'does not exist'."""
    assert (errors.output_not_found().message, errors.output_not_found().source) == ("invocation not found", "ingress")
    attach = errors.attach_not_found("inv_1x")
    assert (attach.code, attach.message, attach.source, attach.invocation_id) == (
        404,
        "not found",
        "invocation",
        "inv_1x",
    )
    assert errors.invocation_does_not_exist("inv_1x").message == "The requested invocation 'inv_1x' does not exist"


def test_result_texts() -> None:
    """470 before completion, 409 for a second workflow run, killed and cancelled failures."""
    assert (errors.not_completed_yet().code, errors.not_completed_yet().message) == (
        470,
        "the invocation exists but has not completed yet",
    )
    assert errors.workflow_already_invoked("inv_1a").to_json() == {
        "code": 409,
        "message": "the workflow method was already invoked",
        "source": "invocation",
    }
    assert errors.KILLED.error().to_json() == {"code": 409, "message": "killed", "source": "invocation"}
    assert errors.CANCELLED.render() == "[409] cancelled"


def test_admin_refusal_texts() -> None:
    """Cancel or kill of a completed invocation and purge of a running one answer 409."""
    assert errors.already_completed("inv_1a").message == "The invocation 'inv_1a' was already completed."
    assert errors.not_yet_completed("inv_1a").message == "The invocation 'inv_1a' is not yet completed."


def test_admission_reexports_the_same_builders() -> None:
    """rules.admission hands out the one definition, not a copy."""
    assert admission.not_completed_yet is errors.not_completed_yet
    assert admission.service_not_found is errors.service_not_found
    assert admission.workflow_already_invoked is errors.workflow_already_invoked


def test_repeated_workflow_call_is_refused_but_a_send_is_previously_accepted() -> None:
    """Workflow run once: a second call 409, a second send PreviouslyAccepted, other handlers attach."""
    assert refuses_repeated_call(True, True, None)
    assert not refuses_repeated_call(False, True, None)
    assert not refuses_repeated_call(True, False, None)
    assert send_status(False) == "PreviouslyAccepted"


def test_key_lock_rule() -> None:
    """Exclusive handlers of keyed services lock their key; a workflow's run, shared ones and services never.

    Restate Server lists a running workflow in ``sys_invocation`` but not in ``sys_keyed_service_status``.
    """
    assert takes_key_lock(ServiceType.VIRTUAL_OBJECT, None)
    assert not takes_key_lock(ServiceType.WORKFLOW, HandlerType.WORKFLOW)
    assert not takes_key_lock(ServiceType.VIRTUAL_OBJECT, HandlerType.SHARED)
    assert not takes_key_lock(ServiceType.SERVICE, None)


def test_idempotent_and_workflow_ids_derive_from_the_target() -> None:
    """The same key gives the same id (so a resend after retention reuses it); plain requests get new ids."""
    same = invocation_id_for("Svc", "run", None, "k", False)
    assert same == invocation_id_for("Svc", "run", None, "k", False)
    assert same != invocation_id_for("Svc", "other", None, "k", False)
    assert invocation_id_for("Wf", "run", "w1", None, True) == invocation_id_for("Wf", "run", "w1", None, True)
    assert invocation_id_for("Svc", "run", None, None, False) != invocation_id_for("Svc", "run", None, None, False)


def test_unkeyed_invocations_of_a_service_share_its_512_partition_keys() -> None:
    """A plain request to an unkeyed service lands on one of 512 keys of that service, as on Restate Server."""
    rng = random.Random(7)
    seen = {invocation_id_for("Svc", "run", None, None, False, rng).partition_key for _ in range(20_000)}
    assert len(seen) == 512
    other = {invocation_id_for("Other", "run", None, None, False, rng).partition_key for _ in range(2_000)}
    assert not seen & other
    # An idempotent request to it is placed on one of those same keys, chosen by its idempotency key.
    assert invocation_id_for("Svc", "run", None, "k", False).partition_key in seen
