"""Bad input to the Kafka admin routes, and a broker that is down or goes away."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from restate_lab._processes import free_port
from restate_lab.kafka.broker import TansuBroker
from restate_lab.kafka.ingress import kafka_ingress
from tests.kafka import apps
from tests.kafka.conftest import FAST_JOIN, create_topic, items, produce, subscribe, unsubscribe, wait_until
from tests.kafka.relay import Relay


@pytest.fixture
def admin(lab_admin, broker) -> httpx.Client:
    _ingress, admin_url, _lab = lab_admin
    with httpx.Client(base_url=admin_url, timeout=30) as http:
        if http.get("/kafka-clusters/bad-input").status_code == 404:
            http.post(
                "/kafka-clusters",
                json={"name": "bad-input", "properties": {"bootstrap.servers": broker.bootstrap_servers}},
            )
        yield http


def test_unknown_cluster_is_refused_naming_the_known_ones(admin):
    """A source on a cluster nobody created → 400 listing the clusters there are."""
    answer = admin.post("/subscriptions", json={"source": "kafka://nope/t", "sink": "service://Log/append"})
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("Kafka cluster 'nope' not found. Available clusters: [")
    assert '"bad-input"' in answer.json()["message"]
    assert answer.json()["restate_code"] is None


def test_malformed_source_and_sink_are_refused(admin):
    """URIs that do not parse → 422 text; a wrong scheme → 400 META0009."""
    answer = admin.post("/subscriptions", json={"source": "kafka:/bad-input", "sink": "service://Log/append"})
    assert (answer.status_code, answer.headers["content-type"]) == (422, "text/plain; charset=utf-8")
    assert answer.text == (
        "Failed to deserialize the JSON body into the target type: source: invalid format at line 1 column 28"
    )
    answer = admin.post("/subscriptions", json={"source": "kafka://bad-input/t", "sink": "http://Log/append"})
    assert answer.status_code == 400
    assert answer.json() == {
        "message": "[META0009] invalid sink URI 'http://Log/append': must have a scheme segment, "
        "with supported schemes: [service].",
        "restate_code": "META0009",
    }


def test_missing_sink_handler_is_refused(admin):
    """A sink naming a handler the service lacks → 400 META0009 'cannot find service/handler'."""
    answer = admin.post("/subscriptions", json={"source": "kafka://bad-input/t", "sink": "service://Log/nope"})
    assert answer.status_code == 400
    assert answer.json()["message"] == (
        "[META0009] invalid sink URI 'service://Log/nope': cannot find service/handler specified in the sink URI."
    )


def test_cluster_without_bootstrap_servers_is_refused(admin):
    answer = admin.post("/kafka-clusters", json={"name": "nobroker", "properties": {"client.id": "x"}})
    assert answer.status_code == 400
    assert "must contain either 'bootstrap.servers' or 'metadata.broker.list'" in answer.json()["message"]


def test_broker_down_is_reported_and_consumption_waits(lab_admin):
    """A subscription on an unreachable broker is accepted (as on the server); its consumer says why it waits."""
    _ingress, admin_url, lab = lab_admin
    dead = f"127.0.0.1:{free_port('127.0.0.1')}"
    with httpx.Client(base_url=admin_url, timeout=30) as http:
        assert (
            http.post("/kafka-clusters", json={"name": "dead", "properties": {"bootstrap.servers": dead}}).status_code
            == 201
        )
        answer = http.post("/subscriptions", json={"source": "kafka://dead/t", "sink": "service://Log/append"})
        assert answer.status_code == 201
        sub = answer.json()["id"]

        def consumer_state() -> tuple[str, str | None]:
            async def read() -> tuple[str, str | None]:
                consumer = kafka_ingress(lab.engine).consumers[sub]
                return consumer.status, consumer.last_error

            return lab.portal.call(read())

        status, error = wait_until(lambda: consumer_state()[0] == "disconnected" and consumer_state(), timeout=30)
        assert error
        assert http.delete(f"/subscriptions/{sub}").status_code == 202
        assert http.delete("/kafka-clusters/dead").status_code == 202


def test_broker_outage_pauses_consumption_and_resumes_without_loss(tansu_binary, lab_admin):
    """Records produced before and after the broker vanishes are each invoked exactly once."""
    ingress, admin_url, _lab = lab_admin
    relay_port = free_port("127.0.0.1")
    with TansuBroker(binary=tansu_binary, advertised_port=relay_port) as broker:
        relay = Relay(relay_port, broker.port).restore()
        try:
            topic = "outage-" + uuid.uuid4().hex[:8]
            key = f"{topic}-k"
            create_topic(broker.bootstrap_servers, topic, 1)
            sub = subscribe(admin_url, broker.bootstrap_servers, topic, "service://Log/append", cluster="outage")
            produce(broker.bootstrap_servers, topic, [(key, {"n": i}, 0) for i in range(3)])
            wait_until(lambda: len(items(ingress, key)) == 3, what="records before the outage")
            relay.cut()
            time.sleep(2.0)
            assert len(items(ingress, key)) == 3
            relay.restore()
            produce(broker.bootstrap_servers, topic, [(key, {"n": i}, 0) for i in range(3, 6)])
            wait_until(lambda: len(items(ingress, key)) == 6, timeout=45, what="records after the outage")
            time.sleep(1.0)
            assert items(ingress, key) == [{"n": i} for i in range(6)]
            assert sorted(s[2]["n"] for s in apps.SEEN if s[1] == key) == list(range(6))
            unsubscribe(admin_url, sub)
            httpx.delete(f"{admin_url}/kafka-clusters/outage", timeout=10)
        finally:
            relay.cut()


def test_options_reach_the_consumer(lab_admin, broker):
    """Stored options gain group.id (the subscription id) and client.id, as on the server."""
    _ingress, admin_url, _lab = lab_admin
    topic = "opts-" + uuid.uuid4().hex[:8]
    sub = subscribe(admin_url, broker.bootstrap_servers, topic, "service://Log/append")
    answer = httpx.get(f"{admin_url}/subscriptions/{sub}", timeout=10).json()
    assert answer["options"] == {**FAST_JOIN, "group.id": sub, "client.id": "restate"}
    unsubscribe(admin_url, sub)
