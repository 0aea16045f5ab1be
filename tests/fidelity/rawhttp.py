"""A byte-exact HTTP/1.x client: the fuzzer must send paths and headers no polite client would.

httpx (rightly) normalises request targets, refuses non-ASCII header bytes and merges repeated
headers; to ask both servers exactly the same odd question the request is written to the socket as
given, one connection per request (``connection: close``), and the answer is parsed just enough to
compare: the status line, the header list in order, and the body (``content-length`` or chunked).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

READ_TIMEOUT_S = 10.0


@dataclass
class Answer:
    """One HTTP answer; ``status`` is ``"timeout"`` or ``"closed"`` when none came."""

    status: int | str
    version: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunked: bool = False

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


def build_request(
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes | None,
    *,
    host: bytes,
    version: bytes = b"HTTP/1.1",
) -> bytes:
    """The request bytes; ``content-length`` is added for a body unless the headers carry one."""
    lines = [method.encode() + b" " + target + b" " + version, b"host: " + host, b"connection: close"]
    lines += [name + b": " + value for name, value in headers]
    if body is not None and not any(name.lower() == b"content-length" for name, _ in headers):
        lines.append(b"content-length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def exchange(host: str, port: int, request: bytes, *, head: bool = False, timeout: float = READ_TIMEOUT_S) -> Answer:
    """Send ``request`` on a new connection and read the whole answer (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    data = b""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(request)
            while True:
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                answer = _parse(data, head=head)
                if answer is not None:
                    return answer
    except TimeoutError:
        return Answer("timeout")
    except OSError:
        return _parse(data, head=head) or Answer("closed")
    return _parse(data, head=head, complete=True) or Answer("closed")


def _parse(data: bytes, *, head: bool, complete: bool = False) -> Answer | None:
    """The final answer in ``data`` (interim 1xx answers skipped), or None while it is incomplete."""
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = data[:end].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            return Answer("closed")
        status = int(parts[1])
        rest = data[end + 4 :]
        if 100 <= status < 200 and status != 101:
            data = rest
            continue
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append((name.strip().lower().decode("latin-1"), value.strip().decode("latin-1")))
        answer = Answer(status, parts[0].decode("latin-1"), headers)
        if head or status in (204, 304):
            return answer
        length = answer.header("content-length")
        if answer.header("transfer-encoding") == "chunked":
            answer.chunked = True
            body = _dechunk(rest)
            if body is None:
                return None
            answer.body = body
            return answer
        if length is not None and length.isdigit():
            if len(rest) < int(length):
                return None
            answer.body = rest[: int(length)]
            return answer
        if not complete:
            return None  # body delimited by the connection closing
        answer.body = rest
        return answer


def _dechunk(data: bytes) -> bytes | None:
    body = b""
    while True:
        end = data.find(b"\r\n")
        if end < 0:
            return None
        size = int(data[:end].split(b";")[0] or b"0", 16)
        if size == 0:
            return body
        if len(data) < end + 2 + size + 2:
            return None
        body += data[end + 2 : end + 2 + size]
        data = data[end + 2 + size + 2 :]
