"""Why a resource id is refused, in Restate Server 1.7.12's words and order (each case measured on the real server)."""

from __future__ import annotations

import random

import pytest

from restate_lab.rules.id_errors import id_error, invocation_id_error
from restate_lab.rules.ids import InvocationId, awakeable_id, new_deployment_id, parse_awakeable_id

INV = "inv_12kpUQONmeFb11Km8kYitYGzVISS24A1yv"
DP = "dp_10000000000000000000001"
PROM = "prom_1" + "A" * 38


def _awakeable_error(text: str) -> str | None:
    try:
        parse_awakeable_id(text)
    except ValueError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "bad length"),
        ("inv", "bad format"),
        ("_", "unrecognized resource type: "),
        ("INV_1abc", "unrecognized resource type: INV"),
        ("inv_", "bad length"),
        ("inv_1", "bad length"),
        ("inv_2" + INV[5:], "unrecognized codec version"),
        (INV[:-1], "bad length"),
        (INV + "0", "bad length"),
        ("inv_1" + "Z" * 11 + "0" * 22, "base62 decode error"),  # the partition key past u64
        ("inv_1-" + INV[6:], "base62 decode error"),
    ],
)
def test_an_ascii_invocation_id_is_refused_at_its_first_failing_step(text: str, reason: str) -> None:
    """Empty, then no separator, an unknown prefix, the version, then the base62 parts and their length."""
    assert invocation_id_error(text) == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("inv_é", "bad length"),  # the version byte is half of a character
        ("inv_1é", "bad length"),
        ("inv_é" + INV[5:], "bad length"),
        # 'é' is two bytes where two base62 digits were: the byte length is right, a digit is wrong ...
        (INV[:-2] + "é", "base62 decode error"),
        (INV[:16] + "é" + INV[18:], "base62 decode error"),
        # ... unless it straddles the end of the 11-digit partition key, or of the whole id
        (INV[:15] + "é" + INV[17:], "bad length"),
        (INV[:-1] + "€", "bad length"),
        (INV + "€", "bad length"),
    ],
)
def test_an_invocation_id_is_measured_in_utf8_bytes_and_cut_only_between_characters(text: str, reason: str) -> None:
    """Restate reads ids as Rust strings: offsets count bytes, and a part that splits a character is bad length."""
    assert invocation_id_error(text) == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("dp_", "bad length"),
        ("dp_é", "bad length"),
        ("dp_2abc", "unrecognized codec version"),
        (DP, "id doesn't match the expected type"),
        ("mut_1abc", "id doesn't match the expected type"),
        ("vq_1abc", "id doesn't match the expected type"),
        ("snap_1", "id doesn't match the expected type"),
    ],
)
def test_another_resources_id_is_checked_for_its_version_before_its_type(text: str, reason: str) -> None:
    """The wrong type is named only once the version digit after the separator has been read."""
    assert invocation_id_error(text) == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("dp_1", "bad length"),
        (DP[:-2] + "é", "base62 decode error"),
        (DP[:-1] + "é", "bad length"),
        (DP + "0", "bad length"),
        ("dp_1" + "Z" * 22, "base62 decode error"),
        ("dp_2" + DP[4:], "unrecognized codec version"),
        ("inv_é", "bad length"),
        (INV, "id doesn't match the expected type"),
    ],
)
def test_a_deployment_id_shares_the_decoder(text: str, reason: str) -> None:
    """``dp_`` (and ``sub_``) ids: one 22-digit base62 part after the version, read as invocation ids are."""
    assert id_error(text, "dp") == reason
    assert id_error("sub" + text[2:] if text.startswith("dp_") else text, "sub") == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "bad length"),
        ("_", "unrecognized resource type: "),
        ("xyz_1", "unrecognized resource type: xyz"),
        ("inv_", "bad length"),
        ("sign_", "bad length"),
        ("prom_", "bad length"),
        ("inv_2", "unrecognized codec version"),
        ("sign_2", "unrecognized codec version"),
        ("inv_1", "id doesn't match the expected type"),
        ("vq_1", "id doesn't match the expected type"),
        ("sign_1", "id doesn't match the expected type"),  # not a signal id, so read as an awakeable id
        ("prom_1", "bad length"),
        ("prom_1AA", "bad length"),
        (PROM[:-1], "base62 decode error"),  # 8n+5 characters
        (PROM[:-1] + "B", "base62 decode error"),  # bits past the last byte
        (PROM + "===", "base62 decode error"),
        (PROM[:-1] + "=", "base62 decode error"),  # padding in the second place of a quad
        (PROM[:10] + "=" + PROM[11:], "base62 decode error"),
        (PROM, None),
        (PROM + "=", None),  # padding is indifferent: one or two, canonical or not
        (PROM + "==", None),
    ],
)
def test_an_awakeable_id_is_tried_as_a_signal_then_reported_as_an_awakeable(text: str, reason: str | None) -> None:
    """``sign_1`` is tried first; what is refused is refused in the words of the ``prom_1`` reading."""
    assert _awakeable_error(text) == reason


def test_ids_restate_lab_makes_decode_back_to_themselves() -> None:
    """Every id restate_lab renders is accepted by the decoder and parses back to the same value."""
    rng = random.Random(5)
    for _ in range(500):
        inv = InvocationId.new(rng.getrandbits(64), rng)
        assert InvocationId.parse(str(inv)) == inv
        index = rng.randrange(1 << 32)
        signal = awakeable_id(inv, index)
        assert parse_awakeable_id(signal) == (inv, index)
        assert parse_awakeable_id("prom" + signal[4:]) == (inv, index)
        assert id_error(new_deployment_id(), "dp") is None
