"""Fixtures for the Kafka tests: a tansu broker, a restate_lab server with its admin API, helpers.

Every test here needs the tansu binary (``scripts/install-tansu.sh``); without it they skip with
that reason, never pass.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from restate_lab.kafka.broker import TansuBroker, TansuNotInstalled, find_tansu
from tests.kafka import apps

#: Subscription options that make a consumer join tansu's group quickly (it waits half the session timeout).
FAST_JOIN = {"auto.offset.reset": "earliest", "session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"}


@pytest.fixture(scope="session")
def tansu_binary() -> str:
    try:
        return str(find_tansu())
    except TansuNotInstalled as exc:
        pytest.skip(f"Kafka broker not installed: {exc}")


@pytest.fixture(scope="module")
def broker(tansu_binary: str) -> Iterator[TansuBroker]:
    with TansuBroker(binary=tansu_binary) as running:
        yield running


@pytest.fixture(scope="module")
def lab_admin() -> Iterator[tuple[str, str, Any]]:
    """(ingress URL, admin URL, LocalRestate) of a LabServer over the test app."""
    from restate_lab import LocalRestate
    from restate_lab.ingress.server import LabServer

    lab = LocalRestate(apps.app)
    server = LabServer(lab, port=0, admin_port=0).start()
    try:
        yield server.ingress_url, server.admin_url, lab
    finally:
        server.stop()
        lab.close()


@pytest.fixture(autouse=True)
def _reset_seen() -> None:
    apps.reset()


@pytest.fixture
def topic(broker: TansuBroker) -> str:
    """A fresh one-partition topic."""
    name = "t-" + uuid.uuid4().hex[:10]
    create_topic(broker.bootstrap_servers, name, 1)
    return name


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    async def go() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            await admin.close()

    asyncio.run(asyncio.wait_for(go(), 30))


Record = tuple[str | None, Any, int]  # key, JSON value, partition


def produce(bootstrap: str, topic: str, records: list[Record]) -> None:
    """Send JSON records, in order, each to the partition given."""
    import json

    from aiokafka import AIOKafkaProducer

    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for key, value, partition in records:
                await producer.send_and_wait(
                    topic, json.dumps(value).encode(), key=None if key is None else key.encode(), partition=partition
                )
        finally:
            await producer.stop()

    asyncio.run(asyncio.wait_for(go(), 30))


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def subscribe(admin_url: str, bootstrap: str, topic: str, sink: str, cluster: str = "local") -> str:
    """Create the cluster (once) and a subscription; returns the subscription id."""
    with httpx.Client(base_url=admin_url, timeout=30) as http:
        if http.get(f"/kafka-clusters/{cluster}").status_code == 404:
            answer = http.post(
                "/kafka-clusters", json={"name": cluster, "properties": {"bootstrap.servers": bootstrap}}
            )
            assert answer.status_code == 201, answer.text
        answer = http.post(
            "/subscriptions", json={"source": f"kafka://{cluster}/{topic}", "sink": sink, "options": FAST_JOIN}
        )
        assert answer.status_code == 201, answer.text
        sub_id: str = answer.json()["id"]
        return sub_id


def unsubscribe(admin_url: str, sub_id: str) -> None:
    assert httpx.delete(f"{admin_url}/subscriptions/{sub_id}", timeout=30).status_code == 202


def items(ingress_url: str, key: str) -> list[Any]:
    answer = httpx.post(f"{ingress_url}/Log/{key}/items", timeout=30)
    assert answer.status_code == 200, answer.text
    found: list[Any] = answer.json()
    return found
