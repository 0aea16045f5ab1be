"""The engine owns every transition: pause and purge-journal from the admin API reach the store and listeners."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from restate_lab import LocalRestate
from restate_lab.ingress.admin import make_admin_app
from restate_lab.runtime.invocation import Invocation

from .apps import make_app, wait_until


def _admin(lab: LocalRestate, method: str, path: str) -> httpx.Response:
    """One admin request, run on the runtime's loop as uvicorn would run it."""
    app = make_admin_app(lab)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://admin", timeout=30) as client:
            return await client.request(method, path)

    return lab.portal.call(go())


def _watch(lab: LocalRestate) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def listener(inv: Invocation) -> None:
        seen.append((inv.id_str, inv.status.value))

    async def subscribe() -> None:
        lab.engine.subscribe(listener)

    lab.portal.call(subscribe())
    return seen


def test_pause_from_the_admin_api_is_durable_and_observed(tmp_path: Path, tag: str) -> None:
    """PATCH /invocations/{id}/pause: listeners see paused, and after a restart the invocation is still paused."""
    with LocalRestate(make_app(), data_dir=tmp_path, http2=False) as lab:
        seen = _watch(lab)
        inv_id = lab.send("Basics", "long_sleep", tag).invocation_id
        wait_until(lambda: lab.status(inv_id) == "suspended")
        assert _admin(lab, "PATCH", f"/invocations/{inv_id}/pause").status_code == 202
        assert (inv_id, "paused") in seen
    with LocalRestate(make_app(), data_dir=tmp_path) as again:
        assert again.status(inv_id) == "paused"
        again.kill(inv_id)


def test_purge_journal_from_the_admin_api_is_durable_and_keeps_the_output(tmp_path: Path) -> None:
    """PATCH /invocations/{id}/purge-journal drops the stored journal too; the output stays readable."""
    with LocalRestate(make_app(), data_dir=tmp_path) as lab:
        inv_id = lab.send("Basics", "echo", "kept").invocation_id
        assert lab.attach(inv_id) == "kept"
        assert _journal_length(lab, inv_id) > 0
        lab.call("Basics", "echo", "another")  # its submission flushes whatever was still to be written
        assert _admin(lab, "PATCH", f"/invocations/{inv_id}/purge-journal").status_code == 200
        assert _journal_length(lab, inv_id) == 0
    with LocalRestate(make_app(), data_dir=tmp_path) as again:
        assert _journal_length(again, inv_id) == 0
        assert again.output(inv_id) == "kept"


def _journal_length(lab: LocalRestate, inv_id: str) -> Any:
    async def go() -> int:
        inv = lab.engine.find(inv_id)
        assert inv is not None
        return len(inv.journal)

    return lab.portal.call(go())
