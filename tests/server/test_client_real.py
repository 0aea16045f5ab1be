"""RestateClient against the real server: calls, sends, delays, errors, admin operations."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from restate_lab.api import IngressApi
from restate_lab.rules import RestateError
from restate_lab.server import RestateServer
from restate_lab.server.client import error_from_response

pytestmark = [pytest.mark.realserver, pytest.mark.timeout(120)]


def test_client_implements_ingress_api(real_server: RestateServer) -> None:
    """The HTTP client satisfies the shared IngressApi protocol."""
    assert isinstance(real_server.client, IngressApi)


def test_call_returns_handler_result(real_server: RestateServer) -> None:
    """A call answers the handler's JSON result."""
    assert real_server.client.call("Greeter", "greet", "Ada") == "Hello Ada!"


def test_call_on_virtual_object_uses_key(real_server: RestateServer) -> None:
    """State is per key."""
    client = real_server.client
    assert client.call("Counter", "add", 2, key="a") == 2
    assert client.call("Counter", "add", 3, key="a") == 5
    assert client.call("Counter", "add", 1, key="b/with slash") == 1


def test_send_with_delay_runs_later(real_server: RestateServer) -> None:
    """A delayed send is accepted at once with an executionTime and completes after the delay."""
    client = real_server.client
    started = time.monotonic()
    receipt = client.send("Greeter", "greet", "Later", delay=1.5)
    assert receipt.status == "Accepted"
    assert receipt.invocation_id.startswith("inv_")
    assert receipt.execution_time is not None and receipt.execution_time.endswith("Z")
    with pytest.raises(RestateError) as info:
        client.output(receipt.invocation_id)
    assert info.value.code == 470
    assert client.attach(receipt.invocation_id) == "Hello Later!"
    assert time.monotonic() - started >= 1.2


def test_repeated_send_with_idempotency_key_is_previously_accepted(real_server: RestateServer) -> None:
    """The same idempotency key returns the first invocation id."""
    client = real_server.client
    first = client.send("Greeter", "greet", "X", idempotency_key="once")
    again = client.send("Greeter", "greet", "Y", idempotency_key="once")
    assert (first.status, again.status) == ("Accepted", "PreviouslyAccepted")
    assert again.invocation_id == first.invocation_id


def test_unknown_service_raises_ingress_404(real_server: RestateServer) -> None:
    """An unknown service is a 404 from the ingress."""
    with pytest.raises(RestateError) as info:
        real_server.client.call("Nope", "greet", "x")
    assert (info.value.code, info.value.source) == (404, "ingress")
    assert "service 'Nope' not found" in info.value.message


def test_terminal_error_keeps_custom_code_and_invocation_source(real_server: RestateServer) -> None:
    """A TerminalError's status code and message reach the caller, sourced to the invocation."""
    with pytest.raises(RestateError) as info:
        real_server.client.call("Greeter", "teapot")
    assert (info.value.code, info.value.message, info.value.source) == (418, "I am a teapot", "invocation")


def test_delay_on_call_is_rejected(real_server: RestateServer) -> None:
    """``?delay=`` is only for sends: a delayed call is a 400 from the ingress."""
    response = real_server.client.http.post(f"{real_server.ingress_url}/Greeter/greet?delay=1s", json="x")
    error = error_from_response(response)
    assert (error.code, error.source) == (400, "ingress")
    assert "delay is supported only with sends" in error.message


def test_kill_and_purge(real_server: RestateServer) -> None:
    """Kill ends a running invocation with 409 'killed'; purge then forgets it."""
    client = real_server.client
    receipt = client.send("Greeter", "slow", 30)
    time.sleep(0.3)
    client.kill(receipt.invocation_id)
    with pytest.raises(RestateError) as info:
        client.attach(receipt.invocation_id)
    assert (info.value.code, info.value.message) == (409, "killed")
    client.purge(receipt.invocation_id)
    with pytest.raises(RestateError) as gone:
        client.output(receipt.invocation_id)
    assert gone.value.code == 404


def test_cancel_unknown_invocation_is_an_error(real_server: RestateServer) -> None:
    """The admin API refuses a malformed id with 400."""
    with pytest.raises(RestateError) as info:
        real_server.client.cancel("inv_garbage")
    assert info.value.code == 400


def test_resolve_awakeable_completes_the_handler(real_server: RestateServer, published: list[str]) -> None:
    """Resolving an awakeable through the ingress wakes the waiting handler."""
    client = real_server.client
    receipt = client.send("Greeter", "wait_for")
    deadline = time.monotonic() + 10
    while not published and time.monotonic() < deadline:
        time.sleep(0.05)
    assert published, "the handler never published its awakeable id"
    client.resolve_awakeable(published[-1], "woken")
    assert client.attach(receipt.invocation_id) == "woken"


def test_query_returns_dataframe(real_server: RestateServer) -> None:
    """SQL introspection comes back as a DataFrame with the server's column names."""
    real_server.client.call("Greeter", "greet", "Q")
    frame = real_server.client.query("select id, target, status from sys_invocation")
    assert isinstance(frame, pd.DataFrame)
    assert {"id", "target", "status"} <= set(frame.columns)
    assert "Greeter/greet" in set(frame["target"])


def test_bad_sql_raises(real_server: RestateServer) -> None:
    """A SQL syntax error is a 400 with the DataFusion message."""
    with pytest.raises(RestateError) as info:
        real_server.client.query("selec x")
    assert info.value.code == 400
    assert "SQL error" in info.value.message
