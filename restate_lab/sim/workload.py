"""Synthetic load: when requests arrive, which key they hit, and how clients resend them.

A :class:`Workload` describes one stream of ingress requests (or Kafka records, with ``topic``);
the simulation turns each arrival into a submission through the same admission rules as the runtime.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from restate_lab.sim.distributions import Constant, Distribution, as_distribution
from restate_lab.sim.keys import KeyChooser, Uniform, key_chooser_from_dict  # noqa: F401 (Uniform: doctest)


@dataclass(frozen=True)
class Poisson:
    """Independent arrivals at ``rate_per_s`` per second of virtual time (exponential gaps)."""

    rate_per_s: float

    def gaps(self, rng: random.Random) -> Iterator[float]:
        """Inter-arrival gaps in ms, forever."""
        rate_per_ms = self.rate_per_s / 1000.0
        uniform, log = rng.random, math.log

        def gap() -> float:
            return -log(1.0 - uniform()) / rate_per_ms  # random.Random.expovariate, inlined

        # An iterator over a function rather than a generator: one Python frame per gap, not two.
        return iter(gap, None)


@dataclass(frozen=True)
class Bursty:
    """A two-state Markov-modulated Poisson process: bursts at ``burst_rate_per_s`` between calm spells.

    Spell lengths are exponential with means ``mean_burst_ms`` and ``mean_calm_ms``.
    """

    calm_rate_per_s: float
    burst_rate_per_s: float
    mean_calm_ms: float
    mean_burst_ms: float

    def gaps(self, rng: random.Random) -> Iterator[float]:
        bursting = False
        spell_left = rng.expovariate(1.0 / self.mean_calm_ms)
        pending = 0.0
        while True:
            rate = (self.burst_rate_per_s if bursting else self.calm_rate_per_s) / 1000.0
            gap = rng.expovariate(rate) if rate > 0 else float("inf")
            if gap <= spell_left:
                spell_left -= gap
                yield pending + gap
                pending = 0.0
            else:
                pending += spell_left
                bursting = not bursting
                spell_left = rng.expovariate(1.0 / (self.mean_burst_ms if bursting else self.mean_calm_ms))

    @property
    def rate_per_s(self) -> float:
        calm, burst = self.mean_calm_ms, self.mean_burst_ms
        return (self.calm_rate_per_s * calm + self.burst_rate_per_s * burst) / (calm + burst)


Arrivals = Poisson | Bursty


@dataclass
class Workload:
    """One stream of requests to ``service/handler`` (or records to Kafka ``topic``).

    Stops after ``count`` arrivals or at ``start_ms + duration_ms``, whichever comes first.
    A share ``idempotency_fraction`` of requests carry a fresh idempotency key; of those, a share
    ``client_retry_probability`` is sent again by the client ``client_retry_after`` ms later with the
    same key, as a client that timed out would. ``delay`` makes requests delayed sends.

    >>> w = Workload("Counter", "add", Poisson(100), count=10, keys=Uniform(5))
    >>> w.target
    'Counter/add'
    """

    service: str = ""
    handler: str = ""
    arrivals: Arrivals = Poisson(1.0)
    count: int | None = None
    duration_ms: float | None = None
    start_ms: float = 0.0
    keys: KeyChooser | None = None
    idempotency_fraction: float = 0.0
    client_retry_probability: float = 0.0
    client_retry_after: Distribution = Constant(1000.0)
    delay: Distribution | None = None
    topic: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.count is None and self.duration_ms is None:
            raise ValueError("a workload needs a count or a duration_ms")
        if not self.topic and not (self.service and self.handler):
            raise ValueError("a workload targets service and handler, or a Kafka topic")
        if not self.name:
            self.name = self.topic or self.target

    @property
    def target(self) -> str:
        return f"{self.service}/{self.handler}" if not self.topic else f"kafka:{self.topic}"

    @classmethod
    def from_dict(cls, spec: dict[str, Any], base_dir: str | None = None) -> Workload:
        """Build a workload from a scenario file entry (see ``data/scenario_example.json``)."""
        spec = dict(spec)
        arrivals = spec.pop("arrivals", {"kind": "poisson", "rate_per_s": 1.0})
        kind = arrivals.pop("kind", "poisson")
        spec["arrivals"] = Poisson(**arrivals) if kind == "poisson" else Bursty(**arrivals)
        keys = spec.pop("keys", None)
        if keys is not None:
            spec["keys"] = key_chooser_from_dict(keys)
        for name in ("client_retry_after", "delay"):
            if spec.get(name) is not None:
                spec[name] = as_distribution(spec[name], base_dir)
        return cls(**spec)
