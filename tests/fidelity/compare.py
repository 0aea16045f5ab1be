"""Send one :class:`FuzzRequest` to one server and reduce the answer to what must be equal.

Compared: the status, the HTTP version of the answer, how an ingress answer is framed
(``content-length`` vs chunked), the headers a client acts on (below), and the body with ids,
timestamps and the example's key replaced by tokens (``tests/conformance/normalize.py``).
Not compared: ``date``, ``server``, header order, and the byte length of bodies that are compared
anyway. The few places where restate_lab answers differently on purpose are :data:`DELIBERATE`,
each also listed in the README's table of deliberate differences.
"""

from __future__ import annotations

import gzip
import json
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.conformance.normalize import Normalizer
from tests.fidelity.endpoints import Endpoint
from tests.fidelity.rawhttp import Answer, build_request, exchange
from tests.fidelity.strategies import FuzzRequest

#: Headers compared by value (after normalisation).
COMPARED_HEADERS = (
    "content-type",
    "x-restate-id",
    "x-restate-error-source",
    "location",
    "allow",
    "content-encoding",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
)
#: Compared by value on the ingress only (the admin API's CORS layer differs and is not the subject).
INGRESS_ONLY_HEADERS = ("vary",)


@dataclass
class Sent:
    """What one server answered to one request, with the means to normalise it."""

    endpoint: Endpoint
    request: FuzzRequest
    answer: Answer
    norm: Normalizer


def fill(
    request: FuzzRequest, key: str, dp: str, inv: str = ""
) -> tuple[bytes, list[tuple[bytes, bytes]], bytes | None]:
    """The request's target, headers and body with ``{key}``, ``{dp}`` and ``{inv}`` filled in."""

    def sub(raw: bytes) -> bytes:
        return raw.replace(b"{key}", key.encode()).replace(b"{dp}", dp.encode()).replace(b"{inv}", inv.encode())

    headers = [(name, sub(value)) for name, value in request.headers]
    return sub(request.target), headers, None if request.body is None else sub(request.body)


def _exchange(endpoint: Endpoint, request: FuzzRequest, key: str, dp: str, inv: str) -> Answer:
    base = endpoint.admin_url if request.admin else endpoint.ingress_url
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target, headers, body = fill(request, key, dp, inv)
    raw = build_request(request.method, target, headers, body, host=f"{host}:{port}".encode(), version=request.version)
    return exchange(host, port, raw, head=request.method == "HEAD")


def _answered_id(answer: Answer) -> str | None:
    """The invocation id a setup step answered (``x-restate-id``, or a send's ``invocationId``)."""
    found = answer.header("x-restate-id")
    try:
        payload = json.loads(answer.body) if answer.body else None
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("invocationId"), str):
        found = payload["invocationId"]
    return found


def send(endpoint: Endpoint, request: FuzzRequest, dp: str) -> Sent:
    """Send ``request`` (after its setup, then its cleanup) to ``endpoint`` with a fresh key.

    Returns the raw answer to ``request`` itself and its normaliser.
    """
    key = f"fz{uuid.uuid4().hex[:12]}"
    inv = ""
    for step, wait in request.setup:
        if wait:
            time.sleep(wait)
        inv = _answered_id(_exchange(endpoint, step, key, dp, inv)) or inv
    if request.settle:
        time.sleep(request.settle)
    answer = _exchange(endpoint, request, key, dp, inv)
    for step in request.cleanup:
        _exchange(endpoint, step, key, dp, inv)
    return Sent(endpoint, request, answer, Normalizer(key))


def _decoded_body(answer: Answer) -> bytes:
    body = answer.body
    if answer.header("content-encoding") == "gzip" and body:
        try:
            return gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            return body
    return body


def observe(sent: Sent) -> dict[str, Any]:
    """The comparable shape of one answer."""
    answer, request, norm = sent.answer, sent.request, sent.norm
    seen: dict[str, Any] = {"status": answer.status}
    if not isinstance(answer.status, int):
        return seen
    # uvicorn writes an HTTP/1.1 status line to HTTP/1.0 requests (a listed deliberate difference); the
    # framing (content-length, connection closed) is still compared.
    if request.version != b"HTTP/1.0":
        seen["version"] = answer.version
    if request.status_only:
        return seen
    if not request.admin:
        seen["framing"] = (
            "chunked" if answer.chunked else ("length" if answer.header("content-length") is not None else "close")
        )
    body = _decoded_body(answer)
    if norm.key:
        # A key that does not decode is quoted as its bytes (``FromUtf8Error { bytes: [...] }``).
        key_bytes = ", ".join(str(b) for b in norm.key.encode()).encode()
        body = body.replace(key_bytes, b"<key bytes>")
    for url in (sent.endpoint.ingress_url, sent.endpoint.admin_url):
        body = body.replace(url.encode(), b"<url>")
    seen["body"] = (
        _deployment_neutral(norm.body(body, sort_lists=request.sort))
        if request.admin
        else (norm.body(body, sort_lists=request.sort))
    )
    names = COMPARED_HEADERS + (() if request.admin else INGRESS_ONLY_HEADERS)
    headers: dict[str, Any] = {}
    for name in names:
        values = [v for k, v in answer.headers if k == name]
        if values:
            headers[name] = [norm.text(v) for v in values]
    headers["idempotency-expires"] = answer.header("idempotency-expires") is not None
    seen["headers"] = headers
    return seen


def _deployment_neutral(value: Any) -> Any:
    """Admin bodies without ``inactivity_timeout``: it follows the deployment's protocol (``1m`` over h2c
    bidirectional streams on the real server, ``0s`` for ``restate-lab serve``'s in-process request-response
    deployment: the README's deliberate difference "in-process deployments")."""
    if isinstance(value, dict):
        return {
            k: _deployment_neutral(v)
            for k, v in value.items()
            # RT0021: "inactivity_timeout ... will not be applied ... in Request/Response mode", same cause.
            if k != "inactivity_timeout" and not (k == "info" and all(i.get("code") == "RT0021" for i in v))
        }
    if isinstance(value, list):
        return [_deployment_neutral(v) for v in value]
    return value


# --- deliberate differences ---------------------------------------------------------------------


def _malformed_lookup_body(request: FuzzRequest, real: Answer, lab: Answer) -> bool:
    """A malformed ``POST /restate/lookup|attach|output`` body: 500 there, 400 here, with the same message.

    The message is serde's on both (JSON syntax, the tag, the fields), listed in the README too.
    """
    return (
        real.status == 500
        and lab.status == 400
        and b'"message":"cannot read body: invalid ' in real.body
        and real.body.replace(b'"code":500', b'"code":400') == lab.body
    )


def _enormous_delay(request: FuzzRequest, real: Answer, lab: Answer) -> bool:
    """A ``?delay=`` past ~100 years: the real worker drops the connection, restate_lab answers 400."""
    return real.status in ("closed", "timeout") and lab.status == 400 and b"bad delay query parameter" in lab.body


def _method_outside_parser(request: FuzzRequest, real: Answer, lab: Answer) -> bool:
    """A method uvicorn's HTTP parser does not know (``FOO``), or ``CONNECT`` with a path: refused with
    an empty 400 before routing, where the real server routes it (and answers 404/405/400)."""
    return (
        request.method in ("FOO", "CONNECT") and lab.status == 400 and lab.body == b"" and isinstance(real.status, int)
    )


def _array_for_object(request: FuzzRequest, real: Answer, lab: Answer) -> bool:
    """An admin JSON body that is an array where an object is expected: serde reads it as a sequence of the
    struct's fields (422 about the first element), restate_lab reports the JSON (400)."""
    return (
        request.admin
        and (request.body or b"").lstrip().startswith(b"[")
        and real.status == 422
        and lab.status in (400, 422)
    )


#: Differences the README lists as deliberate: (name, predicate over request and both raw answers).
DELIBERATE: list[tuple[str, Callable[[FuzzRequest, Answer, Answer], bool]]] = [
    ("malformed lookup body is 400, not 500", _malformed_lookup_body),
    ("enormous delay is 400, not a dropped connection", _enormous_delay),
    ("unknown methods and CONNECT are refused by the HTTP parser", _method_outside_parser),
    ("an admin array body is a JSON error, not a sequence of fields", _array_for_object),
]


def deliberate(request: FuzzRequest, real: Answer, lab: Answer) -> str | None:
    """The name of the deliberate difference this pair of answers is, or None."""
    for name, predicate in DELIBERATE:
        if predicate(request, real, lab):
            return name
    return None


def signature(request: FuzzRequest, expected: dict[str, Any], actual: dict[str, Any]) -> str:
    """A coarse class for a difference (route family, method, what differs), to count distinct ones."""
    fields = sorted(k for k in set(expected) | set(actual) if expected.get(k) != actual.get(k))
    detail = ""
    if fields == ["headers"]:
        eh, ah = expected["headers"], actual["headers"]
        detail = ",".join(sorted(k for k in set(eh) | set(ah) if eh.get(k) != ah.get(k)))
    return (
        f"{request.family} {request.method} {expected.get('status')}/{actual.get('status')} {'+'.join(fields)} {detail}"
    )
