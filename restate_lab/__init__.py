"""restate_lab: the Restate Ingress API in JupyterLab.

An in-process Restate runtime that runs ``restate-sdk`` services, an HTTP ingress that
answers like Restate Server, a simpy simulator sharing the same rules, and notebook tools.
"""

from restate_lab.rules import RestateError, RetryPolicy, Target

__version__ = "0.1.0"

__all__ = ["RestateError", "RetryPolicy", "Target", "__version__"]
