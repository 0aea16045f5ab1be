"""An :class:`~restate_lab.api.IngressApi` over HTTP, for the real Restate Server or its imitations.

The same client drives the real server, ``restate-lab serve`` and the imitation ingress, so the
notebook layer and conformance tests compare them through one interface. Errors are raised as
:class:`restate_lab.rules.RestateError` built from the server's JSON error body
(``{"code", "message", "source"}``) and its ``x-restate-error-source`` header.

Example::

    client = RestateClient("http://127.0.0.1:8080", "http://127.0.0.1:9070")
    client.call("Greeter", "greet", "Ada")                         # -> "Hello Ada!"
    receipt = client.send("Counter", "add", 1, key="a", delay="2s")
    client.attach(receipt.invocation_id)
    client.query("select id, status from sys_invocation")          # -> pandas.DataFrame
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import httpx

from restate_lab.api import Delay, SendReceipt
from restate_lab.rules.errors import ErrorSource, RestateError

if TYPE_CHECKING:
    import pandas as pd

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
    return RestateError(code, message, cast(ErrorSource, source))


class RestateClient:
    """Invoke handlers through the ingress and manage invocations through the admin API.

    ``admin_url`` is only needed for :meth:`cancel`, :meth:`kill`, :meth:`purge`,
    :meth:`services` and :meth:`query`. ``timeout`` bounds every request (a call waits for the
    handler, so it is generous by default).
    """

    def __init__(self, ingress_url: str, admin_url: str | None = None, *, timeout: float = 60.0) -> None:
        self.ingress_url = ingress_url.rstrip("/")
        self.admin_url = admin_url.rstrip("/") if admin_url else None
        self.http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RestateClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------

    def _admin(self, path: str) -> str:
        if self.admin_url is None:
            raise ValueError("this RestateClient has no admin_url; pass it to use the admin API")
        return self.admin_url + path

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    @staticmethod
    def target_path(service: str, handler: str, key: str | None = None) -> str:
        """``/Service/handler`` or ``/Object/key/handler``, segments percent-encoded."""
        parts = [service] + ([key] if key is not None else []) + [handler]
        return "/" + "/".join(_segment(p) for p in parts)

    def _invoke(
        self,
        path: str,
        body: Any,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        content, base_headers = encode_body(body)
        all_headers = {**base_headers, **(headers or {})}
        if idempotency_key is not None:
            all_headers["idempotency-key"] = idempotency_key
        return self._checked(
            self.http.post(self.ingress_url + path, content=content, headers=all_headers, params=params)
        )

    # -- IngressApi ------------------------------------------------------------------------

    def call(
        self,
        service: str,
        handler: str,
        body: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """``POST /{service}[/{key}]/{handler}`` and return the decoded result."""
        path = self.target_path(service, handler, key)
        return decode_body(self._invoke(path, body, idempotency_key, headers))

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
        path = self.target_path(service, handler, key) + "/send"
        params = {"delay": format_delay(delay)} if delay is not None else None
        answer = self._invoke(path, body, idempotency_key, headers, params).json()
        return SendReceipt(
            invocation_id=answer["invocationId"],
            status=answer.get("status", "Accepted"),
            execution_time=answer.get("executionTime"),
        )

    def attach(self, invocation_id: str) -> Any:
        """``GET /restate/invocation/{id}/attach``: wait for the result."""
        url = f"{self.ingress_url}/restate/invocation/{_segment(invocation_id)}/attach"
        return decode_body(self._checked(self.http.get(url)))

    def output(self, invocation_id: str) -> Any:
        """``GET /restate/invocation/{id}/output``: the result, or ``RestateError`` 470 if not done."""
        url = f"{self.ingress_url}/restate/invocation/{_segment(invocation_id)}/output"
        return decode_body(self._checked(self.http.get(url)))

    def attach_workflow(self, workflow: str, workflow_id: str, *, wait: bool = True) -> Any:
        """``GET /restate/workflow/{Wf}/{id}/attach`` (or ``/output`` when ``wait`` is false)."""
        action = "attach" if wait else "output"
        url = f"{self.ingress_url}/restate/workflow/{_segment(workflow)}/{_segment(workflow_id)}/{action}"
        return decode_body(self._checked(self.http.get(url)))

    def _manage(self, invocation_id: str, action: str) -> None:
        self._checked(self.http.patch(self._admin(f"/invocations/{_segment(invocation_id)}/{action}")))

    def cancel(self, invocation_id: str) -> None:
        """Admin ``PATCH /invocations/{id}/cancel``: graceful, the handler sees a cancellation."""
        self._manage(invocation_id, "cancel")

    def kill(self, invocation_id: str) -> None:
        """Admin ``PATCH /invocations/{id}/kill``: stop at once, without running compensations."""
        self._manage(invocation_id, "kill")

    def purge(self, invocation_id: str) -> None:
        """Admin ``PATCH /invocations/{id}/purge``: forget a completed invocation."""
        self._manage(invocation_id, "purge")

    def resolve_awakeable(self, awakeable_id: str, value: Any = None) -> None:
        """``POST /restate/awakeables/{id}/resolve`` with ``value`` as JSON."""
        url = f"{self.ingress_url}/restate/awakeables/{_segment(awakeable_id)}/resolve"
        content, headers = encode_body(value)
        self._checked(self.http.post(url, content=content, headers=headers))

    def reject_awakeable(self, awakeable_id: str, message: str) -> None:
        """``POST /restate/awakeables/{id}/reject`` with ``message`` as a text/plain body."""
        url = f"{self.ingress_url}/restate/awakeables/{_segment(awakeable_id)}/reject"
        self._checked(self.http.post(url, content=message.encode(), headers={"content-type": "text/plain"}))

    def services(self) -> list[dict[str, Any]]:
        """Admin ``GET /services``, unwrapped from its ``{"services": [...]}`` envelope."""
        answer = self._checked(self.http.get(self._admin("/services"))).json()
        return cast(list[dict[str, Any]], answer["services"])

    # -- admin extras ----------------------------------------------------------------------

    def query(self, sql: str) -> pd.DataFrame:
        """Admin ``POST /query`` as a DataFrame, read from the server's Arrow IPC answer.

        Asking without ``accept: application/json`` gets Arrow, so the frame keeps the server's types
        (timestamps as timestamps, nullable integers) and its columns even when every value is null.
        """
        from restate_lab.runtime.sql.frames import read_arrow_stream, to_frame

        response = self.http.post(self._admin("/query"), json={"query": sql})
        return to_frame(read_arrow_stream(self._checked(response).content))

    def health(self) -> bool:
        """Whether ingress ``/restate/health`` (and admin ``/health`` if known) answer 200."""
        urls = [f"{self.ingress_url}/restate/health"] + ([self._admin("/health")] if self.admin_url else [])
        try:
            return all(self.http.get(u, timeout=2.0).status_code == 200 for u in urls)
        except httpx.HTTPError:
            return False
