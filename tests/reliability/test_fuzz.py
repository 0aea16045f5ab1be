"""Fuzz the ingress with schemathesis, from restate_lab's own per-service OpenAPI documents.

Every operation of ``GET /services/{name}/openapi`` (calls, sends, the deprecated idempotent lookups, workflow
attach and output) gets schema-valid requests, and every operation with a request body gets schema-violating ones
too. The ingress may refuse a request (4xx) and a handler may fail (any status, ``x-restate-error-source:
invocation``), but a 5xx the ingress produced itself, or one with no source at all (an unhandled exception), is a
bug. Afterwards the server still answers its health checks. Examples are derandomized and bounded per operation.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from .apps import FUZZ_SERVICES, fuzz_app  # noqa: E402
from .conftest import serving  # noqa: E402

#: Examples per operation and generation mode (~1 700 positive and ~200 negative requests in all).
MAX_EXAMPLES = {GenerationMode.POSITIVE: 50, GenerationMode.NEGATIVE: 25}
REQUEST_TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with serving(fuzz_app()) as (_lab, lab_server):
        yield lab_server


def _operations(admin_url: str, service: str, mode: GenerationMode) -> list[Any]:
    document = httpx.get(f"{admin_url}/services/{service}/openapi", timeout=10).json()
    operations = [result.ok() for result in schemathesis.openapi.from_dict(document).get_all_operations()]
    if mode is GenerationMode.NEGATIVE:
        # Only a body can violate these schemas: paths, headers and the delay are unconstrained strings.
        operations = [op for op in operations if len(op.body)]
    return operations


def _ingress_fault(response: Any) -> str | None:
    """Why ``response`` is an ingress-side server error, or None when it is not one."""
    if response.status_code < 500:
        return None
    source = ",".join(response.headers.get("x-restate-error-source", []))  # schemathesis lists each header's values
    if source == "invocation":
        return None
    return f"{response.status_code} with error source {source!r}: {response.text[:300]!r}"


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    ingress_url: str,
    session: requests.Session,
    statuses: Counter[int],
    faults: list[str],
) -> None:
    """Send up to ``MAX_EXAMPLES[mode]`` generated requests for ``operation``, noting statuses and faults."""

    @settings(
        max_examples=MAX_EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def exchange(case: Any) -> None:
        response = case.call(base_url=ingress_url, session=session, timeout=REQUEST_TIMEOUT_S)
        statuses[response.status_code] += 1
        fault = _ingress_fault(response)
        if fault is not None:
            faults.append(
                f"{case.method} {case.formatted_path} headers={case.headers} query={case.query} "
                f"body={case.body!r}: {fault}"
            )

    try:
        exchange()
    except Unsatisfiable:
        # A body schema that accepts any JSON value (``echo``) has no schema-violating instance.
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request could be generated"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("service", FUZZ_SERVICES)
def test_ingress_never_answers_5xx_of_its_own(server: Any, service: str, mode: GenerationMode) -> None:
    """Generated requests against every operation of a service's OpenAPI get no ingress-sourced 5xx."""
    operations = _operations(server.admin_url, service, mode)
    assert operations, f"{service}: no operations to fuzz in {mode.value} mode"
    statuses: Counter[int] = Counter()
    faults: list[str] = []
    started = time.monotonic()
    with requests.Session() as session:
        for operation in operations:
            _fuzz(operation, mode, server.ingress_url, session, statuses, faults)
    print(
        f"\n{service} {mode.value}: {len(operations)} operations, {statuses.total()} requests in "
        f"{time.monotonic() - started:.1f}s, statuses {dict(sorted(statuses.items()))}"
    )
    assert not faults, f"{len(faults)} ingress-sourced 5xx, the first ones:\n" + "\n".join(faults[:10])
    assert statuses.total() >= len(operations)


def test_a_lone_plus_sign_delay_is_a_400_from_the_ingress(server: Any) -> None:
    """``?delay=%2B`` (a sign and no duration) is a bad delay: 400 from the ingress, as any unparsable delay."""
    answer = httpx.post(f"{server.ingress_url}/Shop/ping/send", params={"delay": "+"}, timeout=5)
    assert answer.status_code == 400, answer.text
    assert answer.headers["x-restate-error-source"] == "ingress"


def test_server_stays_up_after_fuzzing(server: Any) -> None:
    """After the fuzzing above, both ports still answer their health checks and a plain call works."""
    assert httpx.get(f"{server.ingress_url}/restate/health", timeout=5).status_code == 200
    assert httpx.get(f"{server.admin_url}/health", timeout=5).status_code == 200
    answer = httpx.post(f"{server.ingress_url}/Shop/ping", timeout=5)
    assert answer.status_code == 200 and answer.json() == "pong"
