"""From an origin URL (the Hub's ``resolve`` link) to the URL the bytes come from, and what the
file is: size, sha256, ETag.

Redirects are followed here, by hand, one hop at a time, for three reasons: the Hub puts the
trusted size and sha256 on its own 302 (``X-Linked-Size``/``X-Linked-Etag``) and they must be
read there; every ``Location`` is checked (P4: http(s) only, a bounded number of hops); and the
token goes only to the origin's own scheme, host and port (K3). A signed CDN URL expires, so the
download keeps the origin URL and comes back here for a fresh redirect (D10).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from lexitui.downloads.errors import ProtocolError, TransientError, UnsafePathError
from lexitui.downloads.http_status import check_status, shown_url
from lexitui.downloads.layout import SHA256_HEX
from lexitui.downloads.meta import Identity

MAX_HOPS = 5
IDENTITY = {"Accept-Encoding": "identity"}
_TOTAL = re.compile(r"^bytes \d+-\d+/(\d+)$")


def origin_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


@dataclass(frozen=True)
class Auth:
    """A bearer token and the one origin it may be sent to (K3)."""

    origin: tuple[str, str, int]
    token: Callable[[], str | None]

    def headers_for(self, url: str) -> dict[str, str]:
        if origin_of(url) != self.origin:
            return {}
        value = self.token()
        return {"Authorization": f"Bearer {value}"} if value else {}


@dataclass(frozen=True)
class Credentials:
    """Which token goes with a URL: the Hub's for the Hub's own origin (read at each call, as
    the endpoint may change), a configured registry's for its origin, none elsewhere (K3)."""

    hub_endpoint: Callable[[], str]
    hub_token: Callable[[], str | None]
    registries: tuple[Auth, ...] = ()

    def __call__(self, url: str) -> Auth | None:
        auths = (Auth(origin_of(self.hub_endpoint()), self.hub_token), *self.registries)
        return next((a for a in auths if a.origin == origin_of(url)), None)


@dataclass(frozen=True)
class RemoteFile:
    origin_url: str
    data_url: str  # may carry a signature in its query: kept in memory only (K2)
    identity: Identity
    accepts_ranges: bool

    @property
    def size(self) -> int | None:
        return self.identity.size


def headers_for(url: str, auth: Auth | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = dict(IDENTITY)
    if auth is not None:
        headers.update(auth.headers_for(url))
    headers.update(extra or {})
    return headers


def next_location(current: str, location: str | None) -> str:
    """The absolute URL a redirect points at, if it is one we may follow (P4)."""
    if not location:
        raise ProtocolError(f"{shown_url(current)} redirected without a Location")
    target = urljoin(current, location.strip())
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafePathError(f"{shown_url(current)} redirected to a non-http URL; refused")
    if parts.username or parts.password:
        raise UnsafePathError(f"{shown_url(current)} redirected to a URL with credentials")
    return target


async def resolve(client: httpx.AsyncClient, origin_url: str, auth: Auth | None) -> RemoteFile:
    """HEAD the origin and follow its redirects to the bytes; see the module doc."""
    try:
        return await _resolve(client, origin_url, auth)
    except httpx.TimeoutException:
        raise TransientError(f"{shown_url(origin_url)}: no answer in time") from None
    except httpx.TransportError as exc:
        raise TransientError(f"{shown_url(origin_url)}: {exc!r}") from None


async def _resolve(client: httpx.AsyncClient, origin_url: str, auth: Auth | None) -> RemoteFile:
    url = origin_url
    linked_size: int | None = None
    linked_sha: str | None = None
    for hop in range(MAX_HOPS + 1):
        response = await client.head(url, headers=headers_for(url, auth))
        if hop == 0:
            linked_size = _int(response.headers.get("x-linked-size"))
            linked_sha = _sha(response.headers.get("x-linked-etag"))
        if response.is_redirect:
            url = next_location(url, response.headers.get("location"))
            continue
        if response.status_code in (405, 501):  # no HEAD here: ask for one byte instead
            return await _probe_with_get(client, origin_url, url, auth, linked_size, linked_sha)
        check_status(response.status_code, url, origin_url, response.headers)
        return _remote(origin_url, url, response, linked_size, linked_sha)
    raise ProtocolError(f"{shown_url(origin_url)}: more than {MAX_HOPS} redirects")


async def _probe_with_get(
    client: httpx.AsyncClient,
    origin_url: str,
    url: str,
    auth: Auth | None,
    linked_size: int | None,
    linked_sha: str | None,
) -> RemoteFile:
    headers = headers_for(url, auth, {"Range": "bytes=0-0"})
    async with client.stream("GET", url, headers=headers) as response:
        check_status(response.status_code, url, origin_url, response.headers)
        found = _remote(origin_url, url, response, linked_size, linked_sha)
        if response.status_code == 206:
            match = _TOTAL.match(response.headers.get("content-range", ""))
            size = int(match[1]) if match else None
            identity = Identity(linked_size or size, linked_sha, found.identity.etag)
            return RemoteFile(origin_url, url, identity, True)
    return found


def _remote(
    origin_url: str,
    url: str,
    response: httpx.Response,
    linked_size: int | None,
    linked_sha: str | None,
) -> RemoteFile:
    encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
    # 0 or a missing Content-Length says nothing about the file (D9), nor does an encoded one.
    length = None if encoded else _int(response.headers.get("content-length"))
    if linked_size is not None and length is not None and length != linked_size:
        raise ProtocolError(
            f"{shown_url(origin_url)}: the origin says {linked_size} bytes, the file server "
            f"{length}"
        )
    ranges = response.headers.get("accept-ranges", "").lower() != "none"
    return RemoteFile(
        origin_url,
        url,
        Identity(linked_size or length, linked_sha, strong_etag(response.headers.get("etag"))),
        ranges,
    )


def strong_etag(value: str | None) -> str | None:
    """An ETag usable in If-Range: weak ones (``W/"..."``) may not be (RFC 9110 13.1.5)."""
    if not value or value.startswith("W/"):
        return None
    return value.strip()


def _int(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    number = int(value)
    return number if number > 0 else None


def _sha(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().strip('"').lower()
    return text if SHA256_HEX.fullmatch(text) else None
