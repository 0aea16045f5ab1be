"""Load: 20 000 invocation requests from 64 concurrent HTTP/1.1 clients, then nothing lost or duplicated.

The clients run in a separate process (``python -m tests.reliability.test_load --client URL OUT``) so that they
do not share the server's interpreter lock; they reuse the keep-alive exchange of
``benchmarks/ingress_benchmark.py`` and record every answer. Each client mixes, from its own seeded plan:

* calls and sends of ``Work/do``, each with a request id of its own;
* idempotent calls and sends of ``Work/do`` whose keys come from a pool shared by all clients, so the same key
  arrives repeatedly and concurrently;
* calls and sends of ``Sequencer/{key}/append`` on keys the client owns, one request at a time, each appending
  the next sequence number of that key.

Afterwards every accepted send is attached. The test then checks, against the server's own records: every
request was answered (2xx); every send completes with the expected result; every request id's ``ctx.run``
side effect ran exactly once; one invocation per idempotency key, whose id every repeat got back; and each key's
appended list is exactly the client's submission order.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .apps import effect_count, load_app
from .conftest import serving

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 20_000
CLIENTS = 64
KEYS_PER_CLIENT = 4
IDEMPOTENCY_POOL = 1_000
SEED = 20_251_129
#: Request mix: plain call, plain send, idempotent call, idempotent send, keyed call, keyed send.
MIX = (("call", 30), ("send", 25), ("idem-call", 8), ("idem-send", 7), ("key-call", 15), ("key-send", 15))
CLIENT_TIMEOUT_S = 240


# -- the load client (its own process) ------------------------------------------------------------------------


def _exchange_function() -> Any:
    """``_request`` from the ingress benchmark: one keep-alive HTTP/1.1 exchange, returning the status."""
    spec = importlib.util.spec_from_file_location("ingress_benchmark", ROOT / "benchmarks" / "ingress_benchmark.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._request


class _Recording:
    """A stream reader that keeps what the exchange reads, so the head and body can be parsed afterwards."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.parts: list[bytes] = []

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        data = await self.reader.readuntil(separator)
        self.parts.append(data)
        return data

    async def readexactly(self, n: int) -> bytes:
        data = await self.reader.readexactly(n)
        self.parts.append(data)
        return data

    def take(self) -> tuple[dict[str, str], bytes]:
        """The response headers (lower-case names) and decoded body of the exchange just read."""
        head, rest = self.parts[0], self.parts[1:]
        self.parts = []
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name:
                headers[name.strip().lower().decode()] = value.strip().decode()
        if "chunked" in headers.get("transfer-encoding", ""):
            # parts alternate: size line, chunk + CRLF; the last chunk is empty.
            return headers, b"".join(chunk[:-2] for chunk in rest[1::2])
        return headers, b"".join(rest)


def _plan(client: int) -> list[tuple[str, str, Any]]:
    """Client ``client``'s requests in order: (kind, target key or id, payload)."""
    rng = random.Random(SEED + client)
    count = REQUESTS // CLIENTS + (1 if client < REQUESTS % CLIENTS else 0)
    kinds = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX], k=count)
    next_seq: Counter[str] = Counter()
    plan = []
    for n, kind in enumerate(kinds):
        if kind in ("call", "send"):
            plan.append((kind, f"r{client}-{n}", None))
        elif kind.startswith("idem"):
            plan.append((kind, f"idem-{rng.randrange(IDEMPOTENCY_POOL)}", None))
        else:
            key = f"k{client}-{rng.randrange(KEYS_PER_CLIENT)}"
            next_seq[key] += 1
            plan.append((kind, key, next_seq[key]))
    return plan


def _request_bytes(host: str, method: str, path: str, body: bytes | None, extra: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nhost: {host}\r\n{extra}"
    if body is not None:
        head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
    return (head + "\r\n").encode() + (body or b"")


async def _run_clients(url: str) -> dict[str, Any]:
    exchange = _exchange_function()
    parsed = urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    authority = f"{host}:{port}"

    async def one(conn: list[Any], request: bytes) -> tuple[int, dict[str, str], bytes]:
        recording, writer = conn
        try:
            status = await exchange(recording, writer, request)
            headers, body = recording.take()
            return status, headers, body
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            # No retry: resending a non-idempotent request could itself duplicate; the test fails on this.
            writer.close()
            reader, conn[1] = await asyncio.open_connection(host, port)
            conn[0] = _Recording(reader)
            return -1, {}, repr(exc).encode()

    async def client(index: int) -> list[list[Any]]:
        reader, writer = await asyncio.open_connection(host, port)
        conn: list[Any] = [_Recording(reader), writer]
        records = []
        try:
            for kind, name, seq in _plan(index):
                if kind.startswith("key"):
                    path = f"/Sequencer/{name}/append" + ("/send" if kind == "key-send" else "")
                    body, extra = str(seq).encode(), ""
                else:
                    path = "/Work/do" + ("/send" if kind.endswith("send") else "")
                    body = json.dumps({"id": name}).encode()
                    extra = f"idempotency-key: {name}\r\n" if kind.startswith("idem") else ""
                status, headers, answer = await one(conn, _request_bytes(authority, "POST", path, body, extra))
                records.append([index, kind, name, seq, status, headers.get("x-restate-id"), answer.decode()])
        finally:
            writer.close()
        return records

    started = time.monotonic()
    per_client = await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    load_s = time.monotonic() - started
    records = [r for rs in per_client for r in rs]

    # Attach every accepted send, CLIENTS at a time.
    sends = sorted({json.loads(r[6])["invocationId"] for r in records if r[1].endswith("send") and r[4] == 202})
    attached: dict[str, list[Any]] = {}
    queue = list(reversed(sends))

    async def attacher() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        conn: list[Any] = [_Recording(reader), writer]
        try:
            while queue:
                invocation_id = queue.pop()
                request = _request_bytes(authority, "GET", f"/restate/invocation/{invocation_id}/attach", None)
                status, _headers, answer = await one(conn, request)
                attached[invocation_id] = [status, answer.decode()]
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(attacher() for _ in range(CLIENTS)))
    return {"records": records, "attached": attached, "load_s": load_s, "attach_s": time.monotonic() - started}


def client_main(url: str, out: str) -> int:
    Path(out).write_text(json.dumps(asyncio.run(_run_clients(url))))
    return 0


# -- the test (the server side) -------------------------------------------------------------------------------


@pytest.mark.timeout(CLIENT_TIMEOUT_S + 60)
def test_load_loses_nothing_duplicates_nothing_and_keeps_per_key_order(tmp_path: Path) -> None:
    """20 000 mixed requests from 64 clients: all answered, sends complete, effects once, per-key order kept."""
    out = tmp_path / "load.json"
    with serving(load_app()) as (lab, server):
        run = subprocess.run(
            [sys.executable, "-m", "tests.reliability.test_load", "--client", server.ingress_url, str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT_S,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        result = json.loads(out.read_text())
        records, attached = result["records"], result["attached"]
        seen = {key: lab.call("Sequencer", "seen", key=key) for key in {r[2] for r in records if r[3]}}
        frame = lab.query(
            "select target_service_name as service, target_handler_name as handler, count(*) as n "
            "from sys_invocation group by target_service_name, target_handler_name"
        )
        invocations = {f"{row.service}/{row.handler}": row.n for row in frame.itertuples()}

    assert len(records) == REQUESTS
    print(
        f"\nload: {REQUESTS} requests from {CLIENTS} clients in {result['load_s']:.1f}s "
        f"({REQUESTS / result['load_s']:.0f} req/s); {len(attached)} sends attached in "
        f"{result['attach_s']:.1f}s"
    )

    # Zero lost: every request answered 2xx, every accepted send completed with its result.
    failed = [r for r in records if r[4] not in (200, 202)]
    assert not failed, f"{len(failed)} requests not accepted, e.g. {failed[:5]}"
    bad_attach = {i: a for i, a in attached.items() if a[0] != 200}
    assert not bad_attach, f"{len(bad_attach)} sends did not complete, e.g. {list(bad_attach.items())[:5]}"
    for _client, kind, name, _seq, _status, _restate_id, answer in records:
        if kind in ("call", "idem-call"):
            assert json.loads(answer) == name
        elif kind in ("send", "idem-send"):
            assert json.loads(attached[json.loads(answer)["invocationId"]][1]) == name

    # Zero duplicated: one side effect per request id; one invocation per idempotency key, shared by repeats.
    ids = {r[2] for r in records if not r[3]}
    twice = {i: effect_count(i) for i in ids if effect_count(i) != 1}
    assert not twice, f"{len(twice)} request ids whose side effect did not run exactly once: {list(twice)[:5]}"
    assert invocations["Work/do"] == len(ids)
    owners: defaultdict[str, set[str]] = defaultdict(set)
    accepted: Counter[str] = Counter()
    for _client, kind, name, _seq, _status, restate_id, answer in records:
        if kind == "idem-call":
            owners[name].add(restate_id)
        elif kind == "idem-send":
            reply = json.loads(answer)
            owners[name].add(reply["invocationId"])
            accepted[name] += reply["status"] == "Accepted"
    assert all(len(o) == 1 for o in owners.values()), {k: o for k, o in owners.items() if len(o) != 1}
    assert max(accepted.values()) == 1
    repeats = sum(1 for r in records if r[1].startswith("idem")) - len(owners)
    assert repeats > 1_000, "the idempotency pool should make keys repeat"
    print(f"{len(ids)} request ids, {len(owners)} idempotency keys repeated {repeats} times")

    # Per-key order: each key's list is exactly what its client submitted, in submission order.
    submitted: defaultdict[str, list[int]] = defaultdict(list)
    for _client, _kind, name, seq, *_ in records:
        if seq:
            submitted[name].append(seq)
    assert seen == dict(submitted)
    print(f"{len(submitted)} keys, {sum(len(v) for v in submitted.values())} appends in submission order")
    assert invocations["Sequencer/append"] == sum(len(s) for s in submitted.values())


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--client":
        sys.exit(client_main(sys.argv[2], sys.argv[3]))
    sys.exit("usage: python -m tests.reliability.test_load --client INGRESS_URL OUT.json")
