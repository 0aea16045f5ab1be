"""restate_lab: the Restate Ingress API in JupyterLab.

An in-process Restate runtime that runs ``restate-sdk`` services, an HTTP ingress that
answers like Restate Server, a simpy simulator sharing the same rules, and notebook tools.

The top level offers the targets that speak :class:`IngressApi` -- :class:`LocalRestate` (the
runtime), :class:`RestateClient` (any HTTP server, the real one included), :class:`SimulatedRestate`
and :class:`Simulation` (the simulator) -- and the few types they share. The simulator's
vocabulary (workloads, distributions, frames) lives in ``restate_lab.sim``.

Importing the package is light: the targets are loaded on first use, and pandas, matplotlib
and ipywidgets only where a frame, plot or widget is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from restate_lab._connect import connect
from restate_lab.api import IngressApi, InvocationTimeout, NotSupportedByTarget, SendReceipt
from restate_lab.catalogue import Catalogue
from restate_lab.rules import RestateError, RetryPolicy, Target

if TYPE_CHECKING:
    from restate_lab.runtime.local import LocalRestate
    from restate_lab.server.client import RestateClient
    from restate_lab.sim.engine import Simulation
    from restate_lab.sim.facade import SimulatedRestate

__version__ = "0.1.0"

#: The targets, imported when first asked for: name -> module.
_LAZY = {
    "LocalRestate": "restate_lab.runtime.local",
    "RestateClient": "restate_lab.server.client",
    "SimulatedRestate": "restate_lab.sim.facade",
    "Simulation": "restate_lab.sim.engine",
}

__all__ = [
    "Catalogue",
    "IngressApi",
    "InvocationTimeout",
    "LocalRestate",
    "NotSupportedByTarget",
    "RestateClient",
    "RestateError",
    "RetryPolicy",
    "SendReceipt",
    "SimulatedRestate",
    "Simulation",
    "Target",
    "__version__",
    "connect",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'restate_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
