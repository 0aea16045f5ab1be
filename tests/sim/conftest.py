"""Shared helpers for simulator tests: one-handler catalogues and Little's law."""

from __future__ import annotations

import pandas as pd

from restate_lab.sim import Simulation, summary_frame

OBJECT = [
    {
        "name": "Obj",
        "ty": "VIRTUAL_OBJECT",
        "handlers": [{"name": "run", "ty": "EXCLUSIVE"}, {"name": "peek", "ty": "SHARED"}],
    }
]
SERVICE = [{"name": "Svc", "ty": "SERVICE", "handlers": [{"name": "run", "ty": None}]}]


def assert_littles_law(sim: Simulation, frame: pd.DataFrame, tolerance: float = 0.05) -> None:
    """Time-average number in system (integrated) equals arrival rate times mean latency."""
    summary = summary_frame(sim, frame).loc["all"]
    assert abs(summary["littles_L"] - summary["lambda_W"]) <= tolerance * summary["lambda_W"], summary
