"""One LocalRestate per test module, over a fresh ASGI app of the shared test services."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from restate_lab import LocalRestate
from restate_lab.runtime.clock import ManualClock

from .apps import make_app

#: Completed invocations are kept this long on the manual clock's runtime.
MANUAL_COMPLETION_RETENTION_MS = 500


@pytest.fixture(scope="module")
def lab() -> Iterator[LocalRestate]:
    """Request-response mode (``http2=False``): these tests pin suspension and replay, which it shows at once.

    The in-process default is a bidirectional stream (``bidi_lab``), where a waiting handler stays
    ``running`` until the inactivity timeout.
    """
    with LocalRestate(make_app(), http2=False) as local:
        yield local


@pytest.fixture(scope="module")
def bidi_lab() -> Iterator[LocalRestate]:
    """The in-process default: the app discovered over HTTP/2, driven as a bidirectional stream."""
    with LocalRestate(make_app()) as local:
        yield local


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    """The manual clock of ``manual_lab``: time moves only when a test advances it."""
    return ManualClock()


@pytest.fixture(scope="module")
def manual_lab(clock: ManualClock) -> Iterator[LocalRestate]:
    """A LocalRestate whose timers, back-offs and retentions run on ``clock``."""
    with LocalRestate(
        make_app(), clock=clock, completion_retention_ms=MANUAL_COMPLETION_RETENTION_MS, http2=False
    ) as local:
        yield local


@pytest.fixture
def tag() -> str:
    """A name no other test uses, for keys, counters and awakeables."""
    return uuid.uuid4().hex[:12]
