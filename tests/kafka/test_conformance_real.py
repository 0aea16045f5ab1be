"""The same Kafka topic and subscription on Restate Server 1.7.12 and on restate_lab: same answers.

Both consume one topic through their own subscription (a consumer group each); the test compares
the admin API's answers, the invocations each made (per key, in order) and the headers handlers saw.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from restate_lab.kafka.broker import TansuBroker
from restate_lab.server import RestateServer, RestateServerNotInstalled
from restate_lab.server.binary import find_restate_server
from tests.kafka import apps
from tests.kafka.conftest import create_topic, items, produce, subscribe, unsubscribe, wait_until
from tests.kafka.exchanges import run_admin_exchanges

pytestmark = pytest.mark.realserver

#: One partition, three keys, a record without a key, and a record that fails once.
RECORDS: list[tuple[str | None, Any, int]] = [
    ("a", {"n": 1}, 0),
    ("b", {"n": 2}, 0),
    ("a", {"n": 3, "fail": 1}, 0),
    ("a", {"n": 4}, 0),
    ("c", {"n": 5}, 0),
    ("b", {"n": 6}, 0),
    (None, {"n": 7}, 0),
]
EXPECTED_ITEMS = {
    "a": [{"n": 1}, {"n": 3, "fail": 1}, {"n": 4}],
    "b": [{"n": 2}, {"n": 6}],
    "c": [{"n": 5}],
    "": [{"n": 7}],
}


@pytest.fixture(scope="module")
def real_server(tansu_binary: str) -> Iterator[RestateServer]:
    try:
        binary = find_restate_server()
    except RestateServerNotInstalled as exc:
        pytest.skip(f"real Restate Server not installed: {exc}")
    with RestateServer.start(apps.app, binary=binary) as server:
        yield server


def _observe(ingress: str, admin: str, bootstrap: str, topic: str, prefix: str) -> dict[str, Any]:
    """Subscribe, wait for every record's invocation, and describe what the handlers saw."""
    apps.reset()
    sub = subscribe(admin, bootstrap, topic, "service://Log/append", cluster="conformance")
    try:
        for key, expected in EXPECTED_ITEMS.items():
            full = prefix + key if key else ""
            if full:
                wait_until(
                    lambda full=full, expected=expected: items(ingress, full) == expected,
                    timeout=60,
                    what=f"key {full!r}",
                )
        wait_until(lambda: any(s[1] == "" for s in apps.SEEN), timeout=60, what="the record without a key")
    finally:
        unsubscribe(admin, sub)
    runs: dict[str, list[int]] = {}
    header_names: set[frozenset[str]] = set()
    for _service, key, value, headers in apps.SEEN:
        runs.setdefault((key or "").removeprefix(prefix), []).append(value["n"])
        header_names.add(frozenset(headers))
        assert headers["restate.subscription.id"] == sub
        assert headers["kafka.topic"] == topic
    return {"runs": runs, "header_names": header_names}


def test_admin_answers_match_the_real_server(tansu_binary, real_server, lab_admin):
    """Every Kafka admin exchange gets the same status, body (as JSON) and headers."""
    with TansuBroker(binary=tansu_binary) as broker:
        real = run_admin_exchanges(real_server.admin_url, broker.bootstrap_servers)
        lab = run_admin_exchanges(lab_admin[1], broker.bootstrap_servers)
    assert [r.request for r in lab] == [r.request for r in real]
    for ours, theirs in zip(lab, real, strict=True):
        assert (ours.status, ours.body, ours.content_type, ours.headers) == (
            theirs.status,
            theirs.body,
            theirs.content_type,
            theirs.headers,
        ), ours.request


def test_same_topic_gives_the_same_invocations_in_the_same_per_key_order(broker, real_server, lab_admin):
    """Records → invocations: same keys, same per-key order (retries included), same headers."""
    topic = "conf-" + uuid.uuid4().hex[:8]
    prefix = topic + "-"
    create_topic(broker.bootstrap_servers, topic, 1)
    produce(broker.bootstrap_servers, topic, [(prefix + k if k else None, v, p) for k, v, p in RECORDS])
    real = _observe(real_server.ingress_url, real_server.admin_url, broker.bootstrap_servers, topic, prefix)
    ingress, admin, _lab = lab_admin
    ours = _observe(ingress, admin, broker.bootstrap_servers, topic, prefix)
    assert ours["runs"] == real["runs"]
    assert real["runs"]["a"] == [1, 3, 3, 4]
    assert ours["header_names"] == real["header_names"]
