"""The public namespace is what the README and the notebooks import."""

import subprocess
import sys

import pytest

import restate_lab

EXPECTED = {
    "IngressApi",
    "LocalRestate",
    "RestateClient",
    "RestateError",
    "RetryPolicy",
    "SendReceipt",
    "SimulatedRestate",
    "Simulation",
    "Target",
    "__version__",
    "InvocationTimeout",
    "NotSupportedByTarget",
    "connect",
    "Catalogue",
}
#: Heavy libraries that only a frame, a plot or a widget may import.
HEAVY = ("pandas", "matplotlib", "ipywidgets")


def _loaded_after(statement: str) -> list[str]:
    """Which of ``HEAVY`` a fresh interpreter has imported after running ``statement``."""
    code = f"import sys; {statement}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.split()


def test_all_lists_exactly_the_public_names() -> None:
    """``__all__`` is the documented public API, and every name in it exists."""
    assert set(restate_lab.__all__) == EXPECTED
    for name in restate_lab.__all__:
        assert hasattr(restate_lab, name), name


def test_unknown_top_level_name_is_an_attribute_error() -> None:
    """A name that is not public raises AttributeError (the simulator's vocabulary is in restate_lab.sim)."""
    with pytest.raises(AttributeError):
        restate_lab.Poisson  # noqa: B018 - the attribute access is the test


def test_importing_the_package_loads_no_heavy_libraries() -> None:
    """``import restate_lab`` stays light: no pandas, matplotlib or ipywidgets until a frame or widget is asked for."""
    assert _loaded_after("import restate_lab") == []


@pytest.mark.parametrize("target", ["LocalRestate", "RestateClient"])
def test_importing_a_runtime_target_loads_no_heavy_libraries(target: str) -> None:
    """The runtime and the HTTP client import pandas only when a query asks for a DataFrame."""
    assert _loaded_after(f"from restate_lab import {target}") == []


@pytest.mark.parametrize("target", ["LocalRestate", "RestateClient", "SimulatedRestate"])
def test_every_target_satisfies_the_shared_ingress_protocol(target: str) -> None:
    """Each target can stand wherever an ``IngressApi`` is expected."""
    assert issubclass(getattr(restate_lab, target), restate_lab.IngressApi)
