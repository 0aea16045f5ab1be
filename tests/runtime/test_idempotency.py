"""Idempotency keys: one invocation per key and target until the handler's retention runs out."""

from __future__ import annotations

from pathlib import Path

from restate_lab import LocalRestate
from restate_lab.runtime.clock import ManualClock

from .apps import COUNTS, make_app


def test_same_idempotency_key_gives_the_same_invocation(lab: LocalRestate, tag: str) -> None:
    """Two sends with one key are one invocation; the second is PreviouslyAccepted."""
    first = lab.send("Basics", "idem", tag, idempotency_key=tag)
    second = lab.send("Basics", "idem", tag, idempotency_key=tag)
    assert first.status == "Accepted" and second.status == "PreviouslyAccepted"
    assert first.invocation_id == second.invocation_id
    assert lab.attach(first.invocation_id) == f"first:{tag}"
    assert COUNTS["idem:" + tag] == 1


def test_same_key_with_a_different_body_gets_the_first_result(lab: LocalRestate, tag: str) -> None:
    """A repeated key returns the first invocation's result even when the body differs."""
    assert lab.call("Basics", "idem", tag, idempotency_key=tag) == f"first:{tag}"
    assert lab.call("Basics", "idem", "other", idempotency_key=tag) == f"first:{tag}"
    assert COUNTS["idem:other"] == 0


def test_idempotency_key_is_scoped_to_the_target(lab: LocalRestate, tag: str) -> None:
    """The same key on another handler is another invocation."""
    a = lab.send("Basics", "idem", tag, idempotency_key=tag)
    b = lab.send("Basics", "echo", tag, idempotency_key=tag)
    assert a.invocation_id != b.invocation_id


def test_idempotency_entry_expires_after_the_handlers_retention(
    manual_lab: LocalRestate, clock: ManualClock, tag: str
) -> None:
    """Within idempotency_retention (1 s here, on the engine clock) a resend is PreviouslyAccepted; after it the
    same key starts a new invocation (its id is derived from target and key, as on Restate Server: the same id)."""
    first = manual_lab.send("Basics", "idem", tag, idempotency_key=tag)
    assert manual_lab.attach(first.invocation_id) == f"first:{tag}"
    clock.advance(999)
    assert manual_lab.send("Basics", "idem", tag, idempotency_key=tag).status == "PreviouslyAccepted"
    clock.advance(1)
    again = manual_lab.send("Basics", "idem", tag, idempotency_key=tag)
    assert again.status == "Accepted"
    assert again.invocation_id == first.invocation_id
    assert manual_lab.attach(again.invocation_id) == f"first:{tag}"
    assert COUNTS["idem:" + tag] == 2


def test_attach_idempotent_by_key(lab: LocalRestate, tag: str) -> None:
    """An idempotent invocation can be attached to by its key."""
    lab.send("Basics", "idem", tag, idempotency_key=tag)
    assert lab.attach_idempotent("Basics", "idem", tag) == f"first:{tag}"


def _generated_key(lab: LocalRestate, invocation_id: str) -> str:
    frame = lab.query(f"select idempotency_key from sys_invocation where id = '{invocation_id}'")
    key: str = frame["idempotency_key"].iloc[0]
    return key


def test_a_plain_request_is_kept_under_its_generated_key_without_a_table_entry(lab: LocalRestate, tag: str) -> None:
    """A plain send's generated ULID key attaches to it and makes a resend a repeat; it costs no table entry."""
    before = len(lab.engine.idempotency)
    plain = lab.send("Basics", "idem", tag)
    key = _generated_key(lab, plain.invocation_id)
    assert len(key) == 26 and len(lab.engine.idempotency) == before
    assert lab.attach_idempotent("Basics", "idem", key) == f"first:{tag}"
    again = lab.send("Basics", "idem", "other", idempotency_key=key)
    assert (again.status, again.invocation_id) == ("PreviouslyAccepted", plain.invocation_id)
    assert lab.send("Basics", "echo", "x", idempotency_key=key).status == "Accepted"  # another target: another key
    assert COUNTS["idem:other"] == 0


def test_a_generated_key_finds_its_request_after_a_restart(tmp_path: Path, tag: str) -> None:
    """In durable mode the generated key is stored with the invocation and keeps working after a restart."""
    with LocalRestate(make_app(), data_dir=tmp_path) as lab:
        plain = lab.send("Basics", "idem", tag)
        assert lab.attach(plain.invocation_id) == f"first:{tag}"
        key = _generated_key(lab, plain.invocation_id)
    with LocalRestate(make_app(), data_dir=tmp_path) as lab:
        again = lab.send("Basics", "idem", "other", idempotency_key=key)
        assert (again.status, again.invocation_id) == ("PreviouslyAccepted", plain.invocation_id)
        assert lab.attach_idempotent("Basics", "idem", key) == f"first:{tag}"
