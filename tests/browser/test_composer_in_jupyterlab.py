"""The composer in a real browser: JupyterLab headless, Debian's Chromium through Playwright.

A generated notebook builds the composer and the invocations view over a ``LocalRestate`` with a small
restate-sdk app; the test runs its cells, composes an invocation by typing and clicking in the page, reads the
answer back from the page, and saves screenshots to ``docs/images/`` and to the artifacts directory
(``$RESTATE_LAB_ARTIFACTS``, default ``test-artifacts/browser``). Without Chromium or Playwright it skips,
saying which is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IMAGES = ROOT / "docs" / "images"
#: Every wait in this test is bounded by one of these (seconds).
SERVER_START, KERNEL_READY, ANSWER = 90.0, 120.0, 60.0

CELLS = [
    '''import restate
from restate_lab import LocalRestate

greeter = restate.Service("Greeter")

@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    """Say hello."""
    return f"Hello {name}!"

counter = restate.VirtualObject("Counter")

@counter.handler()
async def add(ctx: restate.ObjectContext, delta: int) -> int:
    """Add delta to this key's count."""
    count = (await ctx.get("count", type_hint=int) or 0) + delta
    ctx.set("count", count)
    return count

@counter.handler(kind="shared")
async def get(ctx: restate.ObjectSharedContext) -> int:
    """Read the count."""
    return await ctx.get("count", type_hint=int) or 0

lab = LocalRestate(restate.app([greeter, counter]))
lab.call("Greeter", "greet", "Ada")''',
    """from restate_lab.widgets import Composer, InvocationsView

composer = Composer(lab)
composer""",
    """view = InvocationsView(lab)
view""",
]


SIMULATION_CELLS = [
    """import restate
from restate_lab import LocalRestate
from restate_lab.widgets import SimulationPanel

# the panel simulates the handler's service time; it reads only the handler's name and kind from the app
counter = restate.VirtualObject("Counter")
counter.handler(name="add")(lambda ctx, delta: delta)

panel = SimulationPanel(LocalRestate(restate.app([counter])))
panel.rate_per_s, panel.count, panel.service_time_ms, panel.key_count, panel.zipf_s = 200, 2000, 4, 20, 1.1
panel""",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _notebook(cells: list[str]) -> dict[str, object]:
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell{i}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture(scope="module")
def playwright_api() -> object:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian chromium is not installed at {CHROMIUM} (scripts/bootstrap.sh --test installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright (python) is not installed: {exc}")
    if shutil.which("jupyter") is None and not (Path(sys.executable).parent / "jupyter").exists():
        pytest.skip("jupyter (jupyterlab) is not installed")
    return sync_playwright


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """JupyterLab on a free loopback port with a token, in a temp root holding the generated notebook."""
    root = tmp_path_factory.mktemp("lab")
    (root / "composer.ipynb").write_text(json.dumps(_notebook(CELLS), indent=1))
    (root / "simulation.ipynb").write_text(json.dumps(_notebook(SIMULATION_CELLS), indent=1))
    home = tmp_path_factory.mktemp("jupyter-home")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(":"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    log = (home / "jupyter.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.port_retries=0",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=None",
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(
                    f"jupyter lab exited with {process.returncode}: {(home / 'jupyter.log').read_text()[-2000:]}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/status", params={"token": token}, timeout=2.0).status_code == 200:
                    break
            time.sleep(0.5)
        else:
            pytest.fail(f"jupyter lab did not answer within {SERVER_START:.0f} s")
        yield base, token
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        log.close()


def _artifacts() -> Path:
    path = Path(os.environ.get("RESTATE_LAB_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _save(locator: object, name: str) -> Path:
    IMAGES.mkdir(parents=True, exist_ok=True)
    target = IMAGES / name
    locator.screenshot(path=str(target))  # type: ignore[attr-defined]
    shutil.copy(target, _artifacts() / name)
    return target


@contextlib.contextmanager
def _notebook_page(playwright_api: object, jupyterlab: tuple[str, str], name: str, cells: int) -> Iterator[Any]:
    """Chromium with notebook ``name`` open in JupyterLab and its cells run; the browser closes afterwards."""
    base, token = jupyterlab
    with playwright_api() as p:  # type: ignore[operator]
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield _run_notebook(browser, base, token, name, cells)
        finally:
            browser.close()


def _run_notebook(browser: Any, base: str, token: str, name: str, cells: int) -> Any:
    """Open notebook ``name`` in JupyterLab and run its cells as a user does; return the page."""
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.set_default_timeout(KERNEL_READY * 1000)
    # ?reset: a fresh workspace, so a notebook an earlier test opened is not restored beside this one
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=KERNEL_READY * 1000)
    page.get_by_text("Kernel status: Idle").first.wait_for(state="attached", timeout=KERNEL_READY * 1000)
    editors = page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor")
    prompts = page.locator(".jp-Notebook .jp-Cell .jp-InputArea-prompt")
    dialogs: list[str] = []  # what JupyterLab asked on the way (e.g. a slow kernel start), for the failure
    deadline = time.monotonic() + KERNEL_READY
    for i in range(cells):  # run each cell as a user does: click into it, Shift+Enter
        pressed_at = -1.0
        while re.fullmatch(r"\[\d+\]:", prompts.nth(i).inner_text().strip()) is None:
            if time.monotonic() > deadline:
                page.screenshot(path=str(_artifacts() / "failed-page.png"), full_page=True)
                texts = [prompts.nth(j).inner_text() for j in range(prompts.count())]
                pytest.fail(
                    f"cell {i} did not run within {KERNEL_READY:.0f} s; prompts: {texts!r}; dialogs: {dialogs!r}"
                )
            dialog = page.locator(".jp-Dialog")
            if dialog.count():
                # a modal dialog takes every click: answer it as a user would (its default button)
                dialogs.append(dialog.first.inner_text()[:300])
                page.screenshot(path=str(_artifacts() / f"dialog-{len(dialogs)}.png"), full_page=True)
                accept = dialog.locator(".jp-mod-accept")
                if accept.count():
                    accept.first.click(timeout=5_000)
                else:
                    page.keyboard.press("Escape")
                page.wait_for_timeout(250)
                continue
            # a Shift+Enter sent while the kernel is still connecting is dropped: press again
            idle = prompts.nth(i).inner_text().strip() == "[ ]:"
            if idle and time.monotonic() - pressed_at > 5.0:
                try:
                    editors.nth(i).click(timeout=5_000)
                except Exception:  # a dialog came up in between: answered on the next round
                    continue
                page.keyboard.press("Shift+Enter")
                pressed_at = time.monotonic()
            page.wait_for_timeout(250)

    # the "official Jupyter news?" toast would cover the widgets in the screenshots
    page.add_style_tag(content=".Toastify, .jp-toast-container { display: none !important; }")
    return page


def _visible(page: Any, selector: str) -> Any:
    """Wait until ``selector`` shows (bounded); on failure keep a screenshot of the whole page."""
    locator = page.locator(selector)
    try:
        locator.wait_for(state="visible", timeout=KERNEL_READY * 1000)
    except Exception:
        page.screenshot(path=str(_artifacts() / "failed-page.png"), full_page=True)
        raise
    return locator


def test_compose_an_invocation_in_jupyterlab(playwright_api: object, jupyterlab: tuple[str, str]) -> None:
    """Run the notebook in Chromium, type a key and a body, click Call, and read the result from the page."""
    with _notebook_page(playwright_api, jupyterlab, "composer.ipynb", len(CELLS)) as page:
        composer = _visible(page, ".rl-composer")
        page.locator(".rl-invocations").wait_for(state="visible", timeout=KERNEL_READY * 1000)

        page.locator(".rl-service select").select_option("Counter")
        page.locator(".rl-key input").wait_for(state="visible", timeout=10_000)
        page.locator(".rl-key input").click()
        page.keyboard.type("alice", delay=20)
        body = page.locator(".rl-body textarea")
        body.click()
        body.press("Control+a")
        page.keyboard.type("41", delay=20)
        page.locator("button.rl-invoke").click()

        answer = page.locator(".rl-answer")
        answer.filter(has_text="41").wait_for(timeout=ANSWER * 1000)
        text = answer.inner_text()
        assert "ok" in text and "41" in text and "inv_" in text, text
        assert "ms" in text or " s" in text, text
        _save(composer, "composer.png")

        view = page.locator(".rl-invocations")
        view.locator("button.rl-refresh").click()
        rows = view.locator(".rl-list select option")
        rows.filter(has_text="Counter/alice/add").first.wait_for(state="attached", timeout=ANSWER * 1000)
        label = rows.filter(has_text="Counter/alice/add").first.inner_text()
        view.locator(".rl-list select").select_option(label=label)
        details = view.locator(".rl-details")
        details.filter(has_text="41").wait_for(timeout=ANSWER * 1000)
        assert "Counter/alice/add" in details.inner_text()
        _save(view, "invocations.png")

        view.get_by_text("Journal", exact=True).first.click()
        timeline = view.locator("img").first
        timeline.wait_for(state="visible", timeout=ANSWER * 1000)
        width = timeline.evaluate("img => img.naturalWidth")
        assert width == 800, width  # the 8 in timeline at 100 dpi, drawn as a PNG on an Image widget
        assert "input" in view.inner_text() and "output" in view.inner_text()
        _save(view, "journal.png")
        page.screenshot(path=str(_artifacts() / "page.png"), full_page=True)


def test_simulation_panel_runs_and_shows_its_plots_in_jupyterlab(
    playwright_api: object, jupyterlab: tuple[str, str]
) -> None:
    """Click Run on the simulation panel in Chromium; the summary and the three plots (a PNG) appear."""
    with _notebook_page(playwright_api, jupyterlab, "simulation.ipynb", len(SIMULATION_CELLS)) as page:
        panel = _visible(page, ".rl-panel")
        panel.locator("button", has_text="Run").first.click()
        panel.get_by_text("run 1").first.wait_for(timeout=ANSWER * 1000)
        image = panel.locator("img").first
        image.wait_for(state="visible", timeout=ANSWER * 1000)
        size = image.evaluate("img => [img.naturalWidth, img.naturalHeight, img.clientWidth]")
        assert size[0] == 1500 and size[1] == 400, size  # the 15 x 4 in figure at 100 dpi
        assert 0 < size[2] <= 1500, size  # scaled to the notebook's width, never wider than drawn
        text = panel.inner_text()
        assert "p99 (ms)" in text and "queue wait (ms)" in text and "virtual time" in text, text[:400]
        # The panel is taller than the window: grow the window so the notebook's own scroller does not cut the
        # plots' axis labels off the screenshot.
        height = int(panel.evaluate("el => el.getBoundingClientRect().height"))
        page.set_viewport_size({"width": 1280, "height": max(1400, height + 400)})
        panel.scroll_into_view_if_needed()
        _save(panel, "simulation.png")
