"""Kafka clusters and subscriptions as Restate Server 1.7.12's admin API describes them; no I/O.

A subscription ties a source ``kafka://<cluster>/<topic>`` to a sink ``service://<Service>/<handler>``.
The wording of every refusal below was measured against the real server
(``docs/observed-restate-1.7.12.md``, section "Kafka subscriptions").

>>> parse_source("kafka://my-cluster/orders")
('my-cluster', 'orders')
>>> parse_sink("service://Counter/add")
('Counter', 'add')
"""

from __future__ import annotations

import base64
import secrets
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from restate_lab.rules.durations import format_rfc3339
from restate_lab.rules.ids import _b62_fixed

#: Properties a cluster must carry, one of them (librdkafka's names).
BOOTSTRAP_KEYS = ("bootstrap.servers", "metadata.broker.list")

#: Characters the server's URI parser refuses anywhere in a URI.
_BAD_URI_CHARS = frozenset(' "<>\\^`{|}') | frozenset(chr(c) for c in range(0x21))


class KafkaAdminError(Exception):
    """A refusal with the status and message the admin API answers with.

    ``plain`` errors come from request parsing and are ``text/plain``; the others are the admin
    handlers' JSON ``{"message", "restate_code"}``.
    """

    def __init__(self, status: int, message: str, *, code: str | None = None, plain: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.plain = plain


def new_subscription_id() -> str:
    """A fresh id in the server's format: ``sub_1`` and 22 base62 digits of a random u128."""
    return "sub_1" + _b62_fixed(secrets.token_bytes(16), 22)


def uri_syntax_error(uri: str) -> str | None:
    """Why the server's URI parser refuses ``uri`` (``invalid uri character``, ``invalid format``), or None."""
    if not uri or any(c in _BAD_URI_CHARS for c in uri):
        return "invalid uri character"
    scheme, sep, _rest = uri.partition("://")
    if not sep or not scheme or not scheme[0].isalpha():
        return "invalid format"
    return None


def _split(uri: str, scheme: str, kind: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme != scheme or not parts.netloc:
        raise KafkaAdminError(
            400,
            f"[META0009] invalid {kind} URI '{uri}': must have a scheme segment, with supported schemes: [{scheme}].",
            code="META0009",
        )
    return parts.netloc, parts.path[1:] if parts.path.startswith("/") else parts.path


def normalize(uri: str) -> str:
    """The server stores ``kafka://c`` as ``kafka://c/`` (an authority-only URI gets a ``/`` path)."""
    parts = urllib.parse.urlsplit(uri)
    return uri if parts.path or not parts.netloc else uri + "/"


def parse_source(uri: str) -> tuple[str, str]:
    """``kafka://cluster/topic`` → ``(cluster, topic)``; an empty topic is accepted, as by the server."""
    return _split(uri, "kafka", "source")


def parse_sink(uri: str) -> tuple[str, str]:
    """``service://Service/handler`` → ``(service, handler)``."""
    return _split(uri, "service", "sink")


def sink_not_found(uri: str) -> KafkaAdminError:
    return KafkaAdminError(
        400,
        f"[META0009] invalid sink URI '{uri}': cannot find service/handler specified in the sink URI.",
        code="META0009",
    )


@dataclass
class KafkaCluster:
    """A named Kafka cluster: librdkafka-style properties (``bootstrap.servers`` at least)."""

    name: str
    properties: dict[str, str]
    created_at_ms: int

    @property
    def bootstrap_servers(self) -> str:
        for key in BOOTSTRAP_KEYS:
            if key in self.properties:
                return self.properties[key]
        raise KeyError("bootstrap.servers")

    def describe(self) -> dict[str, Any]:
        created_at = format_rfc3339(self.created_at_ms)
        return {"name": self.name, "properties": dict(self.properties), "created_at": created_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KafkaCluster:
        return cls(data["name"], dict(data["properties"]), int(data["created_at_ms"]))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "properties": self.properties, "created_at_ms": self.created_at_ms}


@dataclass
class Subscription:
    """A source topic wired to a sink handler; ``options`` include ``group.id`` and ``client.id``."""

    id: str
    source: str
    sink: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def cluster(self) -> str:
        return parse_source(self.source)[0]

    @property
    def topic(self) -> str:
        return parse_source(self.source)[1]

    @property
    def service(self) -> str:
        return parse_sink(self.sink)[0]

    @property
    def handler(self) -> str:
        return parse_sink(self.sink)[1]

    @property
    def group_id(self) -> str:
        return self.options.get("group.id", self.id)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "sink": self.sink, "options": dict(self.options)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Subscription:
        return cls(data["id"], data["source"], data["sink"], dict(data["options"]))

    def to_json(self) -> dict[str, Any]:
        return self.describe()


def with_defaults(subscription_id: str, options: dict[str, str] | None) -> dict[str, str]:
    """The options the server stores: the caller's, plus ``group.id`` (the id) and ``client.id``."""
    stored = dict(options or {})
    stored.setdefault("group.id", subscription_id)
    stored.setdefault("client.id", "restate")
    return stored


def record_headers(
    subscription_id: str, topic: str, partition: int, offset: int, timestamp_ms: int | None, key: bytes | None
) -> list[tuple[str, str]]:
    """The headers Restate Server 1.7.12 gives an invocation made from a Kafka record.

    Record headers of the Kafka message itself are not passed on (measured); the key, when there
    is one, arrives base64-encoded as ``kafka.key``.
    """
    headers = [("kafka.offset", str(offset)), ("kafka.topic", topic), ("kafka.partition", str(partition))]
    if timestamp_ms is not None and timestamp_ms >= 0:
        headers.append(("kafka.timestamp", str(timestamp_ms)))
    headers.append(("restate.subscription.id", subscription_id))
    if key is not None:
        headers.append(("kafka.key", base64.b64encode(key).decode()))
    return headers


def object_key(key: bytes | None) -> str:
    """A record key as a virtual object key: no key is the empty key (as on the server)."""
    return "" if key is None else key.decode("utf-8", errors="replace")
