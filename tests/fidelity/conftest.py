"""The pair of servers every fidelity test compares: the real Restate Server and ``restate-lab serve``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fidelity.session import Pair, open_pair


@pytest.fixture(scope="session")
def pair() -> Iterator[Pair]:
    from restate_lab.server.binary import RestateServerNotInstalled

    try:
        with open_pair() as opened:
            yield opened
    except RestateServerNotInstalled as exc:
        pytest.skip(f"real Restate Server not installed, nothing to compare against: {exc}")
