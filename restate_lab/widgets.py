"""Notebook widgets over any target (``LocalRestate``, ``RestateClient``, ``SimulatedRestate``).

``Composer`` composes invocations, ``InvocationsView`` lists and manages them, ``JournalTimeline`` draws
one invocation's journal on a time axis, ``SimulationPanel`` runs load models, and ``Dashboard`` puts them in
tabs. Every widget keeps its values and results in traits and attributes, so code can drive and read it.
Importing this module imports ipywidgets, pandas and matplotlib (``import restate_lab`` does not).

>>> from restate_lab.widgets import Dashboard      # doctest: +SKIP
>>> Dashboard(lab)                                 # doctest: +SKIP
"""

from restate_lab.notebook.composer import Composer, parse_headers
from restate_lab.notebook.dashboard import Dashboard
from restate_lab.notebook.frames import HISTORY_COLUMNS, INVOCATION_COLUMNS, JOURNAL_COLUMNS
from restate_lab.notebook.invocations import STATUSES, InvocationsView
from restate_lab.notebook.simulation import SimulationPanel, SimulationRun
from restate_lab.notebook.timeline import JournalTimeline

__all__ = [
    "HISTORY_COLUMNS",
    "INVOCATION_COLUMNS",
    "JOURNAL_COLUMNS",
    "STATUSES",
    "Composer",
    "Dashboard",
    "InvocationsView",
    "JournalTimeline",
    "SimulationPanel",
    "SimulationRun",
    "parse_headers",
]
