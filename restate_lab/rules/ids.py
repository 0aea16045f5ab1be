"""Invocation and awakeable ids in Restate Server's string formats."""

from __future__ import annotations

import base64
import hashlib
import random
import struct
from dataclasses import dataclass, field

_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_B62_INDEX = {c: i for i, c in enumerate(_B62)}
#: Every two-digit string, so encoding takes one division per two digits (ids are made per invocation).
_B62_PAIRS = [a + b for a in _B62 for b in _B62]
_INVOCATION_PREFIX = "inv_1"
_AWAKEABLE_PREFIX = "sign_1"


def _b62_fixed(raw: bytes, width: int) -> str:
    # Restate encodes the byte-swapped integer, most significant digit first, zero-padded in front.
    value = int.from_bytes(raw, "little")
    pairs = _B62_PAIRS
    text = ""
    while value:  # four digits per division of the (up to 128-bit) value, two per small one
        value, rem = divmod(value, 14_776_336)  # 62**4
        high, low = divmod(rem, 3844)
        text = pairs[high] + pairs[low] + text
    # The top group may carry leading "0"s past ``width``; the value itself always fits in ``width`` digits.
    return text[-width:].rjust(width, "0")


def _b62_decode(text: str, size: int) -> bytes:
    value = 0
    for char in text:
        value = value * 62 + _B62_INDEX[char]
    return value.to_bytes(size, "little")


@dataclass(frozen=True, order=True, slots=True)
class InvocationId:
    """24 raw bytes: an 8-byte big-endian partition key and a 16-byte uuid."""

    raw: bytes
    #: The ``inv_1…`` text, rendered on first use.
    _text: str | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def new(cls, partition_key: int, rng: random.Random | None = None) -> InvocationId:
        """A fresh id on ``partition_key``; pass ``rng`` for reproducible ids."""
        entropy = (rng or random.SystemRandom()).getrandbits(128).to_bytes(16, "big")
        return cls(struct.pack(">Q", partition_key & 0xFFFF_FFFF_FFFF_FFFF) + entropy)

    @classmethod
    def deterministic(cls, partition_key: int, *parts: str) -> InvocationId:
        """The same id every time for the same parts: workflow runs and idempotent requests."""
        digest = hashlib.sha256("\x00".join(parts).encode()).digest()[:16]
        return cls(struct.pack(">Q", partition_key & 0xFFFF_FFFF_FFFF_FFFF) + digest)

    @classmethod
    def parse(cls, text: str) -> InvocationId:
        """Parse ``inv_1…``; ``ValueError`` says why not as Restate does (bad format, bad length, ...)."""
        prefix, sep, body = text.partition("_")
        if not sep or prefix != "inv":
            raise ValueError("bad format")
        if len(text) != len(_INVOCATION_PREFIX) + 33:
            raise ValueError("bad length")
        body = text[len(_INVOCATION_PREFIX) :]
        if not text.startswith(_INVOCATION_PREFIX) or any(c not in _B62_INDEX for c in body):
            raise ValueError("base62 decode error")
        try:
            return cls(_b62_decode(body[:11], 8) + _b62_decode(body[11:], 16))
        except OverflowError as exc:
            raise ValueError("base62 decode error") from exc

    @property
    def partition_key(self) -> int:
        return int(struct.unpack(">Q", self.raw[:8])[0])

    def __str__(self) -> str:
        # Rendered once, when something first asks for the text (the id is immutable).
        text = self._text
        if text is None:
            text = _INVOCATION_PREFIX + _b62_fixed(self.raw[:8], 11) + _b62_fixed(self.raw[8:], 22)
            object.__setattr__(self, "_text", text)
        return text


def new_deployment_id() -> str:
    """A fresh deployment id in Restate Server's format (``dp_1`` and a base62 uuid), as ``?deployment=`` parses it.

    >>> from restate_lab.rules.id_errors import id_error
    >>> id_error(new_deployment_id(), "dp") is None
    True
    """
    return "dp_1" + _b62_fixed(random.SystemRandom().getrandbits(128).to_bytes(16, "big"), 22)


def invocation_id_for(
    service: str,
    handler: str,
    key: str | None,
    idempotency_key: str | None,
    workflow_run: bool,
    rng: random.Random | None = None,
) -> InvocationId:
    """The id Restate gives a new invocation: derived from the target for a workflow run (once per
    workflow id) and for an idempotent request (so a resend after purge or retention gets the same
    id, as on Restate Server), else fresh.

    >>> a = invocation_id_for("Greeter", "greet", None, "k1", False)
    >>> a == invocation_id_for("Greeter", "greet", None, "k1", False), str(a).startswith("inv_1")
    (True, True)
    """
    # An idempotent request to an unkeyed service is placed by its idempotency key.
    placement = key if key is not None or workflow_run else idempotency_key
    partition = partition_key_for(service, placement)
    if workflow_run:
        return InvocationId.deterministic(partition, "workflow", service, key or "")
    if idempotency_key is not None:
        return InvocationId.deterministic(partition, "idempotent", service, key or "", handler, idempotency_key)
    return InvocationId.new(partition, rng)


def partition_key_for(service: str, key: str | None) -> int:
    """Keyed targets hash their key so every invocation on one key shares a partition key."""
    seed = f"{service}/{key}" if key is not None else None
    if seed is None:
        return random.getrandbits(64)
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")


def awakeable_id(invocation: InvocationId, signal_index: int) -> str:
    """The id an SDK gives an awakeable: ``sign_1`` + base64url(invocation id ‖ u32 index)."""
    payload = invocation.raw + struct.pack(">I", signal_index)
    return _AWAKEABLE_PREFIX + base64.urlsafe_b64encode(payload).decode().rstrip("=")


#: Prefixes of Restate's other id types: such an id is well-formed but of the wrong type for an awakeable.
_OTHER_ID_PREFIXES = ("inv", "dp", "sub")


def _parse_promise_id(rest: str) -> tuple[InvocationId, int]:
    """``prom_1`` + strict unpadded base64url of the same 28 bytes as ``sign_1`` (measured on the real server).

    Its errors, in the server's words: an empty rest is ``bad length``, another version digit is
    ``unrecognized codec version``, anything that is not canonical base64url (padding, a stray character,
    non-zero trailing bits, a length of 4n+1) is ``base62 decode error``, and a payload that is not 28 bytes
    long is ``bad length``.
    """
    if not rest:
        raise ValueError("bad length")
    if rest[0] != "1":
        raise ValueError("unrecognized codec version")
    body = rest[1:]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise ValueError("base62 decode error") from exc
    if "=" in body or base64.urlsafe_b64encode(raw).decode().rstrip("=") != body:
        raise ValueError("base62 decode error")
    if len(raw) != 28:
        raise ValueError("bad length")
    return InvocationId(raw[:24]), int(struct.unpack(">I", raw[24:])[0])


def parse_awakeable_id(text: str) -> tuple[InvocationId, int]:
    """Split an awakeable id into its invocation and signal index; ``ValueError`` says why not."""
    prefix, sep, _rest = text.partition("_")
    if sep and prefix in _OTHER_ID_PREFIXES:
        raise ValueError("id doesn't match the expected type")
    if not sep or prefix not in ("sign", "prom"):
        raise ValueError("bad format")
    if prefix == "prom":
        return _parse_promise_id(_rest)
    body = text[len(_AWAKEABLE_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise ValueError("id doesn't match the expected type") from exc
    if (
        not text.startswith(_AWAKEABLE_PREFIX)
        or len(raw) != 28
        or base64.urlsafe_b64encode(raw).decode().rstrip("=") != body
    ):
        raise ValueError("id doesn't match the expected type")
    return InvocationId(raw[:24]), int(struct.unpack(">I", raw[24:])[0])
