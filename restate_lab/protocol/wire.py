"""A small protobuf wire codec: varints, length-delimited fields, and field iteration.

The SDK's own protobuf code is compiled into its extension and cannot be imported, and
the server side needs only a handful of scalar and nested fields, so we read and write
the wire format directly instead of generating code.
"""

from __future__ import annotations

from collections.abc import Iterator

VARINT = 0
FIXED64 = 1
LEN = 2
FIXED32 = 5


class WireError(ValueError):
    """Bytes that are not a well-formed protobuf message."""


_SMALL_VARINTS = tuple(bytes((i,)) for i in range(0x80))


def encode_varint(value: int) -> bytes:
    if 0 <= value < 0x80:
        return _SMALL_VARINTS[value]
    if value < 0:
        value &= 0xFFFF_FFFF_FFFF_FFFF
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint too long")


def tag(number: int, wire_type: int) -> bytes:
    return encode_varint((number << 3) | wire_type)


_TAGS = {(n, w): tag(n, w) for n in range(1, 32) for w in (VARINT, LEN)}


def uint_field(number: int, value: int) -> bytes:
    return (_TAGS.get((number, VARINT)) or tag(number, VARINT)) + encode_varint(value)


def len_field(number: int, payload: bytes) -> bytes:
    return (_TAGS.get((number, LEN)) or tag(number, LEN)) + encode_varint(len(payload)) + payload


def str_field(number: int, value: str) -> bytes:
    return len_field(number, value.encode())


def iter_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)``; value is an int or the raw bytes of a LEN field."""
    pos = 0
    end = len(buf)
    while pos < end:
        key, pos = decode_varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, pos = decode_varint(buf, pos)
            yield number, wire_type, value
        elif wire_type == LEN:
            size, pos = decode_varint(buf, pos)
            if pos + size > end:
                raise WireError("truncated length-delimited field")
            yield number, wire_type, buf[pos : pos + size]
            pos += size
        elif wire_type == FIXED64:
            yield number, wire_type, int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire_type == FIXED32:
            yield number, wire_type, int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:
            raise WireError(f"unsupported wire type {wire_type}")


def packed_uints(value: int | bytes) -> list[int]:
    """A repeated uint32 field arrives packed (bytes) or as a single varint."""
    if isinstance(value, int):
        return [value]
    out = []
    pos = 0
    while pos < len(value):
        item, pos = decode_varint(value, pos)
        out.append(item)
    return out
