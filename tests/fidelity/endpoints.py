"""Both servers of the differential fuzzer: the real Restate Server and ``restate-lab serve``.

Both serve the conformance app (``tests/conformance/app.py``): the real server through the harness
(hypercorn, registered over h2c), restate_lab as the command a user runs, ``restate-lab serve``, in its
own process (so the fuzzer's client and the lab's server do not share one interpreter).

Run it by hand to poke at both servers with curl::

    PYTHONPATH=$PWD python -m tests.fidelity.endpoints      # prints both pairs of URLs, Ctrl-C stops
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from restate_lab._processes import free_port, terminate_group

ROOT = Path(__file__).resolve().parents[2]
LAB_TARGET = "tests/conformance/app.py:SERVICES"
STARTUP_S = 60.0


@dataclass(frozen=True)
class Endpoint:
    """Where one server answers."""

    name: str
    ingress_url: str
    admin_url: str


def _lab_command() -> list[str]:
    exe = shutil.which("restate-lab")
    # The entry point is the installed package's; PYTHONPATH decides which restate_lab it imports.
    return [exe] if exe else [sys.executable, "-m", "restate_lab.cli"]


@contextlib.contextmanager
def lab_server() -> Iterator[Endpoint]:
    """``restate-lab serve`` over the conformance app on free loopback ports; stopped on exit."""
    port, admin_port = free_port(), free_port()
    # stderr goes to a file, not a pipe: nobody reads a pipe while the server runs, and handler tracebacks
    # (the Stuck object fails on purpose) would fill it and block the server on its next write.
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen(
        [*_lab_command(), "serve", LAB_TARGET, "--port", str(port), "--admin-port", str(admin_port)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=errors,
        start_new_session=True,
    )
    endpoint = Endpoint("restate_lab", f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}")
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                errors.seek(0)
                err = errors.read()[-4000:].decode(errors="replace")
                raise RuntimeError(f"restate-lab serve exited with {proc.returncode}: {err}")
            try:
                if httpx.get(endpoint.admin_url + "/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("restate-lab serve did not become healthy")
            time.sleep(0.1)
        yield endpoint
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)  # a clean stop first, as Ctrl-C would
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10.0)
        terminate_group(proc, 2.0)
        errors.close()


@contextlib.contextmanager
def real_server() -> Iterator[Endpoint]:
    """The real Restate Server serving the conformance app; raises RestateServerNotInstalled without it."""
    from restate_lab.server import RestateServer
    from tests.conformance.app import make_app

    with RestateServer.start(make_app()) as srv:
        yield Endpoint("restate-server", srv.ingress_url, srv.admin_url)


def main() -> None:
    with real_server() as real, lab_server() as lab:
        for endpoint in (real, lab):
            print(f"{endpoint.name:15} ingress {endpoint.ingress_url}  admin {endpoint.admin_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1.0)


if __name__ == "__main__":
    main()
