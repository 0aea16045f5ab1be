"""The per-service OpenAPI 3.1 document that ``GET /services/{name}/openapi`` answers.

Built from the SDK's discovery manifest with the structure Restate Server 1.7 gives it: one
``/restate/call/...`` and one ``/restate/send/...`` operation per public handler (with ``{key}`` for
virtual objects and workflows), the deprecated lookups by idempotency key (or, for workflows, by
workflow id), request and response schemas named ``{handler}Request`` / ``{handler}Response``, and
shared parameters, responses and the ``RestateError`` schema. Keys are sorted, as the server sorts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from restate_lab.rules.targets import HandlerType, ServiceType
from restate_lab.runtime.registry import HandlerMeta, ServiceMeta

_DOCS = "https://docs.restate.dev/invoke/http"
_PARAM = "#/components/parameters/"
_RESPONSE = "#/components/responses/"
_SCHEMA = "#/components/schemas/"


def _ref(prefix: str, name: str) -> dict[str, str]:
    return {"$ref": prefix + name}


def _error_content(example: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"example": example, "schema": _ref(_SCHEMA, "RestateError")}}


def _components_parameters() -> dict[str, Any]:
    string = {"type": "string"}
    return {
        "delay": {
            "description": "Run the invocation after this delay, e.g. `10s`, `1h 2m` or ISO-8601 `PT10S` "
            f"([delayed sends]({_DOCS}#sending-a-delayed-message-over-http)).",
            "example": "10s",
            "in": "query",
            "name": "delay",
            "required": False,
            "schema": dict(string),
        },
        "idempotencyKeyHeader": {
            "description": "Requests with the same idempotency key run once; repeats get the first result "
            f"([idempotent invocations]({_DOCS}#invoke-a-handler-idempotently)).",
            "in": "header",
            "name": "idempotency-key",
            "required": False,
            "schema": dict(string),
        },
        "idempotencyKeyPath": {
            "description": "The idempotency key the original request was sent with "
            f"([idempotent invocations]({_DOCS}#invoke-a-handler-idempotently)).",
            "in": "path",
            "name": "idempotencyKey",
            "required": True,
            "schema": dict(string),
        },
        "key": {"in": "path", "name": "key", "required": True, "schema": dict(string)},
    }


def _components_responses() -> dict[str, Any]:
    send_schema = {
        "additionalProperties": False,
        "properties": {
            "executionTime": {
                "description": "When the invocation is due to run, present when a 'delay' was given",
                "format": "date-time",
                "type": "string",
            },
            "invocationId": {"type": "string"},
            "status": {"enum": ["Accepted", "PreviouslyAccepted"], "type": "string"},
        },
        "required": ["invocationId", "status"],
        "title": "RestateSendResponse",
        "type": "object",
    }
    return {
        "GenericError": {
            "content": _error_content({"code": 500, "message": "Internal server error", "source": "invocation"}),
            "description": "Error response",
        },
        "InvocationNotFoundError": {
            "content": _error_content({"message": "invocation not found", "source": "ingress"}),
            "description": "No such invocation",
        },
        "InvocationNotReadyError": {
            "content": _error_content(
                {"message": "the invocation exists but has not completed yet", "source": "ingress"}
            ),
            "description": "The invocation has not completed yet, so there is no output",
        },
        "Send": {
            "content": {
                "application/json": {
                    "example": {"invocationId": "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz", "status": "Accepted"},
                    "schema": send_schema,
                }
            },
            "description": "The invocation was accepted",
        },
    }


def _restate_error_schema() -> dict[str, Any]:
    return {
        "additionalProperties": False,
        "description": "The error Restate returns for ingress failures and for terminal handler failures",
        "properties": {
            "code": {"title": "error code", "type": "number"},
            "message": {"title": "Error message", "type": "string"},
            "metadata": {
                "additionalProperties": {"type": "string"},
                "title": "Additional metadata map",
                "type": "object",
            },
            "source": {
                "description": "'ingress' when Restate itself refused or failed the request (HTTP semantics), "
                "'invocation' when the handler ended with a terminal error (status chosen by the "
                "handler). Repeated in the 'x-restate-error-source' header.",
                "enum": ["ingress", "invocation"],
                "title": "Error source",
                "type": "string",
            },
            "stacktrace": {"title": "Stacktrace of the error", "type": "string"},
        },
        "required": ["message", "source"],
        "title": "RestateError",
        "type": "object",
    }


def _top_tags() -> list[dict[str, Any]]:
    return [
        {"description": description, "externalDocs": {"description": None, "url": _DOCS}, "name": name}
        for name, description in (
            ("Request Response", "Call a handler and wait for its result"),
            ("Send", "Send to a handler without waiting"),
            ("Attach", "Wait for an existing invocation"),
            ("Get Output", "Read the output of a completed invocation"),
        )
    ]


def _payload(handler: HandlerMeta, side: str) -> Mapping[str, Any] | None:
    payload = handler.manifest.get(side)
    if isinstance(payload, Mapping) and payload.get("contentType"):
        return payload
    return None


def _result_response(handler: HandlerMeta) -> dict[str, Any]:
    output = _payload(handler, "output")
    if output is None:
        return {"description": "Empty"}
    return {
        "content": {str(output["contentType"]): {"schema": _ref(_SCHEMA, f"{handler.name}Response")}},
        "description": "",
    }


def _request_body(handler: HandlerMeta) -> dict[str, Any] | None:
    payload = _payload(handler, "input")
    if payload is None:
        return None
    return {
        "content": {str(payload["contentType"]): {"schema": _ref(_SCHEMA, f"{handler.name}Request")}},
        "required": bool(payload.get("required", False)),
    }


def public_handlers(service: ServiceMeta) -> list[HandlerMeta]:
    """Handlers the document shows: all but those the manifest itself marks ingress-private."""
    return [h for h in service.handlers.values() if not h.manifest.get("ingressPrivate", False)]


def _handler_schemas(handler: HandlerMeta) -> dict[str, Any]:
    out: dict[str, Any] = {}
    request = _payload(handler, "input")
    if request is not None:
        schema = request.get("jsonSchema")
        out[f"{handler.name}Request"] = schema if isinstance(schema, Mapping) else {}
    response = _payload(handler, "output")
    if response is not None:
        out[f"{handler.name}Response"] = response.get("jsonSchema", True)
    return out


def _operations(service: ServiceMeta, handler: HandlerMeta) -> dict[str, dict[str, Any]]:
    name, h = service.name, handler.name
    keyed = service.ty is not ServiceType.SERVICE
    workflow = service.ty is ServiceType.WORKFLOW
    target = f"{name}/{{key}}/{h}" if keyed else f"{name}/{h}"
    base_params = [_ref(_PARAM, "key")] if keyed else []
    call_params = base_params + ([] if workflow else [_ref(_PARAM, "idempotencyKeyHeader")])
    body = _request_body(handler)
    generic = _ref(_RESPONSE, "GenericError")

    call: dict[str, Any] = {
        "description": f"Invoke {name}/{h} and wait for its result",
        "operationId": h,
        "parameters": call_params,
        "responses": {"200": _result_response(handler), "default": generic},
        "summary": h,
    }
    send: dict[str, Any] = {
        "description": f"Invoke {name}/{h} without waiting for its result",
        "operationId": f"{h}Send",
        "parameters": [*call_params, _ref(_PARAM, "delay")],
        "responses": {"200": _ref(_RESPONSE, "Send"), "202": _ref(_RESPONSE, "Send"), "default": generic},
        "summary": h,
        "tags": ["Send"],
    }
    if body is not None:
        call["requestBody"] = body
        send["requestBody"] = body
    ops = {f"/restate/call/{target}": {"post": call}, f"/restate/send/{target}": {"post": send}}

    if workflow and handler.ty is not HandlerType.WORKFLOW:
        return ops
    if workflow:
        lookup, lookup_params, by = f"/restate/workflow/{name}/{{key}}", [_ref(_PARAM, "key")], "workflow id"
    else:
        lookup = f"/restate/invocation/{target}/{{idempotencyKey}}"
        lookup_params, by = [*base_params, _ref(_PARAM, "idempotencyKeyPath")], "idempotency key"
    ops[f"{lookup}/attach"] = {
        "get": {
            "deprecated": True,
            "description": f"Deprecated in favour of POST /restate/lookup and GET /restate/attach/{{invocationId}}: "
            f"wait for the {name}/{h} invocation named by its {by}",
            "operationId": f"{h}Attach",
            "parameters": lookup_params,
            "responses": {
                "200": _result_response(handler),
                "404": _ref(_RESPONSE, "InvocationNotFoundError"),
                "default": generic,
            },
            "summary": h,
            "tags": ["Attach"],
        }
    }
    ops[f"{lookup}/output"] = {
        "get": {
            "deprecated": True,
            "description": f"Deprecated in favour of POST /restate/lookup and GET /restate/output/{{invocationId}}: "
            f"the output of the {name}/{h} invocation named by its {by}",
            "operationId": f"{h}Output",
            "parameters": lookup_params,
            "responses": {
                "200": _result_response(handler),
                "404": _ref(_RESPONSE, "InvocationNotFoundError"),
                "470": _ref(_RESPONSE, "InvocationNotReadyError"),
                "default": generic,
            },
            "summary": h,
            "tags": ["Get Output"],
        }
    }
    return ops


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def service_openapi(service: ServiceMeta, *, ingress_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one service, shaped like Restate Server 1.7.12's."""
    info: dict[str, Any] = {"title": service.name, "version": str(service.revision)}
    if service.manifest.get("documentation"):
        info["description"] = service.manifest["documentation"]
    if service.manifest.get("metadata"):
        info["x-restate-extensions"] = service.manifest["metadata"]
    schemas: dict[str, Any] = {"RestateError": _restate_error_schema()}
    paths: dict[str, Any] = {}
    for handler in public_handlers(service):
        schemas.update(_handler_schemas(handler))
        paths.update(_operations(service, handler))
    document: dict[str, Any] = {
        "components": {
            "parameters": _components_parameters(),
            "responses": _components_responses(),
            "schemas": schemas,
        },
        "info": info,
        "openapi": "3.1.0",
        "paths": paths,
    }
    if ingress_url is not None:
        document["servers"] = [{"description": "Restate Ingress URL", "url": ingress_url}]
    document["tags"] = _top_tags()
    return dict(_sorted(document))
