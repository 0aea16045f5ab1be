"""HTTP/1.1 details of uvicorn's protocol adjusted to answer as Restate Server 1.7.12's ingress does.

- A request the HTTP parser refuses (a control character in a header value, a non-token header name,
  a space in the request target) gets ``400`` with an empty body and ``content-length: 0``, as hyper
  answers it, instead of uvicorn's text/plain explanation.
- HTTP/2 with prior knowledge (h2c) on the same port (:mod:`restate_lab.ingress.h2c_server`).
- Status codes 600..999 can be answered: a handler's ``TerminalError(status_code=N)`` becomes HTTP
  status N for any N the real server accepts, and uvicorn only knows status lines up to 599.
- The hot path: a ``GET`` or ``POST`` whose path is not under ``/restate`` and whose body has a
  declared length of at most 1 MiB is an invocation request (or its error). It skips the ASGI layer:
  the whole request goes to :class:`~restate_lab.ingress.calls.CallAnswers` and its answer is written
  in one piece (status line, headers, CORS, body: one ``write``, one system call), with no task, no
  ASGI messages and no future per request. The bytes are those uvicorn writes for the ASGI app's
  answer; anything else (HEAD, OPTIONS, ``expect: 100-continue``, chunked or large bodies, upgrades)
  takes uvicorn's ASGI path unchanged. Pipelined requests are answered in order either way.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import httptools
from uvicorn.protocols.http import httptools_impl

from restate_lab.ingress.calls import CallAnswers
from restate_lab.ingress.cors import cors_headers
from restate_lab.ingress.h2c_server import PREFACE, H2cSession
from restate_lab.ingress.replies import Reply

#: Bodies up to this size (declared by ``content-length``) take the hot path; larger ones are streamed.
HOT_PATH_MAX_BODY = 1 << 20
_STATUS_LINE = httptools_impl.STATUS_LINE
_HEADER_VALUE_RE = httptools_impl.HEADER_VALUE_RE


def _install_status_lines() -> None:
    for code in range(600, 1000):
        httptools_impl.STATUS_LINE.setdefault(code, b"HTTP/1.1 %d \r\n" % code)


_install_status_lines()


class _CallCycle:
    """One request on the hot path, in the shape uvicorn's protocol expects of a request's cycle.

    The protocol appends the body to ``body``, clears ``more_body`` at its end, marks ``disconnected``
    and calls ``message_event.set()`` (a no-op here); ``started`` once earlier requests are answered.
    """

    __slots__ = (
        "body",
        "disconnected",
        "keep_alive",
        "message_event",
        "more_body",
        "response_complete",
        "scope",
        "started",
    )

    def __init__(self, scope: dict[str, Any], keep_alive: bool) -> None:
        self.scope = scope
        self.keep_alive = keep_alive
        self.body = bytearray()
        self.more_body = True
        self.disconnected = False
        self.response_complete = False
        self.started = False
        self.message_event = self

    def set(self) -> None:
        """uvicorn wakes a cycle's reader this way; the hot path reads nothing."""


class IngressHttpProtocol(httptools_impl.HttpToolsProtocol):
    """uvicorn's httptools protocol with the real ingress's answer to unparsable requests, h2c, and the hot path.

    A connection whose first bytes are the HTTP/2 preface is handed to :class:`H2cSession`. With
    ``calls``, invocation requests take the hot path (module docstring).
    """

    _h2: H2cSession | None = None
    _sniffed: bytes | None = b""

    def __init__(self, *args: Any, calls: CallAnswers | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = calls

    # -- the hot path --

    def on_headers_complete(self) -> None:
        # An answer written while the parser ran (the hot path answers errors at once) armed the keep-alive
        # timer; this request must not be cut by it.
        self._unset_keepalive_if_required()
        if not self._hot(self.parser.get_method()):
            super().on_headers_complete()
            return
        parser = self.parser
        scope: Any = self.scope
        scope["method"] = parser.get_method().decode("ascii")
        http_version = parser.get_http_version()
        if http_version != "1.1":
            scope["http_version"] = http_version
        parsed = httptools.parse_url(self.url)
        raw_path = parsed.path
        path = raw_path.decode("ascii")  # as uvicorn reads it (a non-ASCII target is a 400)
        scope["path"] = self.root_path + (urllib.parse.unquote(path) if "%" in path else path)
        scope["raw_path"] = self.root_path.encode("ascii") + raw_path
        scope["query_string"] = parsed.query or b""
        cycle = _CallCycle(scope, http_version != "1.0" and parser.should_keep_alive())
        existing = self.cycle
        self.cycle = cycle  # type: ignore[assignment]
        if existing is None or existing.response_complete:
            cycle.started = True
        else:  # pipelined: answered after the requests before it
            self.flow.pause_reading()
            self.pipeline.appendleft((cycle, self.app))  # type: ignore[arg-type]

    def _hot(self, method: bytes) -> bool:
        """Whether this request takes the hot path (an invocation request with a small, declared body)."""
        if self.calls is None or method not in (b"POST", b"GET") or self.expect_100_continue:
            return False
        if self.limit_concurrency is not None or self.parser.should_upgrade():
            return False
        for name, value in self.headers:
            if name == b"transfer-encoding" or (
                name == b"content-length" and not (value.isdigit() and int(value) <= HOT_PATH_MAX_BODY)
            ):
                return False
        target = self.url.lstrip(b"/")
        return not (target.startswith(b"restate") and target[7:8] in (b"", b"/", b"?")) and self.url[:1] == b"/"

    def on_message_complete(self) -> None:
        cycle: Any = self.cycle
        if type(cycle) is not _CallCycle:
            super().on_message_complete()
            return
        if cycle.response_complete:
            return
        cycle.more_body = False
        if cycle.started:
            self._run(cycle)

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        if type(cycle) is not _CallCycle:
            super()._start_asgi_task(cycle, app)
            return
        cycle.started = True
        if not cycle.more_body:
            self._run(cycle)

    def _run(self, cycle: _CallCycle) -> None:
        assert self.calls is not None
        self.calls.start(cycle.scope, bytes(cycle.body), lambda reply: self._answer(cycle, reply))

    def _answer(self, cycle: _CallCycle, reply: Reply) -> None:
        """Write ``reply`` as uvicorn writes an ASGI answer, CORS included, in one piece."""
        if cycle.response_complete:
            return
        cycle.response_complete = True
        transport = self.transport
        if cycle.disconnected or transport.is_closing():
            return
        status = reply.status
        body = reply.body
        headers = list(reply.headers)
        if status in (204, 304):
            body = b""
        else:
            headers.append((b"content-length", b"%d" % len(body)))
        if not reply.bare:
            headers += cors_headers(cycle.scope)
        content = [_STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content += (name, b": ", value, b"\r\n")
        for name, value in headers:
            if _HEADER_VALUE_RE.search(value):
                # uvicorn refuses such a value by dropping the connection; so does the hot path.
                self.logger.error("invalid HTTP header value in an ingress answer: %r", (name, value))
                transport.close()
                return
            content += (name, b": ", value, b"\r\n")
        if not cycle.keep_alive:
            content.append(b"connection: close\r\n")
        content += (b"\r\n", body)
        transport.write(b"".join(content))
        if not cycle.keep_alive:
            transport.close()
        self.on_response_complete()

    # -- h2c and the real ingress's 400 --

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
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None

    # -- keep-alive: one timer per idle stretch, not one per answer --

    _idle_since: float | None = None

    def _unset_keepalive_if_required(self) -> None:
        # uvicorn cancels its timer on every request and arms a new one after every answer; here a request
        # only marks the connection busy, and the timer, when it fires, closes an idle connection or waits on.
        self._idle_since = None

    def on_response_complete(self) -> None:
        """uvicorn's, but the keep-alive timer is armed only when none is pending."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self._keep_alive_due)

    def _keep_alive_due(self) -> None:
        self.timeout_keep_alive_task = None
        idle_since = self._idle_since
        if idle_since is None:  # a request is in progress: its answer arms the timer again
            return
        left = idle_since + self.timeout_keep_alive - self.loop.time()
        if left > 0:
            self.timeout_keep_alive_task = self.loop.call_later(left, self._keep_alive_due)
        elif not self.transport.is_closing():
            self.transport.close()

    def shutdown(self) -> None:
        if self._h2 is not None:
            self.transport.close()
            return
        super().shutdown()

    def send_400_response(self, msg: str) -> None:
        transport: Any = self.transport
        transport.write(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        transport.close()
