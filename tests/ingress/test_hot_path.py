"""The ingress's HTTP/1.1 hot path (``restate_lab.ingress.http1``) answers as its ASGI path does.

A request with a chunked body takes uvicorn's ASGI path; the same request with a declared length
takes the hot path. Raw sockets show the bytes, pipelining and connection handling.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

TIMEOUT_S = 10.0


def _connect(ingress_url: str) -> socket.socket:
    parts = urlsplit(ingress_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT_S)


def _request(path: str, body: bytes, *, chunked: bool = False, extra: str = "", version: str = "1.1") -> bytes:
    head = f"POST {path} HTTP/{version}\r\nhost: x\r\ncontent-type: application/json\r\n{extra}"
    if chunked:
        chunks = b"%x\r\n%s\r\n" % (len(body), body) if body else b""
        return (head + "transfer-encoding: chunked\r\n\r\n").encode() + chunks + b"0\r\n\r\n"
    return (head + f"content-length: {len(body)}\r\n\r\n").encode() + body


def _read_answers(sock: socket.socket, count: int) -> list[tuple[bytes, list[tuple[bytes, bytes]], bytes]]:
    """``count`` whole answers (status line, headers, body by content-length) from ``sock``."""
    data = b""
    answers = []
    while len(answers) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(answers)} answers"
            data += chunk
        head, data = data.split(b"\r\n\r\n", 1)
        status, *lines = head.split(b"\r\n")
        headers = [(n.lower(), v.strip()) for n, _, v in (line.partition(b":") for line in lines)]
        length = int(dict(headers).get(b"content-length", b"0"))
        while len(data) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed inside a body"
            data += chunk
        answers.append((status, headers, data[:length]))
        data = data[length:]
    return answers


def _comparable(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(n, b"<id>" if n == b"x-restate-id" else v) for n, v in headers if n != b"date"]


@pytest.mark.parametrize(
    ("path", "body", "extra"),
    [
        ("/Greeter/greet", b'"hot"', "origin: http://example.test\r\n"),
        ("/Greeter/greet/send", b'"hot"', ""),
        ("/Nope/greet", b'"hot"', "origin: http://example.test\r\n"),
        ("/Greeter/greet", b"not json", ""),
        ("/Greeter/terminal", b"", ""),
        ("/Greeter/greet?delay=1s", b'"hot"', ""),
        ("/Greeter", b'"hot"', ""),
    ],
)
def test_hot_path_answers_byte_for_byte_as_the_asgi_path(ingress_url: str, path: str, body: bytes, extra: str) -> None:
    """Status line, headers (but date and invocation id) and body are the same on both paths."""
    with _connect(ingress_url) as sock:
        sock.sendall(_request(path, body, chunked=True, extra=extra))
        (asgi,) = _read_answers(sock, 1)
        sock.sendall(_request(path, body, extra=extra))
        (hot,) = _read_answers(sock, 1)
    assert hot[0] == asgi[0]
    assert _comparable(hot[1]) == _comparable(asgi[1])
    if b"invocationId" not in hot[2]:
        assert hot[2] == asgi[2]


def test_pipelined_requests_are_answered_in_order(ingress_url: str) -> None:
    """Requests sent back to back on one connection, hot and ASGI paths mixed, are answered in order."""
    with _connect(ingress_url) as sock:
        sock.sendall(
            _request("/Greeter/greet", b'"one"')
            + _request("/Greeter/greet", b'"two"', chunked=True)
            + _request("/Nope/greet", b'"three"')
            + _request("/Greeter/greet", b'"four"')
        )
        answers = _read_answers(sock, 4)
    assert [body for _, _, body in answers] == [
        b'"Hello one!"',
        b'"Hello two!"',
        answers[2][2],
        b'"Hello four!"',
    ]
    assert answers[2][0].startswith(b"HTTP/1.1 404")


def test_http_1_0_request_gets_connection_close_and_is_closed(ingress_url: str) -> None:
    """An HTTP/1.0 request is answered with ``connection: close`` and the connection then ends."""
    with _connect(ingress_url) as sock:
        sock.sendall(_request("/Greeter/greet", b'"old"', version="1.0"))
        ((status, headers, body),) = _read_answers(sock, 1)
        assert status.startswith(b"HTTP/1.1 200")
        assert (b"connection", b"close") in headers
        assert body == b'"Hello old!"'
        assert sock.recv(1) == b""


def test_client_gone_before_the_answer_leaves_the_connection_handling_intact(ingress_url: str) -> None:
    """A client that leaves while its call runs does not break later requests."""
    with _connect(ingress_url) as sock:
        sock.sendall(_request("/Greeter/slow", b"0.2"))
    with _connect(ingress_url) as sock:
        sock.sendall(_request("/Greeter/greet", b'"after"'))
        ((status, _, body),) = _read_answers(sock, 1)
    assert status.startswith(b"HTTP/1.1 200")
    assert body == b'"Hello after!"'
