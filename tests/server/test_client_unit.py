"""RestateClient pieces that need no server: delay spelling, error parsing, binary lookup."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from restate_lab.server import RestateServerNotInstalled, binary
from restate_lab.server.client import RestateClient, decode_body, error_from_response, format_delay


def test_delay_numbers_are_seconds_and_strings_pass_through() -> None:
    """Numbers and timedeltas become milliseconds; strings are sent as written."""
    assert format_delay(2) == "2000ms"
    assert format_delay(0.25) == "250ms"
    assert format_delay(timedelta(minutes=1)) == "60000ms"
    assert format_delay("PT2S") == "PT2S"
    with pytest.raises(ValueError):
        format_delay(-1)


def test_ingress_error_body_and_header_become_restate_error() -> None:
    """``{"code","message","source"}`` is parsed as the server wrote it."""
    response = httpx.Response(
        470,
        json={"code": 470, "message": "the invocation exists but has not completed yet", "source": "ingress"},
        headers={"x-restate-error-source": "ingress"},
    )
    error = error_from_response(response)
    assert (error.code, error.source) == (470, "ingress")
    assert error.message == "the invocation exists but has not completed yet"


def test_admin_error_without_code_uses_status() -> None:
    """Admin errors carry only a message; the HTTP status is the code."""
    response = httpx.Response(
        404, json={"message": "The requested service 'Nope' does not exist", "restate_code": None}
    )
    error = error_from_response(response)
    assert (error.code, error.message) == (404, "The requested service 'Nope' does not exist")


def test_plain_text_error_keeps_text() -> None:
    """A non-JSON error body becomes the message."""
    error = error_from_response(httpx.Response(422, text="Failed to deserialize"))
    assert (error.code, error.message) == (422, "Failed to deserialize")


def test_empty_success_body_decodes_to_none() -> None:
    """A handler returning None answers an empty body."""
    assert decode_body(httpx.Response(200, content=b"")) is None
    assert decode_body(httpx.Response(200, json={"a": 1})) == {"a": 1}


def test_target_path_encodes_keys() -> None:
    """Object keys are single, percent-encoded path segments."""
    assert RestateClient.target_path("Counter", "add", "a/b c") == "/Counter/a%2Fb%20c/add"
    assert RestateClient.target_path("Greeter", "greet") == "/Greeter/greet"


def test_missing_binary_raises_with_install_instructions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without env, cache or PATH entry the error names the install script."""
    monkeypatch.setenv("RESTATE_SERVER_BIN", str(tmp_path / "nope"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(binary, "_REPO_ROOT", tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RestateServerNotInstalled, match="scripts/install-restate-server.sh"):
        binary.find_restate_server()


def test_env_binary_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``RESTATE_SERVER_BIN`` is used when it points at an executable."""
    fake = tmp_path / "restate-server"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("RESTATE_SERVER_BIN", str(fake))
    assert binary.find_restate_server() == fake
