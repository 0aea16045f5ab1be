"""The ``/restate/...`` family: health, attach and output, awakeables, lookup, versioned call/send."""

from __future__ import annotations

from restate_lab.ingress.asgi import Receive, Scope, Send, read_body, respond, respond_json
from restate_lab.ingress.invoke import METHOD_NOT_ALLOWED, invoke, respond_result
from restate_lab.ingress.lookup_body import read_lookup_target
from restate_lab.ingress.paths import decode_key, segment_text
from restate_lab.protocol.messages import VOID, Failure, Value
from restate_lab.rules.admission import service_not_found
from restate_lab.rules.errors import RestateError, attach_not_found, bad_invocation_id, output_not_found
from restate_lab.rules.ids import InvocationId, idempotent_invocation_id, parse_awakeable_id
from restate_lab.rules.targets import HandlerType, Target
from restate_lab.runtime import operations as ops
from restate_lab.runtime.engine import Engine
from restate_lab.runtime.invocation import Invocation

NOT_FOUND = RestateError(404, "not found")
INVOCATION_PATH = (
    "bad path, expected either /restate/invocation/:invocation_id/output or /restate/invocation/:invocation_id/attach"
    " or /restate/invocation/:invocation_target/:idempotency_key/output or "
    "/restate/invocation/:invocation_target/:idempotency_key/attach"
)
VERSIONED_PATH = (
    "bad path, expected /restate/call/:service/:handler, /restate/send/:service/:handler, "
    "/restate/scope/:scope/call/:service/:handler, /restate/attach/:invocation_id, /restate/output/:invocation_id,"
    " or /restate/lookup"
)


def parse_invocation_id(text: str) -> InvocationId:
    try:
        return InvocationId.parse(text)
    except ValueError as exc:
        raise bad_invocation_id(text, str(exc)) from exc


class Lookup:
    """Where an attach or output request points: an id, an idempotent request, or a workflow."""

    def __init__(self, engine: Engine, invocation_id: InvocationId, invocation: Invocation | None) -> None:
        self.engine = engine
        self.id = invocation_id
        self.invocation = invocation

    async def answer(self, send: Send, attach: bool) -> None:
        inv = self.invocation
        if inv is None:
            raise attach_not_found(str(self.id)) if attach else output_not_found()
        if not attach and not inv.completed:
            raise ops.NOT_COMPLETED
        stored = inv.completed
        result = await self.engine.wait(inv)
        await respond_result(send, self.engine, inv, result, stored=stored)


def lookup_by_id(engine: Engine, text: str) -> Lookup:
    inv_id = parse_invocation_id(text)
    return Lookup(engine, inv_id, engine.find(str(inv_id)))


def lookup_idempotent(
    engine: Engine, service: str, key: str | None, handler: str, idem: str, *, unknown_service_ok: bool = False
) -> Lookup:
    """An idempotent request's invocation; ``POST /restate/lookup`` computes the id even for unknown services."""
    meta = engine.services.get(service)
    if meta is None and not unknown_service_ok:
        raise service_not_found(service)
    # The id of an idempotent request, whatever the handler: even on a workflow's run handler the server
    # hashes the target and the key here, not the workflow id (measured on Restate Server 1.7.12).
    inv_id = idempotent_invocation_id(service, handler, key, idem)
    inv = engine.find_idempotent(service, key, handler, idem)
    return Lookup(engine, inv.id if inv is not None else inv_id, inv)


def lookup_workflow(engine: Engine, workflow: str, workflow_id: str) -> Lookup:
    inv_id = engine.invocation_id_for(Target(workflow, "run", workflow_id), None, HandlerType.WORKFLOW)
    return Lookup(engine, inv_id, engine.find_workflow(workflow, workflow_id))


def _lookup_from_json(engine: Engine, body: bytes, verb: str) -> Lookup:
    """Read a JSON target of ``POST /restate/attach|output|lookup``; bad bodies are a clear 400.

    The message is the real server's (serde's words), which answers it with 500 (a deliberate difference).
    """
    target = read_lookup_target(body, "lookup body" if verb == "lookup" else "request body")
    fields = target.fields
    if target.kind == "invocation":
        return lookup_by_id(engine, str(fields["invocationId"]))
    if target.kind == "idempotentInvocation":
        return lookup_idempotent(
            engine,
            str(fields["service"]),
            fields["key"],
            str(fields["handler"]),
            str(fields["idempotencyKey"]),
            unknown_service_ok=True,
        )
    return lookup_workflow(engine, str(fields["workflowName"]), str(fields["workflowKey"]))


AWAKEABLES_PATH = "bad path, expected either /restate/awakeables/:id/resolve or /restate/awakeables/:id/reject"
WORKFLOW_PATH = (
    "bad path, expected either /restate/workflow/:workflow_name/:workflow_key/output or "
    "/restate/workflow/:workflow_name/:workflow_key/attach"
)


def _need(parts: list[str], index: int, error: RestateError) -> str:
    if index >= len(parts):
        raise error
    return parts[index]


def _method(method: str, allowed: str) -> None:
    if method != allowed:
        raise METHOD_NOT_ALLOWED


async def handle(engine: Engine, scope: Scope, receive: Receive, send: Send, parts: list[str]) -> None:
    """Route ``/restate/{parts...}`` (segments as sent, see :mod:`restate_lab.ingress.paths`)."""
    method = scope["method"]
    verb, rest = parts[0], parts[1:]
    if verb == "health":
        _method(method, "GET")
        await respond_json(send, 200, {"services": sorted(engine.services)})
    elif verb == "invocation":
        await _invocation(engine, method, send, rest)
    elif verb == "workflow":
        bad = RestateError(400, WORKFLOW_PATH)
        name = segment_text(_need(rest, 0, bad))
        key = decode_key(_need(rest, 1, bad))
        action = _need(rest, 2, bad)
        _action(action, method, "GET")
        await lookup_workflow(engine, name, key).answer(send, action == "attach")
    elif verb in ("awakeables", "a"):
        await _awakeable(engine, scope, receive, send, method, rest)
    elif verb in ("call", "send"):
        await invoke(engine, scope, receive, send, _versioned_target(engine, rest), is_send=verb == "send")
    elif verb == "scope":
        scope_key = decode_key(_need(rest, 0, RestateError(400, VERSIONED_PATH)))
        inner = _need(rest, 1, RestateError(400, VERSIONED_PATH))
        if inner not in ("call", "send"):
            raise RestateError(400, VERSIONED_PATH)
        _versioned_target(engine, rest[2:])
        if not scope_key:
            raise RestateError(400, "bad scope value: value cannot be empty")
        raise RestateError(400, "scoped invocations require vqueues to be enabled")
    elif verb in ("attach", "output", "lookup"):
        await _versioned_lookup(engine, scope, receive, send, method, verb, rest)
    else:
        raise NOT_FOUND


def _action(action: str, method: str, allowed: str, actions: tuple[str, ...] = ("attach", "output")) -> None:
    if action not in actions:
        raise NOT_FOUND
    _method(method, allowed)


async def _invocation(engine: Engine, method: str, send: Send, rest: list[str]) -> None:
    bad = RestateError(400, INVOCATION_PATH)
    first, second = _need(rest, 0, bad), _need(rest, 1, bad)
    if len(rest) == 2:
        if second not in ("attach", "output"):
            raise NOT_FOUND
        lookup = lookup_by_id(engine, first)  # the id is checked before the method
        _method(method, "GET")
        await lookup.answer(send, second == "attach")
        return
    service = segment_text(first)
    meta = engine.services.get(service)
    if meta is None:
        raise service_not_found(service)
    if meta.keyed:
        key: str | None = decode_key(second)
        handler, idem, index = rest[2], _need(rest, 3, bad), 4
    else:
        key, handler, idem, index = None, second, rest[2], 3
    action = _need(rest, index, bad)
    _action(action, method, "GET")
    await lookup_idempotent(engine, service, key, segment_text(handler), segment_text(idem)).answer(
        send, action == "attach"
    )


async def _awakeable(engine: Engine, scope: Scope, receive: Receive, send: Send, method: str, rest: list[str]) -> None:
    bad = RestateError(400, AWAKEABLES_PATH)
    _need(rest, 0, bad)
    _action(_need(rest, 1, bad), method, "POST", ("resolve", "reject"))
    try:
        target, index = parse_awakeable_id(rest[0])
    except ValueError as exc:
        raise RestateError(400, f"bad awakeable id '{rest[0]}': {exc}") from exc
    body = await read_body(receive)
    if rest[1] == "resolve":
        engine.deliver_signal(str(target), index, Value(body) if body else VOID)
    else:
        engine.deliver_signal(str(target), index, Failure(500, body.decode(errors="replace")))
    await respond(send, 202)


def _versioned_target(engine: Engine, rest: list[str]) -> Target:
    bad = RestateError(400, VERSIONED_PATH)
    service = segment_text(_need(rest, 0, bad))
    meta = engine.services.get(service)
    if meta is None:
        raise service_not_found(service)
    key = decode_key(_need(rest, 1, bad)) if meta.keyed else None
    index = 2 if meta.keyed else 1
    handler = _need(rest, index, bad)
    if len(rest) > index + 1:
        raise bad
    return Target(service, segment_text(handler), key)


async def _versioned_lookup(
    engine: Engine, scope: Scope, receive: Receive, send: Send, method: str, verb: str, rest: list[str]
) -> None:
    if verb != "lookup" and len(rest) == 1:
        lookup = lookup_by_id(engine, rest[0])  # the id is part of the path: parsed before the method
        _method(method, "GET")
        await lookup.answer(send, verb == "attach")
        return
    if rest:
        raise RestateError(400, VERSIONED_PATH)
    if method != "POST":
        raise METHOD_NOT_ALLOWED
    lookup = _lookup_from_json(engine, await read_body(receive), verb)
    if verb == "lookup":
        await respond_json(send, 200, {"invocationId": str(lookup.id)})
        return
    await lookup.answer(send, verb == "attach")
