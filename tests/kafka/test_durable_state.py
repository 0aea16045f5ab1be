"""Durable mode: clusters, subscriptions and submitted offsets survive a restart of the process."""

from __future__ import annotations

from restate_lab import LocalRestate
from restate_lab.kafka.ingress import KafkaIngress
from tests.kafka import apps


def test_state_file_brings_back_clusters_subscriptions_and_offsets(tmp_path):
    """A new KafkaIngress on the same state file sees what the previous one stored."""
    path = tmp_path / "kafka.json"
    with LocalRestate(apps.app) as lab:

        async def first() -> str:
            kafka = KafkaIngress(lab.engine, state_path=path)
            kafka.create_cluster("c", {"bootstrap.servers": "127.0.0.1:1"})
            sub = kafka.create_subscription("kafka://c/t", "service://Log/append", {"auto.offset.reset": "earliest"})
            kafka.offsets[sub.id][("t", 0)] = 7
            kafka._save()
            await kafka.aclose()
            return sub.id

        sub_id = lab.portal.call(first())
    with LocalRestate() as fresh:
        again = KafkaIngress(fresh.engine, state_path=path)
    assert list(again.clusters) == ["c"]
    assert again.subscriptions[sub_id].options["group.id"] == sub_id
    assert again.offsets[sub_id] == {("t", 0): 7}
