"""In-memory stores for object state and workflow promises."""

from __future__ import annotations

from dataclasses import dataclass, field

from restate_lab.protocol.messages import Result

ServiceId = tuple[str, str | None]


class StateStore:
    """Key-value state per (service, key), as virtual objects and workflows see it."""

    def __init__(self) -> None:
        self._data: dict[ServiceId, dict[bytes, bytes]] = {}

    def get(self, sid: ServiceId, key: bytes) -> bytes | None:
        return self._data.get(sid, {}).get(key)

    def all(self, sid: ServiceId) -> dict[bytes, bytes]:
        return dict(self._data.get(sid, {}))

    def set(self, sid: ServiceId, key: bytes, value: bytes) -> None:
        self._data.setdefault(sid, {})[key] = value

    def clear(self, sid: ServiceId, key: bytes) -> None:
        values = self._data.get(sid)
        if values is not None:
            values.pop(key, None)
            if not values:
                del self._data[sid]

    def clear_all(self, sid: ServiceId) -> None:
        self._data.pop(sid, None)

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
