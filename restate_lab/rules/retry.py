"""Retry back-off as Restate Server applies it to failed attempts."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

OnMaxAttempts = Literal["pause", "kill"]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off; the defaults are Restate Server 1.7's.

    ``max_attempts`` counts attempts, the first included; after the last one fails the
    invocation is paused (or killed, with ``on_max_attempts="kill"``).

    >>> [RetryPolicy().delay_ms(n) for n in (1, 2, 3)]
    [500, 1000, 2000]
    """

    initial_interval_ms: int = 500
    factor: float = 2.0
    max_interval_ms: int = 60_000
    max_attempts: int | None = 70
    on_max_attempts: OnMaxAttempts = "pause"

    def delay_ms(self, failed_attempts: int) -> int:
        """Back-off before the next attempt, after ``failed_attempts`` (>= 1) attempts have failed."""
        exponent = max(failed_attempts - 1, 0)
        # Past the cap the power would only overflow a float (after ~1000 failures).
        if exponent > self._cap_exponent:
            return int(self.max_interval_ms)
        delay = self.initial_interval_ms * (self.factor**exponent)
        return int(min(delay, self.max_interval_ms))

    @functools.cached_property
    def _cap_exponent(self) -> float:
        """The exponent past which the back-off is the cap (infinite when it never grows), computed once."""
        if self.factor > 1 and self.initial_interval_ms > 0:
            return math.log(max(self.max_interval_ms / self.initial_interval_ms, 1.0)) / math.log(self.factor)
        return math.inf

    def exhausted(self, failed_attempts: int) -> bool:
        """True when no attempt is left after ``failed_attempts`` failures."""
        return self.max_attempts is not None and failed_attempts >= self.max_attempts
