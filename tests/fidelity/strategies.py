"""Hypothesis strategies for requests to the ingress and admin API, as a curious user would send them.

Every request is one :class:`FuzzRequest`: method, request target (path and query, bytes), header
list (names, values and repeats as sent), body, HTTP version, and whether it goes to the admin port.
``{key}`` in the target, headers or body is replaced by a fresh key per example and server, so
virtual-object state, workflow ids and idempotency keys never carry over from one example to the
next; that is what keeps the two servers' answers comparable while sends create invocations.
``{dp}`` is the server's own deployment id, ``{inv}`` the invocation a request's setup steps created
(restart-as-new is fuzzed on invocations in every status, :data:`RESTART_SETUPS`).

What is deliberately *not* generated, because it would make both servers diverge for reasons that are
not about the HTTP surface: calls that wait forever (``Signup/run`` by call, ``Counter/hold``,
awakeables), bodies that make a handler throw a retryable error (a string to ``Counter/add`` would be
retried for ever on both), ``POST /query`` (owned and fuzzed elsewhere), valid registrations and
``PATCH /services`` changes to the services other examples call (only ``Flaky``, never invoked here,
is changed for real).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from restate_lab.rules.ids import InvocationId, awakeable_id


@dataclass(frozen=True)
class FuzzRequest:
    """One generated request, before ``{key}``/``{dp}`` are filled in."""

    family: str
    method: str
    target: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes | None = None
    admin: bool = False
    version: bytes = b"HTTP/1.1"
    #: Compare only the status (answers that embed what legitimately differs, e.g. deployment URIs).
    status_only: bool = False
    #: Sort JSON lists before comparing (the real server lists services in no stable order).
    sort: bool = False
    notes: tuple[str, ...] = field(default=(), compare=False)
    #: Requests sent first, each after waiting its seconds, to bring an invocation into some status;
    #: ``{inv}`` is then the id the last of them answered. Their answers are not compared.
    setup: tuple[tuple[FuzzRequest, float], ...] = ()
    #: Seconds to wait after the setup, before this request.
    settle: float = 0.0
    #: Requests sent after this one (not compared), so nothing the setup started keeps running.
    cleanup: tuple[FuzzRequest, ...] = ()

    def show(self) -> str:
        """A one-line, copy-pasteable description (used in failure messages and reports)."""
        where = "admin " if self.admin else ""
        headers = " ".join(f"[{n.decode('latin-1')}: {v!r}]" for n, v in self.headers)
        body = "" if self.body is None else f" body {self.body[:200]!r}"
        version = "" if self.version == b"HTTP/1.1" else f" {self.version.decode()}"
        shown = f"{self.method} {where}{self.target.decode('latin-1')}{version} {headers}{body}".strip()
        if self.setup:
            steps = "; ".join(f"{step.show()}" + (f" (after {wait}s)" if wait else "") for step, wait in self.setup)
            shown = f"after [{steps}]" + (f" and {self.settle}s" if self.settle else "") + f": {shown}"
        return shown


# --- building blocks ---------------------------------------------------------------------------

JSON_CT = b"application/json"
CONTENT_TYPES: list[bytes | None] = [
    None,
    JSON_CT,
    JSON_CT,
    b"application/json; charset=utf-8",
    b"APPLICATION/JSON",
    b"application/JSON",
    b"Application/Json",
    b"",
    b" ",
    b"text/plain",
    b"*/*",
    b"application/*",
    b"text/*",
    b"application/json ",
    b" application/json",
    b"application/json;",
    b"application/jsonx",
    b"application/x-json",
    b"application/octet-stream",
    b"application/json, text/plain",
    b"multipart/form-data; boundary=x",
]
METHODS = ["GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "FOO"]
KEY_SUFFIXES = [
    "",
    "",
    "",
    "%2Fa",
    "%20b",
    "+c",
    "%FF",
    "%C3%A9",
    "%E2%82%AC",
    "%zz",
    "%",
    "%2",
    "~x",
    "%2e",
    ".",
    "%00",
    "%0A",
    "a%2F%2Fb",
]
DELAY_NAMES = ["delay", "delay", "delay", "DELAY", "Delay", "dElAy", "delay%20", "delays", "de%6Cay", "delay+"]
DELAY_SPELLINGS = [
    "1s",
    "0",
    "0s",
    "-0s",
    "+1s",
    "-1s",
    "1,5s",
    "1.5s",
    "1.5d",
    "P1W",
    "p1w",
    "P1D",
    "PT1S",
    "pt1s",
    "PT0.5S",
    "PT1,5S",
    "1000000d",
    "100y",
    "1y",
    "1mo",
    "1month",
    "2 months",
    "1w",
    "1 week",
    " 1s",
    "1s ",
    "%201s",
    "1s%20",
    "1h,2m",
    "1h, 2m",
    "1h 2m",
    "1h2m",
    "1h%202m",
    "1h+2m",
    "2",
    "2S",
    "abc",
    "",
    "PT",
    "P",
    "P1",
    "PT1H30M",
    "P1Y",
    "P1M",
    "P1DT1H",
    "P0D",
    "1ms",
    "1500ms",
    "1us",
    "1µs",
    "1%C2%B5s",
    "1ns",
    "1 sec",
    "1secs",
    "1second",
    "1seconds",
    "1m",
    "1min",
    "1mins",
    "1minute",
    "1h",
    "1hr",
    "1hrs",
    "1hour",
    "1d",
    "1day",
    "1days",
    "1mon",
    "1yr",
    "1year",
    "1years",
    "1 h 2 m",
    "1H",
    "1D",
    "10s ago",
    "1s ago",
    "-1s ago",
    "PT-1S",
    "-PT1S",
    "+PT1S",
    "P-1D",
    "1e3ms",
    "0x10s",
    "1_000ms",
    "99999999999999999999s",
    "18446744073709551615ms",
    "1.0000000001s",
    "0.000001s",
    "1.s",
    ".5s",
    "1..5s",
    "5s5s",
    "1s1s1s",
    "1h 1h",
]
DELAY_UNITS = [
    "",
    "s",
    "S",
    "ms",
    "m",
    "h",
    "d",
    "w",
    "y",
    "sec",
    "secs",
    "min",
    "hours",
    "days",
    "weeks",
    "mo",
    "months",
    "years",
    "us",
    "ns",
    "µs",
    "x",
]


def _percent(text: str) -> str:
    """Encode what cannot appear raw in a query (spaces, non-ASCII) so the server sees ``text``."""
    out = []
    for byte in text.encode():
        ch = chr(byte)
        out.append(ch if (ch.isalnum() or ch in "-._~,:+%") and byte < 128 else f"%{byte:02X}")
    return "".join(out)


_ISO_NUMBERS = ["0", "1", "2", "10", "007", "1.5", "0,25", "1.", "200000000", "99999999999999999999", "1.123456789123"]


@st.composite
def iso_delay_spelling(draw: st.DrawFn) -> str:
    """An ISO-8601-shaped duration: date units, ``T`` and time units in any order and case, and a tail."""
    text = draw(st.sampled_from(["", "", "+", "-", " "])) + draw(st.sampled_from(["P", "p", "PT"]))
    for letter in draw(st.lists(st.sampled_from("YMWDyd"), max_size=2, unique=True)):
        text += draw(st.sampled_from(_ISO_NUMBERS)) + letter
    if draw(st.integers(0, 4)):
        text += draw(st.sampled_from("TtT"))
        for letter in draw(st.lists(st.sampled_from("HMShms"), max_size=3, unique=True)):
            text += draw(st.sampled_from(_ISO_NUMBERS)) + letter
    return text + draw(st.sampled_from(["", "", "", " ", "x", "1", ", ", "T", "1H", " ago"]))


@st.composite
def delay_spelling(draw: st.DrawFn) -> str:
    """A ``?delay=`` value: a known tricky spelling, or numbers and units glued with separators."""
    if draw(st.booleans()):
        return _percent(draw(st.sampled_from(DELAY_SPELLINGS)))
    if draw(st.integers(0, 3)) == 0:
        return _percent(draw(iso_delay_spelling()))
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        number = draw(
            st.one_of(
                st.integers(0, 100).map(str),
                st.sampled_from(["1.5", "0.25", "1,5", "007", "-1", "1.", "0.0001", "1.123456789", "200000000"]),
            )
        )
        if draw(st.integers(0, 9)) == 0:  # H:M:S in place of a unit value
            parts.append(number + draw(st.sampled_from([":30:00", ":3:00", ":30:00.5", ":30", ":30:", ":30:00,"])))
            continue
        space = draw(st.sampled_from(["", "", " "]))
        parts.append(number + space + draw(st.sampled_from(DELAY_UNITS)))
    separator = draw(st.sampled_from(["", " ", ",", ", ", "  "]))
    # Jiff reads a sign before the units or ``ago`` after them, then nothing but whitespace may be left.
    suffix = draw(st.sampled_from(["", "", "", " ago", " ago ", "  ago", " agox", ", ", ",", " ", " x", "\x0b", " 5"]))
    return _percent(draw(st.sampled_from(["", "", "+", "-", " "])) + separator.join(parts) + suffix)


@st.composite
def query(draw: st.DrawFn, *, with_delay: bool) -> str:
    """A query string (with its ``?``) or nothing."""
    kind = draw(st.sampled_from(["none", "none", "delay", "delay", "other", "delay-twice", "bare"]))
    if kind == "none" or (not with_delay and kind.startswith("delay") and draw(st.booleans())):
        return ""
    if kind == "other":
        return "?" + draw(st.sampled_from(["foo=bar", "a", "x=%FF", "=", "&", "delay_ms=5"]))
    if kind == "bare":
        return "?" + draw(st.sampled_from(DELAY_NAMES))
    name = draw(st.sampled_from(DELAY_NAMES))
    value = draw(delay_spelling())
    text = f"?{name}={value}"
    if kind == "delay-twice":
        text += f"&{draw(st.sampled_from(DELAY_NAMES))}={draw(delay_spelling())}"
    return text


def _mangle_name(draw: st.DrawFn, name: str) -> str:
    """Usually the name itself; sometimes with one character percent-encoded or its case changed."""
    choice = draw(st.sampled_from(["same"] * 6 + ["encode", "upper", "lower", "unknown"]))
    if choice == "encode":
        pos = draw(st.integers(0, len(name) - 1))
        return name[:pos] + f"%{ord(name[pos]):02X}" + name[pos + 1 :]
    if choice == "upper":
        return name.upper()
    if choice == "lower":
        return name.lower()
    if choice == "unknown":
        return draw(st.sampled_from(["Nope", "nope", "restate", "openapi", "health", "send", "call"]))
    return name


def _slashes(draw: st.DrawFn, segments: list[str]) -> str:
    """Join segments with optional extra leading, trailing or inner slashes."""
    lead = "/" * draw(st.sampled_from([1, 1, 1, 1, 2, 3]))
    trail = "/" * draw(st.sampled_from([0, 0, 0, 0, 1, 2, 6]))
    if len(segments) > 1 and draw(st.integers(0, 9)) == 0:
        pos = draw(st.integers(1, len(segments) - 1))
        segments = [*segments[:pos], "", *segments[pos:]]
    return lead + "/".join(segments) + trail


# --- bodies ------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
MALFORMED = [b'{"a": ', b"{", b"nul", b"\xff\xfe", b'"unterminated', b"[1,]", b"\x00"]


@st.composite
def body_for(draw: st.DrawFn, kind: str) -> bytes | None:
    """A body for a handler taking ``kind`` input (``any`` JSON, ``int``, or ``none``)."""
    choice = draw(st.sampled_from(["valid", "valid", "valid", "none", "empty", "malformed"]))
    if choice == "none":
        return None
    if choice == "empty":
        return b""
    if choice == "malformed":
        return draw(st.sampled_from(MALFORMED))
    if kind == "int":
        return str(draw(st.integers(-100, 100))).encode()
    return json.dumps(draw(JSON_VALUES)).encode()


# --- headers -----------------------------------------------------------------------------------

EXTRA_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-custom", b"hello"),
    (b"x-custom", b""),
    (b"x-custom", b"caf\xc3\xa9"),
    (b"x-custom", b"\xe9t\xe9"),
    (b"x-custom", b"a, b"),
    (b"X-Custom", b"upper"),
    (b"x-custom", b" padded "),
    (b"x-custom", b"\x7f"),
    (b"origin", b"http://example.com"),
    (b"origin", b"null"),
    (b"origin", b"https://a.b:8443"),
    (b"accept", b"text/plain"),
    (b"accept", b"*/*"),
    (b"te", b"trailers"),
    (b"expect", b"100-continue"),
    (b"x-restate-id", b"inv_fake"),
    (b"user-agent", b"fuzz/1"),
    (b"keep-alive", b"timeout=5"),
    (b"proxy-connection", b"keep-alive"),
    (b"upgrade", b"h2c"),
    (b"trailer", b"x-custom"),
    (b"forwarded", b"for=1.2.3.4"),
    (b"x-forwarded-for", b"1.2.3.4"),
    (b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    (b"authorization", b"Bearer t"),
    (b"cookie", b"a=b"),
    (b"accept-encoding", b"gzip"),
    (b"content-encoding", b"identity"),
    (b"x-restate-user-agent", b"fuzz"),
    (b"access-control-request-method", b"POST"),
    (b"access-control-request-headers", b"x-custom, content-type"),
    (b"x-\xc3\xa9", b"v"),
]
IDEMPOTENCY_VALUES = [b"{key}", b"{key}", b"{key}-2", b" {key} ", b"{key}\xe9", b"{key}caf\xc3\xa9", b"{key},x"]


@st.composite
def headers(
    draw: st.DrawFn, *, content_type: bool = True, idempotency: bool = True, empty_idempotency: bool = False
) -> tuple[tuple[bytes, bytes], ...]:
    """A header list: maybe a content-type spelling, maybe an idempotency key, some extras (maybe repeated)."""
    out: list[tuple[bytes, bytes]] = []
    if content_type:
        ct = draw(st.sampled_from(CONTENT_TYPES))
        if ct is not None:
            out.append(
                (draw(st.sampled_from([b"content-type", b"content-type", b"Content-Type", b"CONTENT-TYPE"])), ct)
            )
            if draw(st.integers(0, 15)) == 0:
                out.append((b"content-type", draw(st.sampled_from([JSON_CT, b"text/plain"]))))
    if idempotency and draw(st.integers(0, 3)) == 0:
        values = IDEMPOTENCY_VALUES + ([b""] if empty_idempotency else [])
        out.append((b"idempotency-key", draw(st.sampled_from(values))))
    extras = draw(st.lists(st.sampled_from(EXTRA_HEADERS), max_size=3))
    out += extras
    if extras and draw(st.integers(0, 5)) == 0:
        out.append((extras[0][0], b"second"))  # a repeated header, second value last
    return tuple(out)


# --- route families ----------------------------------------------------------------------------

#: service -> (keyed, {handler: input kind}); only handlers that answer promptly on both servers.
CALLABLE = {
    "Greeter": (
        False,
        {
            "greet": "any",
            "no_input": "none",
            "echo": "any",
            "terminal": "none",
            "secret": "none",
            "all_headers": "any",
            "headers": "none",
        },
    ),
    "Counter": (True, {"add": "int", "get": "none"}),
    "Signup": (True, {"status": "none", "approve": "any"}),
}
#: Extra handlers only sent to (``run`` waits for its promise; a call would wait for ever).
SEND_ONLY = {"Signup": {"run": "any"}}


@st.composite
def invoke_request(draw: st.DrawFn) -> FuzzRequest:
    """A call or send in the legacy (``/Svc/key/handler[/send]``) or versioned (``/restate/call``) shape."""
    service = draw(st.sampled_from(sorted(CALLABLE)))
    keyed, handlers = CALLABLE[service]
    send = draw(st.booleans())
    names = dict(handlers)
    if send:
        names.update(SEND_ONLY.get(service, {}))
    handler = draw(st.sampled_from(sorted(names) + ["nope"]))
    kind = names.get(handler, "any")
    segments = [_mangle_name(draw, service)]
    empty_key = False
    if keyed:
        if handler in ("get", "status") and draw(st.integers(0, 7)) == 0:
            segments.append("")
            empty_key = True
        else:
            segments.append("{key}" + draw(st.sampled_from(KEY_SUFFIXES)))
    segments.append(_mangle_name(draw, handler) if handler != "nope" else "nope")
    versioned = draw(st.booleans())
    if versioned:
        segments = ["restate", "send" if send else "call", *segments]
    elif send:
        segments.append(draw(st.sampled_from(["send", "send", "send", "Send", "sendx"])))
    path = _slashes(draw, segments)
    # An empty key is shared by every example, so only reads go there, and no idempotency keys.
    hdrs = draw(headers(empty_idempotency=keyed and not empty_key))
    if empty_key:
        hdrs = tuple(h for h in hdrs if h[0] != b"idempotency-key")
    body = draw(body_for(kind))
    if kind == "int" and body is not None and body not in (b"", *MALFORMED):
        body = body  # an int: add never throws a retryable error
    method = draw(st.sampled_from(METHODS))
    version = draw(st.sampled_from([b"HTTP/1.1"] * 9 + [b"HTTP/1.0"]))
    return FuzzRequest(
        "invoke", method, (path + draw(query(with_delay=True))).encode("latin-1"), hdrs, body, version=version
    )


def _valid_invocation_id(draw: st.DrawFn) -> str:
    seed = draw(st.integers(0, 2**32))
    return str(InvocationId.new(seed % (2**64), random.Random(seed)))


@st.composite
def invocation_id_text(draw: st.DrawFn) -> str:
    """An invocation id: well-formed and unknown, or one of the malformed spellings."""
    if draw(st.booleans()):
        return _valid_invocation_id(draw)
    return draw(
        st.sampled_from(
            [
                "x",
                "inv_1",
                "inv_123",
                "inv_1abc",
                "",
                "inv_" + "z" * 40,
                "dp_1",
                "%20",
                "inv_10000000000000000000000000000",
            ]
        )
    )


@st.composite
def attach_output_request(draw: st.DrawFn) -> FuzzRequest:
    """Attach/output by id, idempotency key or workflow, in the legacy and 1.7 shapes."""
    action = draw(st.sampled_from(["attach", "output", "attach", "output", "bogus", "Attach"]))
    shape = draw(st.sampled_from(["invocation", "invocation", "idempotent", "workflow", "v17"]))
    if shape == "invocation":
        segments = ["restate", "invocation", draw(invocation_id_text()), action]
    elif shape == "idempotent":
        service = draw(st.sampled_from(["Greeter", "Counter", "Nope", "Signup"]))
        key = ["{key}" + draw(st.sampled_from(KEY_SUFFIXES))] if service != "Greeter" else []
        handler = draw(st.sampled_from(["greet", "add", "get", "nope"]))
        segments = [
            "restate",
            "invocation",
            _mangle_name(draw, service),
            *key,
            handler,
            "{key}" + draw(st.sampled_from(["", "%20x", "%FF"])),
            action,
        ]
    elif shape == "workflow":
        segments = [
            "restate",
            "workflow",
            _mangle_name(draw, draw(st.sampled_from(["Signup", "Greeter", "Nope"]))),
            "{key}" + draw(st.sampled_from(KEY_SUFFIXES)),
            action,
        ]
    else:
        segments = ["restate", action.lower() if action != "bogus" else "attach", draw(invocation_id_text())]
    if draw(st.integers(0, 6)) == 0:
        segments.append(draw(st.sampled_from(["x", "", "attach"])))
    method = draw(st.sampled_from(["GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"]))
    hdrs = draw(headers(idempotency=False))
    body = draw(st.one_of(st.none(), st.sampled_from([b"", b"{}", b'"x"'])))
    return FuzzRequest("attach-output", method, _slashes(draw, segments).encode("latin-1"), hdrs, body)


@st.composite
def lookup_request(draw: st.DrawFn) -> FuzzRequest:
    """``POST /restate/lookup|attach|output`` with a JSON target (or something that is not one)."""
    verb = draw(st.sampled_from(["lookup", "lookup", "attach", "output"]))
    kind = draw(st.sampled_from(["invocation", "idempotentInvocation", "workflow", "bad"]))
    spec: dict[str, Any]
    if kind == "invocation":
        spec = {"target": kind, "invocationId": draw(invocation_id_text())}
    elif kind == "idempotentInvocation":
        service = draw(st.sampled_from(["Greeter", "Counter", "Nope", "Signup"]))
        spec = {
            "target": kind,
            "service": service,
            "handler": draw(st.sampled_from(["greet", "add", "run", "x"])),
            "idempotencyKey": "{key}",
        }
        if draw(st.booleans()):
            spec["key"] = "{key}"
    elif kind == "workflow":
        spec = {
            "target": kind,
            "workflowName": draw(st.sampled_from(["Signup", "Greeter", "Nope"])),
            "workflowKey": "{key}",
        }
    else:
        spec = {"target": draw(st.sampled_from(["nope", "Invocation", 1]))}
    for name in draw(st.lists(st.sampled_from(sorted(spec)), max_size=1)):
        if name != "target":
            del spec[name]
    # serde's view of the body: fields of the wrong type, repeated fields (a dict cannot hold them), unknown ones.
    pairs = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in spec.items()]
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(sorted(spec) + ["extra"]))
        value = draw(st.sampled_from(["1", "null", "true", "[]", "{}", "1.5", '"x"', '"invocation"', "-3"]))
        pairs.insert(draw(st.integers(0, len(pairs))), f"{json.dumps(name)}: {value}")
    shaped = ("{" + draw(st.sampled_from([", ", ",\n "])).join(pairs) + "}").encode()
    body = (
        shaped if draw(st.integers(0, 5)) else draw(st.sampled_from(MALFORMED + [b"", b"[1]", b'"x"', b"null", b"{}"]))
    )
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT"]))
    target = _slashes(draw, ["restate", verb])
    return FuzzRequest("lookup", method, target.encode(), draw(headers(idempotency=False)), body)


@st.composite
def misc_ingress_request(draw: st.DrawFn) -> FuzzRequest:
    """Health, openapi, awakeables, scopes and paths that match no route."""
    kind = draw(st.sampled_from(["health", "health", "openapi", "awakeable", "scope", "junk"]))
    sort = False
    if kind == "health":
        segments = ["restate", "health", *draw(st.lists(st.sampled_from(["x", ""]), max_size=1))]
        sort = True
    elif kind == "openapi":
        segments = draw(
            st.sampled_from([["openapi"], ["restate", "openapi"], ["openapi", "x"], ["Greeter", "openapi"]])
        )
    elif kind == "awakeable":
        seed = draw(st.integers(0, 2**32))
        awk = awakeable_id(InvocationId.new(seed, random.Random(seed)), draw(st.integers(1, 5)))
        ident = draw(st.sampled_from([awk, awk, "nope", "inv_1abc", "sign_1abc", "prom_1abc", ""]))
        segments = [
            "restate",
            draw(st.sampled_from(["awakeables", "a", "awakeable"])),
            ident,
            draw(st.sampled_from(["resolve", "reject", "resolve", "other"])),
        ]
    elif kind == "scope":
        segments = ["restate", "scope", draw(st.sampled_from(["s1", "%FF", ""])), "call", "Greeter", "greet"]
    else:
        segments = draw(st.lists(st.sampled_from(["a", "restate", "x", "Greeter", ""]), min_size=0, max_size=8))
    method = draw(st.sampled_from(["GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]))
    body = draw(st.one_of(st.none(), st.sampled_from([b"", b'{"ok":true}', b"nope"])))
    version = draw(st.sampled_from([b"HTTP/1.1"] * 5 + [b"HTTP/1.0"]))
    return FuzzRequest(
        kind,
        method,
        _slashes(draw, segments).encode("latin-1"),
        draw(headers(idempotency=False)),
        body,
        version=version,
        sort=sort,
    )


# --- admin -------------------------------------------------------------------------------------

RETENTIONS = ["1d", "1h", "0s", "bogus", "", "PT1H", "1 day", 5, None, "-1s"]
SERVICE_FIELDS = [
    "public",
    "idempotency_retention",
    "workflow_completion_retention",
    "journal_retention",
    "inactivity_timeout",
    "abort_timeout",
    "retry_policy",
    "unknown_field",
]


@st.composite
def admin_request(draw: st.DrawFn) -> FuzzRequest:
    """Admin routes: read routes, ``PATCH /services``, state, deployments, invocation management."""
    kind = draw(
        st.sampled_from(
            [
                "read",
                "patch-service",
                "patch-service",
                "state",
                "register",
                "register",
                "deployment",
                "deployment",
                "invocation",
                "invocation",
                "junk",
            ]
        )
    )
    status_only = False
    sort = False
    body: bytes | None = None
    ct: tuple[tuple[bytes, bytes], ...] = ((b"content-type", JSON_CT),)
    if kind == "read":
        path = draw(
            st.sampled_from(
                [
                    "/health",
                    "/version",
                    "/services",
                    "/services/Greeter",
                    "/services/Nope",
                    "/services/Greeter/handlers",
                    "/services/Greeter/handlers/greet",
                    "/services/Counter/handlers/nope",
                    "/services/Greeter/openapi",
                    "/deployments",
                    "/deployments/{dp}",
                    "/deployments/dp_10000000000000000000000",
                    "/deployments/xyz",
                    "/health/",
                    "/services/",
                    "/invocations",
                ]
            )
        )
        method = draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]))
        status_only = "deployments" in path or path.endswith("openapi")
        sort = True
    elif kind == "patch-service":
        service = draw(st.sampled_from(["Flaky", "Flaky", "Greeter", "Nope", "Counter"]))
        spec: dict[str, Any] = {}
        for name in draw(st.lists(st.sampled_from(SERVICE_FIELDS), max_size=3, unique=True)):
            if name == "public":
                spec[name] = draw(st.sampled_from([True, False, "x", None, 1]))
            elif name == "retry_policy":
                spec[name] = draw(st.sampled_from([{}, {"max_attempts": 3}, "x"]))
            else:
                spec[name] = draw(st.sampled_from(RETENTIONS))
        if service != "Flaky":
            # Never change a service other examples invoke: only values that fail, or no-ops.
            spec = {
                k: v
                for k, v in spec.items()
                if k == "unknown_field" or v in ("bogus", "x", "", 5, "-1s") or (k == "public" and v is True)
            }
        body = json.dumps(spec).encode() if draw(st.integers(0, 6)) else draw(st.sampled_from(MALFORMED))
        path = f"/services/{service}"
        method = draw(st.sampled_from(["PATCH", "PATCH", "PATCH", "PUT", "POST"]))
        sort = True
    elif kind == "state":
        service = draw(st.sampled_from(["Counter", "Greeter", "Nope", "Signup"]))
        spec = {"object_key": "{key}", "new_state": {"count": [49]}}
        for name in draw(st.lists(st.sampled_from(["object_key", "new_state", "version"]), max_size=2, unique=True)):
            if name == "version":
                spec["version"] = draw(st.sampled_from(["x", 1, None]))
            elif draw(st.booleans()):
                del spec[name]
            else:
                spec[name] = draw(st.sampled_from([1, "x", None, {"count": "x"}, {"count": [256]}, []]))
        body = json.dumps(spec).encode() if draw(st.integers(0, 6)) else draw(st.sampled_from(MALFORMED))
        path = f"/services/{service}/state"
        method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT"]))
    elif kind == "register":
        spec = {
            "uri": draw(
                st.sampled_from(
                    [
                        "http://[::1",
                        "http://127.0.0.1:1",
                        "not a uri",
                        "",
                        "ftp://x",
                        "http://127.0.0.1:1/path?q=1",
                        "http://",
                        "://x",
                        5,
                        None,
                        "http://user@127.0.0.1:1",
                        "http://127.0.0.1:99999",
                    ]
                )
            )
        }
        for name in draw(
            st.lists(
                st.sampled_from(["additional_headers", "use_http_11", "force", "dry_run", "x"]), max_size=2, unique=True
            )
        ):
            if name == "additional_headers":
                spec[name] = draw(st.sampled_from([{"a": 1}, {"a": "b"}, {"a": None}, {"a": ["b"]}, [], "x", {}]))
            else:
                spec[name] = draw(st.sampled_from([True, False, "x", 1]))
        if spec["uri"] in (5, None) and draw(st.booleans()):
            del spec["uri"]
        body = json.dumps(spec).encode() if draw(st.integers(0, 6)) else draw(st.sampled_from(MALFORMED))
        path = "/deployments"
        method = "POST"
    elif kind == "deployment":
        dp = draw(st.sampled_from(["{dp}", "dp_10000000000000000000000", "xyz"]))
        path = f"/deployments/{dp}"
        method = draw(st.sampled_from(["PUT", "PATCH", "PATCH", "POST"]))
        spec = draw(
            st.sampled_from(
                [
                    {"uri": "http://127.0.0.1:1"},
                    {"uri": "http://[::1"},
                    {"uri": 5},
                    {"additional_headers": {"a": 1}},
                    {"uri": "http://127.0.0.1:1", "force": "x"},
                    {"use_http_11": "x"},
                ]
            )
        )
        body = json.dumps(spec).encode() if draw(st.integers(0, 6)) else draw(st.sampled_from(MALFORMED))
        status_only = dp == "{dp}"  # the answer describes the deployment, whose URI legitimately differs
    elif kind == "invocation":
        op = draw(
            st.sampled_from(
                ["cancel", "kill", "purge", "purge-journal", "pause", "resume", "restart-as-new", "nope", ""]
            )
        )
        path = f"/invocations/{draw(invocation_id_text())}" + (f"/{op}" if op else "")
        method = draw(st.sampled_from(["PATCH", "PATCH", "DELETE", "GET", "POST"]))
        if op == "restart-as-new":
            body = draw(st.sampled_from([None, b"{}", b'{"from": 0}', b"{"]))
            path += draw(restart_query())
    else:
        path = draw(st.sampled_from(["/nope", "/", "/services/Greeter/nope", "/invocations/x/y/z", "/query/x"]))
        method = draw(st.sampled_from(["GET", "POST"]))
    if body is not None:
        ct = draw(
            st.sampled_from(
                [
                    ct,
                    ct,
                    ct,
                    (),
                    ((b"content-type", b"text/plain"),),
                    ((b"content-type", b"APPLICATION/JSON"),),
                    ((b"content-type", b"application/json; charset=utf-8"),),
                ]
            )
        )
    else:
        ct = ()
    extra = draw(
        st.lists(
            st.sampled_from(
                [(b"accept-encoding", b"gzip"), (b"origin", b"http://example.com"), (b"accept", b"application/json")]
            ),
            max_size=2,
            unique=True,
        )
    )
    return FuzzRequest(
        f"admin-{kind}", method, path.encode(), (*ct, *extra), body, admin=True, status_only=status_only, sort=sort
    )


# --- admin restart-as-new on invocations in each status ----------------------------------------

RESTART_FROM_VALID = ["0", "1", "2", "3", "01", "%2B1"]
RESTART_FROM_ODD = ["4", "100", "-1", "abc", "", "+1", "4294967296", "1.0", None]
RESTART_DEPLOYMENTS_VALID = ["latest", "Latest", "keep", "Keep", "{dp}"]
RESTART_DEPLOYMENTS_ODD = [
    "LATEST",
    "garbage",
    "",
    None,
    "dp_1",
    "dp_10000000000000000000000",
    "xy_10000000000000000000000",
    "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz",
]
RESTART_PARAMS = ["from", "from", "from", "deployment", "deployment", "FROM", "Deployment", "fr%6Fm", "x"]


def _ingress(path: str, body: bytes | None = None, headers: tuple[tuple[bytes, bytes], ...] = ()) -> FuzzRequest:
    if body is not None:
        headers = ((b"content-type", JSON_CT), *headers)
    return FuzzRequest("setup", "POST", path.encode(), headers, body)


def _manage(op: str) -> FuzzRequest:
    return FuzzRequest("setup", "PATCH", f"/invocations/{{inv}}/{op}".encode(), admin=True)


_IDEMPOTENT = ((b"idempotency-key", b"{key}"),)
#: Each status an invocation can be restarted in: setup steps (request, seconds to wait before it),
#: seconds to settle, and what stops it afterwards. Waits are what the real server needs to get there.
RESTART_SETUPS: dict[str, tuple[tuple[tuple[FuzzRequest, float], ...], float, tuple[FuzzRequest, ...]]] = {
    "completed": (((_ingress("/Greeter/greet", b'"Ada"'), 0.0),), 0.0, ()),
    "failed": (((_ingress("/Greeter/terminal"), 0.0),), 0.0, ()),
    "idempotent": (((_ingress("/Greeter/greet", b'"Ida"', _IDEMPOTENT), 0.0),), 0.0, ()),
    "object": (((_ingress("/Counter/{key}/add", b"1"), 0.0),), 0.0, ()),
    "slept": (((_ingress("/Greeter/slow", b"0.05"), 0.0),), 0.0, ()),
    "workflow": (((_ingress("/OnceFlow/{key}/once_run", b'"w"'), 0.0),), 0.0, ()),
    "workflow-shared": (((_ingress("/Signup/{key}/status"), 0.0),), 0.0, ()),
    "running": (((_ingress("/Greeter/slow/send", b"2"), 0.0),), 0.3, (_manage("kill"),)),
    "scheduled": (((_ingress("/Greeter/greet/send?delay=10s", b'"x"'), 0.0),), 0.0, (_manage("cancel"),)),
    "inboxed": (
        ((_ingress("/Counter/{key}/hold/send", b"0.5"), 0.0), (_ingress("/Counter/{key}/add/send", b"1"), 0.0)),
        0.2,
        (),
    ),
    "backing-off": (((_ingress("/Stuck/{key}/fail_slowly/send"), 0.0),), 0.4, (_manage("kill"),)),
    "paused": (((_ingress("/Stuck/{key}/fail_then_pause/send"), 0.0),), 0.4, (_manage("kill"),)),
    "killed": (((_ingress("/Counter/{key}/hold/send", b"5"), 0.0), (_manage("kill"), 0.3)), 0.3, ()),
    "journal-purged": (((_ingress("/Greeter/greet", b'"J"'), 0.0), (_manage("purge-journal"), 0.0)), 0.0, ()),
    "purged": (((_ingress("/Greeter/greet", b'"P"'), 0.0), (_manage("purge"), 0.0)), 0.0, ()),
}


def _often(draw: st.DrawFn) -> bool:
    """True three times in four: the usual shape, leaving the odd ones a quarter of the examples."""
    return draw(st.integers(0, 3)) != 3


@st.composite
def restart_query(draw: st.DrawFn) -> str:
    """A restart-as-new query: ``from`` and ``deployment`` spelled, valued and repeated in any way."""
    parts = []
    for _ in range(draw(st.integers(0, 2)) if _often(draw) else 3):
        name = draw(st.sampled_from(["from", "deployment"])) if _often(draw) else draw(st.sampled_from(RESTART_PARAMS))
        valid, odd = (
            (RESTART_FROM_VALID, RESTART_FROM_ODD)
            if name.lower().startswith("fr")
            else (RESTART_DEPLOYMENTS_VALID, RESTART_DEPLOYMENTS_ODD)
        )
        value = draw(st.sampled_from(valid if _often(draw) else odd))
        parts.append(name if value is None else f"{name}={value}")
    return "?" + "&".join(parts) if parts else ""


@st.composite
def restart_request(draw: st.DrawFn) -> FuzzRequest:
    """``PATCH /invocations/{inv}/restart-as-new`` of an invocation brought into one of the statuses."""
    status = draw(st.sampled_from(sorted(RESTART_SETUPS)))
    setup, settle, cleanup = RESTART_SETUPS[status]
    op = "restart-as-new" if _often(draw) else draw(st.sampled_from(["restart-as-new/", "Restart-As-New"]))
    method = "PATCH" if _often(draw) else draw(st.sampled_from(["POST", "GET", "DELETE", "PUT"]))
    body = None if _often(draw) else draw(st.sampled_from([b"{", b'{"from": 100}']))
    headers: tuple[tuple[bytes, bytes], ...] = ((b"content-type", JSON_CT),) if body is not None else ()
    if draw(st.booleans()):
        headers += ((b"accept-encoding", b"gzip"),)
    target = f"/invocations/{{inv}}/{op}{draw(restart_query())}".encode()
    return FuzzRequest(
        f"admin-restart-{status}",
        method,
        target,
        headers,
        body,
        admin=True,
        setup=setup,
        settle=settle,
        cleanup=cleanup,
    )


def requests() -> st.SearchStrategy[FuzzRequest]:
    """Any request of any family, weighted towards invocations (the widest surface)."""
    return st.one_of(
        invoke_request(),
        invoke_request(),
        invoke_request(),
        attach_output_request(),
        lookup_request(),
        misc_ingress_request(),
        admin_request(),
        admin_request(),
        restart_request(),
    )
