"""The examples in the interface modules' docstrings run and answer what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "restate_lab.api",
    "restate_lab.catalogue",
    "restate_lab._connect",
    "restate_lab.runtime.local",
    "restate_lab.sim.facade",
    "restate_lab.server.client",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    """Every ``>>>`` example of the module gives the output written under it."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples to run"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
