"""``restate-lab real TARGET`` serves an app through the real Restate Server and stops it on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from restate_lab._processes import free_port

DEMO = str(Path(__file__).resolve().parents[2] / "restate_lab" / "examples" / "demo.py") + ":app"


@pytest.mark.realserver
def test_real_subcommand_serves_on_the_ports_asked_and_leaves_nothing_behind(restate_binary: Path) -> None:
    """The real server binds the given ports, answers the demo services, and is gone after SIGINT."""
    port, admin_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "restate_lab.cli", "real", DEMO, "--port", str(port), "--admin-port", str(admin_port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "RESTATE_SERVER_BIN": str(restate_binary)},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/Greeter/greet", json="Ada", timeout=2)
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "restate-lab real did not serve in time"
            time.sleep(0.2)
        assert answer.json() == "Hello Ada!"
        assert httpx.get(f"http://127.0.0.1:{admin_port}/health", timeout=2).status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{admin_port}/health", timeout=1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
