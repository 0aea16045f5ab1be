"""The harness starts the real server on loopback ports and leaves nothing behind."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest

from restate_lab.server import RestateServer

pytestmark = [pytest.mark.realserver, pytest.mark.timeout(120)]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_stop_leaves_no_process_port_or_directory(restate_binary: Path) -> None:
    """After the ``with`` block the process group, its ports and its base dir are gone."""
    with RestateServer.start(binary=restate_binary) as srv:
        pid = srv.pid
        assert pid is not None
        base_dir = srv.base_dir
        ports = [srv.ingress_port, srv.admin_port, srv.fabric_port]
        assert httpx.get(f"{srv.admin_url}/health", timeout=5).status_code == 200
        assert httpx.get(f"{srv.ingress_url}/restate/health", timeout=5).status_code == 200
        assert all(p.startswith("127.0.0.1") for p in (srv.ingress_url[7:], srv.admin_url[7:]))
    assert not _group_alive(pid)
    assert base_dir is not None and not base_dir.exists()
    assert not any(_port_open(p) for p in ports)


def test_exception_inside_block_still_stops_everything(restate_binary: Path, test_app: object) -> None:
    """An error in the caller's code does not leak the server or the app thread."""
    pid = None
    threads = []
    with pytest.raises(RuntimeError, match="boom"), RestateServer.start(binary=restate_binary) as srv:
        pid = srv.pid
        srv.register(test_app)
        threads = [a._thread for a in srv.app_servers]
        raise RuntimeError("boom")
    assert pid is not None and not _group_alive(pid)
    assert threads and all(t is not None and not t.is_alive() for t in threads)


def test_register_serves_app_over_http2_and_lists_services(real_server: RestateServer) -> None:
    """Registration serves the SDK app with hypercorn; the server reaches it over h2c."""
    deployments = httpx.get(f"{real_server.admin_url}/deployments", timeout=5).json()["deployments"]
    assert [d["http_version"] for d in deployments] == ["HTTP/2.0"]
    names = sorted(s["name"] for s in real_server.client.services())
    assert names == ["Counter", "Greeter"]


def test_stop_is_idempotent(restate_binary: Path) -> None:
    """Calling ``stop`` twice is harmless."""
    srv = RestateServer(binary=restate_binary).launch()
    srv.stop()
    srv.stop()
    assert srv.process is None
