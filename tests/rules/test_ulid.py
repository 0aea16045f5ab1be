"""The ULID a plain ingress request is keyed by: Crockford base32 of 48 bits of milliseconds and 80 random bits."""

from __future__ import annotations

import random

from restate_lab.rules.ids import new_ulid

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _decode(text: str) -> int:
    value = 0
    for char in text:
        value = value * 32 + _CROCKFORD.index(char)
    return value


def test_a_ulid_carries_its_milliseconds_and_random_bits() -> None:
    rng = random.Random(7)
    for _ in range(2_000):
        now_ms = rng.randrange(2**48)
        entropy = random.Random(now_ms).getrandbits(80)
        text = new_ulid(now_ms, random.Random(now_ms))
        assert len(text) == 26 and set(text) <= set(_CROCKFORD)
        value = _decode(text)
        assert value >> 80 == now_ms
        assert value & (2**80 - 1) == entropy


def test_ulids_sort_by_their_milliseconds() -> None:
    rng = random.Random(11)
    times = sorted(rng.randrange(2**48) for _ in range(500))
    texts = [new_ulid(t, rng) for t in times]
    assert texts == sorted(texts)


def test_the_extremes_encode_as_zeros_and_the_largest_first_digit() -> None:
    class Fixed(random.Random):
        def __init__(self, bits: int) -> None:
            super().__init__()
            self.bits = bits

        def getrandbits(self, k: int) -> int:
            return self.bits

    assert new_ulid(0, Fixed(0)) == "0" * 26
    assert new_ulid(2**48 - 1, Fixed(2**80 - 1)) == "7" + "Z" * 25
