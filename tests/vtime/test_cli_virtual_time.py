"""``restate-lab serve --virtual-time``: over HTTP, a 30-day workflow answers at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from restate_lab._processes import free_port

from .apps import DAY_MS

ROOT = Path(__file__).resolve().parents[2]
STARTUP_S = 30.0


def test_serve_with_virtual_time_runs_a_30_day_workflow_in_one_request() -> None:
    """The banner says time is virtual, and POST /Trial/k/run with a 30-day sleep returns its result."""
    port, admin_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "restate_lab.cli",
            "serve",
            "tests/vtime/apps.py:app",
            "--virtual-time",
            "--port",
            str(port),
            "--admin-port",
            str(admin_port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        seen = ""
        deadline = time.monotonic() + STARTUP_S
        while "Press Ctrl-C" not in seen:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"restate-lab serve exited early: {seen}{proc.communicate(timeout=10)[1]}")
            seen += line
            assert time.monotonic() < deadline, seen
        assert "time:    virtual" in seen
        answer = httpx.post(f"http://127.0.0.1:{port}/Trial/ada/run", json=30 * DAY_MS, timeout=30)
        assert answer.status_code == 200
        assert answer.json() == f"ada billed after {30 * DAY_MS} ms"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
