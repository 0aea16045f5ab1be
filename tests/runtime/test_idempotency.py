"""Idempotency keys: one invocation per key and target until the handler's retention runs out."""

from __future__ import annotations

from restate_lab import LocalRestate
from restate_lab.runtime.clock import ManualClock

from .apps import COUNTS


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
