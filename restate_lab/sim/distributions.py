"""Service-time and delay distributions, in milliseconds, sampled from one seeded generator.

Each distribution is a small object with ``sample(rng)`` and ``mean``; Python's ``random.Random``
is used rather than numpy because one scalar draw per event is far cheaper there.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Distribution(Protocol):
    """A non-negative random duration in milliseconds."""

    def sample(self, rng: random.Random) -> float: ...

    @property
    def mean(self) -> float: ...


@dataclass(frozen=True)
class Constant:
    """Always ``value`` ms (the D in M/D/1).

    >>> Constant(5).sample(random.Random(0))
    5.0
    """

    value: float

    def sample(self, rng: random.Random) -> float:
        return float(self.value)

    @property
    def mean(self) -> float:
        return float(self.value)


@dataclass(frozen=True)
class Exponential:
    """Memoryless durations with mean ``mean_ms`` (the M in M/M/1)."""

    mean_ms: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rate", 1.0 / self.mean_ms if self.mean_ms > 0 else 0.0)

    def sample(self, rng: random.Random) -> float:
        rate: float = self._rate  # type: ignore[attr-defined]
        return rng.expovariate(rate) if rate else 0.0

    @property
    def mean(self) -> float:
        return float(self.mean_ms)


@dataclass(frozen=True)
class LogNormal:
    """Long-tailed durations given by their mean and standard deviation in ms (not of the log)."""

    mean_ms: float
    stdev_ms: float

    def sample(self, rng: random.Random) -> float:
        sigma2 = math.log1p((self.stdev_ms / self.mean_ms) ** 2)
        mu = math.log(self.mean_ms) - sigma2 / 2
        return rng.lognormvariate(mu, math.sqrt(sigma2))

    @property
    def mean(self) -> float:
        return float(self.mean_ms)


@dataclass(frozen=True)
class Empirical:
    """Resamples observed durations, e.g. latencies measured against a real deployment."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("an empirical distribution needs at least one value")

    @classmethod
    def from_csv(cls, path: str | Path, column: str | None = None) -> Empirical:
        """Read one numeric column (the first unless named) of a CSV file with a header row."""
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            name = column or (reader.fieldnames or [""])[0]
            return cls(tuple(float(row[name]) for row in reader if row.get(name, "").strip()))

    def sample(self, rng: random.Random) -> float:
        return self.values[int(rng.random() * len(self.values))]

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)


@dataclass(frozen=True)
class FromCallable:
    """Any ``fn(rng) -> ms``; ``mean`` is estimated once from ``estimate_samples`` draws."""

    fn: Callable[[random.Random], float]
    estimate_samples: int = field(default=10_000, compare=False)

    def sample(self, rng: random.Random) -> float:
        return float(self.fn(rng))

    @property
    def mean(self) -> float:
        probe = random.Random(0)
        return sum(self.fn(probe) for _ in range(self.estimate_samples)) / self.estimate_samples


def as_distribution(spec: Any, base_dir: str | Path | None = None) -> Distribution:
    """Build a distribution from a number (constant ms), a callable, or a scenario-file dict.

    >>> as_distribution({"kind": "exponential", "mean_ms": 10}).mean
    10.0
    >>> as_distribution(3).sample(random.Random(1))
    3.0
    """
    if isinstance(spec, Distribution):
        return spec
    if isinstance(spec, int | float):
        return Constant(float(spec))
    if callable(spec):
        return FromCallable(spec)
    if isinstance(spec, dict):
        kind = spec.get("kind", "constant")
        if kind == "constant":
            return Constant(float(spec["value"]))
        if kind == "exponential":
            return Exponential(float(spec["mean_ms"]))
        if kind == "lognormal":
            return LogNormal(float(spec["mean_ms"]), float(spec["stdev_ms"]))
        if kind == "empirical":
            if "values" in spec:
                return Empirical(tuple(float(v) for v in spec["values"]))
            path = Path(spec["file"])
            if base_dir is not None and not path.is_absolute():
                path = Path(base_dir) / path
            return Empirical.from_csv(path, spec.get("column"))
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        return Empirical(tuple(float(v) for v in spec))
    raise ValueError(f"cannot make a distribution from {spec!r}")
