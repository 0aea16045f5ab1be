"""The admin requests about Kafka that the docs table and the conformance test replay on both servers.

``run_admin_exchanges`` sends the same sequence to any admin URL and returns normalized rows
(ids → ``<sub_N>``, times → ``<time>``, the broker address → ``<bootstrap>``), so the real Restate
Server's rows and restate_lab's can be compared one for one. ``python -m tests.kafka.exchanges``
prints them as the Markdown table in ``docs/observed-restate-1.7.12.md``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

UNKNOWN_SUB = "sub_10000000000000000000000"


@dataclass
class Row:
    request: str
    status: int
    body: Any  # parsed JSON, or text
    content_type: str | None
    headers: dict[str, str]

    def markdown(self) -> str:
        body = json.dumps(self.body, separators=(",", ":")) if not isinstance(self.body, str) else self.body
        shown = f"`{body}`" if body else "(empty)"
        extra = "<br>".join(f"`{k}: {v}`" for k, v in self.headers.items())
        return f"| `{self.request}` | {self.status} | {shown} | {extra} |"


class _Normalizer:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.ids: dict[str, str] = {}

    def text(self, value: str) -> str:
        value = value.replace(self.bootstrap, "<bootstrap>")
        value = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", "<time>", value)

        def token(match: re.Match[str]) -> str:
            if match.group(0) == UNKNOWN_SUB:
                return match.group(0)
            return self.ids.setdefault(match.group(0), f"<sub_{len(self.ids) + 1}>")

        return re.sub(r"sub_1[0-9A-Za-z]{22}", token, value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value


def run_admin_exchanges(
    admin_url: str, bootstrap: str, *, sink: str = "service://Log/append", missing_handler: str = "service://Log/nope"
) -> list[Row]:
    """Create, read and delete clusters and subscriptions, good and bad, on ``admin_url``."""
    norm = _Normalizer(bootstrap)
    rows: list[Row] = []
    created: list[str] = []

    def send(
        method: str, path: str, body: Any = None, *, raw: bytes | None = None, ctype: str | None = "application/json"
    ) -> httpx.Response:
        headers = {"content-type": ctype} if ctype else {}
        content = (
            raw if raw is not None else (json.dumps(body, separators=(",", ":")).encode() if body is not None else None)
        )
        response = httpx.request(method, admin_url + path, content=content, headers=headers, timeout=30)
        shown = f"{method} {path}" + (f" {content.decode()}" if content else "")
        if ctype != "application/json" and content:
            shown += f" [content-type: {ctype}]"
        answer_type = response.headers.get("content-type")
        parsed: Any = response.text
        if answer_type == "application/json":
            parsed = response.json()
        notable = {k: v for k, v in response.headers.items() if k in ("location", "allow")}
        rows.append(Row(norm.text(shown), response.status_code, norm.value(parsed), answer_type, norm.value(notable)))
        if response.status_code == 201 and path == "/subscriptions":
            created.append(response.json()["id"])
        return response

    props = {"bootstrap.servers": bootstrap}
    send("GET", "/kafka-clusters")
    send("POST", "/kafka-clusters", {"name": "my-cluster", "properties": props})
    send("POST", "/kafka-clusters", {"name": "my-cluster", "properties": props})
    send("POST", "/kafka-clusters", {"name": "other", "properties": {"client.id": "x"}})
    send("POST", "/kafka-clusters", {"name": "x"})
    send("POST", "/kafka-clusters", raw=b"{")
    send("POST", "/kafka-clusters", {"name": "x", "properties": props}, ctype=None)
    send("PUT", "/kafka-clusters")
    send("GET", "/kafka-clusters")
    send("GET", "/kafka-clusters/my-cluster")
    send("GET", "/kafka-clusters/nope")
    send(
        "POST",
        "/subscriptions",
        {"source": "kafka://my-cluster/events", "sink": sink, "options": {"auto.offset.reset": "earliest"}},
    )
    send("GET", "/kafka-clusters/my-cluster")
    send("GET", "/kafka-clusters/my-cluster?include_subscriptions=true")
    for source, target in [
        ("kafka://nope/events", sink),
        ("kafka:/my-cluster", sink),
        ("not a uri", sink),
        ("http://my-cluster/events", sink),
        ("kafka://my-cluster/events", missing_handler),
        ("kafka://my-cluster/events", "service://Nope/x"),
        ("kafka://my-cluster/events", "service://Log"),
        ("kafka://my-cluster/events", "http://Log/append"),
    ]:
        send("POST", "/subscriptions", {"source": source, "sink": target})
    send("POST", "/subscriptions", {"source": "kafka://my-cluster/events"})
    send("GET", "/subscriptions")
    send("GET", "/subscriptions?sink=" + sink)
    send("GET", "/subscriptions?source=kafka://my-cluster/other")
    sub = created[0] if created else UNKNOWN_SUB
    send("GET", f"/subscriptions/{sub}")
    send("GET", f"/subscriptions/{UNKNOWN_SUB}")
    send("GET", "/subscriptions/sub_nope")
    send("PUT", f"/subscriptions/{sub}")
    send("DELETE", "/kafka-clusters/my-cluster")
    send("DELETE", f"/subscriptions/{sub}")
    send("DELETE", f"/subscriptions/{sub}")
    send("DELETE", "/subscriptions/xyz")
    send("POST", "/subscriptions", {"source": "kafka://my-cluster/events", "sink": sink})
    send("DELETE", "/kafka-clusters/my-cluster?force=true")
    send("GET", "/subscriptions")
    send("DELETE", "/kafka-clusters/nope")
    for leftover in created[1:]:
        httpx.delete(f"{admin_url}/subscriptions/{leftover}", timeout=30)
    return rows
