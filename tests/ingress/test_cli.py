"""``restate-lab serve`` as a subprocess: prints its URLs, answers HTTP, stops on Ctrl-C, refuses bad targets."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from restate_lab._processes import free_port

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests/ingress/conftest.py:app"
STARTUP_S = 30.0
STOP_S = 10.0


def _command() -> list[str]:
    exe = shutil.which("restate-lab")
    return [exe] if exe else [sys.executable, "-m", "restate_lab.cli"]


def _start(*args: str, sigint_ignored: bool = False) -> subprocess.Popen[str]:
    """Start the CLI; ``sigint_ignored`` starts it with SIGINT ignored, as a shell starts a background job."""

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(
        [*_command(), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ignore_sigint if sigint_ignored else None,
    )


def _read_until(proc: subprocess.Popen[str], marker: str) -> str:
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + STARTUP_S
    while marker not in seen:
        line = proc.stdout.readline()
        if not line:
            _, err = proc.communicate(timeout=STOP_S)
            pytest.fail(f"restate-lab exited with {proc.returncode} before printing {marker!r}: {seen}{err}")
        seen += line
        assert time.monotonic() < deadline, seen
    return seen


@pytest.mark.skipif(
    importlib.util.find_spec("restate_lab.ingress.admin") is None,
    reason="restate_lab/ingress/admin.py is not written yet: LabServer cannot serve --admin-port",
)
@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["foreground", "started-with-sigint-ignored"])
def test_serve_prints_urls_answers_and_stops_on_sigint(sigint_ignored: bool) -> None:
    """serve FILE:attr --port P --admin-port Q prints both URLs, answers a call, and exits 0 soon after SIGINT,
    also when started as a background job or under nohup (SIGINT inherited as ignored)."""
    port, admin_port = free_port(), free_port()
    proc = _start("serve", TARGET, "--port", str(port), "--admin-port", str(admin_port), sigint_ignored=sigint_ignored)
    try:
        banner = _read_until(proc, "Ctrl-C")
        assert f"http://127.0.0.1:{port}" in banner
        assert f"http://127.0.0.1:{admin_port}" in banner
        assert "Counter, Greeter, Signup" in banner
        response = httpx.post(f"http://127.0.0.1:{port}/Greeter/greet", json="CLI", timeout=10)
        assert response.status_code == 200 and response.json() == "Hello CLI!"
        assert httpx.get(f"http://127.0.0.1:{admin_port}/health", timeout=10).status_code == 200
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=STOP_S)
        assert proc.returncode == 0, err
        assert time.monotonic() - started < STOP_S
        assert "Traceback" not in err
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/restate/health", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("tests/ingress/no_such_file.py:app", "no such file: tests/ingress/no_such_file.py"),
        ("tests/ingress/conftest.py:nope", "has no attribute 'nope'"),
        ("tests/ingress/conftest.py:uuid", "nor services"),
        ("no_such_package_xyz.mod:app", "cannot import no_such_package_xyz.mod"),
    ],
)
def test_bad_target_is_a_clear_error_and_exit_code_2(target: str, message: str) -> None:
    """A target that does not name servable services → one-line error on stderr, exit code 2, no traceback."""
    proc = _start("serve", target, "--port", str(free_port()), "--admin-port", str(free_port()))
    try:
        out, err = proc.communicate(timeout=STARTUP_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2, (out, err)
    assert err.startswith("restate-lab: ")
    assert message in err
    assert "Traceback" not in err


def test_port_in_use_is_a_clear_error_and_exit_code_1() -> None:
    """An ingress port another socket holds → one-line error, exit code 1 (the command used to hang)."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _start("serve", TARGET, "--port", str(port), "--admin-port", str(free_port()))
        try:
            out, err = proc.communicate(timeout=STARTUP_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 1, (out, err)
    assert f"restate-lab: could not start a server on 127.0.0.1:{port} (port in use?)" in err
    assert "Traceback" not in err
