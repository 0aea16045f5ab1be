"""Ingress request paths as Restate Server 1.7.12 reads them.

Measured on the real server (``tests/conformance`` pins each rule):

- leading and trailing slashes are ignored (``//Greeter/greet//`` is ``/Greeter/greet``); empty
  segments *inside* the path are kept (``/Counter//get`` is the empty key, ``/Greeter//greet`` a bad
  path); the trimmed path must have 2 to 7 slashes, else ``bad path: /<trimmed>``;
- segments are taken as sent: only object keys and workflow keys (and scope keys) are
  percent-decoded, so ``/Gr%65eter/greet`` names a service called ``Gr%65eter``; a key that does not
  decode to UTF-8 is a 400 ``bad path, cannot decode key: FromUtf8Error { ... }``; invalid escapes
  (``%zz``, a lone ``%``) stay as they are and ``+`` is not a space;
- segments after the ones a route needs are ignored for health, awakeables, workflows and
  invocations, and are a bad path for calls, sends and the 1.7 verbs.
"""

from __future__ import annotations

import re

from restate_lab.rules.errors import RestateError

_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")


def request_path(raw_path: bytes) -> tuple[str, list[str]]:
    """The path the server shows in errors (``/`` + trimmed) and its segments (never percent-decoded)."""
    text = raw_path.split(b"?", 1)[0].decode("latin-1")
    if text.startswith(("http://", "https://")):  # absolute-form request target
        rest = text.split("//", 1)[1]
        text = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    trimmed = text.strip("/")
    shown = "/" + trimmed
    if not 2 <= shown.count("/") <= 7:
        raise RestateError(400, f"bad path: {_shown(shown)}")
    return shown, trimmed.split("/")


def _shown(path: str) -> str:
    """A path as it appears in a message (the raw bytes were latin-1 decoded; show them as UTF-8)."""
    try:
        return path.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return path.encode("latin-1").decode("utf-8", errors="replace")


def segment_text(segment: str) -> str:
    """A segment used as a name (service, handler, idempotency key): as sent, shown as UTF-8."""
    return _shown(segment)


def decode_key(segment: str) -> str:
    """Percent-decode a key segment; invalid UTF-8 is a 400 in the words of Rust's ``FromUtf8Error``."""
    raw = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), segment.encode("latin-1"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        error_len = "None" if exc.reason == "unexpected end of data" else f"Some({exc.end - exc.start})"
        detail = (
            f"FromUtf8Error {{ bytes: [{', '.join(str(b) for b in raw)}], error: Utf8Error {{ "
            f"valid_up_to: {exc.start}, error_len: {error_len} }} }}"
        )
        raise RestateError(400, f"bad path, cannot decode key: {detail}") from exc
