"""The admin API (:9070) over a ``LocalRestate``, answering as Restate Server 1.7.12's does.

A plain ASGI-3 app: routing is a match on path segments, so statuses, ``allow`` headers, empty
404s and the two error spellings (JSON ``{"message", "restate_code"}`` from the admin handlers,
``text/plain`` from request parsing) can follow the real server exactly. It runs on the engine's
loop, so it calls the engine directly.

    app = make_admin_app(lab, ingress_url="http://127.0.0.1:8080/")
    # uvicorn.run(app, port=9070), or httpx.AsyncClient(transport=httpx.ASGITransport(app))
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx

from restate_lab.ingress.admin_edits import edit_deployment, patch_service, set_state
from restate_lab.ingress.admin_restart import restart_as_new
from restate_lab.ingress.asgi import ASGIApp, BodyTooLarge, Receive, Scope, Send, header, lifespan, read_body
from restate_lab.ingress.http_uri import InvalidUri, Uri, parse_uri
from restate_lab.ingress.openapi import service_openapi
from restate_lab.ingress.query import make_query_app
from restate_lab.ingress.register_request import (
    LambdaRegistration,
    field_refusal,
    gcp_token_failure,
    lambda_failure,
    read_register_body,
)
from restate_lab.ingress.replies import (
    NOT_FOUND,
    Reply,
    error_reply,
    json_reply,
    not_allowed,
    text_reply,
)
from restate_lab.ingress.service_client import ConnectTarget, connect_failure, discovery_plan
from restate_lab.protocol.transport import DISCOVERY_ACCEPT, DeploymentError, HttpTransport
from restate_lab.rules.id_errors import id_error, invocation_id_error
from restate_lab.runtime import operations as ops
from restate_lab.runtime.describe import (
    describe_deployment,
    describe_handler,
    describe_registration,
    describe_service,
)
from restate_lab.runtime.invocation import Invocation, InvocationStatus
from restate_lab.runtime.registry import Deployment, parse_manifest

if TYPE_CHECKING:
    from restate_lab.runtime.engine import Engine
    from restate_lab.runtime.local import LocalRestate

QueryHandler = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The server version this admin API imitates, and the admin API versions it claims.
SERVER_VERSION = "1.7.12"
_FEATURES = (
    "vqueues_migration_skip_completed",
    "scoped_promise_table_migration",
    "unique_random_seeds",
    "vqueues",
    "kafka_scope",
    "preflight_invocation_termination_retention",
    "scoped_virtual_objects",
    "vqueues_async_refill",
    "vqueue_obsolete_cleanup",
    "scoped_state_table_migration",
    "protocol_v7",
    "invoker_yield",
)
_READ = "GET,HEAD"
_INVOCATION_OPS = ("cancel", "kill", "purge", "purge-journal", "pause", "resume", "restart-as-new")


def admin_openapi() -> dict[str, Any]:
    """The admin API's own OpenAPI document (describing the routes this module serves)."""
    text = importlib.resources.files("restate_lab.ingress").joinpath("admin_openapi.json").read_text()
    document: dict[str, Any] = json.loads(text)
    return document


def _connect_failure(exc: httpx.HTTPError, http2: bool) -> str:
    text = str(exc) or type(exc).__name__
    causes: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(causes) < 10:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    refused = any(isinstance(c, ConnectionRefusedError) or "refused" in str(c).lower() for c in causes)
    if isinstance(exc, httpx.ConnectError) and refused:
        if http2:
            return "h2 pool connection error: Connection refused (os error 111)"
        return (
            "unable to reach the remote endpoint.\nReason: client error (Connect) caused by: "
            "tcp connect error caused by: Connection refused (os error 111)"
        )
    return text


class AdminApp:
    """Routes admin requests to the engine of one ``LocalRestate``."""

    def __init__(self, lab: LocalRestate, ingress_url: str, query_handler: QueryHandler | None) -> None:
        self.lab = lab
        self.ingress_url = ingress_url
        self.query_handler = query_handler
        self._revisions: dict[str, dict[str, int]] = {}

    @property
    def engine(self) -> Engine:
        return self.lab.engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        raw = scope.get("raw_path") or scope["path"].encode()
        path = raw.decode("latin-1").split("?", 1)[0]
        segments = [urllib.parse.unquote(s) for s in path.split("/")[1:]]
        method = scope["method"]
        if segments == ["query"] and self.query_handler is not None:  # it answers every method
            await self.query_handler(scope, receive, send)
            return
        self._remember_revisions()
        try:
            reply = await self.route(method if method != "HEAD" else "GET", segments, scope, receive)
        except BodyTooLarge:
            reply = text_reply(413, "Failed to buffer the request body: length limit exceeded")
        except Exception as exc:  # the admin API must keep serving whatever a handler does
            reply = error_reply(500, f"restate_lab admin error: {exc!r}")
        await self._send(scope, send, reply, head=method == "HEAD")

    async def _send(self, scope: Scope, send: Send, reply: Reply, *, head: bool) -> None:
        body, headers = reply.body, list(reply.headers)
        if body and "gzip" in (header(scope, b"accept-encoding") or ""):
            body = gzip.compress(body)
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})

    def _remember_revisions(self) -> None:
        for service in self.engine.services.values():
            self._revisions.setdefault(service.deployment.id, {})[service.name] = service.revision

    # ---- routing ----

    async def route(self, method: str, seg: list[str], scope: Scope, receive: Receive) -> Reply:
        n = len(seg)
        head = seg[0] if seg else ""
        if n == 1 and head in ("health", "version", "openapi"):
            if method != "GET":
                return not_allowed(_READ)
            if head == "health":
                return Reply(200)
            if head == "version":
                return json_reply(200, self.version())
            return json_reply(200, admin_openapi())
        if n == 1 and head == "":
            # The admin root redirects to the web UI (which restate_lab does not serve).
            return Reply(308, b"", [(b"location", b"/ui/")]) if method == "GET" else not_allowed(_READ)
        if head == "deployments":
            return await self.route_deployments(method, seg, scope, receive)
        if head == "services" and n == 2 and seg[1] and method == "PATCH":
            return await patch_service(self, seg[1], scope, await read_body(receive))
        if head == "services" and n == 3 and seg[1] and seg[2] == "state":
            if method != "POST":
                return not_allowed("POST")
            return await set_state(self, seg[1], scope, await read_body(receive))
        if head == "services" and 1 <= n <= 5:
            return self.route_services(method, seg)
        if head == "invocations" and n in (2, 3):
            return self.route_invocations(method, seg, scope)
        if head in ("kafka-clusters", "subscriptions"):
            from restate_lab.ingress.kafka_routes import route_kafka  # Kafka is optional: import on use

            return await route_kafka(self.engine, method, seg, scope, receive)
        return NOT_FOUND

    def version(self) -> dict[str, Any]:
        return {
            "version": SERVER_VERSION,
            "min_admin_api_version": 2,
            "max_admin_api_version": 4,
            "ingress_endpoint": self.ingress_url,
            "features": dict.fromkeys(_FEATURES, False),
        }

    # ---- deployments ----

    async def route_deployments(self, method: str, seg: list[str], scope: Scope, receive: Receive) -> Reply:
        if len(seg) == 1:
            if method == "GET":
                services = list(self.engine.services.values())
                return json_reply(
                    200,
                    {
                        "deployments": [
                            describe_deployment(d, services, revisions=self._revisions.get(d.id))
                            for d in self.engine.deployments.values()
                        ]
                    },
                )
            if method == "POST":
                return await self.register(scope, await read_body(receive))
            return not_allowed("GET,HEAD,POST")
        if len(seg) != 2 or not seg[1]:
            return NOT_FOUND
        if method not in ("GET", "DELETE", "PUT", "PATCH"):
            return not_allowed("GET,HEAD,DELETE,PATCH,PUT")
        deployment = self.engine.deployments.get(seg[1])
        if deployment is None:
            reason = id_error(seg[1], "dp")
            if reason is not None:
                return text_reply(400, f"Invalid URL: Cannot parse `deployment` with value `{seg[1]}`: {reason}")
        if method in ("PUT", "PATCH"):
            return await edit_deployment(self, method, seg[1], scope, await read_body(receive))
        if method == "DELETE":
            return self.delete_deployment(seg[1], deployment, scope)
        if deployment is None:
            return error_reply(404, f"The requested deployment '{seg[1]}' does not exist")
        return json_reply(200, describe_deployment(deployment, self.engine.services.values(), detailed=True))

    def delete_deployment(self, dp_id: str, deployment: Deployment | None, scope: Scope) -> Reply:
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("force", ["false"])[-1] != "true":
            return Reply(501)
        if deployment is None:
            return error_reply(404, f"not found in the schema registry: deployment with id '{dp_id}'")
        self.engine.remove_deployment(dp_id)
        return Reply(202)

    def _existing(self, uri: str) -> Deployment | None:
        for deployment in self.engine.deployments.values():
            known = getattr(deployment.transport, "uri", None)
            if isinstance(known, str) and known.rstrip("/") == uri.rstrip("/"):
                return deployment
        return None

    async def register(self, scope: Scope, body: bytes) -> Reply:
        """``POST /deployments``: discover a deployment URL and register its services."""
        ctype = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return text_reply(415, "Expected request with `Content-Type: application/json`")
        request = read_register_body(body)
        if isinstance(request, Reply):
            return request
        refusal = field_refusal(request)
        if refusal is not None:
            return error_reply(400, refusal)
        if isinstance(request, LambdaRegistration):
            # The server would call AWS here; its answer depends on the machine's AWS set-up.
            return error_reply(500, lambda_failure(request.arn), "META0003")
        normalized = str(request.uri)
        flags = {"use_http_11": request.use_http_11, "force": bool(request.force), "dry_run": request.dry_run}
        http2 = not flags["use_http_11"]
        existing = self._existing(normalized)
        if existing is not None and not flags["force"]:
            return self._registered(200, existing)
        if request.auth is not None:
            # Discovery would send a Google ID token; minting one needs GCP credentials restate_lab never has.
            return error_reply(500, gcp_token_failure(request), "META0003")
        manifest_or_error = await self._discover(normalized, http2)
        if isinstance(manifest_or_error, Reply):
            return manifest_or_error
        sdk, manifest = manifest_or_error
        transport = HttpTransport(normalized)
        transport.sdk_version = sdk  # type: ignore[attr-defined]
        if flags["dry_run"]:
            try:
                deployment, services = parse_manifest(manifest, transport)
            except DeploymentError as exc:
                return error_reply(400, f"[META0003] {exc}", "META0003")
            if existing is not None:
                deployment.id = existing.id
            answer = describe_registration(deployment, services)
            return json_reply(200, answer, (b"location", f"deployments/{deployment.id}".encode()))
        try:
            # Re-registering a known URL keeps its id, as the server does.
            replaces = existing.id if existing is not None else None
            deployment = await self.engine.register(transport, http2=http2, replaces=replaces)
        except DeploymentError as exc:
            return error_reply(500, f"[META0003] [META0003] {exc}", "META0003")
        self._remember_revisions()
        return self._registered(200 if existing is not None else 201, deployment)

    def _registered(self, status: int, deployment: Deployment) -> Reply:
        answer = describe_registration(deployment, self.engine.services.values())
        return json_reply(status, answer, (b"location", f"deployments/{deployment.id}".encode()))

    async def _discover(self, uri: str, http2: bool) -> Reply | tuple[str | None, dict[str, Any]]:
        """Fetch the manifest once to word failures as the server does and to learn the SDK's identity."""
        url: str | httpx.URL = uri.rstrip("/") + "/discover"
        target: ConnectTarget | None = None
        try:
            parsed: Uri | None = parse_uri(uri)
        except InvalidUri:
            parsed = None  # a PATCH may bring a URI the crate would refuse: just try it
        if parsed is not None and parsed.is_absolute:
            plan = await discovery_plan(parsed, use_http_11=not http2)
            if isinstance(plan, str):
                return error_reply(500, f"[META0003] [META0003] error when calling '{uri}': {plan}", "META0003")
            target, url = plan
        try:
            async with httpx.AsyncClient(http1=not http2, http2=http2, timeout=10.0) as client:
                answer = await client.get(url, headers={"accept": DISCOVERY_ACCEPT})
        except httpx.HTTPError as exc:
            worded = connect_failure(target, exc) if target is not None else None
            failure = f"error when calling '{uri}': {worded or _connect_failure(exc, http2)}"
        except Exception as exc:  # e.g. an unsupported scheme
            failure = f"error when calling '{uri}': {exc}"
        else:
            if answer.status_code == 200:
                try:
                    manifest = answer.json()
                except ValueError:
                    manifest = None
                if isinstance(manifest, dict):
                    return answer.headers.get("x-restate-server"), manifest
                failure = f"cannot decode the discovery response of '{uri}' as a JSON manifest"
            else:
                shown = json.dumps(dict(answer.headers.items()))
                failure = (
                    f"got status code '{answer.status_code}'. Make sure the provided URI has the correct "
                    f"path where the Restate SDK endpoint is mounted. Response headers: {shown}. "
                    f"Body: {answer.text}"
                )
        return error_reply(500, f"[META0003] [META0003] {failure}", "META0003")

    # ---- services ----

    def route_services(self, method: str, seg: list[str]) -> Reply:
        n = len(seg)
        if (
            any(not s for s in seg[1:])
            or (n >= 3 and seg[2] not in ("handlers", "openapi"))
            or (n == 5 or (n == 4 and seg[2] != "handlers"))
        ):
            return NOT_FOUND
        if method != "GET":
            return not_allowed(_READ if n != 2 else "GET,HEAD,PATCH")
        if n == 1:
            return json_reply(200, {"services": [describe_service(s) for s in self.engine.services.values()]})
        service = self.engine.services.get(seg[1])
        if n == 4:
            handler = service.handlers.get(seg[3]) if service is not None else None
            if service is None or handler is None:
                return error_reply(404, f"The requested handler '{seg[3]}' on service '{seg[1]}' does not exist")
            return json_reply(200, describe_handler(handler, bidi=service.deployment.bidi))
        if service is None:
            return error_reply(404, f"The requested service '{seg[1]}' does not exist")
        if n == 2:
            return json_reply(200, describe_service(service))
        if seg[2] == "openapi":
            return json_reply(200, service_openapi(service, ingress_url=self.ingress_url))
        bidi = service.deployment.bidi
        return json_reply(200, {"handlers": [describe_handler(h, bidi=bidi) for h in service.handlers.values()]})

    # ---- invocations ----

    def route_invocations(self, method: str, seg: list[str], scope: Scope) -> Reply:
        if (len(seg) == 3 and seg[2] not in _INVOCATION_OPS) or (len(seg) == 2 and not seg[1]):
            return NOT_FOUND
        if len(seg) == 2:
            if method != "DELETE":
                return not_allowed("DELETE")
            query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
            mode = query.get("mode", ["cancel"])[-1]
            if mode.lower() not in ("cancel", "kill", "purge"):
                return text_reply(
                    400,
                    f"Failed to deserialize query string: mode: unknown variant `{mode}`, "
                    "expected one of `Cancel`, `cancel`, `Kill`, `kill`, `Purge`, `purge`",
                )
            op = mode.lower()
        else:
            if method != "PATCH":
                return not_allowed("PATCH")
            op = seg[2]
            if op == "restart-as-new":
                return restart_as_new(self.engine, seg[1], scope)
        reason = invocation_id_error(seg[1]) if seg[1] else "bad length"
        if reason is not None:
            return error_reply(400, f"The request field 'invocation_id' is invalid. Reason: {reason}")
        inv = self.engine.find(seg[1])
        if inv is None and len(seg) == 2:
            return Reply(202)  # the legacy DELETE accepts an unknown (well-formed) id silently
        if inv is None:
            return error_reply(404, f"The requested invocation '{seg[1]}' does not exist")
        if len(seg) == 2:
            # The legacy DELETE accepts cancel and kill of completed invocations silently.
            if op != "purge" and inv.status is InvocationStatus.COMPLETED:
                return Reply(202)
            reply = self.manage(op, inv)
            return Reply(202) if reply.status < 300 else reply
        return self.manage(op, inv)

    def manage(self, op: str, inv: Invocation) -> Reply:
        """Cancel, kill, purge, pause or resume one invocation with the server's statuses.

        Restart-as-new, which reads a query, is ``restate_lab.ingress.admin_restart``'s.
        """
        engine, inv_id, status = self.engine, inv.id_str, inv.status
        completed = status is InvocationStatus.COMPLETED
        refusal = ops.management_refusal(op, inv)
        if refusal is not None:
            return error_reply(refusal.code, refusal.message)
        if op in ("cancel", "kill"):
            if op == "cancel":
                # An inboxed or scheduled invocation is removed at once (200); a started one is
                # asked to stop and ends later (202), as on Restate Server 1.7.12.
                queued = status in (InvocationStatus.PENDING, InvocationStatus.SCHEDULED)
                engine.cancel(inv_id)
                return Reply(200 if queued else 202)
            engine.kill(inv_id)
            return Reply(200)
        if op in ("purge", "purge-journal"):
            if op == "purge":
                engine.purge(inv_id)
            else:
                engine.purge_journal(inv_id)
            return Reply(200)
        if op == "pause":
            if status is InvocationStatus.PAUSED:
                return Reply(200)
            if completed or status in (InvocationStatus.PENDING, InvocationStatus.SCHEDULED):
                return error_reply(409, f"The invocation '{inv_id}' is not running, cannot be paused.")
            engine.pause(inv_id)
            return Reply(202)
        if op == "resume":
            engine.resume(inv_id)
            return Reply(200)
        raise ValueError(f"not an invocation operation: {op}")


def make_admin_app(
    lab: LocalRestate,
    *,
    ingress_url: str = "http://127.0.0.1:8080/",
    query_handler: QueryHandler | None = None,
) -> ASGIApp:
    """The admin API of ``lab`` as an ASGI app; ``query_handler`` (an ASGI app) serves ``POST /query``."""
    if query_handler is None:
        query_handler = make_query_app(lab.engine)
    return AdminApp(lab, ingress_url, query_handler)
