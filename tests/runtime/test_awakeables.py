"""Awakeables and signals, completed from outside and from other handlers."""

from __future__ import annotations

import pytest

from restate_lab import LocalRestate, RestateError

from .apps import wait_for_awakeable, wait_until


def test_awakeable_id_has_the_servers_format(lab: LocalRestate, tag: str) -> None:
    """Awakeable ids look like Restate's: sign_1 followed by base64url."""
    receipt = lab.send("Basics", "await_awakeable", tag)
    awakeable = wait_for_awakeable(tag)
    assert awakeable.startswith("sign_1")
    lab.resolve_awakeable(awakeable, 1)
    assert lab.attach(receipt.invocation_id) == 1


def test_awakeable_resolved_from_outside_resumes_the_handler(lab: LocalRestate, tag: str) -> None:
    """LocalRestate.resolve_awakeable hands the value to the suspended handler."""
    receipt = lab.send("Basics", "await_awakeable", tag)
    awakeable = wait_for_awakeable(tag)
    wait_until(lambda: lab.status(receipt.invocation_id) == "suspended")
    lab.resolve_awakeable(awakeable, {"ok": True})
    assert lab.attach(receipt.invocation_id) == {"ok": True}


def test_awakeable_rejected_from_outside_raises_a_terminal_error(lab: LocalRestate, tag: str) -> None:
    """LocalRestate.reject_awakeable makes the awaiting handler see a TerminalError with the message."""
    receipt = lab.send("Basics", "await_awakeable", tag)
    lab.reject_awakeable(wait_for_awakeable(tag), "no thanks")
    assert lab.attach(receipt.invocation_id) == {"rejected": "no thanks", "code": 500}


def test_awakeable_resolved_and_rejected_from_another_handler(lab: LocalRestate, tag: str) -> None:
    """ctx.resolve_awakeable and ctx.reject_awakeable complete another invocation's awakeable."""
    first = lab.send("Basics", "await_awakeable", tag + "1")
    lab.call("Basics", "resolve_other", {"id": wait_for_awakeable(tag + "1"), "value": "from a handler"})
    assert lab.attach(first.invocation_id) == "from a handler"
    second = lab.send("Basics", "await_awakeable", tag + "2")
    lab.call("Basics", "resolve_other", {"id": wait_for_awakeable(tag + "2"), "reject": "refused"})
    assert lab.attach(second.invocation_id) == {"rejected": "refused", "code": 500}


def test_awakeable_resolved_before_the_handler_suspends_is_not_lost(lab: LocalRestate, tag: str) -> None:
    """A resolution that arrives while the attempt is still running is delivered on the next attempt."""
    receipt = lab.send("Basics", "await_awakeable", tag)
    lab.resolve_awakeable(wait_for_awakeable(tag), "quick")
    assert lab.attach(receipt.invocation_id) == "quick"


def test_resolving_a_malformed_awakeable_id_is_a_400(lab: LocalRestate) -> None:
    """An awakeable id that does not parse is refused with 400."""
    with pytest.raises(RestateError) as err:
        lab.resolve_awakeable("sign_1garbage", 1)
    assert err.value.code == 400


def test_named_signal_resolved_by_another_handler(lab: LocalRestate) -> None:
    """ctx.resolve_signal delivers a named signal that ctx.signal awaits in the target invocation."""
    waiting = lab.send("Basics", "wait_signal")
    wait_until(lambda: lab.status(waiting.invocation_id) == "suspended")
    lab.call("Basics", "send_signal", {"id": waiting.invocation_id, "value": 42})
    assert lab.attach(waiting.invocation_id) == 42


def _entry_types(lab: LocalRestate, invocation_id: str) -> list[str]:
    return list(lab.journal(invocation_id)["entry_type"])


@pytest.mark.parametrize("mode", ["request-response", "bidirectional"])
@pytest.mark.parametrize("kind", ["awakeable", "signal"])
def test_a_signal_to_itself_is_journaled_after_the_commands_sent_with_it(
    lab: LocalRestate, bidi_lab: LocalRestate, mode: str, kind: str
) -> None:
    """An invocation's signal to itself comes back after the commands of the same chunk, as on the server.

    Awaited, it completes the handler; if the handler sleeps first, the signal is journaled after the Sleep.
    """
    local = lab if mode == "request-response" else bidi_lab
    suffix = "" if kind == "awakeable" else "-signal"
    awaited = local.send("Basics", "resolve_own", "await" + suffix)
    assert local.attach(awaited.invocation_id) == "by itself"
    assert _entry_types(local, awaited.invocation_id)[-2:] == ["Notification: Signal", "Command: Output"]
    slept = local.send("Basics", "resolve_own", "sleep" + suffix)
    assert local.attach(slept.invocation_id) == "sleep" + suffix
    types = _entry_types(local, slept.invocation_id)
    assert types.index("Command: Sleep") < types.index("Notification: Signal")


@pytest.mark.parametrize("mode", ["request-response", "bidirectional"])
@pytest.mark.parametrize("kind", ["awakeable", "signal"])
def test_a_signal_to_itself_is_dropped_when_the_invocation_returns_at_once(
    lab: LocalRestate, bidi_lab: LocalRestate, mode: str, kind: str
) -> None:
    """Resolving its own awakeable and returning journals no signal: it arrives after the invocation ended."""
    local = lab if mode == "request-response" else bidi_lab
    then = "return" if kind == "awakeable" else "return-signal"
    receipt = local.send("Basics", "resolve_own", then)
    assert local.attach(receipt.invocation_id) == then
    types = _entry_types(local, receipt.invocation_id)
    assert "Notification: Signal" not in types
    assert types[-1] == "Command: Output"
