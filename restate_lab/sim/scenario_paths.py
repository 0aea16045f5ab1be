"""Dotted paths into a scenario dict: ``"behaviours.Cart/add.failure_probability"``, ``"workloads.0.count"``.

A sweep names what it varies by such paths. They are checked against the base scenario before any
simulation runs, so a typo is an immediate error with a suggestion rather than sixteen failed runs.
Each segment must exist in the scenario, except where the scenario format knows the field: a behaviour
for a catalogue handler, a field of a behaviour, workload, retry policy, arrival process, key chooser or
distribution, a service's concurrency -- those may be set even when the base leaves them at their default.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from restate_lab.rules.retry import RetryPolicy
from restate_lab.sim.distributions import Constant, Empirical, Exponential, LogNormal
from restate_lab.sim.kafka import KafkaSubscription
from restate_lab.sim.keys import Fixed, Uniform, Zipf
from restate_lab.sim.model import HandlerBehaviour
from restate_lab.sim.workload import Bursty, Poisson, Workload

Path = tuple[str | int, ...]

_TOP = {"seed", "services", "behaviours", "retry_policy", "concurrency", "subscriptions", "workloads", "record_queues"}
_DISTRIBUTIONS = {"constant": Constant, "exponential": Exponential, "lognormal": LogNormal, "empirical": Empirical}
_KEYS = {"uniform": Uniform, "zipf": Zipf, "fixed": Fixed}
_ARRIVALS = {"poisson": Poisson, "bursty": Bursty}
_STEPS = {
    "work": {"duration"},
    "sleep": {"duration"},
    "call": {"service", "handler", "key"},
    "send": {"service", "handler", "key", "delay_ms"},
}


class ParameterPathError(ValueError):
    """A sweep parameter does not name a place in the scenario."""


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")}


def _by_kind(node: Mapping[str, Any], kinds: Mapping[str, type], default: str) -> set[str]:
    cls = kinds.get(str(node.get("kind", default)))
    return (_fields(cls) | {"kind"}) if cls is not None else {"kind"}


def scenario_targets(spec: Mapping[str, Any]) -> set[str]:
    """Every ``service/handler`` of the scenario's catalogue."""
    return {f"{s.get('name')}/{h.get('name')}" for s in spec.get("services", []) for h in s.get("handlers", [])}


def _services(spec: Mapping[str, Any]) -> set[str]:
    return {str(s.get("name")) for s in spec.get("services", [])}


def _known_fields(pattern: tuple[str, ...], node: Mapping[str, Any], spec: Mapping[str, Any]) -> set[str] | None:
    """The keys the scenario format allows in ``node`` at ``pattern`` (``*`` for names/indices), if known."""
    distribution = {
        ("behaviours", "*", "service_time"),
        ("workloads", "*", "client_retry_after"),
        ("workloads", "*", "delay"),
        ("behaviours", "*", "steps", "*", "duration"),
    }
    if pattern == ():
        return _TOP
    if pattern == ("behaviours",):
        return scenario_targets(spec)
    if pattern == ("behaviours", "*"):
        return _fields(HandlerBehaviour) - {"result"}
    if pattern in {("retry_policy",), ("behaviours", "*", "retry_policy")}:
        return _fields(RetryPolicy)
    if pattern == ("concurrency",):
        return _services(spec)
    if pattern == ("workloads", "*"):
        return _fields(Workload)
    if pattern == ("workloads", "*", "arrivals"):
        return _by_kind(node, _ARRIVALS, "poisson")
    if pattern in {("workloads", "*", "keys"), ("behaviours", "*", "steps", "*", "key")}:
        return _by_kind(node, _KEYS, "uniform")
    if pattern in distribution:
        return _by_kind(node, _DISTRIBUTIONS, "constant") | (
            {"file", "column"} if node.get("kind") == "empirical" else set()
        )
    if pattern == ("subscriptions", "*"):
        return _fields(KafkaSubscription)
    if pattern == ("behaviours", "*", "steps", "*"):
        return _STEPS.get(str(node.get("kind")), set()) | {"kind"}
    return None


def _created(pattern: tuple[str, ...], spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """The value a missing mapping starts from when a path goes through it, or None if it may not be created."""
    if pattern in {("behaviours",), ("concurrency",), ("behaviours", "*")}:
        return {}
    if pattern == ("retry_policy",):
        return {}
    if pattern == ("behaviours", "*", "retry_policy"):
        # a handler without its own policy inherits the scenario's: start from that, not from the defaults
        return copy.deepcopy(dict(spec.get("retry_policy", {})))
    return None


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    return f"{type(value).__name__} {value!r}"


def _hint(wanted: str, choices: set[str]) -> str:
    import difflib  # only on the error path

    close = difflib.get_close_matches(wanted, sorted(choices), n=3, cutoff=0.5)
    if close:
        return f"; did you mean {' or '.join(repr(c) for c in close)}?"
    return f"; choose from {sorted(choices)}" if choices and len(choices) <= 12 else ""


def parse_path(spec: Mapping[str, Any], dotted: str) -> Path:
    """Resolve ``dotted`` against ``spec`` into segments (list indices as ints); raise on any mismatch.

    A segment that is not a key may join the following ones (``"concurrency.my.service"`` reaches a
    service named ``my.service``), so names containing dots still work when the scenario has them.

    >>> spec = {"workloads": [{"service": "S", "handler": "h", "count": 10}], "services": []}
    >>> parse_path(spec, "workloads.0.count")
    ('workloads', 0, 'count')
    """
    if not isinstance(dotted, str) or not dotted or dotted.startswith(".") or dotted.endswith(".") or ".." in dotted:
        raise ParameterPathError(f"a parameter is a dotted path like 'workloads.0.count', not {dotted!r}")
    parts = dotted.split(".")
    if parts[0] == "seed":
        raise ParameterPathError("'seed' is not a parameter: pass seeds=... to the sweep")
    path: list[str | int] = []
    node: Any = spec
    i = 0
    while i < len(parts):
        here = ".".join(str(p) for p in path) or "the scenario"
        if isinstance(node, list):
            segment = parts[i]
            if not segment.isdigit() or int(segment) >= len(node):
                raise ParameterPathError(
                    f"{dotted!r}: {here} is a list of {len(node)}; {segment!r} is not an index 0..{len(node) - 1}"
                )
            path.append(int(segment))
            node, i = node[int(segment)], i + 1
            continue
        if not isinstance(node, Mapping):
            raise ParameterPathError(f"{dotted!r}: {here} is {_describe(node)}, it has no field {parts[i]!r}")
        known = _known_fields(_pattern_of(tuple(path)), node, spec)
        names = {str(k) for k in node} | (known or set())
        segment, j = parts[i], i + 1
        for k in range(i + 2, len(parts) + 1):  # a name containing dots, e.g. a service "my.svc"
            if segment in names:
                break
            if ".".join(parts[i:k]) in names:
                segment, j = ".".join(parts[i:k]), k
        if segment not in names:
            raise ParameterPathError(f"{dotted!r}: {here} has no {segment!r}{_hint(segment, names)}")
        child = node.get(segment)
        path.append(segment)
        if j < len(parts) and child is None:
            child = _created(_pattern_of(tuple(path)), spec)
            if child is None:
                where = ".".join(str(p) for p in path)
                raise ParameterPathError(f"{dotted!r}: {where} is not set in the scenario; vary {where!r} as a whole")
        node, i = child, j
    return tuple(path)


def _pattern_of(path: Path) -> tuple[str, ...]:
    """The schema pattern of a path: names under ``behaviours`` and list indices become ``*``."""
    out: list[str] = []
    for depth, segment in enumerate(path):
        named = depth == 1 and out[:1] == ["behaviours"]
        out.append("*" if isinstance(segment, int) or named else str(segment))
    return tuple(out)


def set_path(spec: dict[str, Any], path: Path, value: Any) -> None:
    """Set ``value`` at a resolved ``path`` in ``spec`` (in place), creating allowed missing mappings."""
    node: Any = spec
    for depth, segment in enumerate(path[:-1]):
        if isinstance(node, list):
            node = node[int(segment)]
            continue
        child = node.get(segment)
        if child is None:
            child = node[segment] = _created(_pattern_of(path[: depth + 1]), spec) or {}
        node = child
    node[path[-1]] = copy.deepcopy(value)


def get_path(spec: Mapping[str, Any], path: Path, default: Any = None) -> Any:
    """The value at a resolved ``path``, or ``default`` where the scenario leaves it unset."""
    node: Any = spec
    for segment in path:
        try:
            node = node[segment]
        except (KeyError, IndexError, TypeError):
            return default
    return node


def check_disjoint(paths: Sequence[tuple[str, Path]]) -> None:
    """Refuse two parameters where one sits inside the other: the result would depend on the order."""
    for name, path in paths:
        for other, other_path in paths:
            if name != other and len(path) < len(other_path) and other_path[: len(path)] == path:
                raise ParameterPathError(f"parameters {name!r} and {other!r} overlap: {other!r} is inside {name!r}")


def numeric_leaves(spec: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every number in ``spec`` (booleans and the seed excluded) as ``(dotted path, value)``."""

    def walk(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
        if isinstance(node, Mapping):
            for key, child in node.items():
                yield from walk(child, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                yield from walk(child, f"{prefix}.{index}" if prefix else str(index))
        elif isinstance(node, int | float) and not isinstance(node, bool) and prefix != "seed":
            yield prefix, node

    yield from walk(spec, "")
