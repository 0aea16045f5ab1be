"""How the server reaches a deployment: an ASGI app called in memory, or a URL over HTTP.

Both transports offer the same two operations: fetch the discovery manifest, and run one
invocation attempt as a stream of body chunks in and response chunks out. Request-response
mode closes the request body up front; bidirectional mode keeps it open and feeds
notifications while the attempt runs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import httpx

from restate_lab.protocol.asgi import ASGIApp, Message
from restate_lab.protocol.body import LiveBody, RequestBody
from restate_lab.protocol.h2c import H2StreamError, duplex_post

DISCOVERY_ACCEPT = ", ".join(f"application/vnd.restate.endpointmanifest.v{v}+json" for v in (5, 4, 3, 2))

#: How long an in-process app gets to wind down once its attempt is over.
APP_SHUTDOWN_TIMEOUT_S = 5.0


class DeploymentError(Exception):
    """The deployment could not be reached or answered outside the protocol."""


class Transport(Protocol):
    """One way to reach a deployment."""

    description: str

    async def discover(self, http2: bool) -> dict[str, Any]: ...

    def invoke(
        self, service: str, handler: str, content_type: str, body: RequestBody, bidi: bool
    ) -> AsyncIterator[bytes]: ...

    async def close(self) -> None: ...


def _parse_manifest(status: int, content_type: str, body: bytes, where: str) -> dict[str, Any]:
    if status != 200:
        text = body.decode(errors="replace")[:200]
        raise DeploymentError(f"discovery at {where} answered HTTP {status}: {text}")
    if "endpointmanifest" not in content_type and "json" not in content_type:
        raise DeploymentError(f"discovery at {where} answered content-type {content_type!r}, not a manifest")
    try:
        manifest = json.loads(body)
    except ValueError as exc:
        raise DeploymentError(f"discovery at {where} answered a body that is not JSON: {exc}") from exc
    if not isinstance(manifest, dict):
        raise DeploymentError(f"discovery at {where} answered JSON that is not an object")
    return manifest


class AsgiTransport:
    """Calls an ASGI app (``restate.app(...)``) in this process, with no sockets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.description = f"in-process ASGI app {type(app).__name__}"

    async def _request(
        self,
        path: str,
        method: str,
        headers: list[tuple[str, str]],
        http2: bool,
        body: RequestBody,
    ) -> AsyncIterator[tuple[int, dict[str, str], bytes]]:
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "2" if http2 else "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        }
        chunks: asyncio.Queue[tuple[int, dict[str, str], bytes] | BaseException | None] = asyncio.Queue()
        finished = asyncio.Event()
        status_holder: dict[str, Any] = {"status": 0, "headers": {}}
        body_done = False
        reading: list[asyncio.Future[bytes | None]] = []

        async def receive() -> Message:
            nonlocal body_done
            if body_done or finished.is_set():
                await finished.wait()
                return {"type": "http.disconnect"}
            try:  # what is already there needs no waiting (the first chunk always is)
                chunk = body.get_nowait()
            except asyncio.QueueEmpty:
                pass
            else:
                if chunk is None:
                    body_done = True
                    return {"type": "http.request", "body": b"", "more_body": False}
                return {"type": "http.request", "body": chunk, "more_body": True}
            # The attempt may end (killed, engine closing) while the SDK still reads: the end cancels
            # the pending read, and a disconnect lets the SDK finish instead of waiting for a body that
            # will never close.
            getting = asyncio.ensure_future(body.get())
            reading.append(getting)
            try:
                chunk = await getting
            except asyncio.CancelledError:
                if finished.is_set():
                    return {"type": "http.disconnect"}
                raise
            finally:
                reading.remove(getting)
            if chunk is None:
                body_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["headers"] = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                data = message.get("body", b"")
                if data:
                    chunks.put_nowait((status_holder["status"], status_holder["headers"], data))
                if not message.get("more_body", False):
                    chunks.put_nowait(None)

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            except BaseException as exc:  # the SDK signals protocol refusals by raising
                chunks.put_nowait(exc)
            finally:
                chunks.put_nowait(None)

        task = asyncio.get_running_loop().create_task(run())
        try:
            while True:
                item = await chunks.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise DeploymentError(f"deployment raised {type(item).__name__}: {item}") from item
                yield item
            if status_holder["status"] not in (0, 200):
                yield status_holder["status"], status_holder["headers"], b""
            elif status_holder["status"] == 0:
                raise DeploymentError("deployment closed the stream without answering")
        finally:
            finished.set()
            for pending in reading:
                pending.cancel()
            # An app that has answered returns within a loop turn or two: cheaper than cancelling it.
            for _ in range(2):
                if task.done():
                    break
                await asyncio.sleep(0)
            if not task.done():
                task.cancel()
                # Bounded: an app that ignores cancellation must not hold the engine (or its shutdown) hostage.
                await asyncio.wait((task,), timeout=APP_SHUTDOWN_TIMEOUT_S)

    async def discover(self, http2: bool) -> dict[str, Any]:
        body: asyncio.Queue[bytes | None] = asyncio.Queue()
        body.put_nowait(None)
        status, ctype, data = 0, "", b""
        async for chunk_status, headers, chunk in self._request(
            "/discover", "GET", [("accept", DISCOVERY_ACCEPT)], http2, body
        ):
            status = chunk_status
            ctype = headers.get("content-type", "")
            data += chunk
        return _parse_manifest(status, ctype, data, self.description)

    async def invoke(
        self, service: str, handler: str, content_type: str, body: RequestBody, bidi: bool
    ) -> AsyncIterator[bytes]:
        headers = [("content-type", content_type), ("accept", content_type)]
        if not bidi:
            yield await self._request_response(service, handler, headers, body)
            return
        async for status, _headers, chunk in self._request(f"/invoke/{service}/{handler}", "POST", headers, bidi, body):
            if status != 200:
                raise DeploymentError(f"deployment answered HTTP {status} for {service}/{handler}")
            yield chunk

    async def stream(
        self,
        service: str,
        handler: str,
        content_type: str,
        body: LiveBody,
        on_chunk: Callable[[bytes], bool],
    ) -> None:
        """A bidirectional attempt that hands each answer chunk to ``on_chunk`` as the app sends it.

        What ``invoke`` does in bidirectional mode without a chunk queue, an async generator or a wake-up
        of the attempt per chunk: the app runs in its own task (so that cancelling the attempt can stop it,
        within a bound) and the attempt waits once, for the app to close its answer. ``on_chunk`` answers
        True when the attempt is over and the app is to be stopped (a malformed message). Returns once the
        answer is closed; ``DeploymentError`` if the app raised or answered another status than 200.
        """
        path = f"/invoke/{service}/{handler}"
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "2",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
            "headers": [(b"content-type", content_type.encode()), (b"accept", content_type.encode())],
        }
        attempt = _StreamedAttempt(body, on_chunk, service, handler)
        task = attempt.loop.create_task(attempt.run(self.app, scope))
        try:
            await attempt.closed
        finally:
            attempt.finish()
            body.interrupt()
            # An app that has answered returns within a loop turn or two: cheaper than cancelling it.
            for _ in range(2):
                if task.done():
                    break
                await asyncio.sleep(0)
            if not task.done():
                task.cancel()
                # Bounded: an app that ignores cancellation must not hold the engine (or its shutdown) hostage.
                await asyncio.wait((task,), timeout=APP_SHUTDOWN_TIMEOUT_S)
        if attempt.failure is not None:
            raise attempt.failure
        if attempt.refusal is not None:
            raise attempt.refusal
        if attempt.status == 0:
            raise DeploymentError("deployment closed the stream without answering")
        if attempt.status != 200:
            raise DeploymentError(f"deployment answered HTTP {attempt.status} for {service}/{handler}")

    async def request_response(self, service: str, handler: str, content_type: str, body: RequestBody) -> bytes:
        """A request-response attempt's whole answer, as ``invoke`` would yield it in one piece."""
        headers = [("content-type", content_type), ("accept", content_type)]
        return await self._request_response(service, handler, headers, body)

    async def _request_response(
        self, service: str, handler: str, headers: list[tuple[str, str]], body: RequestBody
    ) -> bytes:
        """Run the app to its end in this task and return its whole answer.

        In request-response mode the SDK reads the complete request before it answers and the server
        acts on the answer only once it is complete, so neither a second task nor a chunk queue is needed.
        """
        request = bytearray()
        while (chunk := body.get_nowait()) is not None:
            request += chunk
        path = f"/invoke/{service}/{handler}"
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
            "headers": [(k.encode(), v.encode()) for k, v in headers],
        }
        answer = bytearray()
        status = 0
        delivered = False
        finished = asyncio.Event()

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                # A disconnect before the answer is complete would make the SDK drop it (it would not
                # even send its Suspension), so the connection stays "open" until the app returns.
                await finished.wait()
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": bytes(request), "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                answer.extend(message.get("body", b""))

        try:
            await self.app(scope, receive, send)
        except Exception as exc:  # the SDK signals protocol refusals by raising
            raise DeploymentError(f"deployment raised {type(exc).__name__}: {exc}") from exc
        finally:
            finished.set()
        if status == 0:
            raise DeploymentError("deployment closed the stream without answering")
        if status != 200:
            raise DeploymentError(f"deployment answered HTTP {status} for {service}/{handler}")
        return bytes(answer)

    async def close(self) -> None:
        return None


class _StreamedAttempt:
    """One bidirectional attempt's ASGI side: ``receive`` and ``send`` for the app, and how it ended.

    One slotted object per attempt rather than closures over a dozen cells: an attempt is short and
    frequent, and every object it allocates counts towards the next young collection.
    """

    __slots__ = (
        "loop",
        "body",
        "on_chunk",
        "target",
        "closed",
        "finished",
        "finished_waiters",
        "body_done",
        "status",
        "failure",
        "refusal",
    )

    def __init__(self, body: LiveBody, on_chunk: Callable[[bytes], bool], service: str, handler: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.body = body
        self.on_chunk = on_chunk
        self.target = (service, handler)
        #: The answer is closed (or the attempt stopped it).
        self.closed: asyncio.Future[None] = self.loop.create_future()
        #: The attempt is over: a read still pending ends with a disconnect.
        self.finished = False
        self.finished_waiters: list[asyncio.Future[None]] | None = None
        self.body_done = False
        self.status = 0
        self.failure: BaseException | None = None  # the attempt's own failure, raised there, not in the app
        self.refusal: BaseException | None = None

    def close(self) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def finish(self) -> None:
        """The attempt is over: reads waiting past the end of the body answer a disconnect."""
        self.finished = True
        for waiter in self.finished_waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    async def _until_finished(self) -> Message:
        if not self.finished:
            waiter: asyncio.Future[None] = self.loop.create_future()
            if self.finished_waiters is None:
                self.finished_waiters = [waiter]
            else:
                self.finished_waiters.append(waiter)
            try:
                await waiter
            finally:
                self.finished_waiters.remove(waiter)
        return {"type": "http.disconnect"}

    async def receive(self) -> Message:
        if self.body_done or self.finished:
            return await self._until_finished()
        body = self.body
        try:  # what is already there needs no waiting (the first chunk always is)
            chunk = body.get_nowait()
        except asyncio.QueueEmpty:
            try:
                chunk = await body.get()
            except asyncio.CancelledError:
                if self.finished:  # interrupted by the end of the attempt
                    return {"type": "http.disconnect"}
                raise
        if chunk is None:
            self.body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
        elif kind == "http.response.body" and not self.closed.done():
            data = message.get("body", b"")
            if data:
                if self.status != 200:
                    if self.refusal is None:
                        service, handler = self.target
                        self.refusal = DeploymentError(
                            f"deployment answered HTTP {self.status} for {service}/{handler}"
                        )
                    self.close()
                    return
                try:
                    stop = self.on_chunk(data)
                except Exception as exc:  # the attempt's own failure: it is raised there, not in the app
                    if self.failure is None:
                        self.failure = exc
                    stop = True
                if stop:
                    self.close()
                    return
            if not message.get("more_body", False):
                self.close()

    async def run(self, app: ASGIApp, scope: dict[str, Any]) -> None:
        try:
            await app(scope, self.receive, self.send)
        except BaseException as exc:  # the SDK signals protocol refusals by raising
            if not self.closed.done() and self.refusal is None:
                self.refusal = DeploymentError(f"deployment raised {type(exc).__name__}: {exc}")
                self.refusal.__cause__ = exc
        finally:
            self.close()


class HttpTransport:
    """Reaches a deployment URL: HTTP/1.1 for request-response, HTTP/2 (h2c) for bidirectional.

    Bidirectional attempts use ``duplex_post``, since httpx would not read the answer before the
    request body ends.
    """

    def __init__(self, uri: str, headers: dict[str, str] | None = None) -> None:
        self.uri = uri.rstrip("/")
        self.description = self.uri
        self.extra_headers = headers or {}
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def _client(self, http2: bool) -> httpx.AsyncClient:
        client = self._clients.get(http2)
        if client is None:
            client = httpx.AsyncClient(
                http1=not http2,
                http2=http2,
                timeout=httpx.Timeout(10.0, read=None),
                limits=httpx.Limits(max_connections=256),
            )
            self._clients[http2] = client
        return client

    async def discover(self, http2: bool) -> dict[str, Any]:
        try:
            answer = await self._client(http2).get(
                f"{self.uri}/discover", headers={"accept": DISCOVERY_ACCEPT, **self.extra_headers}
            )
        except httpx.HTTPError as exc:
            raise DeploymentError(f"cannot reach {self.uri}: {exc}") from exc
        return _parse_manifest(answer.status_code, answer.headers.get("content-type", ""), answer.content, self.uri)

    async def invoke(
        self, service: str, handler: str, content_type: str, body: RequestBody, bidi: bool
    ) -> AsyncIterator[bytes]:
        async def request_body() -> AsyncIterator[bytes]:
            while True:
                chunk = await body.get()
                if chunk is None:
                    return
                yield chunk

        headers = {"content-type": content_type, "accept": content_type, **self.extra_headers}
        if bidi:
            try:
                async for chunk in duplex_post(self.uri, f"/invoke/{service}/{handler}", headers, body):
                    yield chunk
            except H2StreamError as exc:
                raise DeploymentError(f"lost {self.uri} during {service}/{handler}: {exc}") from exc
            return
        try:
            async with self._client(bidi).stream(
                "POST", f"{self.uri}/invoke/{service}/{handler}", headers=headers, content=request_body()
            ) as answer:
                if answer.status_code != 200:
                    raise DeploymentError(f"deployment answered HTTP {answer.status_code} for {service}/{handler}")
                async for chunk in answer.aiter_raw():
                    yield chunk
        except httpx.HTTPError as exc:
            raise DeploymentError(f"lost {self.uri} during {service}/{handler}: {exc}") from exc

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
