"""restate_lab: the Restate Ingress API in JupyterLab.

An in-process Restate runtime that runs ``restate-sdk`` services, an HTTP ingress that
answers like Restate Server, a simpy simulator sharing the same rules, and notebook tools.
"""

from restate_lab._connect import connect
from restate_lab.api import IngressApi, InvocationTimeout, NotSupportedByTarget, SendReceipt
from restate_lab.rules import RestateError, RetryPolicy, Target
from restate_lab.runtime.local import LocalRestate
from restate_lab.sim import *  # noqa: F403 - the simulator's public names are ours too
from restate_lab.sim import __all__ as _sim_all

__version__ = "0.1.0"

__all__ = [
    "IngressApi",
    "InvocationTimeout",
    "LocalRestate",
    "NotSupportedByTarget",
    "RestateError",
    "RetryPolicy",
    "SendReceipt",
    "Target",
    "__version__",
    "connect",
    *_sim_all,
]
