"""The Binder environment, built from ``binder/`` alone in a fresh virtual environment, runs every notebook.

repo2docker installs ``binder/requirements.txt`` and then runs ``binder/postBuild`` from the repository root; these
tests do the same in a new ``python -m venv`` (no system site-packages, no ``PYTHONPATH``), with that venv's
``bin`` first on ``PATH``, and then run the notebooks with the venv's own pytest, nbmake and kernel. pip reuses the
machine's pip cache, so no package is downloaded twice; a first run on a machine without one downloads everything.

``RESTATE_LAB_NOTEBOOKS`` (a glob relative to the repository root, default ``notebooks/*.ipynb``) runs a subset.
Select these tests with ``-m binder``; deselect them with ``-m "not binder"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
INSTALL_TIMEOUT_S = 1200
NOTEBOOKS_TIMEOUT_S = 900

pytestmark = [pytest.mark.binder, pytest.mark.timeout(INSTALL_TIMEOUT_S + NOTEBOOKS_TIMEOUT_S)]


class BinderEnv:
    """A fresh virtual environment built from ``binder/`` and the environment variables to run inside it."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.bin = prefix / "bin"
        self.python = self.bin / "python"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(prefix)
        self.env = env
        self.timings: dict[str, float] = {}

    def run(self, step: str, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run ``args`` from the repository root inside the venv; fail with the output's tail if it fails."""
        started = time.monotonic()
        done = subprocess.run(args, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        self.timings[step] = time.monotonic() - started
        if done.returncode != 0:
            pytest.fail(f"{step} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
        return done


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BinderEnv]:
    prefix = tmp_path_factory.mktemp("binder-env") / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(prefix)], check=True, timeout=300)
    env = BinderEnv(prefix)
    env.timings["venv"] = time.monotonic() - started
    env.run(
        "pip install -r binder/requirements.txt",
        [
            str(env.python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            "-r",
            str(BINDER / "requirements.txt"),
        ],
        INSTALL_TIMEOUT_S,
    )
    env.run("binder/postBuild", ["bash", str(BINDER / "postBuild")], INSTALL_TIMEOUT_S)
    yield env
    print("binder environment timings (s):", {k: round(v, 1) for k, v in env.timings.items()})


def test_binder_files_alone_install_restate_lab_and_the_widget_extension(binder_env: BinderEnv) -> None:
    """restate_lab imports from this checkout inside the venv, and JupyterLab there has the ipywidgets extension."""
    probe = binder_env.run(
        "probe",
        [
            str(binder_env.python),
            "-c",
            "import json, sys, restate_lab, ipywidgets, restate; "
            "print(json.dumps({'prefix': sys.prefix, 'restate_lab': restate_lab.__file__}))",
        ],
        120,
    )
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert Path(found["prefix"]).resolve() == binder_env.prefix.resolve()
    assert Path(found["restate_lab"]).resolve().is_relative_to(ROOT.resolve())
    # ipywidgets 8 ships its JupyterLab extension prebuilt; Lab loads it from <prefix>/share/jupyter/labextensions
    manager = binder_env.prefix / "share" / "jupyter" / "labextensions" / "@jupyter-widgets" / "jupyterlab-manager"
    assert (manager / "package.json").is_file(), f"no ipywidgets extension for JupyterLab at {manager}"
    kernels = json.loads(
        binder_env.run("kernelspec list", [str(binder_env.bin / "jupyter"), "kernelspec", "list", "--json"], 120).stdout
    )
    python3 = Path(kernels["kernelspecs"]["python3"]["resource_dir"]).resolve()
    assert python3.is_relative_to(binder_env.prefix.resolve()), "the notebooks' kernel is the venv's"


def test_every_notebook_runs_in_the_binder_environment(binder_env: BinderEnv) -> None:
    """nbmake from the venv runs each notebook top to bottom (widget cells included) with the venv's kernel."""
    pattern = os.environ.get("RESTATE_LAB_NOTEBOOKS", "notebooks/*.ipynb")
    notebooks = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(pattern))
    assert notebooks, f"no notebook matches {pattern}"
    done = binder_env.run(
        "notebooks",
        [
            str(binder_env.python),
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--nbmake",
            # below pytest-timeout's 300 s per notebook, so a stuck cell is reported with its source
            "--nbmake-timeout=240",
            "--durations=0",
            *notebooks,
        ],
        NOTEBOOKS_TIMEOUT_S,
    )
    assert f"{len(notebooks)} passed" in done.stdout, done.stdout[-3000:]
