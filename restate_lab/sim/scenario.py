"""Scenario files: a whole simulation (catalogue, behaviours, deployments, workloads) in JSON or TOML.

Keeping scenarios as data lets a notebook, a test and the benchmark share one definition, and lets
the catalogue be pasted straight from a real server's admin ``GET /services``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from restate_lab.rules.retry import RetryPolicy
from restate_lab.sim.distributions import as_distribution
from restate_lab.sim.engine import Simulation
from restate_lab.sim.kafka import KafkaSubscription
from restate_lab.sim.keys import key_chooser_from_dict
from restate_lab.sim.model import SAME_KEY, Call, Fail, HandlerBehaviour, Send, Sleep, Step, Work
from restate_lab.sim.workload import Workload


def _step(spec: dict[str, Any], base_dir: str) -> Step:
    kind = spec["kind"]
    if kind == "work":
        return Work(as_distribution(spec["duration"], base_dir))
    if kind == "sleep":
        return Sleep(as_distribution(spec["duration"], base_dir))
    if kind == "fail":
        return Fail(int(spec["times"]))
    key = spec.get("key")
    key = SAME_KEY if key == "same" else key_chooser_from_dict(key) if isinstance(key, dict) else key
    if kind == "call":
        return Call(spec["service"], spec["handler"], key)
    if kind == "send":
        return Send(spec["service"], spec["handler"], key, float(spec.get("delay_ms", 0.0)))
    raise ValueError(f"unknown step kind {kind!r}")


def behaviour_from_dict(spec: dict[str, Any], base_dir: str = ".") -> HandlerBehaviour:
    """A :class:`HandlerBehaviour` from a scenario entry; ``failure_schedule`` is a list of booleans."""
    spec = dict(spec)
    if "service_time" in spec:
        spec["service_time"] = as_distribution(spec["service_time"], base_dir)
    if "steps" in spec:
        spec["steps"] = tuple(_step(s, base_dir) for s in spec["steps"])
    if "retry_policy" in spec:
        spec["retry_policy"] = RetryPolicy(**spec["retry_policy"])
    return HandlerBehaviour(**spec)


def simulation_from_dict(spec: dict[str, Any], base_dir: str = ".", seed: int | None = None) -> Simulation:
    """Build a :class:`Simulation` from a parsed scenario (see ``data/scenario_example.json``)."""
    return Simulation(
        spec["services"],
        {target: behaviour_from_dict(b, base_dir) for target, b in spec.get("behaviours", {}).items()},
        retry_policy=RetryPolicy(**spec["retry_policy"]) if "retry_policy" in spec else None,
        concurrency=spec.get("concurrency"),
        subscriptions=[KafkaSubscription(**s) for s in spec.get("subscriptions", [])],
        workloads=[Workload.from_dict(w, base_dir) for w in spec.get("workloads", [])],
        seed=seed if seed is not None else int(spec.get("seed", 0)),
        record_queues=bool(spec.get("record_queues", True)),
    )


def load_scenario(path: str | Path, seed: int | None = None) -> Simulation:
    """Read a ``.json`` or ``.toml`` scenario file; relative data files resolve next to it."""
    path = Path(path)
    text = path.read_text()
    spec = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    return simulation_from_dict(spec, str(path.parent), seed)
