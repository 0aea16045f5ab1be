"""HTTP versions on the ingress: h2c (prior knowledge) and HTTP/1.0 answer as on Restate Server 1.7.12."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.conformance.normalize import Normalizer
from tests.fidelity.endpoints import Endpoint
from tests.fidelity.rawhttp import build_request, exchange
from tests.fidelity.session import Pair

#: (method, path, body, headers): a call, a send, an ingress error, a handler error, health, CORS.
H2_REQUESTS: list[tuple[str, str, bytes | None, dict[str, str]]] = [
    ("POST", "/Greeter/greet", b'"h2"', {"content-type": "application/json"}),
    ("POST", "/Counter/{key}/add/send", b"3", {"content-type": "application/json"}),
    ("POST", "/Nope/greet", b'"x"', {"content-type": "application/json", "origin": "http://example.com"}),
    ("POST", "/Greeter/fail_with", b"418", {"content-type": "application/json"}),
    ("GET", "/restate/health", None, {}),
    ("PUT", "/restate/call/Greeter/greet", b'"x"', {"content-type": "application/json"}),
    ("OPTIONS", "/Greeter/greet", None, {"origin": "http://a.b", "access-control-request-method": "POST"}),
]
_HEADERS = (
    "content-type",
    "x-restate-id",
    "x-restate-error-source",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
)


def _h2_answers(endpoint: Endpoint) -> list[dict[str, Any]]:
    key = f"h2{uuid.uuid4().hex[:10]}"
    norm = Normalizer(key)
    seen = []
    with httpx.Client(http1=False, http2=True, timeout=10.0) as client:
        for method, path, body, headers in H2_REQUESTS:
            response = client.request(
                method, endpoint.ingress_url + path.replace("{key}", key), content=body, headers=headers
            )
            seen.append(
                {
                    "http": response.http_version,
                    "status": response.status_code,
                    "body": norm.body(response.content, sort_lists=True),
                    "headers": {h: norm.text(response.headers[h]) for h in _HEADERS if h in response.headers},
                }
            )
    return seen


def test_ingress_speaks_h2c_prior_knowledge_like_restate_server(pair: Pair) -> None:
    """Over HTTP/2 without TLS the lab's ingress answers every request exactly as the real one does."""
    pytest.importorskip("h2")
    expected, actual = _h2_answers(pair.real), _h2_answers(pair.lab)
    assert all(a["http"] == "HTTP/2" for a in expected)
    assert actual == expected, json.dumps({"real": expected, "lab": actual}, indent=1)


def test_http10_answers_carry_content_length(pair: Pair) -> None:
    """An HTTP/1.0 request gets a content-length framed answer (no chunked encoding) from both servers."""
    for endpoint in (pair.real, pair.lab):
        host, port = endpoint.ingress_url.removeprefix("http://").split(":")
        raw = build_request(
            "POST",
            b"/Greeter/greet",
            [(b"content-type", b"application/json")],
            b'"old"',
            host=f"{host}:{port}".encode(),
            version=b"HTTP/1.0",
        )
        answer = exchange(host, int(port), raw)
        assert answer.status == 200, endpoint.name
        assert answer.header("content-length") == str(len(b'"Hello old!"')), (endpoint.name, answer.headers)
        assert answer.header("transfer-encoding") is None and answer.body == b'"Hello old!"'
