"""HTTP/1.1 details of uvicorn's protocol adjusted to answer as Restate Server 1.7.12's ingress does.

- A request the HTTP parser refuses (a control character in a header value, a non-token header name,
  a space in the request target) gets ``400`` with an empty body and ``content-length: 0``, as hyper
  answers it, instead of uvicorn's text/plain explanation.
- HTTP/2 with prior knowledge (h2c) on the same port (:mod:`restate_lab.ingress.h2c_server`).
- Status codes 600..999 can be answered: a handler's ``TerminalError(status_code=N)`` becomes HTTP
  status N for any N the real server accepts, and uvicorn only knows status lines up to 599.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http import httptools_impl

from restate_lab.ingress.h2c_server import PREFACE, H2cSession


def _install_status_lines() -> None:
    for code in range(600, 1000):
        httptools_impl.STATUS_LINE.setdefault(code, b"HTTP/1.1 %d \r\n" % code)


_install_status_lines()


class IngressHttpProtocol(httptools_impl.HttpToolsProtocol):
    """uvicorn's httptools protocol with the real ingress's answer to unparsable requests, and h2c.

    A connection whose first bytes are the HTTP/2 preface is handed to :class:`H2cSession`.
    """

    _h2: H2cSession | None = None
    _sniffed: bytes | None = b""

    def data_received(self, data: bytes) -> None:
        if self._h2 is not None:
            self._h2.data_received(data)
            return
        if self._sniffed is not None:
            seen = self._sniffed + data
            if PREFACE.startswith(seen[: len(PREFACE)]) and len(seen) < len(PREFACE):
                self._sniffed = seen  # could still be the preface: wait for more
                return
            self._sniffed = None
            if seen.startswith(PREFACE):
                self._h2 = H2cSession(self.transport, self.app, server=self.server, client=self.client)
                self._h2.data_received(seen)
                return
            data = seen
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._h2 is not None:
            self._h2.connection_lost()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        if self._h2 is not None:
            self.transport.close()
            return
        super().shutdown()

    def send_400_response(self, msg: str) -> None:
        transport: Any = self.transport
        transport.write(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        transport.close()
