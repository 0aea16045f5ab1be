"""The parity table: lifecycle scenarios every target must answer alike.

Each scenario drives a target through :class:`tests.parity.drivers.Driver` and returns what it
answered; ``expected`` is what Restate Server 1.7.12 answers (measured with the same restate-sdk
app, ``tests/parity/app.py``, registered over HTTP/1.1 so that a sleep suspends, as it does in the
in-process runtime). A target that answers otherwise because of a documented limit of its model
lists the difference under ``limits`` with the reason; the README's simulator section repeats them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from restate_lab.rules.ids import InvocationId

from .app import BRIEF_RETENTION_MS
from .drivers import Answer, Driver, answer

CANCELLED = ("error", 409, "cancelled", "invocation")
KILLED = ("error", 409, "killed", "invocation")
GONE_OUTPUT = ("error", 404, "invocation not found", "ingress")
GONE_ATTACH = ("error", 404, "not found", "invocation")
NOT_YET = ("error", 470, "the invocation exists but has not completed yet", "ingress")
ALREADY_COMPLETED = ("error", 409, "The invocation '<id>' was already completed.", "ingress")
DOES_NOT_EXIST = ("error", 404, "The requested invocation '<id>' does not exist", "ingress")


@dataclass(frozen=True)
class Limit:
    """A documented difference: what the target answers instead, and why."""

    answers: list[Answer]
    reason: str


@dataclass(frozen=True)
class Scenario:
    name: str
    pins: str
    run: Callable[[Driver], list[Answer]]
    expected: list[Answer]
    limits: dict[str, Limit] = field(default_factory=dict)


def _success_call(d: Driver) -> list[Answer]:
    return [answer(lambda: d.api.call("Lifecycle", "greet", "Ada"))]


def _success_send(d: Driver) -> list[Answer]:
    receipt = d.api.send("Lifecycle", "greet", "Bob")
    return [
        ("receipt", receipt.status, receipt.execution_time is not None),
        answer(lambda: d.api.attach(receipt.invocation_id)),
        answer(lambda: d.api.output(receipt.invocation_id)),
        ("status", d.status(receipt.invocation_id)),
    ]


def _retries_then_success(d: Driver) -> list[Answer]:
    return [answer(lambda: d.api.call("Lifecycle", "fail_twice"))]


def _retries_to_pause(d: Driver) -> list[Answer]:
    inv = d.api.send("Lifecycle", "always_pause").invocation_id
    seen = [d.settle(inv, "paused"), answer(lambda: d.api.output(inv))]
    d.api.kill(inv)
    return [*seen, answer(lambda: d.api.output(inv))]


def _retries_to_kill(d: Driver) -> list[Answer]:
    inv = d.api.send("Lifecycle", "always_kill").invocation_id
    return [answer(lambda: d.api.attach(inv)), ("status", d.status(inv)), answer(lambda: d.api.output(inv))]


def _terminal_with_code(d: Driver) -> list[Answer]:
    inv = d.api.send("Lifecycle", "teapot").invocation_id
    return [
        answer(lambda: d.api.call("Lifecycle", "teapot")),
        answer(lambda: d.api.attach(inv)),
        ("status", d.status(inv)),
    ]


def _terminal_default(d: Driver) -> list[Answer]:
    return [answer(lambda: d.api.call("Lifecycle", "terminal_default"))]


def _reset_after_suspension(d: Driver) -> list[Answer]:
    return [answer(lambda: d.api.call("Lifecycle", "fail_around_sleep"))]


def _held_key(d: Driver) -> tuple[str, str, str]:
    """A key whose lock ``Locker/hold`` keeps (suspended for a minute) and the id of the holder."""
    key = d.unique("locked")
    holder = d.api.send("Locker", "hold", key=key).invocation_id
    d.settle(holder, "suspended")
    queued = d.api.send("Locker", "quick", key=key).invocation_id
    return key, holder, queued


def _pending(action: str) -> Callable[[Driver], list[Answer]]:
    def run(d: Driver) -> list[Answer]:
        _key, holder, queued = _held_key(d)
        seen = [
            d.settle(queued, "pending"),
            answer(lambda: getattr(d.api, action)(queued)),
            answer(lambda: d.api.output(queued)),
            answer(lambda: d.api.attach(queued)),
            ("status", d.status(queued)),
        ]
        d.api.kill(holder)
        return [*seen, answer(lambda: d.api.output(holder))]

    return run


def _scheduled(action: str) -> Callable[[Driver], list[Answer]]:
    def run(d: Driver) -> list[Answer]:
        inv = d.api.send("Lifecycle", "greet", "later", delay="60s").invocation_id
        return [
            ("status", d.status(inv)),
            answer(lambda: getattr(d.api, action)(inv)),
            answer(lambda: d.api.output(inv)),
            answer(lambda: d.api.attach(inv)),
            ("status", d.status(inv)),
        ]

    return run


def _started(handler: str, status: str, action: str) -> Callable[[Driver], list[Answer]]:
    """Send ``handler``, wait for ``status``, ``action`` it, and read how it ended."""

    def run(d: Driver) -> list[Answer]:
        inv = d.api.send("Lifecycle", handler).invocation_id
        seen = [d.settle(inv, status), answer(lambda: getattr(d.api, action)(inv))]
        return [*seen, answer(lambda: d.api.attach(inv)), ("status", d.status(inv))]

    return run


def _completed(d: Driver) -> list[Answer]:
    inv = d.api.send("Lifecycle", "greet", "done").invocation_id
    d.api.attach(inv)
    return [answer(lambda: d.api.cancel(inv)), answer(lambda: d.api.kill(inv)), answer(lambda: d.api.output(inv))]


def _purge_running(d: Driver) -> list[Answer]:
    inv = d.api.send("Lifecycle", "nap").invocation_id
    seen = [d.settle(inv, "suspended"), answer(lambda: d.api.purge(inv))]
    d.api.kill(inv)
    return [*seen, answer(lambda: d.api.purge(inv)), answer(lambda: d.api.output(inv))]


def _idempotent_call(d: Driver) -> list[Answer]:
    key = d.unique("idem-call")
    first = answer(lambda: d.api.call("Lifecycle", "greet", "A", idempotency_key=key))
    again = answer(lambda: d.api.call("Lifecycle", "greet", "B", idempotency_key=key))
    receipt = d.api.send("Lifecycle", "greet", "C", idempotency_key=key)
    return [first, again, ("receipt", receipt.status, receipt.execution_time is not None)]


def _idempotent_send(d: Driver) -> list[Answer]:
    key = d.unique("idem-send")
    first = d.api.send("Lifecycle", "greet", "A", idempotency_key=key)
    again = d.api.send("Lifecycle", "greet", "B", idempotency_key=key)
    return [
        ("receipt", first.status),
        ("receipt", again.status),
        ("same id", first.invocation_id == again.invocation_id),
        answer(lambda: d.api.attach(again.invocation_id)),
    ]


def _idempotent_after_retention(d: Driver) -> list[Answer]:
    key = d.unique("idem-brief")
    first = d.api.send("Lifecycle", "greet_brief", "A", idempotency_key=key)
    seen = [answer(lambda: d.api.attach(first.invocation_id))]
    d.let_pass(BRIEF_RETENTION_MS + 100)
    again = d.api.send("Lifecycle", "greet_brief", "B", idempotency_key=key)
    return [
        *seen,
        ("receipt", again.status),
        ("same id", first.invocation_id == again.invocation_id),
        answer(lambda: d.api.attach(again.invocation_id)),
    ]


def _workflow_twice(d: Driver) -> list[Answer]:
    wid = d.unique("wf")
    first = answer(lambda: d.api.call("Signup", "run", "ada@example.com", key=wid))
    again = answer(lambda: d.api.call("Signup", "run", "ada@example.com", key=wid))
    receipt = d.api.send("Signup", "run", "other@example.com", key=wid)
    return [
        first,
        again,
        ("receipt", receipt.status),
        answer(lambda: d.attach_workflow("Signup", wid)),
        answer(lambda: d.output_workflow("Signup", wid)),
        answer(lambda: d.output_workflow("Signup", d.unique("never-ran"))),
    ]


def _delayed_send(d: Driver) -> list[Answer]:
    receipt = d.api.send("Lifecycle", "greet", "Later", delay="200ms")
    return [
        ("receipt", receipt.status, receipt.execution_time is not None),
        ("status", d.status(receipt.invocation_id)),
        answer(lambda: d.api.output(receipt.invocation_id)),
        answer(lambda: d.api.attach(receipt.invocation_id)),
    ]


def _unknown_targets(d: Driver) -> list[Answer]:
    return [
        answer(lambda: d.api.call("Nope", "greet", "x")),
        answer(lambda: d.api.send("Nope", "greet", "x")),
        answer(lambda: d.api.call("Lifecycle", "nope", "x")),
        answer(lambda: d.api.send("Lifecycle", "nope")),
    ]


#: A well-formed id that no target ever handed out.
UNKNOWN_ID = str(InvocationId(bytes(range(24))))


def _unknown_id(d: Driver) -> list[Answer]:
    return [
        answer(lambda op=op: getattr(d.api, op)(UNKNOWN_ID)) for op in ("output", "attach", "cancel", "kill", "purge")
    ]


SERVICE_NOT_FOUND = (
    "error",
    404,
    "service 'Nope' not found, make sure to register the service before calling it.",
    "ingress",
)
HANDLER_NOT_FOUND = (
    "error",
    404,
    "the service 'Lifecycle' exists, but the handler 'nope' was not found, check that "
    "the handler exists in the latest registered service version.",
    "ingress",
)
ALWAYS_FAILS = ("error", 500, "ValueError('always fails')", "invocation")
TEAPOT = ("error", 418, "custom failure", "invocation")

SCENARIOS = [
    Scenario("success_call", "a call answers the handler's result", _success_call, [("ok", "Hello Ada!")]),
    Scenario(
        "success_send",
        "send, attach and output of a successful invocation",
        _success_send,
        [("receipt", "Accepted", False), ("ok", "Hello Bob!"), ("ok", "Hello Bob!"), ("status", "completed")],
    ),
    Scenario(
        "retries_then_success", "failed attempts are retried until one succeeds", _retries_then_success, [("ok", "ok")]
    ),
    Scenario(
        "retries_to_pause",
        "max_attempts with on_max_attempts=pause parks it as paused; output 470",
        _retries_to_pause,
        [("status", "paused"), NOT_YET, KILLED],
    ),
    Scenario(
        "retries_to_kill",
        "max_attempts with on_max_attempts=kill completes it with the last failure",
        _retries_to_kill,
        [ALWAYS_FAILS, ("status", "completed"), ALWAYS_FAILS],
    ),
    Scenario(
        "terminal_error_with_code",
        "TerminalError(status_code=418) answers 418 with its message",
        _terminal_with_code,
        [TEAPOT, TEAPOT, ("status", "completed")],
    ),
    Scenario(
        "terminal_error_default_code",
        "TerminalError without a code answers 500",
        _terminal_default,
        [("error", 500, "plain terminal failure", "invocation")],
    ),
    Scenario(
        "retry_count_resets_after_suspension",
        "2 failures, a suspension, 2 failures pass max_attempts=3",
        _reset_after_suspension,
        [("ok", "made it")],
    ),
    Scenario(
        "cancel_pending",
        "cancel of an inboxed invocation drops it: output and attach 404",
        _pending("cancel"),
        [("status", "pending"), ("ok", None), GONE_OUTPUT, GONE_ATTACH, ("status", None), KILLED],
    ),
    Scenario(
        "kill_pending",
        "kill of an inboxed invocation drops it too",
        _pending("kill"),
        [("status", "pending"), ("ok", None), GONE_OUTPUT, GONE_ATTACH, ("status", None), KILLED],
    ),
    Scenario(
        "cancel_scheduled",
        "cancel of a delayed send drops it",
        _scheduled("cancel"),
        [("status", "scheduled"), ("ok", None), GONE_OUTPUT, GONE_ATTACH, ("status", None)],
    ),
    Scenario(
        "kill_scheduled",
        "kill of a delayed send drops it",
        _scheduled("kill"),
        [("status", "scheduled"), ("ok", None), GONE_OUTPUT, GONE_ATTACH, ("status", None)],
    ),
    Scenario(
        "cancel_running",
        "a running handler sees the cancel at its next await: 409 cancelled",
        _started("busy", "running", "cancel"),
        [("status", "running"), ("ok", None), CANCELLED, ("status", "completed")],
    ),
    Scenario(
        "kill_running",
        "kill ends a running invocation at once: 409 killed",
        _started("busy", "running", "kill"),
        [("status", "running"), ("ok", None), KILLED, ("status", "completed")],
    ),
    Scenario(
        "cancel_suspended",
        "cancel wakes a suspended invocation, which ends cancelled",
        _started("nap", "suspended", "cancel"),
        [("status", "suspended"), ("ok", None), CANCELLED, ("status", "completed")],
    ),
    Scenario(
        "kill_suspended",
        "kill of a suspended invocation",
        _started("nap", "suspended", "kill"),
        [("status", "suspended"), ("ok", None), KILLED, ("status", "completed")],
    ),
    Scenario(
        "cancel_backing_off",
        "the next attempt (after the back-off) sees the cancel",
        _started("fail_then_nap", "backing-off", "cancel"),
        [("status", "backing-off"), ("ok", None), CANCELLED, ("status", "completed")],
    ),
    Scenario(
        "kill_backing_off",
        "kill of a backing-off invocation",
        _started("fail_then_nap", "backing-off", "kill"),
        [("status", "backing-off"), ("ok", None), KILLED, ("status", "completed")],
    ),
    Scenario(
        "cancel_paused",
        "cancel resumes a paused invocation, whose attempt sees it",
        _started("pause_then_nap", "paused", "cancel"),
        [("status", "paused"), ("ok", None), CANCELLED, ("status", "completed")],
    ),
    Scenario(
        "kill_paused",
        "kill of a paused invocation",
        _started("always_pause", "paused", "kill"),
        [("status", "paused"), ("ok", None), KILLED, ("status", "completed")],
    ),
    Scenario(
        "cancel_and_kill_completed",
        "cancel and kill of a completed invocation answer 409",
        _completed,
        [ALREADY_COMPLETED, ALREADY_COMPLETED, ("ok", "Hello done!")],
    ),
    Scenario(
        "purge_before_completion",
        "purge of a running invocation answers 409; after a kill it works",
        _purge_running,
        [
            ("status", "suspended"),
            ("error", 409, "The invocation '<id>' is not yet completed.", "ingress"),
            ("ok", None),
            GONE_OUTPUT,
        ],
    ),
    Scenario(
        "idempotent_call_resend",
        "the same idempotency key answers the first result, whatever the body",
        _idempotent_call,
        [("ok", "Hello A!"), ("ok", "Hello A!"), ("receipt", "PreviouslyAccepted", False)],
    ),
    Scenario(
        "idempotent_send_resend",
        "a resent idempotent send is PreviouslyAccepted with the same id",
        _idempotent_send,
        [("receipt", "Accepted"), ("receipt", "PreviouslyAccepted"), ("same id", True), ("ok", "Hello A!")],
    ),
    Scenario(
        "idempotent_after_retention",
        "after the retention the key starts a new invocation, with the same id",
        _idempotent_after_retention,
        [("ok", "Hello A!"), ("receipt", "Accepted"), ("same id", True), ("ok", "Hello B!")],
    ),
    Scenario(
        "workflow_run_twice",
        "a workflow runs once per id: a second call 409, a send PreviouslyAccepted",
        _workflow_twice,
        [
            ("ok", "signed up ada@example.com"),
            ("error", 409, "the workflow method was already invoked", "invocation"),
            ("receipt", "PreviouslyAccepted"),
            ("ok", "signed up ada@example.com"),
            ("ok", "signed up ada@example.com"),
            GONE_OUTPUT,
        ],
    ),
    Scenario(
        "delayed_send",
        "a delayed send is scheduled, has an executionTime, and runs later",
        _delayed_send,
        [("receipt", "Accepted", True), ("status", "scheduled"), NOT_YET, ("ok", "Hello Later!")],
    ),
    Scenario(
        "unknown_targets",
        "unknown services and handlers answer the real server's 404 texts",
        _unknown_targets,
        [SERVICE_NOT_FOUND, SERVICE_NOT_FOUND, HANDLER_NOT_FOUND, HANDLER_NOT_FOUND],
    ),
    Scenario(
        "unknown_invocation_id",
        "an id nobody handed out: output, attach and admin operations 404",
        _unknown_id,
        [GONE_OUTPUT, ("error", 404, "not found", "invocation"), DOES_NOT_EXIST, DOES_NOT_EXIST, DOES_NOT_EXIST],
    ),
]
