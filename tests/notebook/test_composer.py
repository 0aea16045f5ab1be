"""The composer, driven as a notebook would: set its fields, click, read the answer and the history."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from restate_lab.widgets import HISTORY_COLUMNS, Composer, parse_headers

from .conftest import wait_until


def compose(composer: Composer, timeout: float = 30.0, **fields: Any) -> dict[str, Any]:
    for name, value in fields.items():
        setattr(composer, name, value)
    composer.invoke_button.click()
    assert composer.wait(timeout), "the composer did not answer in time"
    return dict(composer.answer)


def test_pickers_list_the_catalogue_with_kinds(lab: Any) -> None:
    """Service and handler pickers come from the target's catalogue; handler labels carry their kind."""
    composer = Composer(lab)
    assert list(composer.service_picker.options) == ["Greeter", "Counter", "Signup"]
    composer.service = "Counter"
    labels = dict(composer.handler_picker.options)
    assert labels == {"add (Exclusive)": "add", "get (Shared)": "get"}
    assert "VirtualObject" in composer.kind_label.value and "Exclusive" in composer.kind_label.value
    composer.service = "Signup"
    assert dict(composer.handler_picker.options)["run (Workflow)"] == "run"


def test_key_field_only_for_objects_and_workflows(lab: Any) -> None:
    """The key field is hidden for a plain service and shown for virtual objects and workflows."""
    composer = Composer(lab)
    assert composer.key_field.layout.display == "none"
    composer.service = "Counter"
    assert composer.key_field.layout.display is None
    composer.service = "Signup"
    assert composer.key_field.layout.display is None


def test_body_prefilled_from_input_schema(lab: Any) -> None:
    """The body editor starts with a value shaped like the handler's input schema."""
    composer = Composer(lab)
    composer.handler = "introduce"
    prefill = json.loads(composer.body)
    assert set(prefill) == {"name", "age"} and isinstance(prefill["age"], int)
    composer.service = "Counter"
    assert json.loads(composer.body) == 0
    composer.handler = "get"
    assert composer.body == ""


def test_call_shows_result_id_and_elapsed_time(lab: Any) -> None:
    """A call's answer panel shows status, invocation id, elapsed time with its unit, and the body."""
    composer = Composer(lab)
    answer = compose(composer, body='"Ada"')
    assert answer["outcome"] == "ok" and answer["result"] == "Hello Ada!"
    assert answer["invocation_id"] and answer["invocation_id"].startswith("inv_")
    assert lab.output(answer["invocation_id"]) == "Hello Ada!"
    assert answer["elapsed_ms"] > 0
    panel = composer.answer_panel.value
    assert "Hello Ada!" in panel and answer["invocation_id"] in panel
    assert " ms" in panel or " s<" in panel


def test_invalid_json_is_refused_in_the_widget_and_nothing_is_sent(lab: Any) -> None:
    """Bad JSON gives a message in the widget, no exception, and no invocation on the target."""
    composer = Composer(lab)
    composer.body = '{"name": '
    assert composer.invoke() is False
    assert "not valid JSON" in composer.message and "⚠" in composer.message_label.value
    assert lab.invocations().empty and not composer.busy
    assert composer.history["outcome"].tolist()[-1] == "invalid"


def test_body_checked_against_schema_before_sending(lab: Any) -> None:
    """A body of the wrong shape names the field at fault and is not sent."""
    composer = Composer(lab)
    composer.handler = "introduce"
    composer.body = '{"name": "Ada", "age": "old"}'
    assert composer.invoke() is False
    assert "body.age must be integer" in composer.message
    composer.body = '{"name": "Ada"}'
    assert composer.invoke() is False
    assert "missing required field 'age'" in composer.message
    answer = compose(composer, body='{"name": "Ada", "age": 36}')
    assert answer["result"] == "Ada is 36" and composer.message == ""


def test_object_call_needs_a_key(lab: Any) -> None:
    """Calling a virtual object without a key is refused with a message naming the service kind."""
    composer = Composer(lab)
    composer.service = "Counter"
    composer.body = "2"
    assert composer.invoke() is False
    assert "VirtualObject" in composer.message and "key" in composer.message
    answer = compose(composer, key="alice")
    assert answer["result"] == 2 and lab.state("Counter", "alice") == {"count": 2}


def test_send_with_delay_and_idempotency_key(lab: Any) -> None:
    """Send returns the receipt; the same idempotency key again is PreviouslyAccepted with the same id."""
    composer = Composer(lab)
    first = compose(composer, mode="send", body='"Bo"', delay="2s", idempotency_key="once")
    assert first["outcome"] == "accepted" and first["result"]["execution_time"]
    again = compose(composer, body='"Cy"')
    assert again["outcome"] == "previously-accepted"
    assert again["invocation_id"] == first["invocation_id"]
    assert composer.delay_row.layout.display is None
    composer.mode = "call"
    assert composer.delay_row.layout.display == "none" and composer.invoke_button.description == "Call"


def test_bad_delay_and_bad_headers_are_refused(lab: Any) -> None:
    """A delay that is not a duration, and a header line without a colon, are refused before sending."""
    composer = Composer(lab)
    composer.mode, composer.body, composer.delay = "send", '"x"', "soon"
    assert composer.invoke() is False and "not a duration" in composer.message
    composer.delay, composer.headers = "1s", "no colon here"
    assert composer.invoke() is False and "header line 1" in composer.message


def test_extra_headers_reach_the_handler(lab: Any) -> None:
    """Headers typed as 'name: value' lines are sent with the request."""
    composer = Composer(lab)
    answer = compose(composer, handler="header", body='"x-team"', headers="x-team: blue\n")
    assert answer["result"] == "blue"


def test_terminal_error_shows_code_and_source(lab: Any) -> None:
    """A handler's terminal error shows its code and source ``invocation``, not a traceback."""
    composer = Composer(lab)
    answer = compose(composer, handler="teapot", body="")
    assert answer["outcome"] == "error" and answer["error_code"] == 418
    assert answer["error_source"] == "invocation" and "teapot" in answer["error_message"]
    assert "418" in composer.answer_panel.value and "Traceback" not in composer.answer_panel.value


def test_call_that_never_finishes_times_out_with_busy_feedback(lab: Any) -> None:
    """A call to a handler that keeps failing shows a busy indicator, then a timeout, never a frozen cell."""
    composer = Composer(lab)
    composer.handler, composer.body, composer.timeout = "stuck", "", 1.0
    assert composer.invoke() is True  # returns at once: the call runs in the background
    assert composer.busy and composer.invoke_button.disabled
    assert wait_until(lambda: "⏳" in composer.busy_label.value, 5.0)
    assert composer.invoke() is False and "still running" in composer.message
    assert composer.wait(30.0)
    answer = dict(composer.answer)
    assert answer["outcome"] == "timeout" and not composer.busy
    assert composer.busy_label.value == "" and "timeout" in composer.answer_panel.value


def test_history_frame_has_every_composed_invocation(lab: Any) -> None:
    """Every composed invocation, refused ones included, is a row with the documented columns."""
    composer = Composer(lab)
    compose(composer, body='"A"')
    composer.body = "{"
    composer.invoke()
    compose(composer, mode="send", body='"B"')
    history = composer.history
    assert list(history.columns) == list(HISTORY_COLUMNS)
    assert history["outcome"].tolist() == ["ok", "invalid", "accepted"]
    assert str(history["composed_at"].dtype).startswith("datetime64") and history["composed_at"].dt.tz is not None
    assert history.loc[0, "result"] == "Hello A!" and history.loc[2, "mode"] == "send"
    assert pd.isna(history.loc[1, "elapsed_ms"])


def test_unknown_service_set_from_code_is_a_clear_error(lab: Any) -> None:
    """Setting a service the catalogue lacks names the services there are."""
    composer = Composer(lab)
    with pytest.raises(Exception, match="unknown service 'Nope'.*Greeter"):
        composer.service = "Nope"


def test_unreachable_target_is_reported_in_the_widget() -> None:
    """A target whose admin API cannot be reached gives a message, not a traceback."""
    from restate_lab.server.client import RestateClient

    with RestateClient("http://127.0.0.1:9", "http://127.0.0.1:9", timeout=1.0) as client:
        composer = Composer(client)
    assert "Could not read the services" in composer.message
    assert composer.invoke() is False and "Pick a service" in composer.message


def test_parse_headers_accepts_lines_and_json() -> None:
    """Headers are 'name: value' lines or a JSON object; names are lower-cased."""
    assert parse_headers("X-A: 1\n\nx-b:  two ") == {"x-a": "1", "x-b": "two"}
    assert parse_headers('{"x-c": 3}') == {"x-c": "3"}
    with pytest.raises(ValueError, match="JSON object"):
        parse_headers("[1]")


def test_composer_against_the_simulator(simulated: Any) -> None:
    """The same composer drives a SimulatedRestate: calls complete in virtual time."""
    composer = Composer(simulated)
    assert "Counter" in composer.service_picker.options
    answer = compose(composer, service="Counter", handler="add", key="k", body="1")
    assert answer["outcome"] == "ok" and answer["invocation_id"].startswith("inv_")
    sent = compose(composer, mode="send", delay="1s")
    assert sent["outcome"] == "accepted" and simulated.status(sent["invocation_id"]) == "scheduled"


def test_composer_against_restate_lab_serve(served: Any) -> None:
    """The composer over HTTP (RestateClient to ``restate-lab serve``) answers as in process."""
    composer = Composer(served)
    answer = compose(composer, body='"Ada"')
    assert answer["result"] == "Hello Ada!" and answer["invocation_id"].startswith("inv_")
    teapot = compose(composer, handler="teapot", body="")
    assert (teapot["error_code"], teapot["error_source"]) == (418, "invocation")


@pytest.mark.realserver
def test_composer_against_the_real_server(real: Any) -> None:
    """The composer against Restate Server 1.7.12: same catalogue, same answers."""
    composer = Composer(real)
    assert {"Greeter", "Counter", "Signup"} <= set(composer.service_picker.options)
    composer.service = "Greeter"
    answer = compose(composer, handler="greet", body='"Ada"')
    assert answer["result"] == "Hello Ada!"
    counter = compose(composer, service="Counter", handler="add", key="w1", body="4")
    assert counter["result"] == 4
    teapot = compose(composer, service="Greeter", handler="teapot", body="")
    assert (teapot["error_code"], teapot["error_source"]) == (418, "invocation")
