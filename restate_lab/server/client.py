"""An :class:`~restate_lab.api.IngressApi` over HTTP, for the real Restate Server or its imitations.

The same client drives the real server, ``restate-lab serve`` and the imitation ingress, so the
notebook layer and conformance tests compare them through one interface. Errors are raised as
:class:`restate_lab.rules.RestateError` built from the server's JSON error body
(``{"code", "message", "source"}``) and its ``x-restate-error-source`` header.

Invoking goes through the ingress; managing (cancel, kill, purge, resume), the catalogue and every
frame (``invocations()``, ``journal()``, ``state()``, ``query()``) through the admin API and its
``/query`` endpoint, so the frames have exactly the real server's columns.

Example::

    client = RestateClient("http://127.0.0.1:8080", "http://127.0.0.1:9070")
    client.call("Greeter", "greet", "Ada")                         # -> "Hello Ada!"
    receipt = client.send("Counter", "add", 1, key="a", delay="2s")
    client.attach(receipt.invocation_id, timeout=10)
    client.invocations(service="Counter")                          # -> pandas.DataFrame
    client.state("Counter", "a")                                   # -> {"count": 1}
    await client.acall("Greeter", "greet", "Bob")                  # awaitable forms: acall, asend, ...
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import httpx

from restate_lab.api import DEFAULT_TIMEOUT, Delay, InvocationTimeout, SendReceipt
from restate_lab.rules.errors import ErrorSource, RestateError

if TYPE_CHECKING:
    import pandas as pd

    from restate_lab.catalogue import Catalogue

_JSON = "application/json"


def format_delay(delay: Delay) -> str:
    """Spell a delay as the ``?delay=`` query parameter: strings pass through, numbers are seconds.

    >>> format_delay(2), format_delay(timedelta(milliseconds=1500)), format_delay("PT2S")
    ('2000ms', '1500ms', 'PT2S')
    """
    if isinstance(delay, str):
        return delay
    seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
    if seconds < 0:
        raise ValueError(f"delay must not be negative: {delay!r}")
    return f"{round(seconds * 1000)}ms"


def _segment(text: str) -> str:
    """Percent-encode one path segment (keys may hold ``/`` and spaces)."""
    return quote(text, safe="")


def encode_body(body: Any) -> tuple[bytes, dict[str, str]]:
    """The request bytes and content-type for a body: ``None`` → empty, ``bytes`` raw, else JSON."""
    if body is None:
        return b"", {}
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body), {}
    return json.dumps(body).encode(), {"content-type": _JSON}


def decode_body(response: httpx.Response) -> Any:
    """A response body as a Python value: JSON is parsed, an empty body is ``None``, else bytes."""
    if not response.content:
        return None
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip().endswith("json"):
        return response.json()
    return response.content


def error_from_response(response: httpx.Response) -> RestateError:
    """Build a :class:`RestateError` from an error response (ingress or admin).

    Ingress errors carry ``{"code", "message", "source"}`` and ``x-restate-error-source``;
    admin errors carry only ``{"message"}``, so their code is the HTTP status. The shared
    ``ErrorSource`` type knows only ``ingress``/``invocation``; admin errors report ``ingress``.
    """
    code = response.status_code
    message = response.reason_phrase or f"HTTP {code}"
    source = response.headers.get("x-restate-error-source")
    try:
        payload = response.json()
    except ValueError:
        payload = None
        if response.content:
            message = response.text
    if isinstance(payload, dict):
        code = int(payload.get("code", code))
        message = str(payload.get("message", message))
        source = payload.get("source", source)
    if source not in ("ingress", "invocation"):
        source = "ingress"
    metadata = payload.get("metadata") if isinstance(payload, dict) else None
    if not isinstance(metadata, dict):
        metadata = {}
    return RestateError(
        code, message, cast(ErrorSource, source), metadata={str(k): str(v) for k, v in metadata.items()}
    )


class _Request:
    """One HTTP request, built once and sent by the blocking or the awaitable transport."""

    __slots__ = ("content", "headers", "json", "method", "params", "timeout", "url")

    def __init__(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        json: Any = None,
        timeout: float | None | object = ...,
    ) -> None:
        self.method = method
        self.url = url
        self.content = content
        self.headers = headers
        self.params = params
        self.json = json
        self.timeout = timeout

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"headers": self.headers, "params": self.params}
        if self.content is not None:
            out["content"] = self.content
        if self.json is not None:
            out["json"] = self.json
        if self.timeout is not ...:
            out["timeout"] = self.timeout
        return out


def _hex_bytes(text: str | None) -> bytes | None:
    """The real server's (and our) JSON rows spell binary columns as hex."""
    if text is None:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return text.encode()


def journal_value(entry_json: str | None) -> Any:
    """The payload an ``entry_json`` carries (input, run result, output ...), decoded; ``None`` if none.

    The server spells payloads as byte lists: ``{"payload": [34, 65, 34]}`` or ``{"Success": [...]}``.
    """
    from restate_lab.runtime.frames import decode_value

    if not entry_json:
        return None
    try:
        entry = json.loads(entry_json)
    except ValueError:
        return None
    stack: list[Any] = [entry]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for name in ("payload", "Success", "value"):
                raw = node.get(name)
                if isinstance(raw, list) and all(isinstance(b, int) for b in raw):
                    return decode_value(bytes(raw))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


class RestateClient:
    """Invoke handlers through the ingress; manage and inspect invocations through the admin API.

    ``admin_url`` is needed for managing, the catalogue and the frames; without it those raise
    :class:`~restate_lab.NotSupportedByTarget`. ``timeout`` (seconds) bounds every blocking wait that
    names none; on expiry a call or attach raises :class:`~restate_lab.InvocationTimeout` saying what
    the invocation is doing, read from the admin API.
    """

    def __init__(
        self, ingress_url: str, admin_url: str | None = None, *, timeout: float | None = DEFAULT_TIMEOUT
    ) -> None:
        self.ingress_url = ingress_url.rstrip("/")
        self.admin_url = admin_url.rstrip("/") if admin_url else None
        self.timeout = timeout
        self.http = httpx.Client(timeout=timeout)
        #: One async client per event loop that used this client (an httpx.AsyncClient is bound to its loop).
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def close(self) -> None:
        """Close the HTTP connections (awaitable clients are closed by :meth:`aclose`, or with their loop)."""
        self.http.close()

    async def aclose(self) -> None:
        """Close the awaitable client of the running loop, and the blocking one."""
        client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
        self.close()

    def __enter__(self) -> RestateClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> RestateClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- plumbing --------------------------------------------------------------------------

    def _admin(self, path: str, operation: str = "the admin API") -> str:
        if self.admin_url is None:
            from restate_lab.api import NotSupportedByTarget

            raise NotSupportedByTarget(
                f"RestateClient({self.ingress_url!r})", operation, "it has no admin_url; pass admin_url= to use it"
            )
        return self.admin_url + path

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    def _send(self, request: _Request) -> httpx.Response:
        return self._checked(self.http.request(request.method, request.url, **request.kwargs()))

    async def _asend(self, request: _Request) -> httpx.Response:
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            client = self._async[loop] = httpx.AsyncClient(timeout=self.timeout)
        return self._checked(await client.request(request.method, request.url, **request.kwargs()))

    def _limit(self, timeout: float | None) -> float | None:
        return timeout if timeout is not None else self.timeout

    @staticmethod
    def target_path(service: str, handler: str, key: str | None = None) -> str:
        """``/Service/handler`` or ``/Object/key/handler``, segments percent-encoded."""
        parts = [service] + ([key] if key is not None else []) + [handler]
        return "/" + "/".join(_segment(p) for p in parts)

    def _invoke_request(
        self,
        path: str,
        body: Any,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
        params: dict[str, str] | None = None,
        timeout: float | None | object = ...,
    ) -> _Request:
        content, base_headers = encode_body(body)
        all_headers = {**base_headers, **(headers or {})}
        if idempotency_key is not None:
            all_headers["idempotency-key"] = idempotency_key
        return _Request(
            "POST", self.ingress_url + path, content=content, headers=all_headers, params=params, timeout=timeout
        )

    def _send_request(
        self,
        service: str,
        handler: str,
        body: Any,
        key: str | None,
        delay: Delay | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> _Request:
        path = self.target_path(service, handler, key) + "/send"
        params = {"delay": format_delay(delay)} if delay is not None else None
        return self._invoke_request(path, body, idempotency_key, headers, params)

    @staticmethod
    def _receipt(response: httpx.Response) -> SendReceipt:
        answer = response.json()
        return SendReceipt(
            invocation_id=answer["invocationId"],
            status=answer.get("status", "Accepted"),
            execution_time=answer.get("executionTime"),
        )

    def _result_url(self, by: str, action: str) -> str:
        return f"{self.ingress_url}/restate/{by}/{action}"

    @staticmethod
    def _by_id(invocation_id: str) -> str:
        return f"invocation/{_segment(invocation_id)}"

    @staticmethod
    def _by_workflow(workflow: str, workflow_id: str) -> str:
        return f"workflow/{_segment(workflow)}/{_segment(workflow_id)}"

    @staticmethod
    def _by_idempotency(service: str, handler: str, idempotency_key: str, key: str | None) -> str:
        parts = [service] + ([key] if key is not None else []) + [handler, idempotency_key]
        return "invocation/" + "/".join(_segment(p) for p in parts)

    # -- timeouts --------------------------------------------------------------------------

    def _timed_out(self, what: str, limit: float | None, where: str, since: float | None = None) -> InvocationTimeout:
        """What the invocation matching ``where`` (SQL) is doing, read from the admin API after a timeout.

        ``since`` (epoch seconds) keeps only invocations created from then on: a call's id is not
        known before its answer, so the newest unfinished invocation of its target is the one described.
        """
        if self.admin_url is None:
            return InvocationTimeout(what, limit or 0.0)
        sql = f"select id, status, retry_count, last_failure, created_at from sys_invocation where {where}"
        try:
            rows = (
                self._send(
                    _Request(
                        "POST", self._admin("/query"), json={"query": sql}, headers={"accept": _JSON}, timeout=10.0
                    )
                )
                .json()
                .get("rows", [])
            )
        except (httpx.HTTPError, RestateError, ValueError):
            rows = []
        return _timeout_from_rows(what, limit, rows, since)

    async def _atimed_out(
        self, what: str, limit: float | None, where: str, since: float | None = None
    ) -> InvocationTimeout:
        if self.admin_url is None:
            return InvocationTimeout(what, limit or 0.0)
        sql = f"select id, status, retry_count, last_failure, created_at from sys_invocation where {where}"
        try:
            response = await self._asend(
                _Request("POST", self._admin("/query"), json={"query": sql}, headers={"accept": _JSON}, timeout=10.0)
            )
            rows = response.json().get("rows", [])
        except (httpx.HTTPError, RestateError, ValueError):
            rows = []
        return _timeout_from_rows(what, limit, rows, since)

    @staticmethod
    def _call_filter(service: str, handler: str, key: str | None, idempotency_key: str | None) -> str:
        from restate_lab.runtime.frames import sql_string

        target = "/".join([service] + ([key] if key is not None else []) + [handler])
        where = f"target = {sql_string(target)} and status <> 'completed'"
        if idempotency_key is not None:
            where += f" and idempotency_key = {sql_string(idempotency_key)}"
        return where

    @staticmethod
    def _id_filter(invocation_id: str) -> str:
        from restate_lab.runtime.frames import sql_string

        return f"id = {sql_string(invocation_id)}"

    # -- invoke ----------------------------------------------------------------------------

    def call(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """``POST /{service}[/{key}]/{handler}`` and return the decoded result (wait at most ``timeout`` s)."""
        limit = self._limit(timeout)
        request = self._invoke_request(
            self.target_path(service, handler, key), body, idempotency_key, headers, timeout=limit
        )
        started = time.time()
        try:
            return decode_body(self._send(request))
        except httpx.TimeoutException:
            where = self._call_filter(service, handler, key, idempotency_key)
            raise self._timed_out(request.url.removeprefix(self.ingress_url + "/"), limit, where, started) from None

    async def acall(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Awaitable :meth:`call`."""
        limit = self._limit(timeout)
        request = self._invoke_request(
            self.target_path(service, handler, key), body, idempotency_key, headers, timeout=limit
        )
        started = time.time()
        try:
            return decode_body(await self._asend(request))
        except httpx.TimeoutException:
            where = self._call_filter(service, handler, key, idempotency_key)
            what = request.url.removeprefix(self.ingress_url + "/")
            raise await self._atimed_out(what, limit, where, started) from None

    def send(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        delay: Delay | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendReceipt:
        """``POST …/send[?delay=]``; the receipt holds the id, Accepted/PreviouslyAccepted, executionTime."""
        return self._receipt(
            self._send(self._send_request(service, handler, body, key, delay, idempotency_key, headers))
        )

    async def asend(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        delay: Delay | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendReceipt:
        """Awaitable :meth:`send`."""
        request = self._send_request(service, handler, body, key, delay, idempotency_key, headers)
        return self._receipt(await self._asend(request))

    # -- results ---------------------------------------------------------------------------

    def _wait(self, by: str, what: str, where: str, timeout: float | None) -> Any:
        limit = self._limit(timeout)
        try:
            return decode_body(self._send(_Request("GET", self._result_url(by, "attach"), timeout=limit)))
        except httpx.TimeoutException:
            raise self._timed_out(what, limit, where) from None

    def attach(self, invocation_id: str, *, timeout: float | None = None) -> Any:
        """``GET /restate/invocation/{id}/attach``: wait (at most ``timeout`` s) for the result."""
        return self._wait(self._by_id(invocation_id), invocation_id, self._id_filter(invocation_id), timeout)

    async def aattach(self, invocation_id: str, *, timeout: float | None = None) -> Any:
        """Awaitable :meth:`attach`."""
        limit = self._limit(timeout)
        url = self._result_url(self._by_id(invocation_id), "attach")
        try:
            return decode_body(await self._asend(_Request("GET", url, timeout=limit)))
        except httpx.TimeoutException:
            raise await self._atimed_out(invocation_id, limit, self._id_filter(invocation_id)) from None

    def output(self, invocation_id: str) -> Any:
        """``GET /restate/invocation/{id}/output``: the result, or ``RestateError`` 470 if not done."""
        return decode_body(self._send(_Request("GET", self._result_url(self._by_id(invocation_id), "output"))))

    async def aoutput(self, invocation_id: str) -> Any:
        """Awaitable :meth:`output`."""
        url = self._result_url(self._by_id(invocation_id), "output")
        return decode_body(await self._asend(_Request("GET", url)))

    def attach_workflow(self, workflow: str, workflow_id: str, *, timeout: float | None = None) -> Any:
        """``GET /restate/workflow/{Wf}/{id}/attach``: wait for the workflow's ``run``."""
        from restate_lab.runtime.frames import sql_string

        where = (
            f"target_service_name = {sql_string(workflow)} and target_service_key = {sql_string(workflow_id)}"
            " and target_service_ty = 'workflow' and status <> 'completed'"
        )
        return self._wait(self._by_workflow(workflow, workflow_id), f"{workflow}/{workflow_id}", where, timeout)

    def output_workflow(self, workflow: str, workflow_id: str) -> Any:
        """``GET /restate/workflow/{Wf}/{id}/output``: the run's result, or 470 if not done."""
        url = self._result_url(self._by_workflow(workflow, workflow_id), "output")
        return decode_body(self._send(_Request("GET", url)))

    def attach_idempotent(
        self, service: str, handler: str, idempotency_key: str, *, key: str | None = None, timeout: float | None = None
    ) -> Any:
        """``GET /restate/invocation/{Svc}[/{key}]/{handler}/{idempotencyKey}/attach``."""
        where = self._call_filter(service, handler, key, idempotency_key)
        what = f"{self.target_path(service, handler, key)[1:]} (idempotency key {idempotency_key!r})"
        return self._wait(self._by_idempotency(service, handler, idempotency_key, key), what, where, timeout)

    def output_idempotent(self, service: str, handler: str, idempotency_key: str, *, key: str | None = None) -> Any:
        """``GET /restate/invocation/{Svc}[/{key}]/{handler}/{idempotencyKey}/output``; 470 if not done."""
        url = self._result_url(self._by_idempotency(service, handler, idempotency_key, key), "output")
        return decode_body(self._send(_Request("GET", url)))

    def status(self, invocation_id: str) -> str:
        """The invocation's status, from ``sys_invocation``; ``RestateError`` 404 if unknown."""
        rows = self._rows(f"select status from sys_invocation where {self._id_filter(invocation_id)}", "status")
        if not rows:
            raise RestateError(404, f"invocation '{invocation_id}' not found")
        return str(rows[0]["status"])

    # -- manage ----------------------------------------------------------------------------

    def _manage(self, invocation_id: str, action: str) -> None:
        url = self._admin(f"/invocations/{_segment(invocation_id)}/{action}", action)
        self._send(_Request("PATCH", url))

    def cancel(self, invocation_id: str) -> None:
        """Admin ``PATCH /invocations/{id}/cancel``: graceful, the handler sees a cancellation."""
        self._manage(invocation_id, "cancel")

    def kill(self, invocation_id: str) -> None:
        """Admin ``PATCH /invocations/{id}/kill``: stop at once, without running compensations."""
        self._manage(invocation_id, "kill")

    def purge(self, invocation_id: str) -> None:
        """Admin ``PATCH /invocations/{id}/purge``: forget a completed invocation."""
        self._manage(invocation_id, "purge")

    def resume(self, invocation_id: str) -> None:
        """Admin ``PATCH /invocations/{id}/resume``: resume a paused invocation."""
        self._manage(invocation_id, "resume")

    def resolve_awakeable(self, awakeable_id: str, value: Any = None) -> None:
        """``POST /restate/awakeables/{id}/resolve`` with ``value`` as JSON."""
        url = f"{self.ingress_url}/restate/awakeables/{_segment(awakeable_id)}/resolve"
        content, headers = encode_body(value)
        self._send(_Request("POST", url, content=content, headers=headers))

    def reject_awakeable(self, awakeable_id: str, message: str) -> None:
        """``POST /restate/awakeables/{id}/reject`` with ``message`` as a text/plain body."""
        url = f"{self.ingress_url}/restate/awakeables/{_segment(awakeable_id)}/reject"
        self._send(_Request("POST", url, content=message.encode(), headers={"content-type": "text/plain"}))

    # -- catalogue -------------------------------------------------------------------------

    def services(self) -> list[dict[str, Any]]:
        """Admin ``GET /services``, unwrapped from its ``{"services": [...]}`` envelope."""
        answer = self._send(_Request("GET", self._admin("/services", "services"))).json()
        return cast(list[dict[str, Any]], answer["services"])

    def catalogue(self) -> Catalogue:
        """The server's services as a :class:`~restate_lab.catalogue.Catalogue` (e.g. to simulate them)."""
        from restate_lab.catalogue import Catalogue

        return Catalogue.from_admin(self.services())

    # -- inspect ---------------------------------------------------------------------------

    def _rows(self, sql: str, operation: str = "query") -> list[dict[str, Any]]:
        request = _Request("POST", self._admin("/query", operation), json={"query": sql}, headers={"accept": _JSON})
        return cast(list[dict[str, Any]], self._send(request).json().get("rows", []))

    def query(self, sql: str) -> pd.DataFrame:
        """Admin ``POST /query`` as a DataFrame, read from the server's Arrow IPC answer.

        Asking without ``accept: application/json`` gets Arrow, so the frame keeps the server's types
        (timestamps as timestamps, nullable integers) and its columns even when every value is null.
        """
        from restate_lab.runtime.sql.frames import read_arrow_stream, to_frame

        response = self._send(_Request("POST", self._admin("/query", "query"), json={"query": sql}))
        return to_frame(read_arrow_stream(response.content))

    def invocations(
        self, *, service: str | None = None, status: str | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """``sys_invocation`` rows, newest first, with every column of the table."""
        from restate_lab.runtime.frames import invocations_frame, invocations_sql

        return invocations_frame(self._rows(invocations_sql(service, status, limit), "invocations"))

    def journal(self, invocation_id: str) -> pd.DataFrame:
        """``sys_journal`` rows of one invocation, with a ``value`` decoded from ``entry_json`` (or ``raw``)."""
        from restate_lab.runtime.frames import journal_frame, journal_sql, row_entry_value

        rows = self._rows(journal_sql(invocation_id), "journal")
        for row in rows:
            value = journal_value(row.get("entry_json"))
            row["value"] = value if value is not None else row_entry_value(row.get("entry_type"), row.get("raw"))
        return journal_frame(rows)

    def state(self, service: str, key: str) -> dict[str, Any]:
        """An object's or workflow's state from the ``state`` table, values JSON-decoded (bytes otherwise)."""
        from restate_lab.runtime.frames import decode_value, sql_string

        sql = (
            f"select key, value from state where service_name = {sql_string(service)} "
            f"and service_key = {sql_string(key)}"
        )
        return {str(row["key"]): decode_value(_hex_bytes(row.get("value")) or b"") for row in self._rows(sql, "state")}

    def health(self) -> bool:
        """Whether ingress ``/restate/health`` (and admin ``/health`` if known) answer 200."""
        urls = [f"{self.ingress_url}/restate/health"] + ([self._admin("/health")] if self.admin_url else [])
        try:
            return all(self.http.get(u, timeout=2.0).status_code == 200 for u in urls)
        except httpx.HTTPError:
            return False


def _timeout_from_rows(
    what: str, limit: float | None, rows: list[dict[str, Any]], since: float | None
) -> InvocationTimeout:
    """The timeout error for the newest of ``rows`` created since ``since`` (all rows when ``None``)."""

    def created(row: dict[str, Any]) -> float:
        try:
            return datetime.fromisoformat(str(row.get("created_at"))).astimezone(UTC).timestamp()
        except ValueError:
            return 0.0

    # The server's clock and ours may differ by a little; a second of slack keeps the match.
    candidates = [r for r in rows if since is None or created(r) >= since - 1.0]
    if not candidates:
        return InvocationTimeout(what, limit or 0.0)
    row = max(candidates, key=created)
    retry = row.get("retry_count")
    return InvocationTimeout(
        what,
        limit or 0.0,
        row.get("id"),
        row.get("status"),
        int(retry) if retry is not None else 0,
        row.get("last_failure"),
    )
