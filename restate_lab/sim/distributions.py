"""Service-time and delay distributions, in milliseconds, sampled from one seeded generator.

Each distribution is a small object with ``sample(rng)`` and ``mean``; Python's ``random.Random``
is used rather than numpy because one scalar draw per event is far cheaper there. The simulator's hot
paths draw through :func:`sampler`, a zero-argument function bound to the generator once.
"""

from __future__ import annotations

import csv
import functools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable


@runtime_checkable
class Distribution(Protocol):
    """A non-negative random duration in milliseconds."""

    def sample(self, rng: random.Random) -> float: ...

    @property
    def mean(self) -> float: ...


#: A zero-argument draw: what ``sample(rng)`` returns, with the generator bound once.
Sampler = Callable[[], float]


def sampler(distribution: Distribution, rng: random.Random) -> Sampler:
    """A function drawing from ``distribution`` with ``rng``, the values and draw order of ``sample(rng)``.

    One call per draw instead of two or three: the simulator draws several times per invocation.
    Distributions without a ``sampler`` method of their own are wrapped around ``sample``.

    >>> draw = sampler(Exponential(10), random.Random(3))
    >>> draw() == Exponential(10).sample(random.Random(3))
    True
    """
    make = getattr(distribution, "sampler", None)
    if make is not None:
        return cast(Sampler, make(rng))
    return functools.partial(distribution.sample, rng)


@dataclass(frozen=True)
class Constant:
    """Always ``value`` ms (the D in M/D/1).

    >>> Constant(5).sample(random.Random(0))
    5.0
    """

    value: float

    def sample(self, rng: random.Random) -> float:
        return float(self.value)

    def sampler(self, rng: random.Random) -> Sampler:
        value = float(self.value)
        return lambda: value

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

    def sampler(self, rng: random.Random) -> Sampler:
        rate: float = self._rate  # type: ignore[attr-defined]
        if not rate:
            return lambda: 0.0
        uniform, log = rng.random, math.log

        def draw() -> float:
            return -log(1.0 - uniform()) / rate  # random.Random.expovariate, inlined

        return draw

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

    def sampler(self, rng: random.Random) -> Sampler:
        sigma2 = math.log1p((self.stdev_ms / self.mean_ms) ** 2)
        mu, sigma = math.log(self.mean_ms) - sigma2 / 2, math.sqrt(sigma2)
        lognormvariate = rng.lognormvariate
        return lambda: lognormvariate(mu, sigma)

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

    def sampler(self, rng: random.Random) -> Sampler:
        values, n, uniform = self.values, len(self.values), rng.random
        return lambda: values[int(uniform() * n)]

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

    def sampler(self, rng: random.Random) -> Sampler:
        fn = self.fn
        return lambda: float(fn(rng))

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
