"""Kafka subscriptions on restate_lab, end to end through its admin API and a tansu broker."""

from __future__ import annotations

import base64
import time
import uuid

import httpx

from tests.kafka import apps
from tests.kafka.conftest import create_topic, items, produce, subscribe, unsubscribe, wait_until


def test_subscription_invokes_the_sink_once_per_record_with_kafka_headers(broker, lab_admin, topic):
    """Each record becomes one invocation of the sink; the key is the object key, the value the body."""
    ingress, admin, _lab = lab_admin
    a, b = f"{topic}-a", f"{topic}-b"
    sub = subscribe(admin, broker.bootstrap_servers, topic, "service://Log/append")
    try:
        produce(broker.bootstrap_servers, topic, [(a, {"n": 1}, 0), (b, {"n": 2}, 0), (a, {"n": 3}, 0)])
        wait_until(lambda: items(ingress, a) == [{"n": 1}, {"n": 3}], what="key a's records")
        assert items(ingress, b) == [{"n": 2}]
    finally:
        unsubscribe(admin, sub)
    first = next(s for s in apps.SEEN if s[2] == {"n": 1})
    assert first[3] == {
        "kafka.offset": "0",
        "kafka.topic": topic,
        "kafka.partition": "0",
        "kafka.timestamp": first[3]["kafka.timestamp"],
        "restate.subscription.id": sub,
        "kafka.key": base64.b64encode(a.encode()).decode(),
    }
    assert int(first[3]["kafka.timestamp"]) > 0
    assert len(apps.SEEN) == 3


def test_records_of_a_key_run_in_offset_order_across_partitions(broker, lab_admin):
    """Per key, records are invoked in the order they sit in their partition."""
    ingress, admin, _lab = lab_admin
    name = "ordered-" + uuid.uuid4().hex[:10]
    create_topic(broker.bootstrap_servers, name, 2)
    keys = [f"{name}-{i}" for i in range(3)]
    # Keys 0 and 1 share partition 0, key 2 has partition 1 to itself.
    records = [(keys[i % 3], {"n": i}, 1 if i % 3 == 2 else 0) for i in range(30)]
    sub = subscribe(admin, broker.bootstrap_servers, name, "service://Log/append")
    try:
        produce(broker.bootstrap_servers, name, records)
        for key in keys:
            expected = [value for k, value, _p in records if k == key]
            wait_until(lambda key=key, expected=expected: items(ingress, key) == expected, what=f"{key} in order")
    finally:
        unsubscribe(admin, sub)


def test_failing_record_blocks_later_records_of_its_key_only(broker, lab_admin, topic):
    """Head-of-line: a retried record holds its key's queue; other keys go on."""
    ingress, admin, _lab = lab_admin
    a, b = f"{topic}-a", f"{topic}-b"
    sub = subscribe(admin, broker.bootstrap_servers, topic, "service://Log/append")
    try:
        produce(
            broker.bootstrap_servers,
            topic,
            [(a, {"n": 1, "fail": 2}, 0), (a, {"n": 2}, 0), (b, {"n": 3}, 0), (b, {"n": 4}, 0)],
        )
        wait_until(lambda: len(items(ingress, a)) == 2, what="key a to get past its failing record")
    finally:
        unsubscribe(admin, sub)
    assert items(ingress, a) == [{"n": 1, "fail": 2}, {"n": 2}]
    assert items(ingress, b) == [{"n": 3}, {"n": 4}]
    order = [(s[1], s[2]["n"]) for s in apps.SEEN]
    assert order.count((a, 1)) == 3  # two failures, then success
    last_a1 = len(order) - 1 - order[::-1].index((a, 1))
    # b's records ran while a/1 was backing off; a/2 ran only after a/1 succeeded.
    assert order.index((b, 4)) < last_a1 < order.index((a, 2))


def test_plain_service_sink_gets_records_in_partition_order(broker, lab_admin, topic):
    """A service sink has no key: records are submitted one by one in offset order."""
    _ingress, admin, lab = lab_admin
    sub = subscribe(admin, broker.bootstrap_servers, topic, "service://Sink/record")
    try:
        produce(broker.bootstrap_servers, topic, [(None, {"n": i}, 0) for i in range(5)])
        wait_until(lambda: len(apps.SEEN) == 5, what="five Sink invocations")
    finally:
        unsubscribe(admin, sub)
    assert all("kafka.key" not in s[3] for s in apps.SEEN)
    offsets = sorted(int(s[3]["kafka.offset"]) for s in apps.SEEN)
    assert offsets == [0, 1, 2, 3, 4]
    rows = [r for r in lab.invocations().to_dict("records") if r["target"] == "Sink/record"]
    assert rows and all(r["invoked_by"] == "subscription" for r in rows)
    frame = lab.query("select invoked_by, invoked_by_subscription_id from sys_invocation where target = 'Sink/record'")
    assert set(frame["invoked_by_subscription_id"]) == {sub} and set(frame["invoked_by"]) == {"subscription"}


def test_deleted_subscription_stops_consuming(broker, lab_admin, topic):
    """After DELETE /subscriptions/{id} new records invoke nothing."""
    ingress, admin, _lab = lab_admin
    sub = subscribe(admin, broker.bootstrap_servers, topic, "service://Log/append")
    key = f"{topic}-d"
    produce(broker.bootstrap_servers, topic, [(key, {"n": 1}, 0)])
    wait_until(lambda: items(ingress, key) == [{"n": 1}], what="the first record")
    unsubscribe(admin, sub)
    produce(broker.bootstrap_servers, topic, [(key, {"n": 2}, 0)])
    time.sleep(1.0)
    assert items(ingress, key) == [{"n": 1}]
    assert httpx.get(f"{admin}/subscriptions/{sub}", timeout=10).status_code == 404
