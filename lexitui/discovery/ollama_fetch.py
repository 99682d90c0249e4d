"""GET requests against an Ollama registry's distribution API, bounded and verified.

Two requests matter (as Ollama's own client makes them, ``server/images.go``):
``GET /v2/{namespace}/{model}/manifests/{tag}`` with
``Accept: application/vnd.docker.distribution.manifest.v2+json``, and
``GET /v2/{namespace}/{model}/blobs/sha256:<hex>``, which the real registry answers with a
``307`` to signed storage on another host.

Why by hand rather than ``follow_redirects=True``: each hop is checked (never from https down to
http, at most ``MAX_REDIRECTS``), and the signed storage URL never appears in an error, since its
query string is a credential (K2). We send no Authorization header at all, so none can leak to the
storage host (K3). Every body is read with a cap, so a hostile or broken server cannot make us
hold more than the cap in memory; every blob is checked against its sha256 before use, and the
manifest against ``Docker-Content-Digest`` when the registry sends one.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from lexitui.backends.errors import clean_text
from lexitui.discovery.errors import (
    ModelNotFoundError,
    RegistryError,
    RegistryOfflineError,
    RegistryUnavailableError,
)
from lexitui.discovery.ollama_errors import (
    BadRegistryAnswerError,
    OllamaRateLimitedError,
    RegistryAccessDeniedError,
)
from lexitui.discovery.ollama_manifest import MANIFEST_V2
from lexitui.discovery.ollama_names import InvalidDigest, OllamaName, parse_digest

if TYPE_CHECKING:
    import httpx

MAX_MANIFEST_BYTES = 1 << 20  # real manifests are ~1 KB
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


def blob_url(base_url: str, name: OllamaName, digest: str) -> str:
    """The registry's stable URL of a blob (it redirects to signed storage when fetched)."""
    return f"{base_url.rstrip('/')}/v2/{name.repository}/blobs/sha256:{digest}"


class RegistryFetcher:
    def __init__(self, base_url: str, client: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).netloc
        self._client = client

    def manifest_url(self, name: OllamaName) -> str:
        return f"{self.base_url}/v2/{name.repository}/manifests/{name.tag}"

    def blob_url(self, name: OllamaName, digest: str) -> str:
        return blob_url(self.base_url, name, digest)

    async def manifest(self, name: OllamaName) -> bytes:
        """The manifest body, checked against ``Docker-Content-Digest`` when one is sent."""
        body, headers = await self._get(
            self.manifest_url(name), MANIFEST_V2, MAX_MANIFEST_BYTES, name, manifest=True
        )
        claimed = headers.get("docker-content-digest")
        if claimed is not None:
            try:
                expected = parse_digest(claimed)
            except InvalidDigest as exc:
                raise self._protocol(f"manifest of {name.short}: {exc}") from None
            if hashlib.sha256(body).hexdigest() != expected:
                raise self._protocol(f"manifest of {name.short} does not match its digest")
        return body

    async def blob(self, name: OllamaName, digest: str, limit: int) -> bytes:
        """A small blob (config, license), verified against its sha256."""
        body, _ = await self._get(self.blob_url(name, digest), "*/*", limit, name)
        if hashlib.sha256(body).hexdigest() != digest:
            raise self._protocol(f"blob sha256:{digest[:12]}… of {name.short} failed verification")
        return body

    # -- one GET, redirects followed by hand ---------------------------------------------------

    async def _get(
        self, url: str, accept: str, limit: int, name: OllamaName, *, manifest: bool = False
    ) -> tuple[bytes, httpx.Headers]:
        import httpx  # first use only: importing httpx costs ~60 ms at start-up

        for _ in range(MAX_REDIRECTS + 1):
            try:
                async with self._client.stream("GET", url, headers={"Accept": accept}) as resp:
                    if resp.status_code in _REDIRECTS:
                        url = self._next_hop(url, resp.headers.get("location"), name)
                        continue
                    if resp.status_code != 200:
                        detail = _error_detail(await _read_capped(resp, 4096, allow_more=True))
                        raise self._status_error(resp, name, manifest, detail)
                    return await self._body(resp, limit, name), resp.headers
            except httpx.TimeoutException:
                raise RegistryOfflineError(self.host, "no answer in time") from None
            except httpx.TransportError as exc:
                # A connect error's text is the OS's ("Connection refused", "Name or service
                # not known"); others may quote the URL, which can be a signed one (K2).
                shown = str(exc) if isinstance(exc, httpx.ConnectError) else ""
                reason = clean_text(shown or exc.__class__.__name__, 120)
                raise RegistryOfflineError(self.host, reason) from None
        raise self._protocol(f"too many redirects fetching {name.short}")

    def _next_hop(self, url: str, location: str | None, name: OllamaName) -> str:
        if not location:
            raise self._protocol(f"a redirect without a Location while fetching {name.short}")
        target = urljoin(url, location)
        scheme = urlsplit(target).scheme
        if scheme not in ("http", "https") or (scheme == "http" and url.startswith("https:")):
            raise self._protocol(f"refused an insecure redirect while fetching {name.short}")
        return target

    async def _body(self, resp: httpx.Response, limit: int, name: OllamaName) -> bytes:
        length = resp.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise self._protocol(f"{name.short}: the registry sent {length} bytes, over {limit}")
        body = await _read_capped(resp, limit)
        if body is None:
            raise self._protocol(f"{name.short}: the registry sent more than {limit} bytes")
        return body

    def _protocol(self, detail: str) -> RegistryError:
        return BadRegistryAnswerError(f"{self.host}: {detail}")

    def _status_error(
        self, resp: httpx.Response, name: OllamaName, manifest: bool, detail: str
    ) -> RegistryError:
        status = resp.status_code
        said = f": {detail}" if detail else ""
        if status == 404 and manifest:
            return ModelNotFoundError(name.short, f" ({self.host})")
        if status in (401, 403):
            return RegistryAccessDeniedError(
                f"{self.host} refused {name.short} (HTTP {status}){said}; "
                "lexitui reads public models only"
            )
        if status == 429:
            retry = resp.headers.get("retry-after", "")
            return OllamaRateLimitedError(self.host, int(retry) if retry.isdigit() else None)
        if status >= 500:
            return RegistryUnavailableError(f"{self.host} failed (HTTP {status}){said}")
        return self._protocol(f"HTTP {status} for {name.short}{said}")


async def _read_capped(
    resp: httpx.Response, limit: int, *, allow_more: bool = False
) -> bytes | None:
    """Up to ``limit`` bytes; ``None`` past it (or the first ``limit`` bytes if ``allow_more``)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_bytes():
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(parts)[:limit] if allow_more else None
    return b"".join(parts)


def _error_detail(body: bytes | None) -> str:
    """The first message of a distribution error body (``{"errors": [{"message": ...}]}``)."""
    try:
        doc = json.loads(body or b"")
        message = doc["errors"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""
    return clean_text(message, 120) if isinstance(message, str) else ""
