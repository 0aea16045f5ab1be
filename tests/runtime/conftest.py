"""One LocalRestate per test module, over a fresh ASGI app of the shared test services."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from restate_lab import LocalRestate

from .apps import make_app


@pytest.fixture(scope="module")
def lab() -> Iterator[LocalRestate]:
    with LocalRestate(make_app()) as local:
        yield local


@pytest.fixture
def tag() -> str:
    """A name no other test uses, for keys, counters and awakeables."""
    return uuid.uuid4().hex[:12]
