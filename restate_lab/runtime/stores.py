"""In-memory stores for object state and workflow promises."""

from __future__ import annotations

from dataclasses import dataclass, field

from restate_lab.protocol.messages import Result

ServiceId = tuple[str, str | None]


class StateStore:
    """Key-value state per (service, key), as virtual objects and workflows see it."""

    def __init__(self) -> None:
        self._data: dict[ServiceId, dict[bytes, bytes]] = {}
        #: When tracking, what changed since the last :meth:`take_changes` (for the durable store).
        self.tracking = False
        self._changed: set[tuple[ServiceId, bytes]] = set()
        self._cleared: set[ServiceId] = set()

    def take_changes(self) -> tuple[list[tuple[ServiceId, bytes, bytes | None]], list[ServiceId]]:
        """The keys changed (with their current value, None if gone) and the ids cleared since last time."""
        changed = [(sid, key, self.get(sid, key)) for sid, key in self._changed]
        cleared = list(self._cleared)
        self._changed.clear()
        self._cleared.clear()
        return changed, cleared

    def get(self, sid: ServiceId, key: bytes) -> bytes | None:
        return self._data.get(sid, {}).get(key)

    def all(self, sid: ServiceId) -> dict[bytes, bytes]:
        return dict(self._data.get(sid, {}))

    def set(self, sid: ServiceId, key: bytes, value: bytes) -> None:
        self._data.setdefault(sid, {})[key] = value
        if self.tracking:
            self._changed.add((sid, key))

    def clear(self, sid: ServiceId, key: bytes) -> None:
        if self.tracking:
            self._changed.add((sid, key))
        values = self._data.get(sid)
        if values is not None:
            values.pop(key, None)
            if not values:
                del self._data[sid]

    def clear_all(self, sid: ServiceId) -> None:
        self._data.pop(sid, None)
        if self.tracking:
            self._cleared.add(sid)

    def service_ids(self) -> list[ServiceId]:
        return list(self._data)


@dataclass
class Promise:
    """A workflow's durable promise: its result once completed, and who waits for it."""

    result: Result | None = None
    listeners: list[tuple[str, int]] = field(default_factory=list)


class PromiseStore:
    """Durable promises per workflow id."""

    def __init__(self) -> None:
        self._data: dict[ServiceId, dict[str, Promise]] = {}

    def get(self, sid: ServiceId, name: str) -> Promise:
        return self._data.setdefault(sid, {}).setdefault(name, Promise())

    def peek(self, sid: ServiceId, name: str) -> Promise | None:
        return self._data.get(sid, {}).get(name)

    def clear(self, sid: ServiceId) -> None:
        self._data.pop(sid, None)

    def all(self, sid: ServiceId) -> dict[str, Promise]:
        return dict(self._data.get(sid, {}))

    def service_ids(self) -> list[ServiceId]:
        return list(self._data)
