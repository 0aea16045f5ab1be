"""``POST /query`` on the admin port: SQL over the introspection tables, answered as JSON rows."""

from __future__ import annotations

import json

from restate_lab.ingress.asgi import ASGIApp, Receive, Scope, Send, read_body, respond_json
from restate_lab.rules.errors import RestateError
from restate_lab.runtime.engine import Engine
from restate_lab.runtime.introspection import json_rows, query


def make_query_app(engine: Engine) -> ASGIApp:
    """An ASGI app answering ``{"query": SQL}`` with ``{"rows": [...]}``, errors as ``{"message"}``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        try:
            spec = json.loads(body or b"null")
        except ValueError as exc:
            await respond_json(send, 400, {"message": f"Failed to parse the request body as JSON: {exc}"})
            return
        if not isinstance(spec, dict) or not isinstance(spec.get("query"), str):
            await respond_json(send, 422, {"message": "the request body must be {\"query\": \"<SQL>\"}"})
            return
        try:
            columns, rows = query(engine, spec["query"])
        except RestateError as err:
            await respond_json(send, err.code, {"message": err.message})
            return
        await respond_json(send, 200, {"rows": json_rows(columns, rows)})

    return app
