"""Invocation and awakeable ids in Restate Server's string formats."""

from __future__ import annotations

import base64
import hashlib
import random
import struct
from dataclasses import dataclass, field

import xxhash

from restate_lab.rules.id_errors import decode_id

_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
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
    def parse(cls, text: str) -> InvocationId:
        """Parse ``inv_1…``; ``ValueError`` says why not as Restate does (bad format, bad length, ...)."""
        return cls(decode_id(text, "inv"))

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


#: Unkeyed invocations of one service spread over this many partition keys (Restate's fan-out per service).
_UNSCOPED_FANOUT = 512
#: The byte Restate puts between the fields it hashes into a deterministic invocation uuid (``,``).
_SEP = b","
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Every two-digit Crockford string (10 bits), so a ULID takes 13 lookups rather than 26.
_CROCKFORD_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_ULID_SHIFTS = tuple(range(120, -1, -10))


def _xxh3_of_str(text: str) -> int:
    # A Rust ``str`` hashes as its bytes and one 0xFF byte; Restate feeds that to a 64-bit XXH3.
    return xxhash.xxh3_64_intdigest(text.encode() + b"\xff")


def _unscoped_partition_key(service: str, bucket: int) -> int:
    # Restate hashes the tuple (service name, "unscoped/service", bucket as a little-endian u64).
    data = service.encode() + b"\xffunscoped/service\xff" + bucket.to_bytes(8, "little")
    return xxhash.xxh3_64_intdigest(data)


def partition_key_for(service: str, key: str | None, rng: random.Random | None = None) -> int:
    """The partition key Restate Server 1.7 gives an invocation of ``service`` (on ``key`` when keyed).

    A keyed target is placed by its key alone (XXH3 of the key, whatever the service), so every
    invocation on one key shares a partition key; an unkeyed one by one of 512 keys of its service.

    >>> partition_key_for("Counter", "a") == partition_key_for("Other", "a")
    True
    """
    if key is not None:
        return _xxh3_of_str(key)
    return _unscoped_partition_key(service, (rng or random).randrange(_UNSCOPED_FANOUT))


def _sha_uuid(*parts: bytes) -> bytes:
    return hashlib.sha256(_SEP.join(parts)).digest()[:16]


def invocation_id_for(
    service: str,
    handler: str,
    key: str | None,
    idempotency_key: str | None,
    workflow_run: bool,
    rng: random.Random | None = None,
) -> InvocationId:
    """The id Restate Server 1.7 gives a new invocation, derived as the server derives it.

    A workflow run's id is a hash of the workflow and its id (once per workflow id); an idempotent
    request's a hash of its target and key (so a resend after purge or retention gets the same id).
    Both equal the ids the real server gives. Anything else gets a fresh uuid.

    >>> str(invocation_id_for("Signup", "run", "w1", None, True))
    'inv_12kpUQONmeFb11Km8kYitYGzVISS24A1yv'
    """
    if workflow_run:
        assert key is not None, "a workflow run has a workflow id"
        return InvocationId(_partition_bytes(_xxh3_of_str(key)) + _sha_uuid(b"wf", service.encode(), key.encode()))
    if idempotency_key is not None:
        return idempotent_invocation_id(service, handler, key, idempotency_key)
    return InvocationId.new(partition_key_for(service, key, rng), rng)


def idempotent_invocation_id(service: str, handler: str, key: str | None, idempotency_key: str) -> InvocationId:
    """The id of an idempotent request to ``service``/``handler`` (on ``key``), a hash of the four.

    What ``POST /restate/lookup`` answers for an ``idempotentInvocation`` target, whatever the handler:
    on a workflow's run handler too, although a run itself is given its workflow's id.

    >>> str(idempotent_invocation_id("Signup", "run", "w1", "ik1"))
    'inv_12kpUQONmeFb42WY5SN0dono4zP4AY0yvd'
    """
    if key is not None:
        partition = _xxh3_of_str(key)
        uuid = _sha_uuid(b"ik", service.encode(), key.encode(), handler.encode(), idempotency_key.encode())
    else:
        # An unkeyed idempotent request is placed on its service's key chosen by its idempotency key.
        partition = _unscoped_partition_key(service, _xxh3_of_str(idempotency_key) % _UNSCOPED_FANOUT)
        uuid = _sha_uuid(b"ik", service.encode(), handler.encode(), idempotency_key.encode())
    return InvocationId(_partition_bytes(partition) + uuid)


def _partition_bytes(partition_key: int) -> bytes:
    return struct.pack(">Q", partition_key & 0xFFFF_FFFF_FFFF_FFFF)


def new_ulid(now_ms: int, rng: random.Random | None = None) -> str:
    """A ULID (Crockford base32: 48 bits of milliseconds, 80 random bits), as Restate's ingress makes one.

    Restate Server 1.7 gives every plain ingress call or send such a key and stores the invocation as an
    idempotent request under it (its id derives from it).

    >>> len(new_ulid(1_796_323_324_303)), new_ulid(1_796_323_324_303)[:10]
    (26, '01M8YKDCCF')
    """
    value = ((now_ms & 0xFFFF_FFFF_FFFF) << 80) | (rng or random.SystemRandom()).getrandbits(80)
    pairs = _CROCKFORD_PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in _ULID_SHIFTS])


def awakeable_id(invocation: InvocationId, signal_index: int) -> str:
    """The id an SDK gives an awakeable: ``sign_1`` + base64url(invocation id ‖ u32 index)."""
    payload = invocation.raw + struct.pack(">I", signal_index)
    return _AWAKEABLE_PREFIX + base64.urlsafe_b64encode(payload).decode().rstrip("=")


def parse_awakeable_id(text: str) -> tuple[InvocationId, int]:
    """Split an awakeable id into its invocation and signal index; ``ValueError`` says why not.

    Restate Server tries a signal id (``sign_1``) first and, failing that, reports what reading it as an
    awakeable id (``prom_1``) says: a well-formed ``sign_1…`` that is no signal id is of the wrong type.

    >>> parse_awakeable_id("sign_2x")
    Traceback (most recent call last):
    ValueError: unrecognized codec version
    """
    try:
        raw = decode_id(text, "sign")
    except ValueError:
        raw = decode_id(text, "prom")
    return InvocationId(raw[:24]), int.from_bytes(raw[24:], "big")
