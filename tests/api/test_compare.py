"""The same script on every target, answers compared with the in-process runtime's (the first target run)."""

from __future__ import annotations

from typing import Any

import pytest

from restate_lab import NotSupportedByTarget, RestateError, SimulatedRestate, Simulation
from restate_lab.api import IngressApi

#: Answers per target, filled as the session's targets run (the session fixture runs them in turn).
ANSWERS: dict[str, dict[str, Any]] = {}


def _outcome(fn: Any) -> Any:
    try:
        return ("ok", fn())
    except NotSupportedByTarget:
        return ("not supported",)
    except RestateError as exc:
        return ("error", exc.code, exc.source)


def script(target: IngressApi, tag: str) -> dict[str, Any]:
    """A fixed series of operations; what comes back, with ids and times left out."""
    out: dict[str, Any] = {}
    out["call"] = _outcome(lambda: target.call("Greeter", "greet", "Ada"))
    receipt = target.send("Greeter", "greet", "Bob", idempotency_key=tag)
    again = target.send("Greeter", "greet", "Bob", idempotency_key=tag)
    out["send"] = (receipt.status, again.status, again.invocation_id == receipt.invocation_id)
    out["attach"] = _outcome(lambda: target.attach(receipt.invocation_id))
    out["output"] = _outcome(lambda: target.output(receipt.invocation_id))
    out["by idempotency key"] = _outcome(lambda: target.output_idempotent("Greeter", "greet", tag))
    out["workflow"] = _outcome(lambda: target.call("Signup", "run", "x@y", key=tag))
    out["workflow output"] = _outcome(lambda: target.output_workflow("Signup", tag))
    out["workflow again"] = _outcome(lambda: target.call("Signup", "run", "x@y", key=tag))
    out["status"] = target.status(receipt.invocation_id)
    out["unknown service"] = _outcome(lambda: target.call("Nope", "x"))
    out["unknown handler"] = _outcome(lambda: target.call("Greeter", "nope"))
    out["purge"] = _outcome(lambda: target.purge(receipt.invocation_id))
    frame = target.invocations(service="Signup")
    out["invocations columns"] = list(frame.columns)
    rows = frame[frame["target_service_key"] == tag]
    out["workflow row"] = [
        {**r, "target": r["target"].replace(tag, "<key>")}
        for r in rows[["target", "target_service_ty", "status", "completion_result"]].to_dict("records")
    ]
    cat = target.catalogue()
    out["catalogue"] = sorted((s.name, s.kind, sorted((h.name, h.kind) for h in s.handlers.values())) for s in cat)
    return out


def test_the_script_answers_alike_on_every_target(target: IngressApi, tag: str) -> None:
    """Every target answers the script as the in-process runtime does (the first target of the session)."""
    name = type(target).__name__ + ("" if not ANSWERS else f"#{len(ANSWERS)}")
    answers = script(target, tag)
    ANSWERS[name] = answers
    first_name, first = next(iter(ANSWERS.items()))
    diffs = {k: (first[k], answers[k]) for k in first if first[k] != answers[k]}
    assert not diffs, f"{name} answers differently from {first_name}: {diffs}"


def test_a_simulation_is_built_from_every_targets_catalogue(target: IngressApi) -> None:
    """``Simulation(target.catalogue())`` needs nothing written by hand, whatever the target."""
    sim = SimulatedRestate(Simulation(target.catalogue()))
    assert {s["name"] for s in sim.services()} == {s["name"] for s in target.services()}
    assert sim.call("Greeter", "greet", "Ada") is None  # no behaviour given: instantaneous, no result
    with pytest.raises(RestateError) as caught:
        sim.call("Counter", "add", 1)  # keyed without a key, as the catalogue says
    assert caught.value.code == 400
