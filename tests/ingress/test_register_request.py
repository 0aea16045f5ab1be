"""POST /deployments bodies read and refused as Restate Server 1.7.12 reads them (each case measured on it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import restate

from restate_lab import LocalRestate
from restate_lab.ingress.http_uri import InvalidUri, parse_uri
from restate_lab.ingress.register_request import (
    NO_UPDATE_VARIANT,
    NO_VARIANT,
    HttpRegistration,
    LambdaRegistration,
    field_refusal,
    gcp_token_failure,
    read_register_request,
)
from restate_lab.ingress.service_client import CLIENT_FAILURE, POOL_FAILURE, connect_target

from .conftest import services
from .test_admin import Admin, admin_error

GCP = '"auth": {"GoogleIdToken": {}}'


@pytest.fixture(scope="module")
def admin() -> Iterator[Admin]:
    with LocalRestate(restate.app(services), http2=False) as lab:
        yield Admin(lab)


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("HTTP://Example.com:9080?x#top", "http://Example.com:9080/?x"),
        ("h2c://host:1", "h2c://host:1/"),
        ("://[::1]:1/x", "://[::1]:1/x"),
        ("/greeter", "/greeter"),
    ],
)
def test_a_uri_is_shown_as_the_http_crate_shows_it(uri: str, shown: str) -> None:
    assert str(parse_uri(uri)) == shown


@pytest.mark.parametrize("uri", ["http://é", "http://exa mple", "http://a:1:2", "http://[::1", ""])
def test_a_uri_the_http_crate_refuses_does_not_parse(uri: str) -> None:
    with pytest.raises(InvalidUri):
        parse_uri(uri)


@pytest.mark.parametrize(
    "body",
    [
        '{"uri": "http://é"}',
        '{"uri": "http://127.0.0.1:1", "use_http_11": "yes"}',
        '{"uri": "http://127.0.0.1:1", "additional_headers": {"bad name": "v"}}',
        '{"uri": "http://127.0.0.1:1", "additional_headers": {"x": "a\\nb"}}',
        '{"uri": "http://127.0.0.1:1", "uri": "http://127.0.0.1:2"}',
        '{"uri": "http://127.0.0.1:1", "auth": {"Other": {}}}',
        '{"use_http_11": true}',
        "[]",
    ],
)
def test_a_body_that_fits_neither_variant_is_no_registration(body: str) -> None:
    assert read_register_request(body) is None


def test_a_body_without_uri_but_with_arn_is_a_lambda_registration() -> None:
    request = read_register_request('{"uri": "http://é", "arn": "arn:aws:lambda:r:1:function:f:1", "extra": 1}')
    assert isinstance(request, LambdaRegistration)
    assert request.arn == "arn:aws:lambda:r:1:function:f:1"


def test_a_variant_is_never_spelled_as_an_array_but_a_nested_struct_may_be() -> None:
    assert read_register_request('["http://127.0.0.1:1", null, {}, false, false, null]') is None
    request = read_register_request('{"uri": "http://127.0.0.1:1", "auth": {"GoogleIdToken": ["sa", "aud"]}}')
    assert isinstance(request, HttpRegistration) and request.auth is not None
    assert (request.auth.impersonate_service_account, request.auth.audience) == ("sa", "aud")


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        (
            '{"uri": "/greeter"}',
            "The request field 'uri' is invalid. Reason: The provided uri /greeter is not absolute, "
            "only absolute URIs can be used.",
        ),
        (
            '{"uri": "http://example.com:1", ' + GCP + "}",
            "The request field 'auth' is invalid. Reason: GCP authentication requires an https URI for "
            "non-loopback/private hosts; got http://example.com:1/",
        ),
        (
            '{"uri": "http://[::ffff:127.0.0.1]:1", ' + GCP + "}",
            "The request field 'auth' is invalid. Reason: GCP authentication requires an https URI for "
            "non-loopback/private hosts; got http://[::ffff:127.0.0.1]:1/",
        ),
        (
            '{"uri": "https://svc.example.com", "additional_headers": {"X-Serverless-Authorization": "b"}, '
            + GCP
            + "}",
            "The request field 'additional_headers' is invalid. Reason: X-Serverless-Authorization in "
            "additional_headers is not allowed when GCP auth is enabled; the minted ID token uses this header. "
            "Place any static bearer on Authorization instead; Cloud Run forwards it to the workload unchanged.",
        ),
        (
            '{"arn": "arn:aws:lambda:r:1:function:f"}',
            "The request field 'arn' is invalid. Reason: A qualified ARN "
            "needs a version or alias suffix. If you want to use the unpublished version, provide $LATEST and make "
            "sure your shell doesn't treat it as a variable",
        ),
    ],
)
def test_the_handler_refuses_field_values_in_its_own_words(body: str, refusal: str) -> None:
    request = read_register_request(body)
    assert request is not None
    assert field_refusal(request) == refusal


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:1",
        "http://LocalHost:1",
        "http://10.0.0.1:1",
        "http://172.16.0.1:1",
        "http://192.168.1.1:1",
        "http://127.5.5.5:1",
        "http://[::1]:1",
        "http://[fe80::1]:1",
        "http://[fc00::1]:1",
        "https://example.com:1",
        "HTTPS://example.com:1",
    ],
)
def test_gcp_auth_over_http_is_allowed_for_loopback_and_private_hosts(uri: str) -> None:
    request = read_register_request(f'{{"uri": "{uri}", {GCP}}}')
    assert request is not None
    assert field_refusal(request) is None


def test_the_gcp_audience_defaults_to_scheme_and_authority() -> None:
    request = read_register_request('{"uri": "http://127.0.0.1:1/a?x=1", ' + GCP + "}")
    assert isinstance(request, HttpRegistration)
    assert (
        "for 'http://127.0.0.1:1/a?x=1': failed to mint ID token (audience 'http://127.0.0.1:1', "
        "impersonating '(ambient)')" in gcp_token_failure(request)
    )


@pytest.mark.parametrize(
    ("uri", "use_http_11", "reason"),
    [
        ("https://a..b:1", False, CLIENT_FAILURE + "invalid dns name"),
        ("https://127.0.0.1.:1/x", True, CLIENT_FAILURE + "invalid dns name"),
        ("https://:1", False, CLIENT_FAILURE + "invalid dns name"),
        ("ftp://example.com", False, POOL_FAILURE + "missing port number"),
        ("ftp://example.com:1", True, CLIENT_FAILURE + "unsupported scheme ftp"),
        ("http://[::1]:1", False, POOL_FAILURE + "unknown host name"),
    ],
)
def test_discovery_gives_up_before_connecting_in_the_clients_words(uri: str, use_http_11: bool, reason: str) -> None:
    assert connect_target(parse_uri(uri), use_http_11=use_http_11) == reason


def test_an_unparseable_uri_is_the_frameworks_422(admin: Admin) -> None:
    response = admin.request("POST", "/deployments", json={"uri": "http://é"})
    assert (response.status_code, response.text) == (422, NO_VARIANT)


def test_a_gcp_registration_fails_minting_and_registers_nothing(admin: Admin) -> None:
    before = admin.request("GET", "/deployments").json()
    response = admin.request("POST", "/deployments", json={"uri": "http://127.0.0.1:1", "auth": {"GoogleIdToken": {}}})
    admin_error(
        response,
        500,
        "[META0003] [META0003] error minting GCP ID token for 'http://127.0.0.1:1/': failed to mint ID token "
        "(audience 'http://127.0.0.1:1', impersonating '(ambient)'): restate_lab does not mint GCP tokens",
        "META0003",
    )
    assert admin.request("GET", "/deployments").json() == before


def test_an_https_uri_with_no_dns_name_is_refused_before_connecting(admin: Admin) -> None:
    response = admin.request("POST", "/deployments", json={"uri": "https://a..b:65535?q=1"})
    admin_error(
        response,
        500,
        "[META0003] [META0003] error when calling 'https://a..b:65535/?q=1': " + CLIENT_FAILURE + "invalid dns name",
        "META0003",
    )


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            '{"uri": "/rel"}',
            400,
            "The request field 'uri' is invalid. Reason: The provided uri /rel is not absolute, "
            "only absolute URIs can be used.",
        ),
        (
            '{"arn": "x"}',
            400,
            "The request field 'arn' is invalid. Reason: A qualified ARN must have 8 components delimited by `:`",
        ),
        (
            '{"assume_role_arn": "x"}',
            400,
            "cannot update the deployment, as the deployment type is http while the update options are for type lambda",
        ),
        (
            '{"uri": "https://a..b:1"}',
            500,
            "[META0003] [META0003] error when calling 'https://a..b:1/': " + CLIENT_FAILURE + "invalid dns name",
        ),
        (
            '{"uri": "http://127.0.0.1:1", "auth": "ignored", "force": "ignored"}',
            500,
            "[META0003] [META0003] error "
            "when calling 'http://127.0.0.1:1/': " + POOL_FAILURE + "Connection refused (os error 111)",
        ),
    ],
)
def test_an_update_is_refused_in_the_handlers_words(admin: Admin, body: str, status: int, message: str) -> None:
    dp_id = admin.request("GET", "/deployments").json()["deployments"][0]["id"]
    response = admin.request(
        "PATCH", f"/deployments/{dp_id}", content=body, headers={"content-type": "application/json"}
    )
    admin_error(response, status, message, "META0003" if status == 500 else None)


@pytest.mark.parametrize(
    "body",
    [
        '{"uri": "http://é"}',
        '{"uri": " http://127.0.0.1:1"}',
        '{"uri": "http://127.0.0.1:1", "uri": "http://x:2"}',
        '{"uri": null}',
        '{"use_http_11": "x"}',
        "{}",
    ],
)
def test_an_update_without_a_readable_uri_is_the_lambda_variant_and_changes_nothing(admin: Admin, body: str) -> None:
    before = admin.request("GET", "/deployments").json()["deployments"][0]
    response = admin.request(
        "PATCH", f"/deployments/{before['id']}", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["uri"] == before["uri"]


@pytest.mark.parametrize(
    "body", ['{"uri": "http://127.0.0.1:1", "dry_run": "x"}', '{"additional_headers": {"bad name": "v"}}', "[]"]
)
def test_an_update_that_fits_neither_variant_is_the_frameworks_422(admin: Admin, body: str) -> None:
    dp_id = admin.request("GET", "/deployments").json()["deployments"][0]["id"]
    response = admin.request(
        "PATCH", f"/deployments/{dp_id}", content=body, headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.text) == (422, NO_UPDATE_VARIANT)
