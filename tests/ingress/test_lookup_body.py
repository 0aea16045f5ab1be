"""The body of POST /restate/lookup|attach|output is refused in serde's words, as Restate Server 1.7.12 words it.

Each message below was measured on the real server (its status there is 500; ours is 400, a deliberate
difference listed in the README).
"""

from __future__ import annotations

import pytest

from restate_lab.ingress.lookup_body import read_lookup_target
from restate_lab.rules.errors import RestateError

MEASURED = [
    (b"[1]", "invalid type: integer `1`, expected variant identifier at line 1 column 2"),
    (b'"x"', 'invalid type: string "x", expected internally tagged enum InvocationTargetRequest at line 1 column 3'),
    (b"{}", "missing field `target` at line 1 column 2"),
    (b'{"target": 1}', "invalid type: integer `1`, expected variant identifier at line 1 column 12"),
    (b'{"target": ["invocation"]}', "invalid type: sequence, expected variant identifier at line 1 column 11"),
    (
        b'{"target":"nope"}',
        "unknown variant `nope`, expected one of `workflow`, `idempotentInvocation`, `invocation` at line 1 column 16",
    ),
    (b'{"target": "invocation", "invocationId": "x", "target": 1}', "duplicate field `target` at line 1 column 54"),
    (b'{"target": "invocation"}', "missing field `invocationId`"),
    (b'{"target": "invocation", "invocationId": 1e3}', "invalid type: floating point `1000.0`, expected a string"),
    (
        b'{"target": "invocation", "invocationId": 18446744073709551616}',
        "invalid type: floating point `1.8446744073709552e+19`, expected a string",
    ),
    (
        b'{"target": "idempotentInvocation", "service": "S", "service": "T", "handler": "h", "idempotencyKey": "k"}',
        "duplicate field `service`",
    ),
]


@pytest.mark.parametrize(("body", "detail"), MEASURED, ids=[body.decode() for body, _ in MEASURED])
def test_refused_lookup_body_is_worded_as_serde_words_it(body: bytes, detail: str) -> None:
    with pytest.raises(RestateError) as caught:
        read_lookup_target(body, "lookup body")
    assert caught.value.code == 400
    assert caught.value.message == f"cannot read body: invalid lookup body: {detail}"


def test_attach_and_output_bodies_are_called_request_body() -> None:
    with pytest.raises(RestateError) as caught:
        read_lookup_target(b"{}", "request body")
    assert caught.value.message == "cannot read body: invalid request body: missing field `target` at line 1 column 2"


def test_null_key_of_an_idempotent_invocation_is_read_as_absent() -> None:
    body = b'{"target": "idempotentInvocation", "service": "S", "key": null, "handler": "h", "idempotencyKey": "k"}'
    target = read_lookup_target(body, "lookup body")
    assert target.kind == "idempotentInvocation"
    assert target.fields == {"service": "S", "key": None, "handler": "h", "idempotencyKey": "k"}


def test_unknown_fields_are_ignored_and_the_tag_may_come_last() -> None:
    target = read_lookup_target(b'{"extra": [1], "invocationId": "inv_1", "target": "invocation"}', "lookup body")
    assert target.kind == "invocation"
    assert target.fields == {"invocationId": "inv_1"}


def test_error_bodies_carry_non_ascii_text_as_raw_utf8() -> None:
    """Restate Server 1.7.12 writes ``nopé`` in an error body as UTF-8 bytes, not as a ``\\u00e9`` escape."""
    from restate_lab.ingress.asgi import error_reply

    with pytest.raises(RestateError) as caught:
        read_lookup_target('{"target":"nopé"}'.encode(), "lookup body")
    body = error_reply(caught.value).body
    assert "nopé".encode() in body
    assert b"\\u00e9" not in body
