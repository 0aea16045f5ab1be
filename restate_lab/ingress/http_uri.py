"""URIs read as the Rust ``http`` crate reads them (``http::Uri``), which is how Restate Server 1.7.12 reads a
deployment's ``uri``.

The crate is deliberately narrower than a browser and than :mod:`urllib.parse`: it checks every byte of
the authority against a fixed table (no space, no non-ASCII, ``%`` only inside userinfo or an IPv6 zone),
allows at most one port colon and one pair of brackets, keeps a scheme only when ``://`` follows it, and
refuses a URI longer than 65 534 bytes. A string without a scheme may still parse, as a bare path (``/x``)
or a bare authority (``host:9080``); the admin API refuses those later, in its own words. Display follows
the crate too: a known scheme is lower-cased, any other keeps its spelling, an absolute URI's empty path
becomes ``/`` and the fragment is dropped.

    >>> str(parse_uri("HTTP://Example.com:9080?x#top"))
    'http://Example.com:9080/?x'
    >>> try:
    ...     parse_uri("http://é")
    ... except InvalidUri as exc:
    ...     print(exc)
    invalid uri character
"""

from __future__ import annotations

from dataclasses import dataclass

#: The longest URI the crate parses, in bytes (``u16::MAX`` is kept for "no query").
MAX_LEN = 65_534
#: The longest scheme it keeps before ``://``.
MAX_SCHEME_LEN = 64
#: Colons an authority may hold while it is read (eight: a full IPv6 address and its port).
_MAX_COLONS = 8

_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#: Bytes an authority may hold; ``/``, ``?`` and ``#`` end it, and ``%`` is judged by where it stands.
_AUTHORITY_BYTES = frozenset(_ALNUM + b"!#$&'()*+,-./:;=?@[]_~")
#: Bytes of a scheme spelled out before ``://`` (the crate's table has ``~`` too).
_SCHEME_BYTES = frozenset(_ALNUM + b"+-.~")
#: Bytes a path keeps as they are (the WHATWG path set, plus ``"``, ``{`` and ``}`` that clients send raw).
_PATH_BYTES = frozenset([0x21, *range(0x24, 0x3C), 0x3D, *range(0x40, 0x60), *range(0x61, 0x7B), 0x7C, 0x7E, *b'"{}'])
#: Bytes a query keeps as they are (everything visible but ``"``, ``#``, ``<`` and ``>``).
_QUERY_BYTES = frozenset([0x21, *range(0x24, 0x3C), 0x3D, *range(0x3F, 0x7F)])
#: Schemes the crate knows, matched without regard to case and shown lower-case.
_KNOWN_SCHEMES = (b"https://", b"http://")


class InvalidUri(ValueError):
    """The crate refuses the string; the message is the crate's (``invalid uri character``, ``uri too long``...)."""


@dataclass(frozen=True)
class Uri:
    """A parsed URI, its parts as the crate holds them.

    ``scheme`` is None for a relative URI, ``""`` for the crate's odd empty scheme (``://host``);
    ``authority`` is None when there is none; ``path`` is ``""`` only for a bare authority.
    """

    scheme: str | None
    authority: str | None
    path: str
    query: str | None

    def __str__(self) -> str:
        scheme = f"{self.scheme}://" if self.scheme is not None else ""
        query = f"?{self.query}" if self.query is not None else ""
        return f"{scheme}{self.authority or ''}{self.path}{query}"

    @property
    def is_absolute(self) -> bool:
        """Both a scheme and an authority: what the admin API requires of a deployment URI."""
        return self.scheme is not None and self.authority is not None

    @property
    def host(self) -> str | None:
        """The authority without userinfo and port; an IPv6 literal keeps its brackets."""
        if self.authority is None:
            return None
        host_port = self.authority.rsplit("@", 1)[-1]
        if host_port.startswith("["):
            return host_port[: host_port.index("]") + 1]
        return host_port.split(":", 1)[0]

    @property
    def port(self) -> int | None:
        """The port, when the text after the authority's last colon reads as a ``u16`` (``+80`` does)."""
        if self.authority is None or ":" not in self.authority:
            return None
        return _u16(self.authority.rsplit(":", 1)[1])


def _u16(text: str) -> int | None:
    """Rust's ``u16::from_str``: ASCII digits after an optional ``+``, at most 65 535."""
    digits = text[1:] if text.startswith("+") else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    value = int(digits)
    return value if value <= 0xFFFF else None


def parse_uri(text: str) -> Uri:
    """Parse ``text`` as ``http::Uri::from_str`` does; raise :class:`InvalidUri` where it refuses."""
    data = text.encode("utf-8", errors="surrogatepass")
    if len(data) > MAX_LEN:
        raise InvalidUri("uri too long")
    if not data:
        raise InvalidUri("empty string")
    if data in (b"/", b"*"):
        return Uri(None, None, text, None)
    if len(data) == 1:
        if _authority_end(data) != 1:
            raise InvalidUri("invalid uri character")
        return Uri(None, text, "", None)
    if data[0:1] == b"/":
        path, query = _path_and_query(data)
        return Uri(None, None, path, query)
    return _parse_full(data)


def _parse_full(data: bytes) -> Uri:
    """A URI that starts with neither ``/`` nor ``*``: an optional scheme, an authority, then path and query."""
    scheme: str | None = None
    rest = data
    for known in _KNOWN_SCHEMES:
        if data[: len(known)].lower() == known:
            scheme, rest = known[:-3].decode(), data[len(known) :]
            break
    else:
        length = _other_scheme_length(data)
        if length is not None:
            scheme, rest = data[:length].decode("ascii"), data[length + 3 :]
    end = _authority_end(rest)
    if scheme is None:
        if end != len(rest):
            raise InvalidUri("invalid format")
        return Uri(None, rest.decode("ascii"), "", None)
    if end == 0:
        raise InvalidUri("invalid format")
    authority = rest[:end].decode("ascii")
    if end == len(rest):
        return Uri(scheme, authority, "/", None)
    path, query = _path_and_query(rest[end:])
    return Uri(scheme, authority, path or "/", query)


def _other_scheme_length(data: bytes) -> int | None:
    """How long a scheme other than http(s) is, when scheme bytes run up to ``://``; None without one."""
    if len(data) <= 3:
        return None
    for i, byte in enumerate(data):
        if byte == ord(":"):
            if len(data) < i + 3 or data[i + 1 : i + 3] != b"//":
                return None
            if i > MAX_SCHEME_LEN:
                raise InvalidUri("scheme too long")
            return i
        if byte not in _SCHEME_BYTES:
            return None
    return None


def _authority_end(data: bytes) -> int:
    """Where the authority at the start of ``data`` ends (the first ``/``, ``?`` or ``#``), checking it on the way."""
    if not data:
        raise InvalidUri("empty string")
    colons = 0
    opened = closed = False
    percent = False  # a % seen since the last @ or ]; only userinfo and an IPv6 zone may hold one
    at_sign = -1
    end = len(data)
    for i, byte in enumerate(data):
        if byte in b"/?#":
            end = i
            break
        if byte not in _AUTHORITY_BYTES:
            if byte != ord("%"):
                raise InvalidUri("invalid uri character")
            percent = True
        elif byte == ord(":"):
            if colons >= _MAX_COLONS:
                raise InvalidUri("invalid authority")
            colons += 1
        elif byte == ord("["):
            if percent or opened:
                raise InvalidUri("invalid authority")
            opened = True
        elif byte == ord("]"):
            if not opened or closed:
                raise InvalidUri("invalid authority")
            closed = True
            colons, percent = 0, False  # those belonged to the IPv6 literal
        elif byte == ord("@"):
            at_sign = i
            colons, percent = 0, False  # those belonged to the userinfo
    if opened != closed or colons > 1 or (end > 0 and at_sign == end - 1) or percent:
        raise InvalidUri("invalid authority")
    return end


def _path_and_query(data: bytes) -> tuple[str, str | None]:
    """Path and query of ``data`` (which starts with ``/``, ``?`` or ``#``); whatever follows ``#`` is dropped."""
    query_at: int | None = None
    end = len(data)
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == ord("?"):
            query_at = i
            i += 1
            break
        if byte == ord("#"):
            end = i
            break
        if byte < 0x80 and byte not in _PATH_BYTES:
            raise InvalidUri("invalid uri character")
        i += 1
    if query_at is not None:
        while i < len(data):
            byte = data[i]
            if byte == ord("#"):
                end = i
                break
            if byte < 0x80 and byte not in _QUERY_BYTES:
                raise InvalidUri("invalid uri character")
            i += 1
    if query_at is None:
        return _utf8(data[:end]), None
    return _utf8(data[:query_at]), _utf8(data[query_at + 1 : end])


def _utf8(data: bytes) -> str:
    """Path and query may hold UTF-8 beyond ASCII (the crate checks only that it decodes)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidUri("invalid uri character") from None
