#!/usr/bin/env python
"""Probe a real Restate Server with a small SDK app and write what it answers as a Markdown table.

The imitation ingress is built against this table, so it must come from the server itself, not
from memory of the docs. Run it again for another server version:

    scripts/install-restate-server.sh                      # or RESTATE_SERVER_BIN=/path/to/restate-server
    python scripts/probe_real_server.py                    # writes docs/observed-restate-<version>.md
    python scripts/probe_real_server.py --out /tmp/x.md --json /tmp/x.json

Ids in bodies, paths and headers are replaced by numbered tokens (``<inv_1>``, ``<dp_1>``,
``<awk_1>``) so the same token means the same id; timestamps are left as the server spelled them.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import restate
from restate.retry_policy import InvocationRetryPolicy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restate_lab.server import RestateServer  # noqa: E402

# --------------------------------------------------------------------------------------------
# The probe app: one of each kind of service, and handlers that fail in each way.
# --------------------------------------------------------------------------------------------

greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}!"


@greeter.handler()
async def no_input(ctx: restate.Context) -> str:
    return "no input needed"


@greeter.handler()
async def echo(ctx: restate.Context, value: Any) -> Any:
    return value


@greeter.handler()
async def slow(ctx: restate.Context, seconds: float) -> str:
    await ctx.sleep(timedelta(seconds=seconds))
    return f"slept {seconds}s"


@greeter.handler()
async def terminal(ctx: restate.Context) -> str:
    raise restate.TerminalError("custom failure", status_code=418)


@greeter.handler()
async def terminal_default(ctx: restate.Context) -> str:
    raise restate.TerminalError("plain terminal failure")


@greeter.handler(
    invocation_retry_policy=InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=100), max_attempts=3, on_max_attempts="kill"
    )
)
async def flaky_kill(ctx: restate.Context) -> str:
    raise ValueError("boom (kill after 3 attempts)")


@greeter.handler(
    invocation_retry_policy=InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=100), max_attempts=2, on_max_attempts="pause"
    )
)
async def flaky_pause(ctx: restate.Context) -> str:
    raise ValueError("boom (pause after 2 attempts)")


@greeter.handler()
async def failing(ctx: restate.Context) -> str:
    raise ValueError("always fails (default retry policy)")


@greeter.handler(ingress_private=True)
async def secret(ctx: restate.Context) -> str:
    return "private"


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: restate.ObjectContext, delta: int) -> int:
    value = (await ctx.get("count", type_hint=int) or 0) + delta
    ctx.set("count", value)
    return value


@counter.handler(kind="shared")
async def get(ctx: restate.ObjectSharedContext) -> int:
    return await ctx.get("count", type_hint=int) or 0


@counter.handler()
async def hold(ctx: restate.ObjectContext, seconds: float) -> str:
    await ctx.sleep(timedelta(seconds=seconds))
    return "held"


@counter.handler()
async def wait_awakeable(ctx: restate.ObjectContext) -> Any:
    awakeable_id, promise = ctx.awakeable(type_hint=dict)
    ctx.set("awakeable", awakeable_id)
    return await promise


@counter.handler(kind="shared")
async def awakeable(ctx: restate.ObjectSharedContext) -> str | None:
    return await ctx.get("awakeable", type_hint=str)


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: restate.WorkflowContext, name: str) -> str:
    ctx.set("status", "waiting")
    approver = await ctx.promise("approval", type_hint=str).value()
    ctx.set("status", "approved")
    return f"{name} approved by {approver}"


@signup.handler()
async def approve(ctx: restate.WorkflowSharedContext, by: str) -> None:
    await ctx.promise("approval", type_hint=str).resolve(by)


@signup.handler()
async def status(ctx: restate.WorkflowSharedContext) -> str | None:
    return await ctx.get("status", type_hint=str)


APP = restate.app([greeter, counter, signup])

# --------------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------------

NOTES_BEGIN = "<!-- notes:begin (hand-written, kept by the probe script) -->"
NOTES_END = "<!-- notes:end -->"
#: Sections other tools measured (Kafka, conformance, ...) follow this line and survive regeneration.
APPENDIX = "<!-- appendix: sections below were measured by other scripts and tests; the probe script keeps them -->"
_BORING = {"date", "vary", "access-control-allow-credentials", "content-length", "transfer-encoding"}
_ID_PATTERNS = [
    ("inv", re.compile(r"inv_[0-9A-Za-z]{20,}")),
    ("dp", re.compile(r"dp_[0-9A-Za-z]{10,}")),
    ("awk", re.compile(r"(?:sign|prom)_[0-9A-Za-z_-]{10,}")),
    ("sub", re.compile(r"sub_[0-9A-Za-z]{10,}")),
]


@dataclass
class Observation:
    section: str
    request: str
    status: str
    body: str
    headers: dict[str, str]
    notes: str
    elapsed_ms: int
    raw: dict[str, Any] = field(default_factory=dict)


class Prober:
    """Sends requests, keeps what came back, and renders it as Markdown tables."""

    def __init__(self, srv: RestateServer) -> None:
        self.srv = srv
        self.http = httpx.Client(timeout=15.0)
        self.rows: list[Observation] = []
        self.section = ""
        self._tokens: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def token(self, text: str) -> str:
        """Replace every id in ``text`` by a stable numbered token."""
        for kind, pattern in _ID_PATTERNS:

            def repl(match: re.Match[str], kind: str = kind) -> str:
                found = match.group(0)
                if found not in self._tokens:
                    self._counts[kind] = self._counts.get(kind, 0) + 1
                    self._tokens[found] = f"<{kind}_{self._counts[kind]}>"
                return self._tokens[found]

            text = pattern.sub(repl, text)
        return text

    def req(
        self,
        method: str,
        path: str,
        *,
        admin: bool = False,
        json_body: Any = None,
        content: bytes | Iterator[bytes] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 15.0,
        note: str = "",
        show: str = "",
        max_body: int = 600,
    ) -> httpx.Response | None:
        """Send one request, record it, and return the response (``None`` on a transport error)."""
        base = self.srv.admin_url if admin else self.srv.ingress_url
        hdrs = dict(headers or {})
        if json_body is not None:
            content = json.dumps(json_body).encode()
            hdrs.setdefault("content-type", "application/json")
        label = f"{method} {'admin ' if admin else ''}{path}"
        if show:
            label += f" {show}"
        elif isinstance(content, bytes) and content:
            label += f" body `{content.decode(errors='replace')[:220]}`"
        for name, value in hdrs.items():
            shown_already = f"[{name}:" in show
            if not shown_already and (name != "content-type" or value != "application/json" or not content):
                label += f" [{name}: {value}]"
        started = time.monotonic()
        try:
            response = self.http.request(method, base + path, content=content, headers=hdrs, timeout=timeout)
        except httpx.HTTPError as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            self.rows.append(
                Observation(
                    self.section,
                    self.token(label),
                    f"({type(exc).__name__})",
                    "",
                    {},
                    (note + f" — no response: {exc!r} after {elapsed} ms").strip(" —"),
                    elapsed,
                )
            )
            return None
        elapsed = int((time.monotonic() - started) * 1000)
        ctype = response.headers.get("content-type", "")
        text = (
            response.text
            if ("json" in ctype or "text" in ctype or not ctype)
            else (f"<{len(response.content)} bytes of {ctype}>")
        )
        body = text if len(text) <= max_body else text[:max_body] + f"… ({len(text)} chars)"
        notable = {k: v for k, v in response.headers.items() if k not in _BORING}
        if elapsed >= 500:
            note = (note + f" (answered after {elapsed / 1000:.1f} s)").strip()
        self.rows.append(
            Observation(
                self.section,
                self.token(label),
                str(response.status_code),
                self.token(body),
                {k: self.token(v) for k, v in notable.items()},
                self.token(note),
                elapsed,
                {"body": self.token(text) if len(text) < 20000 else "<large>"},
            )
        )
        return response

    def render(self, version: str, notes: str = "") -> str:
        out = [
            f"# Observed behaviour of Restate Server {version}",
            "",
            "Measured by `scripts/probe_real_server.py` against the real binary (npm "
            f"`@restatedev/restate-server@{version}`) with the probe app defined in that script: "
            "`Greeter` (service), `Counter` (virtual object: exclusive `add`/`hold`/`wait_awakeable`, shared "
            "`get`/`awakeable`), `Signup` (workflow: `run` awaiting durable promise `approval`, shared "
            "`approve`/`status`). Ids are replaced by numbered tokens (same token = same id). "
            "Headers `date`, `vary`, `access-control-allow-credentials`, `content-length` and "
            "`transfer-encoding` are omitted. Requests send `content-type: application/json` with a JSON "
            "body unless shown otherwise. Regenerate with `python scripts/probe_real_server.py`; the "
            "hand-written findings between the `notes` markers are kept across regenerations.",
            "",
            NOTES_BEGIN,
            notes.strip("\n") or "## Findings\n\n(none written yet)",
            NOTES_END,
            "",
        ]
        section = None
        for row in self.rows:
            if row.section != section:
                section = row.section
                out += [
                    "",
                    f"## {section}",
                    "",
                    "| request | status | body | notable headers | notes |",
                    "| --- | --- | --- | --- | --- |",
                ]
            headers = "<br>".join(f"`{k}: {v}`" for k, v in row.headers.items())
            body = f"`{_cell(row.body)}`" if row.body else "(empty)"
            out.append(f"| `{_cell(row.request)}` | {row.status} | {body} | {headers} | {_cell(row.notes)} |")
        return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _json(response: httpx.Response | None) -> Any:
    try:
        return response.json() if response is not None else None
    except ValueError:
        return None


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _mutate(an_id: str, pos: int) -> str:
    """A well-formed id nobody issued: one base62 digit of a real id changed."""
    chars = list(an_id)
    chars[pos] = _BASE62[(_BASE62.index(chars[pos]) + 1) % 62]
    return "".join(chars)


def _save_example(p: Prober, response: httpx.Response | None, path: Path) -> None:
    """Keep a full JSON answer as an example file, ids tokenized and ports normalised to the defaults."""
    if response is None or response.status_code >= 300:
        return
    text = p.token(json.dumps(response.json(), indent=2))
    text = text.replace(p.srv.ingress_url, "http://127.0.0.1:8080")
    for app_server in p.srv.app_servers:
        text = text.replace(app_server.url, "http://127.0.0.1:9080")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def _inv_id(response: httpx.Response | None) -> str:
    if response is None:
        return "inv_missing"
    body = _json(response)
    if isinstance(body, dict) and "invocationId" in body:
        return str(body["invocationId"])
    return response.headers.get("x-restate-id", "inv_missing")


# --------------------------------------------------------------------------------------------
# The probes
# --------------------------------------------------------------------------------------------


def probe_all(p: Prober, examples_dir: Path, version: str) -> None:  # noqa: C901 - a script of probes
    j = {"content-type": "application/json"}

    p.section = "Health and meta"
    p.req("GET", "/restate/health")
    p.req("GET", "/health", admin=True)
    p.req("GET", "/version", admin=True)
    p.req("GET", "/restate/health", admin=False, headers={"accept": "text/plain"}, note="accept ignored?")
    p.req("GET", "/openapi", note="ingress has no openapi route?")
    p.req("GET", "/restate/openapi")

    p.section = "Call (request-response)"
    p.req("POST", "/Greeter/greet", json_body="Ada", note="a successful call")
    p.req(
        "POST",
        "/Greeter/greet",
        content=b'"Ada"',
        headers={"content-type": "application/json; charset=utf-8"},
        show='body `"Ada"`',
        note="content-type with parameters",
    )
    p.req("POST", "/Greeter/no_input", note="no body, no content-type, handler without input")
    p.req("POST", "/Greeter/no_input", json_body="unexpected", note="body sent to a handler without input")
    p.req("POST", "/Greeter/echo", json_body={"a": [1, 2, None]})
    p.req("POST", "/Greeter/echo", json_body=None, content=b"null", headers=j, show="body `null`")
    p.req("POST", "/Greeter/echo", note="no body to a handler that takes input")
    p.req("POST", "/Greeter/echo", content=b"", headers=j, show="empty body [content-type: application/json]")
    p.req("POST", "/Greeter/greet", json_body="Ada", headers={"accept": "text/plain"}, note="accept not matching")
    p.req(
        "POST",
        "/Greeter/greet",
        json_body="Ada",
        headers={"x-custom": "1", "x-restate-id": "inv_fake"},
        note="custom headers on the request",
    )
    p.req("POST", "/Counter/c1/add", json_body=5)
    p.req("POST", "/Counter/c1/add", json_body=2)
    p.req("POST", "/Counter/c1/get", note="shared handler, no body")
    p.req("POST", "/Counter/c%2F1/add", json_body=1, note="key with an encoded slash")
    p.req("POST", "/Counter/c1/get/", note="trailing slash")
    p.req("POST", "/Signup/wf-call/status", note="shared workflow handler before run")

    p.section = "Send (one-way) and delays"
    p.req("POST", "/Greeter/greet/send", json_body="Ada")
    p.req("POST", "/Counter/c1/add/send", json_body=1)
    r_wf_send = p.req("POST", "/Signup/wf-send/run/send", json_body="Bob", note="workflow run via /send")
    p.req("POST", "/Signup/wf-send/run/send", json_body="Bob", note="same workflow id again via /send")
    time.sleep(0.3)
    p.req("POST", "/Signup/wf-send/status", note="workflow shared handler while run waits")
    r_delay = p.req("POST", "/Greeter/greet/send?delay=2s", json_body="Later", note="humantime delay")
    p.req("POST", "/Greeter/greet/send?delay=PT2S", json_body="Iso", note="ISO-8601 delay")
    p.req("POST", "/Greeter/greet/send?delay=1500ms", json_body="ms")
    p.req("POST", "/Greeter/greet/send?delay=0s", json_body="zero")
    p.req("POST", "/Greeter/greet/send?delay=1h%202m", json_body="spaced")
    p.req("POST", "/Greeter/greet/send?delay=1h2m", json_body="joined")
    p.req("POST", "/Greeter/greet/send?delay=2", json_body="bare number")
    p.req("POST", "/Greeter/greet/send?delay=abc", json_body="bad")
    p.req("POST", "/Greeter/greet/send?delay=-1s", json_body="negative")
    p.req("POST", "/Greeter/greet/send?delay=", json_body="empty")
    p.req("POST", "/Greeter/greet/send?delay=2S", json_body="upper S")
    p.req("POST", "/Greeter/greet/send?delay=pt2s", json_body="lower iso")
    p.req("POST", "/Greeter/greet/send?delay=P1D", json_body="one day")
    p.req("POST", "/Greeter/greet/send?delay=2s&foo=bar", json_body="extra query")
    p.req("POST", "/Greeter/greet?delay=1s", json_body="delayed call", note="delay on a call")
    p.req(
        "POST",
        "/Greeter/greet/send?delay=1s",
        json_body="x",
        headers={"idempotency-key": "dk1"},
        note="delayed send with idempotency key",
    )
    if r_delay is not None:
        inv = _inv_id(r_delay)
        p.req("GET", f"/restate/invocation/{inv}/output", note="output of the delayed send before it ran")
        p.req("GET", f"/restate/invocation/{inv}/attach", timeout=10, note="attach waits for the delay")
    del r_wf_send

    p.section = "Idempotency"
    k = {"idempotency-key": "k1"}
    p.req("POST", "/Greeter/greet", json_body="Ada", headers=k, note="first call with key")
    p.req("POST", "/Greeter/greet", json_body="Ada", headers=k, note="same key, same body")
    p.req("POST", "/Greeter/greet", json_body="Eve", headers=k, note="same key, different body")
    p.req(
        "POST",
        "/Greeter/greet/send",
        json_body="Ada",
        headers=k,
        note="send with the key of a completed call",
    )
    p.req("POST", "/Greeter/greet/send", json_body="S", headers={"idempotency-key": "s1"}, note="first send")
    p.req("POST", "/Greeter/greet/send", json_body="S", headers={"idempotency-key": "s1"}, note="repeated send")
    time.sleep(0.3)
    p.req(
        "POST",
        "/Greeter/greet",
        json_body="S",
        headers={"idempotency-key": "s1"},
        note="call with a send's key",
    )
    p.req("POST", "/Greeter/no_input", headers={"idempotency-key": "k1"}, note="same key, other handler")
    p.req("POST", "/Counter/c9/add", json_body=1, headers={"idempotency-key": "k1"}, note="keyed object + key")
    p.req("POST", "/Counter/c9/add", json_body=1, headers={"idempotency-key": "k1"}, note="repeat (count stays)")
    p.req("POST", "/Counter/c9/get")
    p.req("POST", "/Greeter/greet", json_body="E", headers={"idempotency-key": ""}, note="empty key")
    p.req("POST", "/Greeter/terminal", headers={"idempotency-key": "t1"}, note="failing call with key")
    p.req("POST", "/Greeter/terminal", headers={"idempotency-key": "t1"}, note="repeat of a failed call")
    p.req(
        "POST",
        "/Greeter/slow",
        json_body=1.5,
        headers={"idempotency-key": "slow1"},
        show="body `1.5` (bg)",
        timeout=0.3,
        note="started and abandoned by the client (timeout 0.3s)",
    )
    p.req(
        "POST",
        "/Greeter/slow",
        json_body=1.5,
        headers={"idempotency-key": "slow1"},
        note="same key while the first still runs: attaches",
    )

    p.section = "Attach and output by invocation id"
    r = p.req("POST", "/Greeter/greet/send", json_body="Out")
    time.sleep(0.5)
    inv = _inv_id(r)
    p.req("GET", f"/restate/invocation/{inv}/attach")
    p.req("GET", f"/restate/invocation/{inv}/output")
    p.req("POST", f"/restate/invocation/{inv}/output", note="POST instead of GET")
    r = p.req("POST", "/Greeter/slow/send", json_body=2)
    inv_slow = _inv_id(r)
    p.req("GET", f"/restate/invocation/{inv_slow}/output", note="before completion")
    p.req("GET", f"/restate/invocation/{inv_slow}/attach", note="waits")
    r = p.req("POST", "/Greeter/terminal/send")
    time.sleep(0.5)
    inv_t = _inv_id(r)
    p.req("GET", f"/restate/invocation/{inv_t}/output", note="a terminal failure")
    p.req("GET", f"/restate/invocation/{inv_t}/attach")
    unknown = _mutate(inv, -1)
    p.req(
        "GET",
        f"/restate/invocation/{unknown}/attach",
        note="well-formed unknown id (a real id, last digit changed)",
    )
    p.req("GET", f"/restate/invocation/{unknown}/output", note="well-formed unknown id")
    p.req(
        "GET",
        "/restate/invocation/inv_1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/output",
        note="right length, bad checksum",
    )
    p.req("GET", "/restate/invocation/not-an-id/attach", note="malformed id")
    p.req("GET", "/restate/invocation/inv_123/output", note="malformed id with prefix")
    p.req("GET", f"/restate/invocation/{inv}", note="no action")
    p.req("GET", f"/restate/invocation/{inv}/bogus", note="unknown action")
    r = p.req("POST", "/Greeter/greet", json_body="NoKey")
    p.req("GET", f"/restate/invocation/{_inv_id(r)}/output", note="output of a plain (non-idempotent) call")
    p.req(
        "POST",
        "/query",
        admin=True,
        headers={"accept": "application/json"},
        json_body={
            "query": f"select id, idempotency_key, completion_retention from sys_invocation where id = '{_inv_id(r)}'"
        },
        note="a plain call is stored with a server-generated idempotency key",
    )

    p.section = "Attach and output by idempotency key"
    p.req("GET", "/restate/invocation/Greeter/greet/k1/attach")
    p.req("GET", "/restate/invocation/Greeter/greet/k1/output")
    p.req("GET", "/restate/invocation/Greeter/greet/unknown-key/output")
    p.req("GET", "/restate/invocation/Greeter/greet/unknown-key/attach")
    p.req("GET", "/restate/invocation/Counter/c9/add/k1/attach", note="keyed object")
    p.req("GET", "/restate/invocation/Counter/c9/add/k1/output")
    p.req("GET", "/restate/invocation/Counter/add/k1/output", note="keyed object without key")
    p.req("GET", "/restate/invocation/Nope/greet/k1/output", note="unknown service")
    p.req("GET", "/restate/invocation/Greeter/nope/k1/output", note="unknown handler")

    p.section = "Workflows"
    r = p.req("POST", "/Signup/wf1/run/send", json_body="Ada")
    time.sleep(0.3)
    p.req("GET", "/restate/workflow/Signup/wf1/output", note="before completion")
    p.req("POST", "/Signup/wf1/run", json_body="Ada", note="run called while running")
    p.req("POST", "/Signup/wf1/run/send", json_body="Ada", note="run sent again while running")
    p.req("POST", "/Signup/wf1/status")
    p.req("POST", "/Signup/wf1/approve", json_body="Boss")
    p.req("GET", "/restate/workflow/Signup/wf1/attach")
    p.req("GET", "/restate/workflow/Signup/wf1/output")
    p.req("POST", "/Signup/wf1/run", json_body="Ada", note="run twice (after completion)")
    p.req("POST", "/Signup/wf1/run/send", json_body="Ada", note="send run after completion")
    p.req("POST", "/Signup/wf1/approve", json_body="Again", note="resolve completed promise again")
    p.req("GET", f"/restate/invocation/{_inv_id(r)}/output", note="workflow run by invocation id")
    p.req("GET", "/restate/workflow/Signup/never/output", note="unknown workflow id")
    p.req("GET", "/restate/workflow/Signup/never/attach", note="unknown workflow id")
    p.req("GET", "/restate/workflow/Greeter/x/output", note="not a workflow")
    p.req("GET", "/restate/workflow/Nope/x/output", note="unknown service")
    p.req("POST", "/Signup/run", json_body="x", note="workflow without key")
    p.req(
        "POST",
        "/Signup/wf2/run",
        json_body="Ann",
        headers={"idempotency-key": "w"},
        timeout=1.0,
        note="workflow run call with idempotency key",
    )

    p.section = "Versioned 1.7 families (/restate/call, /restate/send, /restate/attach, /restate/output, lookup)"
    p.req("POST", "/restate/call/Greeter/greet", json_body="V")
    p.req("POST", "/restate/call/Counter/c1/add", json_body=1, note="keyed")
    p.req("POST", "/restate/call/Counter/add", json_body=1, note="object without key")
    r = p.req("POST", "/restate/send/Greeter/greet", json_body="V")
    p.req("POST", "/restate/send/Greeter/greet?delay=1s", json_body="V")
    p.req("POST", "/restate/send/Counter/c1/add", json_body=1)
    p.req("POST", "/restate/call/Signup/wf3/run/send", json_body="x", note="send suffix under /restate/call")
    p.req("POST", "/restate/call/Greeter/greet/send", json_body="x", note="send suffix under /restate/call")
    p.req("POST", "/restate/call/Nope/greet", json_body="x")
    p.req("POST", "/restate/scope/s1/call/Greeter/greet", json_body="x", note="scoped call (vqueues off)")
    p.req("GET", "/restate/call/Greeter/greet", note="GET")
    time.sleep(0.3)
    inv = _inv_id(r)
    p.req("GET", f"/restate/attach/{inv}")
    p.req("GET", f"/restate/output/{inv}")
    p.req("POST", f"/restate/attach/{inv}", note="POST with id in path")
    p.req("GET", f"/restate/output/{_mutate(inv, -1)}", note="unknown id")
    p.req("GET", f"/restate/attach/{_mutate(inv, -1)}", note="unknown id")
    p.req("GET", "/restate/output/garbage", note="malformed id")
    p.req("GET", f"/restate/output/{inv_slow}", note="completed by now?")
    tgt_inv = {"target": "invocation", "invocationId": inv}
    tgt_idem = {
        "target": "idempotentInvocation",
        "service": "Greeter",
        "handler": "greet",
        "idempotencyKey": "k1",
    }
    tgt_idem_k = {
        "target": "idempotentInvocation",
        "service": "Counter",
        "key": "c9",
        "handler": "add",
        "idempotencyKey": "k1",
    }
    tgt_wf = {"target": "workflow", "workflowName": "Signup", "workflowKey": "wf1"}
    for tgt in (tgt_inv, tgt_idem, tgt_idem_k, tgt_wf):
        p.req("POST", "/restate/lookup", json_body=tgt)
        p.req("POST", "/restate/output", json_body=tgt)
        p.req("POST", "/restate/attach", json_body=tgt)
    p.req(
        "POST",
        "/restate/lookup",
        json_body={"target": "workflow", "workflowName": "Signup", "workflowKey": "missing"},
        note="unknown workflow key",
    )
    p.req(
        "POST",
        "/restate/lookup",
        json_body={
            "target": "idempotentInvocation",
            "service": "Greeter",
            "handler": "greet",
            "idempotencyKey": "missing",
        },
    )
    p.req(
        "POST",
        "/restate/output",
        json_body={"target": "workflow", "workflowName": "Signup", "workflowKey": "missing"},
        note="unknown workflow key",
    )
    p.req("POST", "/restate/lookup", json_body={"target": "nope"}, note="bad target")
    p.req("POST", "/restate/lookup", json_body={"target": "invocation", "invocationId": "garbage"})
    p.req("POST", "/restate/lookup", content=b"{", headers=j, note="malformed JSON")
    p.req(
        "POST",
        "/restate/lookup",
        json_body={"target": "invocation", "invocationId": inv},
        headers={"content-type": "text/plain"},
        show="JSON body [content-type: text/plain]",
    )
    p.req("GET", "/restate/lookup", note="GET")
    p.req("POST", "/restate/nope", note="unknown /restate verb")
    p.req("POST", "/restate/scope/s1/send/Greeter/greet", json_body="x", note="scoped send")

    p.section = "Awakeables"
    p.req("POST", "/Counter/aw/wait_awakeable/send")
    awk = None
    for _ in range(50):
        answer = _json(p.http.post(p.srv.ingress_url + "/Counter/aw/awakeable"))
        if answer:
            awk = str(answer)
            break
        time.sleep(0.1)
    if awk:
        p.token(awk)
        p.req("POST", f"/restate/awakeables/{awk}/resolve", json_body={"ok": True})
        p.req("POST", f"/restate/awakeables/{awk}/resolve", json_body={"ok": "again"}, note="resolve twice")
        p.req(
            "POST",
            f"/restate/awakeables/{awk}/reject",
            content=b"nope",
            headers={"content-type": "text/plain"},
            note="reject after resolve",
        )
        p.req("GET", "/restate/invocation/Counter/aw/wait_awakeable/x/output", note="(no key; ignore)")
    p.req("POST", "/Counter/aw2/wait_awakeable/send")
    awk2 = None
    for _ in range(50):
        answer = _json(p.http.post(p.srv.ingress_url + "/Counter/aw2/awakeable"))
        if answer:
            awk2 = str(answer)
            break
        time.sleep(0.1)
    if awk2:
        p.token(awk2)
        p.req(
            "POST",
            f"/restate/awakeables/{awk2}/reject",
            content=b"rejected by probe",
            headers={"content-type": "text/plain"},
        )
        time.sleep(0.3)
        p.req("POST", "/Counter/aw2/awakeable", note="object not locked any more")
    p.req("POST", "/restate/awakeables/sign_1garbage/resolve", json_body=1, note="malformed id")
    if awk:
        p.req(
            "POST",
            f"/restate/awakeables/{_mutate(awk, 10)}/resolve",
            json_body=1,
            note="well-formed id of an unknown invocation (a real id with one digit changed)",
        )
        p.req(
            "POST",
            f"/restate/awakeables/{_mutate(awk, -1)}/resolve",
            json_body=1,
            note="a real id with its last digit changed",
        )
    p.req(
        "POST",
        "/restate/awakeables/prom_1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/resolve",
        json_body=1,
        note="prom_ prefix, made-up digits",
    )
    p.req("POST", "/restate/awakeables/xyz/resolve", json_body=1, note="malformed id")
    p.req("POST", "/restate/awakeables/xyz/bogus", json_body=1, note="unknown action")
    p.req("GET", "/restate/awakeables/xyz/resolve", note="GET")

    p.section = "Bad input"
    p.req("POST", "/Greeter/greet", content=b'{"bad', headers=j, note="malformed JSON")
    p.req("POST", "/Greeter/greet", content=b'"Ada"', show='body `"Ada"` without content-type')
    p.req("POST", "/Greeter/greet", content=b'"Ada"', headers={"content-type": "text/plain"})
    p.req("POST", "/Greeter/greet", content=b"Ada", headers={"content-type": "text/plain"})
    p.req("POST", "/Greeter/greet", json_body=42, note="wrong JSON type (schema not enforced?)")
    p.req("POST", "/Nope/greet", json_body="x", note="unknown service")
    p.req("POST", "/Greeter/nope", json_body="x", note="unknown handler")
    p.req("POST", "/Counter/add", json_body=1, note="virtual object without key")
    p.req("POST", "/Counter/c1/add/extra", json_body=1, note="too many segments")
    p.req("POST", "/Greeter/k/greet", json_body="x", note="service with a key")
    p.req("POST", "/Greeter", json_body="x", note="service only")
    p.req("POST", "/Greeter/greet/sendx", json_body="x")
    p.req("GET", "/Greeter/greet", note="GET on a handler")
    p.req("PUT", "/Greeter/greet", json_body="x")
    p.req("DELETE", "/Greeter/greet")
    p.req("PATCH", "/Greeter/greet", json_body="x")
    p.req(
        "OPTIONS",
        "/Greeter/greet",
        headers={"origin": "http://x", "access-control-request-method": "POST"},
        note="CORS preflight",
    )
    p.req("HEAD", "/Greeter/greet")
    p.req("POST", "/Greeter/secret", note="ingress-private handler")
    p.req("POST", "/Greeter/secret/send", note="ingress-private handler via send")
    p.req("GET", "/", note="root")
    p.req("GET", "/nope/a/b/c/d/e", note="unknown path")
    p.req("POST", "/restate", note="bare /restate")

    def big() -> Iterator[bytes]:
        chunk = b"x" * (1 << 20)
        yield b'"'
        for _ in range(33):
            yield chunk
        yield b'"'

    p.req(
        "POST",
        "/Greeter/echo",
        content=big(),
        headers=j,
        show="streamed body of 33 MiB + 2 bytes",
        timeout=30,
    )
    p.req(
        "POST",
        "/Greeter/echo",
        content=b'"' + b"y" * (31 << 20) + b'"',
        headers=j,
        show="body of 31 MiB",
        timeout=60,
        max_body=120,
        note="just under the limit",
    )

    p.section = "Keyed queueing (exclusive vs shared)"
    p.req("POST", "/Counter/q/hold/send", json_body=2)
    time.sleep(0.2)
    p.req("POST", "/Counter/q/get", note="shared handler while an exclusive one holds the key: not queued")
    p.req("POST", "/Counter/q/add", json_body=1, note="exclusive handler on the held key: waits for the lock")
    p.req("POST", "/Counter/other/add", json_body=1, note="another key is not blocked")
    p.req("POST", "/Counter//add", json_body=1, note="empty key")
    p.req("POST", "/Counter/%20/add", json_body=1, note="key of one space")

    p.section = "Handler failures"
    p.req("POST", "/Greeter/terminal", note="TerminalError(status_code=418)")
    p.req("POST", "/Greeter/terminal_default", note="TerminalError without status_code")
    r = p.req("POST", "/Greeter/flaky_kill", timeout=20, note="plain exception, max_attempts=3, on_max=kill")
    p.req("POST", "/Greeter/flaky_pause", timeout=5, note="plain exception, max_attempts=2, on_max=pause")
    p.req("POST", "/Greeter/failing", timeout=4, note="default retry policy: does the call hang?")
    r = p.req("POST", "/Greeter/failing/send")
    time.sleep(1.5)
    inv_fail = _inv_id(r)
    p.req("GET", f"/restate/invocation/{inv_fail}/output", note="output while backing-off")
    p.req(
        "POST",
        "/query",
        admin=True,
        json_body={
            "query": f"select id, status, retry_count, last_failure, last_failure_error_code "
            f"from sys_invocation where id = '{inv_fail}'"
        },
        headers={"accept": "application/json"},
        note="status of the retrying invocation",
    )

    p.section = "Admin: invocations"
    r = p.req("POST", "/Greeter/slow/send", json_body=30)
    time.sleep(0.3)
    p.req("PATCH", f"/invocations/{_inv_id(r)}/cancel", admin=True, note="cancel a suspended (sleeping) invocation")
    p.req("GET", f"/restate/invocation/{_inv_id(r)}/attach", timeout=10, note="attach after cancel")
    p.req("PATCH", f"/invocations/{inv_fail}/cancel", admin=True, note="cancel a backing-off invocation")
    time.sleep(0.5)
    p.req("GET", f"/restate/invocation/{inv_fail}/output", note="output 0.5 s after cancel")
    p.req(
        "GET",
        f"/restate/invocation/{inv_fail}/attach",
        timeout=10,
        note="attach after cancel: the cancel lands at the next retry attempt",
    )
    p.req(
        "POST",
        "/query",
        admin=True,
        headers={"accept": "application/json"},
        json_body={
            "query": "select target, status, retry_count, completion_result, completion_failure "
            "from sys_invocation where target_handler_name in ('flaky_pause', 'flaky_kill')"
        },
        note="what max_attempts did to the flaky handlers",
    )
    r = p.req("POST", "/Counter/ck/hold/send", json_body=5)
    inv_hold = _inv_id(r)
    r2 = p.req("POST", "/Counter/ck/add/send", json_body=1, note="queued behind hold")
    inv_q = _inv_id(r2)
    time.sleep(0.3)
    p.req(
        "POST",
        "/query",
        admin=True,
        headers={"accept": "application/json"},
        json_body={"query": "select id, target, status from sys_invocation where target_service_key = 'ck'"},
    )
    p.req("PATCH", f"/invocations/{inv_q}/cancel", admin=True, note="cancel an inboxed (pending) invocation")
    p.req("PATCH", f"/invocations/{inv_hold}/kill", admin=True, note="kill a suspended/running invocation")
    time.sleep(0.5)
    p.req("GET", f"/restate/invocation/{inv_hold}/output", note="after kill")
    p.req("GET", f"/restate/invocation/{inv_q}/output", note="after cancel while inboxed")
    r = p.req("POST", "/Greeter/greet", json_body="P", headers={"idempotency-key": "purge-me"})
    inv_done = _inv_id(r)
    p.req("PATCH", f"/invocations/{inv_done}/cancel", admin=True, note="cancel a completed invocation")
    p.req("PATCH", f"/invocations/{inv_done}/kill", admin=True, note="kill a completed invocation")
    p.req("PATCH", f"/invocations/{inv_done}/purge", admin=True, note="purge a completed invocation")
    p.req("PATCH", f"/invocations/{inv_done}/purge", admin=True, note="purge again")
    p.req("GET", f"/restate/invocation/{inv_done}/output", note="output after purge")
    p.req(
        "POST",
        "/Greeter/greet",
        json_body="P2",
        headers={"idempotency-key": "purge-me"},
        note="idempotency key reusable after purge?",
    )
    r = p.req("POST", "/Greeter/slow/send", json_body=3)
    p.req("PATCH", f"/invocations/{_inv_id(r)}/purge", admin=True, note="purge a running invocation")
    p.req("PATCH", f"/invocations/{_inv_id(r)}/pause", admin=True, note="pause a running invocation")
    p.req("PATCH", f"/invocations/{_inv_id(r)}/resume", admin=True, note="resume")
    unknown = _mutate(inv_done, -1)
    p.req("PATCH", f"/invocations/{unknown}/cancel", admin=True, note="unknown (well-formed) id")
    p.req("PATCH", f"/invocations/{unknown}/kill", admin=True, note="unknown id")
    p.req("PATCH", f"/invocations/{unknown}/purge", admin=True, note="unknown id")
    p.req("PATCH", "/invocations/inv_1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/cancel", admin=True, note="bad checksum")
    p.req("PATCH", "/invocations/garbage/cancel", admin=True, note="malformed id")
    p.req("DELETE", f"/invocations/{inv_done}", admin=True, note="legacy DELETE")
    p.req("POST", f"/invocations/{inv_done}/cancel", admin=True, note="POST instead of PATCH")

    p.section = "Admin: services, deployments, OpenAPI"
    r = p.req("GET", "/deployments", admin=True, max_body=400)
    _save_example(p, r, examples_dir / f"admin-deployments-{version}.json")
    p.req(
        "POST",
        "/deployments",
        admin=True,
        json_body={"uri": p.srv.app_servers[0].url},
        note="same deployment again without force",
        max_body=300,
    )
    p.req(
        "POST",
        "/deployments",
        admin=True,
        json_body={"uri": p.srv.app_servers[0].url, "force": True},
        note="again with force",
        max_body=300,
    )
    p.req(
        "POST",
        "/deployments",
        admin=True,
        json_body={"uri": "http://127.0.0.1:9/"},
        timeout=30,
        note="nothing listening",
    )
    p.req("POST", "/deployments", admin=True, json_body={"nope": 1}, note="bad body")
    p.req("POST", "/deployments", admin=True, content=b"{", headers=j, note="malformed JSON")
    r = p.req(
        "GET", "/services", admin=True, max_body=300, note=f"full body in docs/examples/admin-services-{version}.json"
    )
    _save_example(p, r, examples_dir / f"admin-services-{version}.json")
    p.req("GET", "/services/Greeter", admin=True, max_body=300)
    p.req("GET", "/services/Nope", admin=True)
    p.req("GET", "/services/Greeter/handlers", admin=True, max_body=300)
    p.req("GET", "/services/Greeter/handlers/greet", admin=True)
    p.req("GET", "/services/Greeter/handlers/secret", admin=True)
    p.req("GET", "/services/Greeter/handlers/nope", admin=True)
    p.req("GET", "/services/Counter/handlers/get", admin=True)
    p.req("GET", "/services/Signup/handlers/run", admin=True)
    for service in ("Greeter", "Counter", "Signup"):
        r = p.req(
            "GET",
            f"/services/{service}/openapi",
            admin=True,
            max_body=300,
            note=f"full document in docs/examples/openapi-{version}-{service}.json (servers.url set to :8080)"
            if service != "Signup"
            else "",
        )
        if r is not None and r.status_code == 200 and service != "Signup":
            examples_dir.mkdir(parents=True, exist_ok=True)
            document = r.json()
            # The ingress URL holds this run's random port; the default server would say :8080.
            for server in document.get("servers", []):
                server["url"] = "http://127.0.0.1:8080/"
            (examples_dir / f"openapi-{version}-{service}.json").write_text(json.dumps(document, indent=2) + "\n")
    p.req("GET", "/services/Nope/openapi", admin=True)
    p.req("GET", "/openapi", admin=True, max_body=200)
    p.req("GET", "/nope", admin=True, note="unknown admin path")

    p.section = "Admin: SQL query"
    q = {"accept": "application/json"}
    p.req(
        "POST",
        "/query",
        admin=True,
        json_body={"query": "select * from sys_invocation limit 1"},
        headers=q,
        max_body=1500,
    )
    p.req(
        "POST",
        "/query",
        admin=True,
        headers=q,
        max_body=4000,
        json_body={
            "query": "select column_name, data_type from information_schema.columns where table_name = 'sys_invocation'"
        },
        note="the columns of sys_invocation",
    )
    p.req("POST", "/query", admin=True, json_body={"query": "selec x"}, headers=q, note="bad SQL")
    p.req(
        "POST",
        "/query",
        admin=True,
        json_body={"query": "select * from nope"},
        headers=q,
        note="unknown table",
    )
    p.req(
        "POST",
        "/query",
        admin=True,
        json_body={"query": "select 1 as one, null as n"},
        headers=q,
        note="nulls in JSON rows",
    )
    p.req(
        "POST",
        "/query",
        admin=True,
        json_body={"query": "select 1 as one"},
        note="no accept header",
        max_body=200,
    )
    p.req(
        "POST",
        "/query",
        admin=True,
        json_body={"query": "select 1 as one"},
        headers={"accept": "text/csv"},
        max_body=200,
    )
    p.req(
        "POST",
        "/query",
        admin=True,
        json_body={"query": "select service_key, key, value_utf8 from state"},
        headers=q,
        max_body=800,
        note="state table",
    )

    p.section = "Deployment transport (HTTP/2 prior knowledge vs HTTP/1.1)"
    second = p.srv.serve_app(APP)
    p.req(
        "POST",
        "/deployments",
        admin=True,
        json_body={"uri": second.url, "use_http_11": True},
        max_body=200,
        note="same services on another URL, HTTP/1.1: a new deployment becomes the latest",
    )
    p.req("GET", "/deployments", admin=True, max_body=1200)
    p.req("POST", "/Greeter/greet", json_body="over HTTP/1.1", note="invocation via the HTTP/1.1 deployment")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="Markdown output (default docs/observed-restate-<v>.md)")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw observations as JSON")
    parser.add_argument("--examples", type=Path, default=ROOT / "docs" / "examples")
    args = parser.parse_args()
    logging.getLogger("restate").setLevel(logging.CRITICAL)  # handler tracebacks are expected here
    with RestateServer.start() as srv:
        version = httpx.get(srv.admin_url + "/version").json()["version"]
        prober = Prober(srv)
        prober.section = "Registration"
        app_url = srv.serve_app(APP).url
        r = prober.req(
            "POST",
            "/deployments",
            admin=True,
            json_body={"uri": app_url},
            max_body=300,
            note=f"first registration; full body in docs/examples/admin-register-{version}.json",
        )
        if r is None or r.status_code >= 300:
            raise SystemExit(f"registration failed: {r and r.text}")
        _save_example(prober, r, args.examples / f"admin-register-{version}.json")
        probe_all(prober, args.examples, version)
        out = args.out or ROOT / "docs" / f"observed-restate-{version}.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        notes = ""
        appendix = ""
        if out.exists():
            old = out.read_text()
            if NOTES_BEGIN in old and NOTES_END in old:
                notes = old.split(NOTES_BEGIN, 1)[1].split(NOTES_END, 1)[0]
            if APPENDIX in old:
                appendix = APPENDIX + old.split(APPENDIX, 1)[1]
        text = prober.render(version, notes)
        out.write_text(text.rstrip("\n") + "\n\n" + appendix if appendix else text)
        if args.json:
            args.json.write_text(json.dumps([asdict(r) for r in prober.rows], indent=1))
        print(f"wrote {out} ({len(prober.rows)} observations)")


if __name__ == "__main__":
    main()
