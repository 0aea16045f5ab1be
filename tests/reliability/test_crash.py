"""Durable mode survives kill -9: every accepted invocation completes once, recorded side effects never repeat."""

from __future__ import annotations

import collections
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from restate_lab._processes import free_port
from restate_lab.protocol.messages import MessageType
from restate_lab.runtime.local import DATA_FILE

APP = str(Path(__file__).with_name("crash_app.py")) + ":app"
SLEEPY, FLAKY, WORKFLOWS = 300, 100, 100
START_TIMEOUT_S = 60


class Server:
    """``restate-lab serve --data-dir`` in its own process group, so kill -9 takes all of it."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port, self.admin_port = free_port(), free_port()
        env = {**os.environ, "RESTATE_LAB_SIDE_EFFECTS": str(log)}
        # The handlers' retry tracebacks go to a file: a full pipe would block the server.
        self.stderr = (data_dir.parent / f"serve-{self.port}.err").open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "restate_lab.cli",
                "serve",
                APP,
                "--port",
                str(self.port),
                "--admin-port",
                str(self.admin_port),
                "--data-dir",
                str(data_dir),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert self.proc.poll() is None, Path(self.stderr.name).read_text()[-2000:]
            try:
                if httpx.get(self.url + "/restate/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "restate-lab serve did not start"
            time.sleep(0.1)

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def _send_all(url: str) -> dict[str, str]:
    """Send every invocation; returns invocation id → tag."""
    ids: dict[str, str] = {}
    requests = [("/SideEffects/sleepy/send", f"s{i}") for i in range(SLEEPY)]
    requests += [("/SideEffects/flaky/send", f"f{i}") for i in range(FLAKY)]
    requests += [(f"/Approval/w{i}/run/send", f"w{i}") for i in range(WORKFLOWS)]
    with httpx.Client(base_url=url, timeout=30) as client:
        for path, tag in requests:
            answer = client.post(path, json=tag)
            assert answer.status_code == 202, answer.text
            ids[answer.json()["invocationId"]] = tag
    return ids


def _recorded_before_crash(db_path: Path, ids: dict[str, str]) -> set[str]:
    """Tags whose ``ctx.run`` result the durable store held when the process died."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT DISTINCT id FROM journal WHERE type = ?", (MessageType.RUN_COMPLETION,))
        return {ids[inv_id] for (inv_id,) in rows if inv_id in ids}


def test_kill_9_loses_nothing_and_repeats_no_recorded_side_effect(workdir: Path) -> None:
    """500 invocations in flight (sleeping, retrying, awaiting promises), kill -9, restart: all complete once."""
    data_dir, log = workdir / "data", workdir / "side-effects.log"
    log.touch()
    first = Server(data_dir, log)
    try:
        ids = _send_all(first.url)
        deadline = time.monotonic() + 30
        while len(log.read_text().split()) < (SLEEPY + FLAKY + WORKFLOWS) // 2:
            assert time.monotonic() < deadline, "side effects never started"
            time.sleep(0.05)
    finally:
        first.kill9()
    recorded = _recorded_before_crash(data_dir / DATA_FILE, ids)
    assert len(recorded) >= (SLEEPY + FLAKY + WORKFLOWS) // 4, "the crash came before anything was recorded"

    second = Server(data_dir, log)
    try:
        with httpx.Client(base_url=second.url, timeout=60) as client:
            for i in range(WORKFLOWS):
                assert client.post(f"/Approval/w{i}/approve", json="ops").status_code == 200
            for inv_id, tag in ids.items():
                answer = client.get(f"/restate/invocation/{inv_id}/attach")
                assert answer.status_code == 200, (tag, answer.text)
                expected = {"s": f"slept {tag}", "f": f"retried {tag}", "w": f"{tag} approved by ops"}[tag[0]]
                assert answer.json() == expected
    finally:
        second.stop()

    counts = collections.Counter(log.read_text().split())
    assert set(counts) == set(ids.values()), "every invocation ran its side effect"
    repeated = {tag: n for tag, n in counts.items() if tag in recorded and n != 1}
    assert repeated == {}, "side effects recorded before the crash ran again"
    assert all(n <= 2 for n in counts.values())
