"""Both servers, started once for a fuzzing session, with each one's deployment id."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from tests.fidelity.endpoints import Endpoint, lab_server, real_server


@dataclass(frozen=True)
class Pair:
    real: Endpoint
    lab: Endpoint
    real_dp: str
    lab_dp: str


def _deployment_id(endpoint: Endpoint) -> str:
    answer = httpx.get(endpoint.admin_url + "/deployments", timeout=10.0).json()
    return str(answer["deployments"][0]["id"])


@contextlib.contextmanager
def open_pair() -> Iterator[Pair]:
    """Start the real server and ``restate-lab serve`` over the conformance app; stop both on exit."""
    with real_server() as real, lab_server() as lab:
        yield Pair(real, lab, _deployment_id(real), _deployment_id(lab))
