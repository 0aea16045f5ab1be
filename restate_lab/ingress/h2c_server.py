"""HTTP/2 with prior knowledge (h2c) on the ingress port, next to HTTP/1.1, as Restate Server 1.7.12 offers.

uvicorn speaks only HTTP/1.1; hypercorn would speak both but parses HTTP/1.1 in pure Python, at less than
half the throughput. So the ingress keeps uvicorn's fast HTTP/1.1 parser and hands a connection to this
small bridge when its first bytes are the HTTP/2 connection preface: each stream's request (headers and
whole body) becomes one ASGI ``http`` call of the same app, and its answer is written back as HEADERS and
DATA frames within the peer's flow-control window. Request bodies are small JSON here (the 32 MiB limit
applies), so a stream's body is read to its end before the app runs, as the HTTP/1.1 path does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import unquote

import h2.config
import h2.connection
import h2.events
import h2.exceptions

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_MAX_BODY = 32 * 1024 * 1024


class H2cSession:
    """One HTTP/2 connection served by an ASGI app on the event loop."""

    def __init__(
        self,
        transport: asyncio.Transport,
        app: Any,
        *,
        server: tuple[str, int | None] | None,
        client: tuple[str, int] | None,
    ) -> None:
        self.transport = transport
        self.app = app
        self.server = server
        self.client = client
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding=None))
        self.conn.initiate_connection()
        self._flush()
        self.streams: dict[int, dict[str, Any]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.window_open = asyncio.Event()
        self.closed = False

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._flush()
            self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self.streams[event.stream_id] = {"headers": event.headers, "body": bytearray()}
            elif isinstance(event, h2.events.DataReceived):
                stream = self.streams.get(event.stream_id)
                if stream is not None:
                    stream["body"] += event.data
                    if len(stream["body"]) > _MAX_BODY:
                        self.conn.reset_stream(event.stream_id)
                        self.streams.pop(event.stream_id, None)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                stream = self.streams.pop(event.stream_id, None)
                if stream is not None:
                    task = asyncio.get_running_loop().create_task(self._serve(event.stream_id, stream))
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)
            elif isinstance(event, h2.events.StreamReset):
                self.streams.pop(event.stream_id, None)
            elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
                self.window_open.set()
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.transport.close()
        self._flush()

    def _scope(self, headers: list[tuple[bytes, bytes]]) -> MutableMapping[str, Any]:
        pseudo = {name: value for name, value in headers if name.startswith(b":")}
        target = pseudo.get(b":path", b"/")
        raw_path, _, query = target.partition(b"?")
        regular = [(name, value) for name, value in headers if not name.startswith(b":")]
        authority = pseudo.get(b":authority")
        if authority is not None and not any(name == b"host" for name, _ in regular):
            regular.insert(0, (b"host", authority))
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "2",
            "method": pseudo.get(b":method", b"GET").decode("latin-1"),
            "scheme": pseudo.get(b":scheme", b"http").decode("latin-1"),
            "path": unquote(raw_path.decode("latin-1")),
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": regular,
            "server": self.server,
            "client": self.client,
        }

    async def _serve(self, stream_id: int, stream: dict[str, Any]) -> None:
        body = bytes(stream["body"])
        sent_body = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # no disconnect notice: the stream ends with the answer
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(b":status", str(message["status"]).encode())]
                headers += [
                    (name.lower(), value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in (b"connection", b"transfer-encoding", b"keep-alive")
                ]
                self.conn.send_headers(stream_id, headers)
                self._flush()
            elif message["type"] == "http.response.body":
                await self._send_data(stream_id, message.get("body", b""), end=not message.get("more_body", False))

        try:
            await self.app(self._scope(stream["headers"]), receive, send)
        except Exception:  # the app answers its own errors; a bug must not take the connection down
            with contextlib.suppress(h2.exceptions.ProtocolError):
                self.conn.reset_stream(stream_id)
                self._flush()

    async def _send_data(self, stream_id: int, data: bytes, *, end: bool) -> None:
        view = memoryview(data)
        while view:
            window = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            if window <= 0:
                self.window_open.clear()
                await asyncio.wait_for(self.window_open.wait(), 30.0)
                continue
            self.conn.send_data(stream_id, bytes(view[:window]))
            view = view[window:]
            self._flush()
        if end:
            self.conn.end_stream(stream_id)
            self._flush()

    def connection_lost(self) -> None:
        self.closed = True
        for task in list(self.tasks):
            task.cancel()
