"""One Kafka consumer per subscription, on the runtime's loop, turning records into invocations.

Records of a partition are submitted in offset order, one at a time, so a virtual object's
per-key FIFO queue sees them in order and a plain service receives them in order. An offset is
committed only after ``Engine.submit`` accepted the record; a commit that fails (broker down) is
retried with the next batch. Offsets already submitted are remembered per partition, so a
record the broker delivers again (after a rebalance or an outage that lost a commit) is not
invoked twice.

When the broker is unreachable the consumer keeps its position, reports ``status ==
"disconnected"`` with the last error, and resumes once the broker answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from restate_lab.kafka.model import KafkaCluster, Subscription, object_key, record_headers
from restate_lab.rules.errors import RestateError
from restate_lab.rules.targets import Target
from restate_lab.runtime.engine import Engine

log = logging.getLogger("restate_lab.kafka")

#: How long one fetch waits for records; also bounds how quickly ``stop`` is noticed.
POLL_MS = 200
#: Pause before reconnecting after the broker could not be reached (doubles up to the maximum).
RECONNECT_S = (0.2, 5.0)
#: Bound on starting a consumer (bootstrap and metadata) before treating the broker as down.
START_TIMEOUT_S = 15.0

_OFFSET_RESET = {
    "smallest": "earliest",
    "earliest": "earliest",
    "beginning": "earliest",
    "largest": "latest",
    "latest": "latest",
    "end": "latest",
    "error": "none",
}
_INT_OPTIONS = {
    "session.timeout.ms": "session_timeout_ms",
    "heartbeat.interval.ms": "heartbeat_interval_ms",
    "max.poll.interval.ms": "max_poll_interval_ms",
    "fetch.max.wait.ms": "fetch_max_wait_ms",
    "request.timeout.ms": "request_timeout_ms",
    "max.partition.fetch.bytes": "max_partition_fetch_bytes",
}

Offsets = dict[tuple[str, int], int]


def consumer_config(cluster: KafkaCluster, subscription: Subscription) -> dict[str, Any]:
    """aiokafka keyword arguments from the cluster's properties and the subscription's options.

    librdkafka's default ``auto.offset.reset`` is ``largest``: a new subscription starts at the
    end of the topic unless ``auto.offset.reset`` says ``earliest``.
    """
    merged = {**cluster.properties, **subscription.options}
    config: dict[str, Any] = {
        "bootstrap_servers": cluster.bootstrap_servers,
        "group_id": subscription.group_id,
        "client_id": merged.get("client.id", "restate"),
        "enable_auto_commit": False,
        "auto_offset_reset": _OFFSET_RESET.get(merged.get("auto.offset.reset", "largest").lower(), "latest"),
    }
    for option, keyword in _INT_OPTIONS.items():
        if option in merged:
            with contextlib.suppress(ValueError):
                config[keyword] = int(merged[option])
    return config


class SubscriptionConsumer:
    """Consumes a subscription's topic and submits one invocation per record."""

    def __init__(
        self,
        engine: Engine,
        cluster: KafkaCluster,
        subscription: Subscription,
        *,
        submitted: Offsets | None = None,
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.cluster = cluster
        self.subscription = subscription
        #: Next offset to submit per (topic, partition); records below it were submitted already.
        self.submitted: Offsets = submitted if submitted is not None else {}
        self.status = "starting"
        self.last_error: str | None = None
        self.records = 0
        self._on_progress = on_progress
        self._task: asyncio.Task[None] | None = None
        self._pending_commit: Offsets = {}

    def start(self) -> None:
        """Start consuming on the running loop (the engine's)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"kafka:{self.subscription.id}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 10)
        self.status = "stopped"

    async def _run(self) -> None:
        from aiokafka import AIOKafkaConsumer  # imported here: only Kafka users need the client

        delay = RECONNECT_S[0]
        while True:
            consumer = AIOKafkaConsumer(self.subscription.topic, **consumer_config(self.cluster, self.subscription))
            try:
                await asyncio.wait_for(consumer.start(), START_TIMEOUT_S)
                self.status = "running"
                self.last_error = None
                delay = RECONNECT_S[0]
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker is down or refused us: wait and reconnect
                self.status = "disconnected"
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("subscription %s: %s; reconnecting in %.1fs", self.subscription.id, self.last_error, delay)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(consumer.stop(), 5)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_S[1])

    async def _consume(self, consumer: Any) -> None:
        from aiokafka.errors import KafkaError

        while True:
            batch = await consumer.getmany(timeout_ms=POLL_MS)
            for _tp, records in sorted(batch.items(), key=lambda item: (item[0].topic, item[0].partition)):
                for record in records:
                    self._submit(record)
            await self._commit(consumer, KafkaError)

    def _submit(self, record: Any) -> None:
        where = (record.topic, record.partition)
        if record.offset < self.submitted.get(where, 0):
            # Delivered again (a commit was lost): it was invoked already.
            self._pending_commit[where] = self.submitted[where]
            return
        sub = self.subscription
        meta = self.engine.services.get(sub.service)
        key = object_key(record.key) if meta is not None and meta.keyed else None
        headers = record_headers(sub.id, record.topic, record.partition, record.offset, record.timestamp, record.key)
        try:
            self.engine.submit(
                Target(sub.service, sub.handler, key), record.value or b"", headers, subscription_id=sub.id
            )
        except RestateError as exc:
            # The sink vanished (deployment removed): stop here, uncommitted, and retry later.
            raise RuntimeError(f"cannot invoke {sub.sink}: {exc}") from exc
        self.submitted[where] = record.offset + 1
        self._pending_commit[where] = record.offset + 1
        self.records += 1

    async def _commit(self, consumer: Any, kafka_error: type[Exception]) -> None:
        if not self._pending_commit:
            return
        from aiokafka import TopicPartition

        offsets = {TopicPartition(t, p): o for (t, p), o in self._pending_commit.items()}
        if self._on_progress is not None:
            self._on_progress()
        try:
            await asyncio.wait_for(consumer.commit(offsets), 10)
        except (TimeoutError, kafka_error) as exc:
            # Kept and committed with a later batch; the submitted offsets guard against repeats.
            self.last_error = f"commit failed: {type(exc).__name__}: {exc}"
            return
        self._pending_commit.clear()
