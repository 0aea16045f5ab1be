"""Admin API routes ``/kafka-clusters`` and ``/subscriptions``, answering as Restate Server 1.7.12.

Called by ``restate_lab.ingress.admin.AdminApp.route`` on the engine's loop; the clusters, subscriptions and
consumers themselves are ``restate_lab.kafka``'s (which knows nothing of HTTP). Statuses, bodies and
``allow`` headers follow the table in ``docs/observed-restate-1.7.12.md`` ("Kafka subscriptions").
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from restate_lab.ingress.asgi import Receive, Scope, header, read_body
from restate_lab.ingress.replies import (
    NOT_FOUND,
    Reply,
    error_reply,
    json_reply,
    not_allowed,
    text_reply,
)
from restate_lab.ingress.serde_errors import serde_json_error
from restate_lab.kafka.ingress import KafkaIngress, kafka_ingress
from restate_lab.kafka.model import KafkaAdminError, uri_syntax_error
from restate_lab.rules.id_errors import id_error

if TYPE_CHECKING:
    from restate_lab.runtime.engine import Engine

_DESERIALIZE = "Failed to deserialize the JSON body into the target type: "


def _query(scope: Scope) -> dict[str, str]:
    parsed = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return {k: v[-1] for k, v in parsed.items()}


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line} column {column}"


def _string_end(text: str, key: str) -> int:
    """Index of the closing quote of the string value of top-level ``key`` (serde's error position)."""
    match = re.search(r'"' + re.escape(key) + r'"\s*:\s*"', text)
    if match is None:
        return max(len(text.rstrip()) - 1, 0)
    i = match.end()
    while i < len(text) and text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return i


async def _json_body(scope: Scope, receive: Receive, required: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    """The request's JSON object, or a ``KafkaAdminError`` worded as the server's request parsing."""
    body = await read_body(receive)
    ctype = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise KafkaAdminError(415, "Expected request with `Content-Type: application/json`", plain=True)
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KafkaAdminError(
            400, f"Failed to parse the request body as JSON: {serde_json_error(body, exc)}", plain=True
        ) from exc
    end = _position(text, max(len(text.rstrip()) - 1, 0))
    if not isinstance(data, dict):
        raise KafkaAdminError(422, _DESERIALIZE + f"invalid type: expected a map at {end}", plain=True)
    for key in data:
        if key in ("source", "sink") and "source" in required:
            value = data[key]
            if not isinstance(value, str):
                message = f"{key}: invalid type, expected a string at {end}"
                raise KafkaAdminError(422, _DESERIALIZE + message, plain=True)
            reason = uri_syntax_error(value)
            if reason is not None:
                where = _position(text, _string_end(text, key))
                raise KafkaAdminError(422, _DESERIALIZE + f"{key}: {reason} at {where}", plain=True)
    for key in required:
        if key not in data:
            raise KafkaAdminError(422, _DESERIALIZE + f"missing field `{key}` at {end}", plain=True)
    maps = [k for k in ("properties", "options") if data.get(k) is not None]
    for key in maps:
        value = data[key]
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise KafkaAdminError(
                422, _DESERIALIZE + f"{key}: invalid type, expected a map of strings at {end}", plain=True
            )
    return data, text


def _reply(exc: KafkaAdminError) -> Reply:
    if exc.plain:
        return text_reply(exc.status, exc.message)
    return error_reply(exc.status, exc.message, exc.code)


async def route_kafka(engine: Engine, method: str, seg: list[str], scope: Scope, receive: Receive) -> Reply:
    """Route one admin request under ``/kafka-clusters`` or ``/subscriptions``."""
    kafka = kafka_ingress(engine)
    try:
        if seg[0] == "kafka-clusters":
            return await _clusters(kafka, method, seg, scope, receive)
        return await _subscriptions(kafka, method, seg, scope, receive)
    except KafkaAdminError as exc:
        return _reply(exc)


async def _clusters(kafka: KafkaIngress, method: str, seg: list[str], scope: Scope, receive: Receive) -> Reply:
    if len(seg) == 1:
        if method == "GET":
            return json_reply(200, {"clusters": [c.describe() for c in kafka.clusters.values()]})
        if method == "POST":
            data, _text = await _json_body(scope, receive, ("name", "properties"))
            name = data["name"]
            if not isinstance(name, str) or not isinstance(data["properties"], dict):
                raise KafkaAdminError(422, _DESERIALIZE + "invalid type", plain=True)
            cluster = kafka.create_cluster(name, data["properties"])
            return json_reply(201, cluster.describe(), (b"location", f"kafka-clusters/{name}".encode()))
        return not_allowed("POST,GET,HEAD")
    if len(seg) != 2 or not seg[1]:
        return NOT_FOUND
    name = seg[1]
    if method == "GET":
        cluster = kafka.cluster(name)
        # The server lists subscriptions only when asked to; the field is there either way.
        include = _query(scope).get("include_subscriptions", "false") == "true"
        users = [s.describe() for s in kafka.cluster_subscriptions(name)] if include else []
        return json_reply(200, {**cluster.describe(), "subscriptions": users})
    if method == "DELETE":
        await kafka.delete_cluster(name, force=_query(scope).get("force", "false") == "true")
        return Reply(202)
    if method == "PATCH":
        data, _text = await _json_body(scope, receive, ("properties",))
        cluster = kafka.update_cluster(name, data["properties"])
        return json_reply(200, cluster.describe())
    return not_allowed("GET,HEAD,DELETE,PATCH")


async def _subscriptions(kafka: KafkaIngress, method: str, seg: list[str], scope: Scope, receive: Receive) -> Reply:
    if len(seg) == 1:
        if method == "GET":
            query = _query(scope)
            found = kafka.list_subscriptions(source=query.get("source"), sink=query.get("sink"))
            return json_reply(200, {"subscriptions": [s.describe() for s in found]})
        if method == "POST":
            data, _text = await _json_body(scope, receive, ("source", "sink"))
            sub = kafka.create_subscription(data["source"], data["sink"], data.get("options"))
            return json_reply(201, sub.describe(), (b"location", f"subscriptions/{sub.id}".encode()))
        return not_allowed("POST,GET,HEAD")
    if len(seg) != 2 or not seg[1]:
        return NOT_FOUND
    sub_id = seg[1]
    if method not in ("GET", "DELETE"):
        return not_allowed("GET,HEAD,DELETE")
    reason = id_error(sub_id, "sub")
    if reason is not None:
        return text_reply(400, f"Invalid URL: Cannot parse `subscription` with value `{sub_id}`: {reason}")
    if method == "GET":
        existing = kafka.subscriptions.get(sub_id)
        if existing is None:
            return error_reply(404, f"The requested subscription '{sub_id}' does not exist")
        return json_reply(200, existing.describe())
    await kafka.delete_subscription(sub_id)
    return Reply(202)
