"""Durable mode: the runtime's invocations, journals, state and promises in SQLite.

Writes happen in one transaction per flush, and the engine flushes before anything leaves
the process: before an attempt streams its journal to the SDK, before a notification is
pushed into a live attempt, when a submission is accepted and when an invocation completes.
So nothing the SDK or a client has seen is ever lost, and a ``ctx.run`` result the SDK has
been told about is never executed again. Timers and waiters are not stored: recovery
rebuilds them from the journals.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restate_lab.protocol.messages import VOID, AwaitPoint, Failure, Frame, Result, Value

_SCHEMA = """
CREATE TABLE IF NOT EXISTS invocations (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (id TEXT NOT NULL, idx INTEGER NOT NULL, type INTEGER NOT NULL,
                                    payload BLOB NOT NULL, appended_at INTEGER, PRIMARY KEY (id, idx));
CREATE TABLE IF NOT EXISTS state (service TEXT NOT NULL, key TEXT NOT NULL, name BLOB NOT NULL, value BLOB NOT NULL,
                                  PRIMARY KEY (service, key, name));
CREATE TABLE IF NOT EXISTS promises (service TEXT NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL,
                                     result TEXT NOT NULL, PRIMARY KEY (service, key, name));
"""


def result_to_json(result: Result | None) -> dict[str, Any] | None:
    if result is None:
        return None
    if isinstance(result, Value):
        return {"kind": "value", "content": result.content.hex()}
    if isinstance(result, Failure):
        return {
            "kind": "failure",
            "code": result.code,
            "message": result.message,
            "metadata": [list(m) for m in result.metadata],
        }
    return {"kind": "void"}


def result_from_json(data: dict[str, Any] | None) -> Result | None:
    if data is None:
        return None
    if data["kind"] == "value":
        return Value(bytes.fromhex(data["content"]))
    if data["kind"] == "failure":
        return Failure(
            int(data["code"]), str(data["message"]), tuple((str(k), str(v)) for k, v in data.get("metadata", []))
        )
    return VOID


def await_point_to_json(point: AwaitPoint | None) -> dict[str, Any] | None:
    if point is None:
        return None
    return {
        "completions": sorted(point.completions),
        "signals": sorted(point.signals),
        "named": sorted(point.named_signals),
    }


def await_point_from_json(data: dict[str, Any] | None) -> AwaitPoint | None:
    if data is None:
        return None
    return AwaitPoint(frozenset(data["completions"]), frozenset(data["signals"]), frozenset(data["named"]))


@dataclass
class StoredInvocation:
    """One invocation as read back from disk: its record and its journal."""

    seq: int
    record: dict[str, Any]
    journal: list[Frame]
    #: When each entry was appended (engine ms); None for entries stored before the time was kept.
    appended_at: list[int | None]

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def service(self) -> str:
        return str(self.record["service"])


class DurableStore:
    """A SQLite file (WAL) holding what the engine needs to carry on after a crash."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(journal)")}
        if "appended_at" not in columns:  # a file written before append times were kept: its rows read NULL
            self._db.execute("ALTER TABLE journal ADD COLUMN appended_at INTEGER")

    def write(
        self,
        invocations: Iterable[tuple[str, int, dict[str, Any], int, list[Frame], list[int | None]]],
        state: Iterable[tuple[str, str, bytes, bytes | None]],
        cleared: Iterable[tuple[str, str]],
        promises: Iterable[tuple[str, str, str, Result]],
        forgotten: Iterable[str],
    ) -> None:
        """Apply one flush atomically.

        ``invocations`` holds (id, seq, record, first journal index to write, journal tail, its append times);
        ``state`` holds (service, key, name, value or None to delete).
        """
        db = self._db
        db.execute("BEGIN")
        try:
            for service, key in cleared:
                db.execute("DELETE FROM state WHERE service = ? AND key = ?", (service, key))
            for service, key, name, value in state:
                if value is None:
                    db.execute("DELETE FROM state WHERE service = ? AND key = ? AND name = ?", (service, key, name))
                else:
                    db.execute("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?)", (service, key, name, value))
            for service, key, promise_name, result in promises:
                db.execute(
                    "INSERT OR REPLACE INTO promises VALUES (?, ?, ?, ?)",
                    (service, key, promise_name, json.dumps(result_to_json(result))),
                )
            for inv_id, seq, record, start, tail, times in invocations:
                db.execute("INSERT OR REPLACE INTO invocations VALUES (?, ?, ?)", (inv_id, seq, json.dumps(record)))
                db.execute("DELETE FROM journal WHERE id = ? AND idx >= ?", (inv_id, start))
                db.executemany(
                    "INSERT INTO journal (id, idx, type, payload, appended_at) VALUES (?, ?, ?, ?, ?)",
                    (
                        (inv_id, start + i, f.type, f.payload, at)
                        for i, (f, at) in enumerate(zip(tail, times, strict=True))
                    ),
                )
            for inv_id in forgotten:
                db.execute("DELETE FROM invocations WHERE id = ?", (inv_id,))
                db.execute("DELETE FROM journal WHERE id = ?", (inv_id,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def forget_workflow_state(self, service: str, key: str) -> None:
        self._db.execute("BEGIN")
        self._db.execute("DELETE FROM state WHERE service = ? AND key = ?", (service, key))
        self._db.execute("DELETE FROM promises WHERE service = ? AND key = ?", (service, key))
        self._db.execute("COMMIT")

    def invocations(self) -> Iterator[StoredInvocation]:
        """Every stored invocation in submission order, with its journal."""
        frames: dict[str, list[Frame]] = {}
        times: dict[str, list[int | None]] = {}
        rows = self._db.execute("SELECT id, type, payload, appended_at FROM journal ORDER BY id, idx")
        for inv_id, msg_type, payload, appended_at in rows:
            frames.setdefault(inv_id, []).append(Frame(msg_type, bytes(payload)))
            times.setdefault(inv_id, []).append(appended_at)
        for inv_id, seq, record in self._db.execute("SELECT id, seq, record FROM invocations ORDER BY seq"):
            yield StoredInvocation(seq, json.loads(record), frames.get(inv_id, []), times.get(inv_id, []))

    def state(self) -> Iterator[tuple[str, str, bytes, bytes]]:
        for service, key, name, value in self._db.execute("SELECT service, key, name, value FROM state"):
            yield service, key, bytes(name), bytes(value)

    def promises(self) -> Iterator[tuple[str, str, str, Result]]:
        for service, key, promise_name, result in self._db.execute("SELECT service, key, name, result FROM promises"):
            decoded = result_from_json(json.loads(result))
            if decoded is not None:
                yield service, key, promise_name, decoded

    def close(self) -> None:
        self._db.close()
