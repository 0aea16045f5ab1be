"""A ``LabServer`` (loopback, free ports) over a fresh runtime, per test module that asks for one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from restate_lab import LocalRestate
from restate_lab.ingress.server import LabServer


@contextlib.contextmanager
def serving(app: Any, **engine_options: Any) -> Iterator[tuple[LocalRestate, LabServer]]:
    """Run ``app`` in a ``LocalRestate`` served on free loopback ports; stop both afterwards."""
    lab = LocalRestate(app, **engine_options)
    try:
        server = LabServer(lab, port=0, admin_port=0).start()
        try:
            yield lab, server
        finally:
            server.stop()
    finally:
        lab.close()
