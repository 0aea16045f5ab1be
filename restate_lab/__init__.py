"""restate_lab: the Restate Ingress API in JupyterLab.

An in-process Restate runtime that runs ``restate-sdk`` services, an HTTP ingress that
answers like Restate Server, a simpy simulator sharing the same rules, and notebook tools.
"""

from restate_lab.api import IngressApi, SendReceipt
from restate_lab.rules import RestateError, RetryPolicy, Target
from restate_lab.runtime.local import LocalRestate
from restate_lab.sim import (
    SAME_KEY,
    Bursty,
    Call,
    Catalogue,
    Constant,
    Empirical,
    Exponential,
    Fixed,
    FromCallable,
    HandlerBehaviour,
    KafkaSubscription,
    LogNormal,
    Poisson,
    Send,
    SimulatedRestate,
    Simulation,
    Sleep,
    Uniform,
    Work,
    Workload,
    Zipf,
    consumer_lag_frame,
    invocations_frame,
    kafka_frame,
    load_scenario,
    queue_depth_frame,
    simulation_from_dict,
    summary_frame,
    utilisation_frame,
)

__version__ = "0.1.0"

__all__ = [
    "Bursty",
    "Call",
    "Catalogue",
    "Constant",
    "Empirical",
    "Exponential",
    "Fixed",
    "FromCallable",
    "HandlerBehaviour",
    "IngressApi",
    "KafkaSubscription",
    "LocalRestate",
    "LogNormal",
    "Poisson",
    "RestateError",
    "RetryPolicy",
    "SAME_KEY",
    "Send",
    "SendReceipt",
    "SimulatedRestate",
    "Simulation",
    "Sleep",
    "Target",
    "Uniform",
    "Work",
    "Workload",
    "Zipf",
    "consumer_lag_frame",
    "invocations_frame",
    "kafka_frame",
    "load_scenario",
    "queue_depth_frame",
    "simulation_from_dict",
    "summary_frame",
    "utilisation_frame",
    "__version__",
]
