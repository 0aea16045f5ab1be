"""The Kafka side of the ingress: clusters, subscriptions and their consumers, for one engine.

Lives on the engine's loop, like the admin API that drives it::

    kafka = kafka_ingress(lab.engine)          # one per engine, created on first use
    kafka.create_cluster("my-cluster", {"bootstrap.servers": "127.0.0.1:9092"})
    sub = kafka.create_subscription("kafka://my-cluster/orders", "service://Orders/add",
                                    {"auto.offset.reset": "earliest"})

With a ``state_path`` (durable mode) clusters, subscriptions and the offsets already submitted are
written to a JSON file after every change and read back on start, so a restarted process neither
loses a subscription nor invokes a record twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import weakref
from pathlib import Path
from typing import Any

from restate_lab.kafka.consumer import Offsets, SubscriptionConsumer
from restate_lab.kafka.model import (
    BOOTSTRAP_KEYS,
    KafkaAdminError,
    KafkaCluster,
    Subscription,
    new_subscription_id,
    normalize,
    parse_sink,
    parse_source,
    sink_not_found,
    with_defaults,
)
from restate_lab.runtime.engine import Engine


def _check_bootstrap(name: str, properties: dict[str, str]) -> None:
    if not any(key in properties for key in BOOTSTRAP_KEYS):
        raise KafkaAdminError(
            400,
            f"kafka cluster '{name}' properties must contain either 'bootstrap.servers' or 'metadata.broker.list'",
        )


_INGRESSES: weakref.WeakKeyDictionary[Engine, KafkaIngress] = weakref.WeakKeyDictionary()


class KafkaIngress:
    """Kafka clusters and subscriptions of one engine, and a running consumer per subscription."""

    def __init__(self, engine: Engine, *, state_path: str | os.PathLike[str] | None = None) -> None:
        self.engine = engine
        self.clusters: dict[str, KafkaCluster] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.consumers: dict[str, SubscriptionConsumer] = {}
        self.offsets: dict[str, Offsets] = {}
        self.state_path = Path(state_path) if state_path is not None else None
        if self.state_path is not None and self.state_path.exists():
            self._load(self.state_path)

    # ---- clusters ----

    def create_cluster(self, name: str, properties: dict[str, str]) -> KafkaCluster:
        if name in self.clusters:
            raise KafkaAdminError(409, f"kafka cluster '{name}' already exists in schema registry")
        _check_bootstrap(name, properties)
        cluster = KafkaCluster(name, dict(properties), self.engine.now_ms())
        self.clusters[name] = cluster
        self._save()
        return cluster

    def cluster(self, name: str) -> KafkaCluster:
        cluster = self.clusters.get(name)
        if cluster is None:
            raise KafkaAdminError(404, f"The requested Kafka cluster '{name}' does not exist")
        return cluster

    def update_cluster(self, name: str, properties: dict[str, str]) -> KafkaCluster:
        cluster = self.cluster(name)
        _check_bootstrap(name, properties)
        cluster.properties = dict(properties)
        self._save()
        return cluster

    def cluster_subscriptions(self, name: str) -> list[Subscription]:
        return [s for s in self.subscriptions.values() if s.cluster == name]

    async def delete_cluster(self, name: str, *, force: bool = False) -> None:
        if name not in self.clusters:
            raise KafkaAdminError(404, f"not found in the schema registry: kafka cluster named '{name}'")
        users = self.cluster_subscriptions(name)
        if users and not force:
            raise KafkaAdminError(
                409,
                f"Removing the kafka cluster '{name}' leads to subscription '{users[0].id}' being orphan. "
                "Remove the subscription first, or use the 'force' flag.",
            )
        del self.clusters[name]
        # Orphaned subscriptions stay listed, as on the server, but stop consuming.
        for sub in users:
            await self._stop_consumer(sub.id)
        self._save()

    # ---- subscriptions ----

    def create_subscription(self, source: str, sink: str, options: dict[str, str] | None = None) -> Subscription:
        source, sink = normalize(source), normalize(sink)
        cluster_name, _topic = parse_source(source)
        service, handler = parse_sink(sink)
        if cluster_name not in self.clusters:
            names = ", ".join(json.dumps(n) for n in self.clusters)
            raise KafkaAdminError(400, f"Kafka cluster '{cluster_name}' not found. Available clusters: [{names}]")
        meta = self.engine.services.get(service)
        if meta is None or handler not in meta.handlers:
            raise sink_not_found(sink)
        sub_id = new_subscription_id()
        subscription = Subscription(sub_id, source, sink, with_defaults(sub_id, options))
        self.subscriptions[sub_id] = subscription
        self._save()
        self._start_consumer(subscription)
        return subscription

    def subscription(self, sub_id: str) -> Subscription:
        sub = self.subscriptions.get(sub_id)
        if sub is None:
            raise KafkaAdminError(404, f"not found in the schema registry: subscription with id '{sub_id}'")
        return sub

    def list_subscriptions(self, *, source: str | None = None, sink: str | None = None) -> list[Subscription]:
        return [
            s
            for s in self.subscriptions.values()
            if (source is None or s.source == source) and (sink is None or s.sink == sink)
        ]

    async def delete_subscription(self, sub_id: str) -> None:
        self.subscription(sub_id)
        await self._stop_consumer(sub_id)
        del self.subscriptions[sub_id]
        self.offsets.pop(sub_id, None)
        self._save()

    # ---- consumers ----

    def _start_consumer(self, subscription: Subscription) -> None:
        cluster = self.clusters.get(subscription.cluster)
        if cluster is None or not subscription.topic:
            return
        offsets = self.offsets.setdefault(subscription.id, {})
        consumer = SubscriptionConsumer(self.engine, cluster, subscription, submitted=offsets, on_progress=self._save)
        self.consumers[subscription.id] = consumer
        with contextlib.suppress(RuntimeError):  # no running loop: started by ``resume``
            consumer.start()

    async def _stop_consumer(self, sub_id: str) -> None:
        consumer = self.consumers.pop(sub_id, None)
        if consumer is not None:
            await consumer.stop()

    def resume(self) -> None:
        """Start consumers for subscriptions read back from the state file (call on the engine's loop)."""
        for sub in self.subscriptions.values():
            consumer = self.consumers.get(sub.id)
            if consumer is None:
                self._start_consumer(sub)
            else:
                consumer.start()

    async def aclose(self) -> None:
        """Stop every consumer (subscriptions and clusters are kept)."""
        await asyncio.gather(*(self._stop_consumer(sub_id) for sub_id in list(self.consumers)))

    # ---- durable state ----

    def _save(self) -> None:
        if self.state_path is None:
            return
        state = {
            "clusters": [c.to_json() for c in self.clusters.values()],
            "subscriptions": [s.to_json() for s in self.subscriptions.values()],
            "offsets": {
                sub_id: [[t, p, o] for (t, p), o in offsets.items()] for sub_id, offsets in self.offsets.items()
            },
        }
        tmp = self.state_path.with_suffix(self.state_path.suffix + ".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.state_path)

    def _load(self, path: Path) -> None:
        state: dict[str, Any] = json.loads(path.read_text())
        for data in state.get("clusters", []):
            cluster = KafkaCluster.from_json(data)
            self.clusters[cluster.name] = cluster
        for data in state.get("subscriptions", []):
            sub = Subscription.from_json(data)
            self.subscriptions[sub.id] = sub
        for sub_id, rows in state.get("offsets", {}).items():
            self.offsets[sub_id] = {(str(t), int(p)): int(o) for t, p, o in rows}


def durable_state_path(engine: Engine) -> Path:
    """Where a durable engine keeps its Kafka clusters, subscriptions and offsets: beside its database."""
    assert engine.store is not None
    return engine.store.path.parent / "kafka.json"


def kafka_ingress(engine: Engine, *, state_path: str | os.PathLike[str] | None = None) -> KafkaIngress:
    """The engine's Kafka ingress, created on first use; its consumers stop when the engine closes.

    ``state_path`` only matters on the first call (it picks durable mode).
    """
    ingress = _INGRESSES.get(engine)
    if ingress is None:
        if state_path is None and engine.store is not None:
            state_path = durable_state_path(engine)
        ingress = KafkaIngress(engine, state_path=state_path)
        _INGRESSES[engine] = ingress
        engine.on_close(ingress.aclose)  # consumers stop before the engine does
    return ingress
