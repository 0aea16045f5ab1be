"""``POST /deployments`` bodies read as Restate Server 1.7.12 reads them: serde's untagged enum
``RegisterDeploymentRequest``, tried as its ``Http`` variant first and then as ``Lambda``.

A body that fits neither is the framework's 422 ``data did not match any variant``. A variant fits when
each of its fields has the right type, and when a value parses as the Rust type behind it: ``uri`` as an
``http::Uri`` (:mod:`restate_lab.ingress.http_uri`), each ``additional_headers`` entry as a header name
and value. Unknown fields are ignored; a variant's own field given twice does not fit. A variant is
never spelled as a JSON array (measured), but ``auth``'s nested struct may be, its fields in declaration order.

Only then does the handler look at the values, in its own JSON words (400 ``The request field 'uri' is
invalid``): a ``uri`` must be absolute, an ``arn`` a qualified Lambda function ARN.

    >>> print(field_refusal(read_register_request('{"uri": "/greeter"}')))  # doctest: +ELLIPSIS
    The request field 'uri' is invalid. Reason: The provided uri /greeter is not absolute, only absolute URIs ...
    >>> read_register_request('{"uri": "http://é"}') is None
    True
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from restate_lab.ingress.http_uri import InvalidUri, Uri, parse_uri
from restate_lab.ingress.replies import Reply, text_reply
from restate_lab.ingress.serde_json_reader import first_value, json_syntax_error

#: The framework's answer (422, text) to a body that fits neither variant.
NO_VARIANT = (
    "Failed to deserialize the JSON body into the target type: "
    "data did not match any variant of untagged enum RegisterDeploymentRequest"
)

#: Bytes a header name may hold (RFC 9110 token characters; upper case is folded to lower case).
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_MAX_HEADER_NAME_LEN = 0xFFFF


@dataclass(frozen=True)
class GoogleIdTokenAuth:
    """The ``auth`` of an ``Http`` registration: mint a Google ID token for each request to the deployment."""

    audience: str | None
    impersonate_service_account: str | None


@dataclass(frozen=True)
class HttpRegistration:
    """The ``Http`` variant: a deployment reached over HTTP at ``uri``."""

    uri: Uri
    additional_headers: dict[str, str]
    use_http_11: bool
    force: bool | None
    dry_run: bool
    auth: GoogleIdTokenAuth | None = None


@dataclass(frozen=True)
class LambdaRegistration:
    """The ``Lambda`` variant: a deployment invoked through AWS Lambda."""

    arn: str
    force: bool | None
    dry_run: bool


RegisterRequest = HttpRegistration | LambdaRegistration


@dataclass(frozen=True)
class HttpUpdate:
    """``PATCH /deployments/{id}``'s ``Http`` variant: discover the deployment again at ``uri``."""

    uri: Uri
    use_http_11: bool | None
    dry_run: bool


@dataclass(frozen=True)
class LambdaUpdate:
    """``PATCH /deployments/{id}``'s ``Lambda`` variant; every field optional, so any object without a
    readable ``uri`` lands here (an update that changes nothing)."""

    arn: str | None
    assume_role_arn: str | None
    dry_run: bool


UpdateRequest = HttpUpdate | LambdaUpdate

#: The framework's answer (422, text) to a ``PATCH`` body that fits neither variant.
NO_UPDATE_VARIANT = (
    "Failed to deserialize the JSON body into the target type: "
    "data did not match any variant of untagged enum UpdateDeploymentRequest"
)


class _Object(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs in order, duplicates kept (serde sees them; ``dict`` would not)."""


class _Mismatch(Exception):
    """A value does not fit the field's type: the variant being tried does not fit."""


# ---- the field types, as serde reads them from buffered content ----


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Mismatch
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Mismatch
    return value


def _optional(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else read(value)


def _uri(value: Any) -> Uri:
    try:
        return parse_uri(_string(value))
    except InvalidUri:
        raise _Mismatch from None


def _string_map(value: Any) -> dict[str, str]:
    """``HashMap<String, String>``: an object of strings; a key given twice keeps its last value."""
    if not isinstance(value, _Object):
        raise _Mismatch
    return {key: _string(item) for key, item in value}


def _header_map(value: Any) -> dict[str, str]:
    """Restate's ``SerdeableHeaderHashMap``: names and values that ``http::HeaderName``/``HeaderValue`` accept."""
    headers = _string_map(value)
    for name, text in headers.items():
        raw = name.encode("utf-8", errors="surrogatepass")
        if not 0 < len(raw) <= _MAX_HEADER_NAME_LEN or not set(raw) <= _TOKEN:
            raise _Mismatch
        # A header value is any byte but the controls (tab aside) and DEL.
        if any((byte < 0x20 and byte != 0x09) or byte == 0x7F for byte in text.encode("utf-8", errors="surrogatepass")):
            raise _Mismatch
    return headers


def _google_id_token(value: Any) -> GoogleIdTokenAuth:
    """``GoogleIdTokenAuth``: a struct of two optional strings."""
    read = _optional(_string)
    got = _struct(value, (("impersonate_service_account", read, True), ("audience", read, True)))
    return GoogleIdTokenAuth(got.get("audience"), got.get("impersonate_service_account"))


def _http_auth(value: Any) -> Any:
    """``HttpAuth``, an externally tagged enum with one newtype variant, ``{"GoogleIdToken": {...}}``."""
    if not isinstance(value, _Object) or len(value) != 1 or value[0][0] != "GoogleIdToken":
        raise _Mismatch
    return _google_id_token(value[0][1])


#: A struct field: its name, how its value is read, and whether it may be left out of an array spelling
#: (``#[serde(default)]``; an ``Option`` without it may only be left out of an object).
_Field = tuple[str, Callable[[Any], Any], bool]

_HEADERS: _Field = ("additional_headers", _optional(_header_map), False)
_METADATA: _Field = ("metadata", _string_map, True)
_BREAKING: _Field = ("breaking", _bool, True)
_FORCE: _Field = ("force", _optional(_bool), False)
_DRY_RUN: _Field = ("dry_run", _bool, True)
#: The variants' fields in declaration order.
_HTTP_FIELDS: tuple[_Field, ...] = (
    ("uri", _uri, False),
    _HEADERS,
    _METADATA,
    ("use_http_11", _bool, True),
    _BREAKING,
    _FORCE,
    _DRY_RUN,
    ("auth", _optional(_http_auth), True),
)
_LAMBDA_FIELDS: tuple[_Field, ...] = (
    ("arn", _string, False),
    ("assume_role_arn", _optional(_string), False),
    _HEADERS,
    _METADATA,
    _BREAKING,
    _FORCE,
    _DRY_RUN,
)
_OVERWRITE: _Field = ("overwrite", _bool, True)
#: ``UpdateDeploymentRequest``'s variants (``RegisterDeploymentRequest``'s without ``force``, ``auth``, ...).
_UPDATE_HTTP_FIELDS: tuple[_Field, ...] = (
    ("uri", _uri, False),
    _HEADERS,
    ("use_http_11", _optional(_bool), True),
    _OVERWRITE,
    _DRY_RUN,
)
_UPDATE_LAMBDA_FIELDS: tuple[_Field, ...] = (
    ("arn", _optional(_string), True),
    ("assume_role_arn", _optional(_string), True),
    _HEADERS,
    _OVERWRITE,
    _DRY_RUN,
)
#: Fields that a serde struct fills in when an object leaves them out.
_OPTIONAL = {"additional_headers", "assume_role_arn", "force", "auth", "impersonate_service_account", "audience"}


def _struct(value: Any, fields: tuple[_Field, ...], *, by_position: bool = True) -> dict[str, Any]:
    """Read a serde struct from an object (by name) or an array (by position); the fields it was given.

    The two variants themselves are read by name only: measured, no array fits either of them.
    """
    got: dict[str, Any] = {}
    if isinstance(value, _Object):
        readers = {name: read for name, read, _default in fields}
        for key, item in value:
            if key in readers:
                if key in got:
                    raise _Mismatch  # serde: duplicate field
                got[key] = readers[key](item)
        if any(name not in got and name not in _OPTIONAL and not default for name, _read, default in fields):
            raise _Mismatch  # serde: missing field
        return got
    if isinstance(value, list) and by_position:
        if len(value) > len(fields) or any(not default for _name, _read, default in fields[len(value) :]):
            raise _Mismatch  # serde: invalid length
        return {name: read(item) for (name, read, _default), item in zip(fields, value, strict=False)}
    raise _Mismatch


def read_register_request(text: str) -> RegisterRequest | None:
    """The variant a (well-formed JSON) ``POST /deployments`` body fits, or None: the 422 :data:`NO_VARIANT`."""
    return register_variant(json.loads(text, object_pairs_hook=_Object))


def register_variant(body: Any) -> RegisterRequest | None:
    """:func:`read_register_request` for a value already read with :func:`read_enum_body`."""
    try:
        got = _struct(body, _HTTP_FIELDS, by_position=False)
    except _Mismatch:
        pass
    else:
        return HttpRegistration(
            uri=got["uri"],
            additional_headers=got.get("additional_headers") or {},
            use_http_11=got.get("use_http_11", False),
            force=got.get("force"),
            dry_run=got.get("dry_run", False),
            auth=got.get("auth"),
        )
    try:
        got = _struct(body, _LAMBDA_FIELDS, by_position=False)
    except _Mismatch:
        return None
    return LambdaRegistration(arn=got["arn"], force=got.get("force"), dry_run=got.get("dry_run", False))


def read_update_request(text: str) -> UpdateRequest | None:
    """The variant a (well-formed JSON) ``PATCH /deployments/{id}`` body fits, or None: :data:`NO_UPDATE_VARIANT`."""
    return update_variant(json.loads(text, object_pairs_hook=_Object))


def update_variant(body: Any) -> UpdateRequest | None:
    """:func:`read_update_request` for a value already read with :func:`read_enum_body`."""
    try:
        got = _struct(body, _UPDATE_HTTP_FIELDS, by_position=False)
    except _Mismatch:
        pass
    else:
        return HttpUpdate(uri=got["uri"], use_http_11=got.get("use_http_11"), dry_run=got.get("dry_run", False))
    try:
        got = _struct(body, _UPDATE_LAMBDA_FIELDS, by_position=False)
    except _Mismatch:
        return None
    return LambdaUpdate(got.get("arn"), got.get("assume_role_arn"), dry_run=got.get("dry_run", False))


def update_refusal(request: UpdateRequest) -> str | None:
    """The handler's 400 message for an update of an HTTP deployment it refuses, or None to go on."""
    if isinstance(request, HttpUpdate):
        reason = _uri_error(request.uri)
        return None if reason is None else f"The request field 'uri' is invalid. Reason: {reason}"
    if request.arn is not None:
        reason = lambda_arn_error(request.arn)
        return None if reason is None else f"The request field 'arn' is invalid. Reason: {reason}"
    if request.assume_role_arn is not None:
        return (
            "cannot update the deployment, as the deployment type is http while the update options are for type lambda"
        )
    return None


def lambda_failure(arn: str) -> str:
    """The 500 message for calling the Lambda ``arn``, which restate_lab never does (it does not call AWS)."""
    failure = "lambda service returned error: restate_lab does not call AWS"
    return f"[META0003] [META0003] error when calling '{arn}': {failure}"


def _uri_error(uri: Uri) -> str | None:
    return None if uri.is_absolute else f"The provided uri {uri} is not absolute, only absolute URIs can be used."


def read_register_body(body: bytes) -> RegisterRequest | Reply:
    """A ``POST /deployments`` body, or the framework's refusal of it (400 syntax, 422 no variant)."""
    request: RegisterRequest | Reply = _read_enum_body(body, register_variant, NO_VARIANT)
    return request


def read_update_body(body: bytes) -> UpdateRequest | Reply:
    """A ``PATCH /deployments/{id}`` body, or the framework's refusal of it (400 syntax, 422 no variant)."""
    request: UpdateRequest | Reply = _read_enum_body(body, update_variant, NO_UPDATE_VARIANT)
    return request


def _read_enum_body(body: bytes, variant: Callable[[Any], Any], no_variant: str) -> Any:
    """An untagged enum read from ``body`` as axum's ``Json`` reads it: a syntax error is 400, a body that
    fits no variant 422 (``no_variant``), and only then is anything after the value refused (400)."""
    syntax = json_syntax_error(body, check_end=False)
    if syntax is None:
        request = variant(first_value(body, _Object))
        if request is None:
            return text_reply(422, no_variant)
        syntax = json_syntax_error(body)
        if syntax is None:
            return request
    return text_reply(400, f"Failed to parse the request body as JSON: {syntax}")


def field_refusal(request: RegisterRequest) -> str | None:
    """The handler's 400 message for a variant whose values it refuses, or None to go on to discovery."""
    reason: str | None
    if isinstance(request, HttpRegistration):
        field, reason = "uri", _uri_error(request.uri)
        if reason is None and request.auth is not None:
            field, reason = _auth_refusal(request)
    else:
        field, reason = "arn", lambda_arn_error(request.arn)
    return None if reason is None else f"The request field '{field}' is invalid. Reason: {reason}"


def lambda_arn_error(arn: str) -> str | None:
    """Why Restate refuses ``arn`` as a Lambda function ARN, in its words; None for a qualified function ARN."""
    parts = arn.split(":", 7)
    if len(parts) < 7:
        return "A qualified ARN must have 8 components delimited by `:`"
    missing_version = (
        "A qualified ARN needs a version or alias suffix. If you want to use the unpublished version, "
        "provide $LATEST and make sure your shell doesn't treat it as a variable"
    )
    if len(parts) == 7:
        return missing_version
    prefix, partition, service, region, account, resource, name, version = parts
    if prefix != "arn":
        return "First component of the ARN must be `arn`"
    if resource != "function":
        return "ARN must refer to a `function` resource"
    if service != "lambda":
        return "ARN must be for the lambda service"
    if not (partition and region and account and name):
        return "Partition, service, region, account ID, function name and version must all be non-empty"
    if not version:
        return missing_version
    return None


def _auth_refusal(request: HttpRegistration) -> tuple[str, str | None]:
    """Google ID token auth needs https (or a loopback or private host), and keeps X-Serverless-Authorization."""
    uri = request.uri
    if (uri.scheme or "").lower() != "https" and not _loopback_or_private(uri.host or ""):
        return "auth", f"GCP authentication requires an https URI for non-loopback/private hosts; got {uri}"
    if any(name.lower() == "x-serverless-authorization" for name in request.additional_headers):
        return "additional_headers", (
            "X-Serverless-Authorization in additional_headers is not allowed when GCP auth is enabled; the minted "
            "ID token uses this header. Place any static bearer on Authorization instead; Cloud Run forwards it "
            "to the workload unchanged."
        )
    return "auth", None


def _loopback_or_private(host: str) -> bool:
    """``localhost``, an IPv4 loopback or private address, or IPv6 loopback, unique-local or link-local."""
    if host.lower() == "localhost":
        return True
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if "%" in host:  # Rust's address parsers take no zone
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_loopback or any(address in network for network in _PRIVATE_V4)
    return address == ipaddress.IPv6Address("::1") or any(address in network for network in _LOCAL_V6)


#: Rust's ``Ipv4Addr::is_private`` (RFC 1918) and the IPv6 ranges Restate counts as private.
_PRIVATE_V4 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_LOCAL_V6 = tuple(ipaddress.IPv6Network(n) for n in ("fc00::/7", "fe80::/10"))


def gcp_token_failure(request: HttpRegistration) -> str:
    """The 500 message for minting a Google ID token, which restate_lab never does (no GCP credentials here)."""
    assert request.auth is not None
    uri = request.uri
    audience = request.auth.audience or f"{uri.scheme}://{uri.authority}"
    account = request.auth.impersonate_service_account or "(ambient)"
    return (
        f"[META0003] [META0003] error minting GCP ID token for '{uri}': failed to mint ID token "
        f"(audience '{audience}', impersonating '{account}'): restate_lab does not mint GCP tokens"
    )
