"""A full-duplex HTTP/2 (h2c, prior knowledge) request, for bidirectional invocations of a deployment URL.

httpx (httpcore) sends a request body to its end before it reads the response, so an attempt whose
body stays open for notifications would never see the SDK's answer. This streams both ways at once
with the ``h2`` state machine over one asyncio connection per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from restate_lab.protocol.body import RequestBody

#: Our receive window: large, so the SDK is never throttled by flow control on loopback.
RECEIVE_WINDOW = 16 * 1024 * 1024
READ_SIZE = 65_536


class H2StreamError(Exception):
    """The HTTP/2 exchange failed: connection refused or lost, stream reset, or a non-200 answer."""


async def duplex_post(uri: str, path: str, headers: dict[str, str], body: RequestBody) -> AsyncIterator[bytes]:
    """POST ``path`` on ``uri`` over h2c, sending ``body`` chunks (``None`` ends it) while yielding the answer."""
    parts = urlsplit(uri)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        raise H2StreamError(f"cannot connect to {uri}: {exc}") from exc
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: RECEIVE_WINDOW})
    conn.increment_flow_control_window(RECEIVE_WINDOW)
    stream_id = conn.get_next_available_stream_id()
    prefix = (parts.path or "").rstrip("/")
    request_headers = [
        (":method", "POST"),
        (":scheme", "http"),
        (":authority", parts.netloc),
        (":path", prefix + path),
        *((k.lower(), v) for k, v in headers.items()),
    ]
    conn.send_headers(stream_id, request_headers)
    writer.write(conn.data_to_send())
    window_open = asyncio.Event()

    async def pump() -> None:
        """Send body chunks as they come, within the peer's flow-control window."""
        while True:
            chunk = await body.get()
            if chunk is None:
                conn.end_stream(stream_id)
                writer.write(conn.data_to_send())
                return
            view = memoryview(chunk)
            while view:
                window = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
                if window <= 0:
                    window_open.clear()
                    await window_open.wait()
                    continue
                conn.send_data(stream_id, bytes(view[:window]))
                view = view[window:]
                writer.write(conn.data_to_send())

    pump_task = asyncio.get_running_loop().create_task(pump())
    status: int | None = None
    try:
        while True:
            data = await reader.read(READ_SIZE)
            if not data:
                raise H2StreamError(f"{uri} closed the connection mid-stream")
            try:
                events = conn.receive_data(data)
            except h2.exceptions.ProtocolError as exc:
                raise H2StreamError(f"HTTP/2 protocol error from {uri}: {exc}") from exc
            ended = False
            for event in events:
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                    status = int(dict(event.headers or []).get(b":status", b"0"))
                    if status != 200:
                        raise H2StreamError(f"deployment answered HTTP {status} for {path}")
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                    conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                    if event.data:
                        yield event.data
                elif isinstance(event, h2.events.WindowUpdated | h2.events.RemoteSettingsChanged):
                    window_open.set()
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                    ended = True
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream_id:
                    if status == 200:
                        ended = True  # the answer is complete; the peer just discards our open body
                    else:
                        raise H2StreamError(f"{uri} reset the stream (error code {event.error_code})")
                elif isinstance(event, h2.events.ConnectionTerminated):
                    raise H2StreamError(f"{uri} closed the HTTP/2 connection (error code {event.error_code})")
            writer.write(conn.data_to_send())
            if ended:
                return
    finally:
        pump_task.cancel()
        with contextlib.suppress(BaseException):
            await pump_task
        with contextlib.suppress(Exception):
            conn.close_connection()
            writer.write(conn.data_to_send())
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
