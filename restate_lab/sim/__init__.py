"""The simulator: Restate's execution rules on a simpy clock, under synthetic load, in virtual ms.

Build a :class:`Simulation` from a catalogue (admin ``GET /services`` shape), per-handler
:class:`HandlerBehaviour` and :class:`Workload` s -- or :func:`load_scenario` from ``data/`` -- run it,
and read frames with :func:`invocations_frame`, :func:`queue_depth_frame` and :func:`summary_frame`.
:class:`SimulatedRestate` answers the ingress API's calls and sends in virtual time.
:func:`sweep` runs a scenario over a parameter grid and seeds, serially, on processes or on Dask.
Plots live in ``restate_lab.sim.plots`` (matplotlib is imported lazily).
"""

from restate_lab.sim.distributions import Constant, Empirical, Exponential, FromCallable, LogNormal
from restate_lab.sim.engine import Simulation
from restate_lab.sim.facade import SimulatedRestate
from restate_lab.sim.kafka import KafkaSubscription
from restate_lab.sim.keys import Fixed, Uniform, Zipf
from restate_lab.sim.model import SAME_KEY, Call, Catalogue, Fail, HandlerBehaviour, Send, Sleep, Work
from restate_lab.sim.results import (
    consumer_lag_frame,
    invocations_frame,
    kafka_frame,
    queue_depth_frame,
    summary_frame,
    utilisation_frame,
)
from restate_lab.sim.scenario import load_scenario, simulation_from_dict
from restate_lab.sim.sweep import parameter_paths, sweep
from restate_lab.sim.workload import Bursty, Poisson, Workload

__all__ = [
    "SAME_KEY",
    "Bursty",
    "Call",
    "Catalogue",
    "Constant",
    "Empirical",
    "Exponential",
    "Fail",
    "Fixed",
    "FromCallable",
    "HandlerBehaviour",
    "KafkaSubscription",
    "LogNormal",
    "Poisson",
    "Send",
    "SimulatedRestate",
    "Simulation",
    "Sleep",
    "Uniform",
    "Work",
    "Workload",
    "Zipf",
    "consumer_lag_frame",
    "invocations_frame",
    "kafka_frame",
    "load_scenario",
    "parameter_paths",
    "queue_depth_frame",
    "simulation_from_dict",
    "summary_frame",
    "sweep",
    "utilisation_frame",
]
