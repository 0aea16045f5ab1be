"""How Restate Server 1.7.12's service client reaches a deployment URI for discovery, and how it words
failing to, so that a registration that cannot connect is refused in the server's words.

The server picks one of two clients. An ``https`` URI, or any URI with ``use_http_11``, goes through
hyper's client: it knows only ``http`` and ``https``, defaults their ports to 80 and 443, takes an IPv6
literal out of its brackets and resolves anything that is not an IP address. Every other URI goes to
its HTTP/2 prior-knowledge pool, which is stricter: the host must be an IPv4 address or a valid DNS name
(so a bracketed IPv6 literal is an ``unknown host name``), and only ``http`` has a default port.

    >>> from restate_lab.ingress.http_uri import parse_uri
    >>> connect_target(parse_uri("ftp://example.com"), use_http_11=False)
    'h2 pool connection error: missing port number'
    >>> connect_target(parse_uri("http://[::1]:9080"), use_http_11=True)
    ConnectTarget(pooled=False, host='::1', port=9080)
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import urllib.parse
from dataclasses import dataclass

import httpx

from restate_lab.ingress.http_uri import Uri

#: How the h2 pool's failures start.
POOL_FAILURE = "h2 pool connection error: "
#: How hyper's client's failures start (the error, then each cause).
CLIENT_FAILURE = "unable to reach the remote endpoint.\nReason: client error (Connect) caused by: "
#: getaddrinfo's words for a name that does not resolve, as the server's (musl) C library has them.
_NO_SUCH_NAME = "failed to lookup address information: Name does not resolve"
#: Rust's ``io::Error`` shows ``strerror (os error N)``; these are the server's C library's words.
_OS_ERRORS = {
    errno.ECONNREFUSED: "Connection refused",
    errno.ECONNRESET: "Connection reset by peer",
    errno.ENETUNREACH: "Network unreachable",
    errno.EHOSTUNREACH: "Host is unreachable",
    errno.ETIMEDOUT: "Operation timed out",
    errno.EADDRNOTAVAIL: "Address not available",
}
_MAX_DNS_NAME = 253
_MAX_DNS_LABEL = 63


@dataclass(frozen=True)
class ConnectTarget:
    """Where discovery opens its connection, and through which of the server's two clients."""

    pooled: bool
    host: str
    port: int

    def failure(self, reason: str) -> str:
        """``reason`` (an OS error's words, or a failed lookup's) as this client reports it."""
        if self.pooled:
            return POOL_FAILURE + reason
        if reason == _NO_SUCH_NAME:
            return f"{CLIENT_FAILURE}dns error caused by: {reason}"
        return f"{CLIENT_FAILURE}tcp connect error caused by: {reason}"


def connect_target(uri: Uri, *, use_http_11: bool) -> ConnectTarget | str:
    """Where discovery of the absolute ``uri`` connects, or the server's words when it gives up before that."""
    scheme = uri.scheme or ""
    host = uri.host or ""
    if use_http_11 or scheme == "https":
        if scheme not in ("http", "https"):
            return f"{CLIENT_FAILURE}unsupported scheme {scheme}"
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if scheme == "https" and not (_is_ip_literal(host) or is_dns_name(host)):
            return f"{CLIENT_FAILURE}invalid dns name"  # the TLS server name, read before connecting
        default = 443 if scheme == "https" else 80
        return ConnectTarget(pooled=False, host=host, port=default if uri.port is None else uri.port)
    if not (_is_ipv4(host) or is_dns_name(host)):
        return POOL_FAILURE + "unknown host name"
    port = uri.port if uri.port is not None or scheme != "http" else 80
    if port is None:
        return POOL_FAILURE + "missing port number"
    return ConnectTarget(pooled=True, host=host, port=port)


def _is_ipv4(host: str) -> bool:
    """Rust's ``IpAddr::from_str`` for what a host can be here: four decimal octets, no leading zeros."""
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def is_dns_name(host: str) -> bool:
    """rustls' ``DnsName`` rule: dot-separated labels of letters, digits, ``_`` and inner ``-``, each at most
    63 long, at most 253 in all; the last label is not all digits; one trailing dot is allowed.

    >>> [is_dns_name(h) for h in ("a_b.example.", "-a", "a..b", "127.1", "x[")]
    [True, False, False, False, False]
    """
    if not host or len(host) > _MAX_DNS_NAME or not host.isascii():
        return False
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()  # the one trailing dot of a fully qualified name
    for label in labels:
        if not label or len(label) > _MAX_DNS_LABEL or label[0] == "-" or label[-1] == "-":
            return False
        if not all(c.isalnum() or c in "-_" for c in label):
            return False
    return not labels[-1].isdigit()


def _is_ip_literal(host: str) -> bool:
    """Rust's ``IpAddr::from_str``: an IPv4 or IPv6 address, no zone (Python's ``ipaddress`` would take one)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return "%" not in host


async def resolve(target: ConnectTarget) -> list[str] | str:
    """The target host's addresses, as the server's client would look them up; its words when they are none."""
    if _is_ip_literal(target.host):
        return [target.host]
    if not target.host:
        return target.failure(_NO_SUCH_NAME)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return target.failure(_NO_SUCH_NAME)
    return [str(sockaddr[0]) for _family, _type, _proto, _name, sockaddr in found]


def discovery_url(uri: Uri, target: ConnectTarget, addresses: list[str]) -> httpx.URL:
    """The URL discovery asks: the deployment's path with ``/discover`` appended, then its query.

    Bytes beyond ASCII, which the server sends as they are, are percent-encoded for httpx; a host that
    resolves but that httpx will not take as written (``127.000.0.1``) is replaced by its address.
    """
    path = uri.path.removesuffix("/") + "/discover" + (f"?{uri.query}" if uri.query is not None else "")
    raw = urllib.parse.quote(path, safe="".join(chr(c) for c in range(0x21, 0x7F))).encode("ascii")
    scheme = "https" if uri.scheme == "https" else "http"  # the h2 pool speaks cleartext to any other scheme
    try:
        return httpx.URL(scheme=scheme, host=target.host, port=target.port, raw_path=raw)
    except httpx.InvalidURL:
        return httpx.URL(scheme=scheme, host=addresses[0], port=target.port, raw_path=raw)


async def discovery_plan(uri: Uri, *, use_http_11: bool) -> tuple[ConnectTarget, httpx.URL] | str:
    """Where discovery of the absolute ``uri`` connects and what it asks; the server's words if it gives up first."""
    target = connect_target(uri, use_http_11=use_http_11)
    if isinstance(target, str):
        return target
    addresses = await resolve(target)
    if isinstance(addresses, str):
        return addresses
    return target, discovery_url(uri, target, addresses)


def connect_failure(target: ConnectTarget, exc: BaseException) -> str | None:
    """The server's words for a connection that failed with ``exc`` (searched down its causes), or None."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, socket.gaierror):
            return target.failure(_NO_SUCH_NAME)
        if isinstance(seen, OSError) and seen.errno is not None:
            words = _OS_ERRORS.get(seen.errno) or seen.strerror or "Unknown error"
            return target.failure(f"{words} (os error {seen.errno})")
        seen = seen.__cause__ or seen.__context__
    if "refused" in str(exc).lower():  # httpcore keeps only the words of some OS errors
        return target.failure(f"Connection refused (os error {errno.ECONNREFUSED})")
    return None
