"""Key popularity: which virtual-object or workflow key each generated invocation addresses.

Choosers return a key *index* (an int) so a million arrivals do not build a million strings;
``name(i)`` renders the key Restate would see.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Uniform:
    """Every one of ``n`` keys equally likely.

    >>> Uniform(3).name(2)
    'key-2'
    """

    n: int
    prefix: str = "key-"

    def sample(self, rng: random.Random) -> int:
        return int(rng.random() * self.n)

    def sampler(self, rng: random.Random) -> Callable[[], int]:
        """``sample`` bound to ``rng``: the same draws, one call each (the simulator's arrivals)."""
        n, uniform = self.n, rng.random
        return lambda: int(uniform() * n)

    def name(self, index: int) -> str:
        return f"{self.prefix}{index}"


@dataclass(frozen=True)
class Zipf:
    """Key ``i`` (0-based) drawn with weight ``1/(i+1)**s``: a few hot keys and a long tail.

    >>> z = Zipf(10, s=1.2); rng = random.Random(0)
    >>> sum(z.sample(rng) == 0 for _ in range(1000)) > 300
    True
    """

    n: int
    s: float = 1.0
    prefix: str = "key-"
    _cdf: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        weights = [1.0 / (i + 1) ** self.s for i in range(self.n)]
        total = sum(weights)
        object.__setattr__(self, "_cdf", tuple(c / total for c in itertools.accumulate(weights)))

    def sample(self, rng: random.Random) -> int:
        return min(bisect.bisect_left(self._cdf, rng.random()), self.n - 1)

    def name(self, index: int) -> str:
        return f"{self.prefix}{index}"


@dataclass(frozen=True)
class Fixed:
    """Always the same key (one hot key, as in the M/M/1 validation)."""

    key: str

    def sample(self, rng: random.Random) -> int:
        return 0

    def name(self, index: int) -> str:
        return self.key


KeyChooser = Uniform | Zipf | Fixed


def key_chooser_from_dict(spec: dict[str, object]) -> KeyChooser:
    """A chooser from a scenario entry: ``{"kind": "zipf", "n": 100, "s": 1.1}``.

    >>> key_chooser_from_dict({"kind": "uniform", "n": 4})
    Uniform(n=4, prefix='key-')
    """
    args: dict[str, Any] = dict(spec)
    kind = str(args.pop("kind", "uniform"))
    if kind == "zipf":
        return Zipf(**args)
    if kind == "fixed":
        return Fixed(**args)
    return Uniform(**args)
