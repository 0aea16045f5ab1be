"""Restate's resource ids (``inv_1…``, ``dp_1…``, ``sign_1…``) decoded step by step, in the server's order.

Restate Server reads an id as a Rust ``str``: every offset is a UTF-8 byte offset, and a slice that is
out of range *or cuts a character in two* is ``bad length``. The steps, each with its own error: an empty
id (``bad length``); no ``_`` (``bad format``); a prefix it does not know (``unrecognized resource type:
…``); the byte after ``_`` missing or part of a wider character (``bad length``), not ``1`` (``unrecognized
codec version``); only then another resource's prefix (``id doesn't match the expected type``); then each
fixed-width base62 part (missing bytes ``bad length``, a foreign character or too big a number ``base62
decode error``) and no bytes left over (``bad length``). Awakeable and signal ids carry base64url after
the version instead, read as a whole (``base62 decode error``) and then counted (``bad length``).

>>> id_error("garbage", "inv"), id_error("inv_1abc", "inv"), id_error("dp_1abc", "inv")
('bad format', 'bad length', "id doesn't match the expected type")
>>> id_error("inv_é", "inv"), id_error("dp_2", "inv")
('bad length', 'unrecognized codec version')
"""

from __future__ import annotations

import base64

_B62 = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_B62_INDEX = {c: i for i, c in enumerate(_B62)}
_B64URL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

#: Every resource prefix Restate Server 1.7.12 knows (measured: ``mut`` and ``vq`` are known, ``xyz`` not).
RESOURCE_TYPES = frozenset({"inv", "dp", "sub", "prom", "sign", "snap", "mut", "vq"})

#: The base62 parts after the version digit of the ids restate_lab reads: (width in bytes, size in bytes).
ID_LAYOUTS: dict[str, tuple[tuple[int, int], ...]] = {
    "inv": ((11, 8), (22, 16)),  # partition key (u64), then a uuid (u128)
    "dp": ((22, 16),),
    "sub": ((22, 16),),
    "snap": ((22, 16),),
}
#: Ids whose payload is base64url (an invocation id and a u32 index), not base62.
_BASE64_KINDS = frozenset({"sign", "prom"})
_BASE64_PAYLOAD = 28

_VERSION = b"1"


def _on_boundary(data: bytes, offset: int) -> bool:
    # A UTF-8 continuation byte (0b10xxxxxx) never starts a character.
    return offset == len(data) or (offset < len(data) and data[offset] & 0xC0 != 0x80)


def _slice(data: bytes, start: int, end: int) -> bytes:
    """``data[start:end]`` as Rust's ``str::get`` takes it: in range and on character boundaries, or refused."""
    if end > len(data) or not (_on_boundary(data, start) and _on_boundary(data, end)):
        raise ValueError("bad length")
    return data[start:end]


def _base62(chunk: bytes, size: int) -> bytes:
    value = 0
    for byte in chunk:
        index = _B62_INDEX.get(byte)
        if index is None:
            raise ValueError("base62 decode error")
        value = value * 62 + index
    if value >> (8 * size):
        raise ValueError("base62 decode error")
    # Restate byte-swaps the decoded integer (``from_be``), so the big-endian raw bytes are its little-endian ones.
    return value.to_bytes(size, "little")


def _base64url(payload: bytes) -> bytes:
    # As Rust's base64 crate reads it with padding "indifferent": ``=`` only as a run at the very end, each
    # in the third or fourth place of its quad (so one or two, the canonical count or not), a length of
    # 8n+1 or 8n+5 refused outright, no stray byte, and no bits set past the last whole byte.
    data = payload.rstrip(b"=")
    pads = range(len(data), len(payload))
    if len(payload) % 8 in (1, 5) or any(i % 4 < 2 for i in pads) or not _B64URL.issuperset(data):
        raise ValueError("base62 decode error")
    raw = base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != data:
        raise ValueError("base62 decode error")
    if len(raw) != _BASE64_PAYLOAD:
        raise ValueError("bad length")
    return raw


def decode_id(text: str, expected: str) -> bytes:
    """The raw bytes of the ``expected`` id (``inv``, ``dp``, ``sign``, ...) ``text``; ``ValueError`` says why not.

    >>> decode_id("dp_10000000000000000000001", "dp").hex()
    '01000000000000000000000000000000'
    """
    if not text:
        raise ValueError("bad length")
    prefix, sep, rest = text.partition("_")
    if not sep:
        raise ValueError("bad format")
    if prefix not in RESOURCE_TYPES:
        raise ValueError(f"unrecognized resource type: {prefix}")
    data = rest.encode()
    if _slice(data, 0, 1) != _VERSION:
        raise ValueError("unrecognized codec version")
    if prefix != expected:
        raise ValueError("id doesn't match the expected type")
    if expected in _BASE64_KINDS:
        return _base64url(data[1:])
    raw, pos = b"", 1
    for width, size in ID_LAYOUTS[expected]:
        raw += _base62(_slice(data, pos, pos + width), size)
        pos += width
    if pos != len(data):
        raise ValueError("bad length")
    return raw


def id_error(text: str, expected: str) -> str | None:
    """The reason ``text`` is not a valid id with prefix ``expected`` (``inv``, ``dp``, ...), or ``None``."""
    try:
        decode_id(text, expected)
    except ValueError as exc:
        return str(exc)
    return None


def invocation_id_error(text: str) -> str | None:
    """The reason ``text`` is not a valid invocation id (``inv_1…``), or ``None``."""
    return id_error(text, "inv")
