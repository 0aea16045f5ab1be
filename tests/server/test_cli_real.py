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

from restate_lab._processes import free_port, is_running

DEMO = str(Path(__file__).resolve().parents[2] / "restate_lab" / "examples" / "demo.py") + ":app"


@pytest.mark.realserver
def test_real_subcommand_serves_on_the_ports_asked_and_leaves_nothing_behind(restate_binary: Path) -> None:
    """The real server binds the given ports, answers the demo services, and is gone after SIGINT."""
    port, admin_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "restate_lab.cli", "real", DEMO, "--port", str(port), "--admin-port", str(admin_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
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


def _read_line(proc: subprocess.Popen[bytes], prefix: str, timeout: float) -> str:
    """The first output line of ``proc`` that starts with ``prefix`` (stripped), within ``timeout`` s."""
    import selectors

    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    text = ""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(deadline - time.monotonic(), 0.01)):
                continue
            chunk = os.read(fd, 65536)  # unbuffered: a buffered reader would hide lines from select
            if not chunk:
                break
            text += chunk.decode(errors="replace")
            for line in text.splitlines()[:-1] if not text.endswith("\n") else text.splitlines():
                if line.strip().startswith(prefix):
                    return line.strip()
    raise AssertionError(f"no line starting with {prefix!r} within {timeout}s; output was:\n{text}")


def _server_of(line: str) -> tuple[int, Path]:
    """``server:  pid N, base dir D`` as (N, D)."""
    pid_part, dir_part = line.removeprefix("server:").split(", base dir ")
    return int(pid_part.strip().removeprefix("pid ")), Path(dir_part.strip())


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(pid):
            return True
        time.sleep(0.1)
    return not is_running(pid)


@pytest.mark.realserver
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_real_subcommand_stopped_by_a_signal_stops_the_server_and_removes_its_dir(
    restate_binary: Path, signum: signal.Signals
) -> None:
    """SIGTERM or SIGHUP to ``restate-lab real`` stops the real server and removes its temp dir, as Ctrl-C does."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "restate_lab.cli", "real", DEMO],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "RESTATE_SERVER_BIN": str(restate_binary)},
    )
    server_pid: int | None = None
    try:
        server_pid, base_dir = _server_of(_read_line(proc, "server:", 90))
        assert is_running(server_pid) and base_dir.is_dir()
        proc.send_signal(signum)
        assert proc.wait(30) == 0
        assert _wait_gone(server_pid, 5), f"restate-server {server_pid} outlived restate-lab real"
        assert not base_dir.exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        if server_pid is not None and is_running(server_pid):
            os.kill(server_pid, signal.SIGKILL)


_PARENT = """
import sys, time
from restate_lab.server import RestateServer
with RestateServer.start() as srv:
    print(f"server: pid {srv.pid}, base dir {srv.base_dir}", flush=True)
    time.sleep(600)
"""


@pytest.mark.realserver
def test_server_dies_with_its_parent_even_on_sigkill_and_its_dir_is_swept(restate_binary: Path) -> None:
    """A parent killed outright takes its real server with it; the next start removes the orphaned base dir."""
    from restate_lab.server.harness import sweep_orphaned_base_dirs

    proc = subprocess.Popen(
        [sys.executable, "-c", _PARENT],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "RESTATE_SERVER_BIN": str(restate_binary)},
    )
    server_pid: int | None = None
    try:
        server_pid, base_dir = _server_of(_read_line(proc, "server:", 90))
        assert is_running(server_pid)
        proc.kill()
        proc.wait(10)
        assert _wait_gone(server_pid, 10), f"restate-server {server_pid} outlived its SIGKILLed parent"
        assert base_dir.is_dir()  # nobody was left to remove it ...
        assert base_dir in sweep_orphaned_base_dirs(base_dir.parent)  # ... until the next start sweeps it
        assert not base_dir.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if server_pid is not None and is_running(server_pid):
            os.kill(server_pid, signal.SIGKILL)


def test_serve_subcommand_stops_cleanly_on_sigterm() -> None:
    """``restate-lab serve`` treats SIGTERM like Ctrl-C: it stops serving and exits 0."""
    port, admin_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "restate_lab.cli", "serve", DEMO, "--port", str(port), "--admin-port", str(admin_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _read_line(proc, "Press Ctrl-C", 60)
        assert httpx.get(f"http://127.0.0.1:{port}/restate/health", timeout=5).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/restate/health", timeout=1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
