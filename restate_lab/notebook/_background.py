"""Run a widget's slow work off the kernel's thread, with a heartbeat for a busy indicator.

A blocking call against a server (or a long simulation) would otherwise freeze the cell without a word;
here it runs in a daemon thread, ``on_tick`` is called about every ``tick`` seconds with the elapsed time,
and ``on_done`` with the outcome. ``wait`` lets tests and scripts block on it, bounded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class Background:
    """At most one piece of work at a time; ``synchronous=True`` runs it inline (for scripts)."""

    def __init__(self, name: str, *, synchronous: bool = False, tick: float = 0.25) -> None:
        self.name = name
        self.synchronous = synchronous
        self.tick = tick
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any, BaseException | None], None],
        on_tick: Callable[[float], None] | None = None,
    ) -> bool:
        """Start ``work``; ``False`` (and nothing started) if the previous work is still running."""
        if self.busy:
            return False

        def body() -> None:
            started = time.monotonic()
            finished = threading.Event()
            outcome: list[Any] = [None, None]

            def target() -> None:
                try:
                    outcome[0] = work()
                except BaseException as exc:  # reported in the widget, never raised into the kernel
                    outcome[1] = exc
                finally:
                    finished.set()

            worker = threading.Thread(target=target, name=f"{self.name}-work", daemon=True)
            worker.start()
            while not finished.wait(self.tick):
                if on_tick is not None:
                    on_tick(time.monotonic() - started)
            on_done(outcome[0], outcome[1])

        if self.synchronous:
            body()
            return True
        self._thread = threading.Thread(target=body, name=self.name, daemon=True)
        self._thread.start()
        return True

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the current work is done (at most ``timeout`` s); ``True`` if it is."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()
