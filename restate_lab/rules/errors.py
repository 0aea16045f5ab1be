"""Errors with the shape Restate Server gives them, and every answer text it uses, built in one place.

The runtime, the ingress, the simulator and the tests build the real server's refusals and
failures through these functions, so a text measured on Restate Server 1.7.12 (see
``docs/observed-restate-1.7.12.md``) is written once. Ingress answers carry
``{"code", "message", "source"}``; admin answers only a message, their code being the HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ErrorSource = Literal["ingress", "invocation"]


@dataclass
class RestateError(Exception):
    """An error answered to a client, with its HTTP status code and its source."""

    code: int
    message: str
    source: ErrorSource = "ingress"
    #: The invocation the error concerns, when there is one (answered as ``x-restate-id``).
    invocation_id: str | None = None
    #: A handler's ``TerminalError(metadata=...)``, which Restate Server answers as ``metadata``.
    metadata: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def to_json(self) -> dict[str, object]:
        """The body Restate Server sends for this error (``metadata`` only when there is some)."""
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.metadata:
            body["metadata"] = dict(self.metadata)
        body["source"] = self.source
        return body


@dataclass(frozen=True)
class FailureText:
    """A completed invocation's failure as ``sys_invocation`` and its callers see it: code and message.

    >>> KILLED.render(), str(CANCELLED.error())
    ('[409] killed', '[409] cancelled')
    """

    code: int
    message: str

    def render(self) -> str:
        """``completion_failure`` as the real server writes it: ``[code] message``."""
        return f"[{self.code}] {self.message}"

    def error(self, invocation_id: str | None = None) -> RestateError:
        """The error an attach, output or call of the failed invocation answers."""
        return RestateError(self.code, self.message, "invocation", invocation_id)


#: What a killed invocation completes with (output, attach and callers see it).
KILLED = FailureText(409, "killed")
#: What a cancelled invocation completes with, unless its handler catches the cancellation.
CANCELLED = FailureText(409, "cancelled")
#: ``TerminalError`` without ``status_code`` answers 500.
DEFAULT_TERMINAL_CODE = 500


# ---- ingress: targets -------------------------------------------------------------------------


def service_not_found(service: str) -> RestateError:
    """The error an unknown service name gets at ingress.

    >>> service_not_found("Nope").message
    "service 'Nope' not found, make sure to register the service before calling it."
    """
    return RestateError(
        404, f"service '{service}' not found, make sure to register the service before calling it.", "ingress"
    )


def handler_not_found(service: str, handler: str) -> RestateError:
    """The error an unknown handler of a known service gets at ingress."""
    return RestateError(
        404,
        f"the service '{service}' exists, but the handler '{handler}' was not found, "
        "check that the handler exists in the latest registered service version.",
        "ingress",
    )


# ---- ingress: results -------------------------------------------------------------------------


def not_completed_yet() -> RestateError:
    """The error ``output`` answers for an invocation that exists but has no result yet."""
    return RestateError(470, "the invocation exists but has not completed yet", "ingress")


def output_not_found() -> RestateError:
    """``output`` of an id, idempotency key or workflow id the server does not know (source ingress)."""
    return RestateError(404, "invocation not found", "ingress")


def attach_not_found(invocation_id: str | None = None) -> RestateError:
    """``attach`` of an unknown invocation: unlike output, source ``invocation`` with the (computed) id."""
    return RestateError(404, "not found", "invocation", invocation_id)


def workflow_already_invoked(invocation_id: str | None = None) -> RestateError:
    """The error a *call* to a workflow's run handler gets once that workflow id has run.

    >>> workflow_already_invoked().to_json()["code"]
    409
    """
    return RestateError(409, "the workflow method was already invoked", "invocation", invocation_id)


def promise_already_completed() -> FailureText:
    """What resolving a workflow's durable promise a second time answers."""
    return FailureText(409, "promise was already completed")


def bad_invocation_id(text: str, reason: str) -> RestateError:
    """An ingress path with a malformed invocation id (``reason`` as :mod:`restate_lab.rules.id_errors` says)."""
    return RestateError(400, f"bad invocation id '{text}': {reason}", "ingress")


# ---- admin: managing invocations --------------------------------------------------------------


def invocation_does_not_exist(invocation_id: str) -> RestateError:
    """Admin cancel, kill, purge, pause or resume of an unknown (well-formed) id."""
    return RestateError(404, f"The requested invocation '{invocation_id}' does not exist")


def already_completed(invocation_id: str) -> RestateError:
    """Admin cancel or kill of an invocation that has completed."""
    return RestateError(409, f"The invocation '{invocation_id}' was already completed.")


def not_yet_completed(invocation_id: str) -> RestateError:
    """Admin purge of an invocation that has not completed."""
    return RestateError(409, f"The invocation '{invocation_id}' is not yet completed.")


def completed_cannot_be_resumed(invocation_id: str) -> RestateError:
    """Admin resume of an invocation that has completed."""
    return RestateError(409, f"The invocation '{invocation_id}' is completed, cannot be resumed.")


def not_started_cannot_be_resumed(invocation_id: str) -> RestateError:
    """Admin resume of an invocation still in the inbox or scheduled (425 Too Early)."""
    return RestateError(425, f"The invocation '{invocation_id}' is either inboxed or scheduled, cannot be resumed.")


# ---- admin: restart-as-new ---------------------------------------------------------------------


def still_running(invocation_id: str) -> RestateError:
    """Admin restart-as-new of an invocation that has started but not completed (running, suspended,
    backing-off, paused)."""
    return RestateError(409, f"The invocation '{invocation_id}' is still running.")


def not_running_yet(invocation_id: str) -> RestateError:
    """Admin restart-as-new of an invocation still in its key's inbox or scheduled (425 Too Early)."""
    return RestateError(425, f"The invocation '{invocation_id}' cannot be restarted because it's not running yet.")


def restart_not_supported(invocation_id: str) -> RestateError:
    """Admin restart-as-new of any invocation of a workflow (its run or a shared handler)."""
    return RestateError(
        422,
        f"Restarting the invocation '{invocation_id}' is not supported. Restarting workflows is not supported, "
        "and restarting invocations created using the old service protocol.",
    )


def restart_input_gone(invocation_id: str) -> RestateError:
    """Admin restart-as-new of a completed invocation whose journal (and so its input) is gone."""
    return RestateError(
        410,
        f"The invocation '{invocation_id}' cannot be restarted because the input is not available. "
        "This indicates that the journal was already purged, or not retained at all.",
    )


def restart_deployment_not_found(invocation_id: str) -> RestateError:
    """Admin restart-as-new naming (``?deployment=dp_…``) a well-formed deployment id nobody registered."""
    return RestateError(
        400, f"The given deployment was not found when trying to restart as new the invocation '{invocation_id}'."
    )


def restart_prefix_incomplete(invocation_id: str) -> RestateError:
    """Admin restart-as-new with ``?from=N`` past the journal's end or over a command still waiting."""
    return RestateError(
        400,
        f"The prefix of the journal '{invocation_id}' up to 'from' (included) contains some Commands "
        "without respective Completions.",
    )


def invalid_query_parameter(name: str, reason: str) -> RestateError:
    """An admin query parameter that parsed as text but is not a valid value (``reason`` as for ids)."""
    return RestateError(400, f"The query parameter '{name}' is invalid. Reason: {reason}")


def key_required(service: str) -> RestateError:
    """A virtual object or workflow addressed without a key."""
    return RestateError(400, f"the service '{service}' is keyed and requires a key")


def invalid_invocation_id_field(reason: str) -> RestateError:
    """Admin request with a malformed invocation id in its path."""
    return RestateError(400, f"The request field 'invocation_id' is invalid. Reason: {reason}")
