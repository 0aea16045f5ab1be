"""HTTP/1.1 details of uvicorn's protocol adjusted to answer as Restate Server 1.7.12's ingress does.

- A request the HTTP parser refuses (a control character in a header value, a non-token header name,
  a space in the request target) gets ``400`` with an empty body and ``content-length: 0``, as hyper
  answers it, instead of uvicorn's text/plain explanation.
- Status codes 600..999 can be answered: a handler's ``TerminalError(status_code=N)`` becomes HTTP
  status N for any N the real server accepts, and uvicorn only knows status lines up to 599.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http import httptools_impl


def _install_status_lines() -> None:
    for code in range(600, 1000):
        httptools_impl.STATUS_LINE.setdefault(code, b"HTTP/1.1 %d \r\n" % code)


_install_status_lines()


class IngressHttpProtocol(httptools_impl.HttpToolsProtocol):
    """uvicorn's httptools protocol with the real ingress's answer to unparsable requests."""

    def send_400_response(self, msg: str) -> None:
        transport: Any = self.transport
        transport.write(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        transport.close()
