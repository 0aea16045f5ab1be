"""The ``/restate/...`` family: health, attach and output, awakeables, lookup, versioned call/send."""

from __future__ import annotations

import json
from typing import Any

from restate_lab.ingress.asgi import Receive, Scope, Send, read_body, respond, respond_json
from restate_lab.ingress.invoke import invoke, respond_result
from restate_lab.protocol.messages import VOID, Failure, Value
from restate_lab.rules.admission import service_not_found
from restate_lab.rules.errors import RestateError, attach_not_found, bad_invocation_id, output_not_found
from restate_lab.rules.ids import InvocationId, parse_awakeable_id
from restate_lab.rules.targets import HandlerType, Target
from restate_lab.runtime import operations as ops
from restate_lab.runtime.engine import Engine
from restate_lab.runtime.invocation import Invocation

NOT_FOUND = RestateError(404, "not found")
METHOD_NOT_ALLOWED = RestateError(405, "method not allowed")
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


def lookup_idempotent(engine: Engine, service: str, key: str | None, handler: str, idem: str) -> Lookup:
    meta = engine.services.get(service)
    if meta is None:
        raise service_not_found(service)
    handler_meta = meta.handlers.get(handler)
    target = Target(service, handler, key)
    inv_id = engine.invocation_id_for(target, idem, handler_meta.ty if handler_meta else None)
    inv = engine.find_idempotent(service, key, handler, idem)
    return Lookup(engine, inv.id if inv is not None else inv_id, inv)


def lookup_workflow(engine: Engine, workflow: str, workflow_id: str) -> Lookup:
    inv_id = engine.invocation_id_for(Target(workflow, "run", workflow_id), None, HandlerType.WORKFLOW)
    return Lookup(engine, inv_id, engine.find_workflow(workflow, workflow_id))


def _lookup_from_json(engine: Engine, body: bytes) -> Lookup:
    """Read a JSON target of ``POST /restate/attach|output|lookup``; bad bodies are a clear 400."""
    try:
        spec: Any = json.loads(body or b"null")
    except ValueError as exc:
        raise RestateError(400, f"cannot read body: invalid lookup body: {exc}") from exc
    if not isinstance(spec, dict):
        raise RestateError(400, "cannot read body: invalid lookup body: expected a JSON object")
    kind = spec.get("target")
    try:
        if kind == "invocation":
            return lookup_by_id(engine, str(spec["invocationId"]))
        if kind == "idempotentInvocation":
            return lookup_idempotent(engine, str(spec["service"]), spec.get("key"), str(spec["handler"]),
                                     str(spec["idempotencyKey"]))
        if kind == "workflow":
            return lookup_workflow(engine, str(spec["workflowName"]), str(spec["workflowKey"]))
    except KeyError as exc:
        raise RestateError(400, f"cannot read body: invalid lookup body: missing field `{exc.args[0]}`") from exc
    raise RestateError(
        400, f"cannot read body: invalid lookup body: unknown variant '{kind}', "
        "expected one of 'workflow', 'idempotentInvocation', 'invocation'"
    )


async def handle(engine: Engine, scope: Scope, receive: Receive, send: Send, parts: list[str]) -> None:
    """Route ``/restate/{parts...}``."""
    method = scope["method"]
    if not parts:
        raise RestateError(400, "bad path: /restate")
    verb, rest = parts[0], parts[1:]
    if verb == "health":
        await respond_json(send, 200, {"services": sorted(engine.services)})
    elif verb == "invocation":
        await _invocation(engine, method, send, rest)
    elif verb == "workflow":
        if len(rest) != 3:
            raise RestateError(400, f"bad path: {scope['path']}")
        _action(rest[2], method, "GET")
        await lookup_workflow(engine, rest[0], rest[1]).answer(send, rest[2] == "attach")
    elif verb == "awakeables":
        await _awakeable(engine, scope, receive, send, method, rest)
    elif verb in ("call", "send"):
        await invoke(engine, scope, receive, send, _versioned_target(engine, rest), is_send=verb == "send")
    elif verb == "scope":
        raise RestateError(400, "scoped invocations require vqueues to be enabled")
    elif verb in ("attach", "output", "lookup"):
        await _versioned_lookup(engine, scope, receive, send, method, verb, rest)
    else:
        raise NOT_FOUND


def _action(action: str, method: str, allowed: str, actions: tuple[str, ...] = ("attach", "output")) -> None:
    if action not in actions:
        raise NOT_FOUND
    if method != allowed:
        raise METHOD_NOT_ALLOWED


async def _invocation(engine: Engine, method: str, send: Send, rest: list[str]) -> None:
    if len(rest) < 2:
        raise RestateError(400, INVOCATION_PATH)
    _action(rest[-1], method, "GET")
    attach = rest[-1] == "attach"
    if len(rest) == 2:
        await lookup_by_id(engine, rest[0]).answer(send, attach)
        return
    if len(rest) not in (4, 5):
        raise RestateError(400, INVOCATION_PATH)
    meta = engine.services.get(rest[0])
    if meta is None:
        raise service_not_found(rest[0])
    if meta.keyed != (len(rest) == 5):
        raise RestateError(400, INVOCATION_PATH)
    key = rest[1] if len(rest) == 5 else None
    await lookup_idempotent(engine, rest[0], key, rest[-3], rest[-2]).answer(send, attach)


async def _awakeable(engine: Engine, scope: Scope, receive: Receive, send: Send, method: str,
                     rest: list[str]) -> None:
    if len(rest) != 2:
        raise NOT_FOUND
    _action(rest[1], method, "POST", ("resolve", "reject"))
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
    if len(rest) < 2:
        raise RestateError(400, VERSIONED_PATH)
    meta = engine.services.get(rest[0])
    if meta is None:
        raise service_not_found(rest[0])
    if meta.keyed and len(rest) == 3:
        return Target(rest[0], rest[2], rest[1])
    if not meta.keyed and len(rest) == 2:
        return Target(rest[0], rest[1])
    raise RestateError(400, VERSIONED_PATH)


async def _versioned_lookup(engine: Engine, scope: Scope, receive: Receive, send: Send, method: str, verb: str,
                            rest: list[str]) -> None:
    if verb != "lookup" and len(rest) == 1:
        if method != "GET":
            raise METHOD_NOT_ALLOWED
        await lookup_by_id(engine, rest[0]).answer(send, verb == "attach")
        return
    if rest:
        raise RestateError(400, VERSIONED_PATH)
    if method != "POST":
        raise METHOD_NOT_ALLOWED
    lookup = _lookup_from_json(engine, await read_body(receive))
    if verb == "lookup":
        await respond_json(send, 200, {"invocationId": str(lookup.id)})
        return
    await lookup.answer(send, verb == "attach")
