"""Kafka-subscribed handlers: partitions, per-partition delivery order, consumer lag.

Records are placed on a partition by their key (CRC-32, stable across runs, unlike ``hash``). A
partition's consumer ingests records strictly in offset order; the record key becomes the virtual
object key, so on an object the key's FIFO queue keeps per-key order just as Restate's does.
"""

from __future__ import annotations

import random
import zlib
from array import array
from collections import deque
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class KafkaSubscription:
    """Deliver ``topic``'s records to ``service/handler``.

    ``ingest_ms`` is the consumer's time per record (its throughput limit, the source of lag).
    ``ordering="key"`` is Restate's behaviour: records are submitted in order and run per-key FIFO;
    ``"partition"`` waits for each record's invocation to finish before the next (strict partition order).

    >>> sub = KafkaSubscription("orders", "Orders", "process", partitions=4)
    >>> sub.partition_for("key-7", random.Random(0))
    3
    """

    topic: str
    service: str
    handler: str
    partitions: int = 1
    ingest_ms: float = 0.0
    ordering: Literal["key", "partition"] = "key"

    def partition_for(self, key: str | None, rng: random.Random) -> int:
        """Keyed records go to a fixed partition; unkeyed ones are spread at random."""
        if key is None:
            return int(rng.random() * self.partitions)
        return zlib.crc32(key.encode()) % self.partitions


class PartitionState:
    """One partition's records not yet ingested by the consumer."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.backlog: deque[tuple[int, int, float]] = deque()
        self.next_offset = 0
        self.busy = False

    def append(self, key: int, produced_ms: float) -> None:
        self.backlog.append((self.next_offset, key, produced_ms))
        self.next_offset += 1

    def pop(self) -> tuple[int, int, float]:
        return self.backlog.popleft()

    @property
    def lag(self) -> int:
        """Records produced but not yet ingested: the consumer lag."""
        return len(self.backlog)


class KafkaTrace:
    """Ingested records (row, partition, offset, produce time) and lag samples per partition."""

    def __init__(self) -> None:
        self.topics: list[str] = []
        self._topic_codes: dict[str, int] = {}
        self.row = array("q")
        self.topic = array("i")
        self.partition = array("i")
        self.offset = array("q")
        self.produced = array("d")
        self.lag_time = array("d")
        self.lag_topic = array("i")
        self.lag_partition = array("i")
        self.lag_value = array("q")

    def _code(self, topic: str) -> int:
        code = self._topic_codes.get(topic)
        if code is None:
            code = self._topic_codes[topic] = len(self.topics)
            self.topics.append(topic)
        return code

    def record(self, row: int, topic: str, partition: int, offset: int, produced_ms: float) -> None:
        self.row.append(row)
        self.topic.append(self._code(topic))
        self.partition.append(partition)
        self.offset.append(offset)
        self.produced.append(produced_ms)

    def lag(self, now: float, topic: str, partition: int, lag: int) -> None:
        self.lag_time.append(now)
        self.lag_topic.append(self._code(topic))
        self.lag_partition.append(partition)
        self.lag_value.append(lag)
