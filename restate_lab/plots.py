"""Plots with titles, units and axis labels, over the frames any target or simulation gives.

* ``journal_timeline(journal, invocation)`` -- one invocation's ``sys_journal`` on a time axis.
* ``latency_cdf``, ``queue_depth``, ``key_timeline``, ``sweep_plot`` -- simulation frames
  (the simulator's own, from ``restate_lab.sim.plots``).
* ``compare_latency_cdf``, ``compare_queue_depth`` -- several simulation runs on one plot.

Importing this module imports pandas (matplotlib is imported when a plot is drawn).
"""

from restate_lab.notebook.frames import entry_kind, invocations_frame_from_rows, journal_frame
from restate_lab.notebook.plots import (
    KIND_COLOURS,
    compare_latency_cdf,
    compare_queue_depth,
    journal_timeline,
    total_queue_depth,
)
from restate_lab.sim.plots import key_timeline, latency_cdf, queue_depth, sweep_plot

__all__ = [
    "KIND_COLOURS",
    "compare_latency_cdf",
    "compare_queue_depth",
    "entry_kind",
    "invocations_frame_from_rows",
    "journal_frame",
    "journal_timeline",
    "key_timeline",
    "latency_cdf",
    "queue_depth",
    "sweep_plot",
    "total_queue_depth",
]
