"""GET one page of the Ollama library's website (``ollama.com``), bounded.

Pages are read with a cap (a real search page is ~40 KB, the longest tag list ~250 KB), a
timeout from the client, and redirects followed by hand: at most ``MAX_REDIRECTS``, never from
https down to http and never to another host, since what comes back is parsed as the site. The
answers map onto the registry errors every registry raises: no connection or no answer in time
is ``RegistryOfflineError``, 429 and 5xx are ``RegistryUnavailableError`` (the cache is served
for those), a 404 on a model's page is ``ModelNotFoundError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode, urljoin, urlsplit

from lexitui.discovery.errors import (
    ModelNotFoundError,
    RegistryError,
    RegistryOfflineError,
    RegistryUnavailableError,
)
from lexitui.discovery.ollama_errors import BadRegistryAnswerError, OllamaRateLimitedError
from lexitui.domain.text import clean_text

if TYPE_CHECKING:
    import httpx

MAX_PAGE_BYTES = 4 << 20
MAX_REDIRECTS = 3
_REDIRECTS = (301, 302, 303, 307, 308)


class SiteFetcher:
    def __init__(self, site_url: str, client: httpx.AsyncClient) -> None:
        self.site_url = site_url.rstrip("/")
        self.host = urlsplit(self.site_url).netloc
        self._client = client

    async def search_page(self, query: str, page: int = 1) -> str:
        """``/search?q=…``; an empty query asks for the popular list (``o=popular``)."""
        params = {"q": query} if query else {"o": "popular"}
        if page > 1:
            params["page"] = str(page)
        return await self.page(f"/search?{urlencode(params)}", subject="search")

    async def tags_page(self, name: str) -> str:
        """``/library/NAME/tags`` (``/NAMESPACE/NAME/tags`` for a user's model)."""
        path = f"/{name}/tags" if "/" in name else f"/library/{name}/tags"
        return await self.page(path, subject=name)

    async def page(self, path: str, *, subject: str) -> str:
        import httpx  # first use only: importing httpx costs ~60 ms at start-up

        url = self.site_url + path
        for _ in range(MAX_REDIRECTS + 1):
            try:
                async with self._client.stream("GET", url, headers={"Accept": "text/html"}) as resp:
                    if resp.status_code in _REDIRECTS:
                        url = self._next_hop(url, resp.headers.get("location"))
                        continue
                    if resp.status_code != 200:
                        raise self._status_error(resp, subject)
                    body = await _read_capped(resp, MAX_PAGE_BYTES)
                    if body is None:
                        raise BadRegistryAnswerError(
                            f"{self.host} sent a page over {MAX_PAGE_BYTES >> 20} MiB"
                        )
                    return body.decode(resp.encoding or "utf-8", "replace")
            except httpx.TimeoutException:
                raise RegistryOfflineError(self.host, "no answer in time") from None
            except httpx.TransportError as exc:
                shown = str(exc) if isinstance(exc, httpx.ConnectError) else ""
                raise RegistryOfflineError(
                    self.host, clean_text(shown or exc.__class__.__name__, 120)
                ) from None
        raise BadRegistryAnswerError(f"{self.host}: too many redirects")

    def _next_hop(self, url: str, location: str | None) -> str:
        target = urljoin(url, location or "")
        here, there = urlsplit(url), urlsplit(target)
        if not location or there.netloc != here.netloc or there.scheme not in ("http", "https"):
            raise BadRegistryAnswerError(f"{self.host}: refused a redirect off the site")
        if here.scheme == "https" and there.scheme == "http":
            raise BadRegistryAnswerError(f"{self.host}: refused an insecure redirect")
        return target

    def _status_error(self, resp: httpx.Response, subject: str) -> RegistryError:
        status = resp.status_code
        if status == 404 and subject != "search":
            return ModelNotFoundError(subject, f" ({self.host})")
        if status == 429:
            retry = resp.headers.get("retry-after", "")
            return OllamaRateLimitedError(self.host, int(retry) if retry.isdigit() else None)
        if status >= 500:
            return RegistryUnavailableError(f"{self.host} failed (HTTP {status})")
        return BadRegistryAnswerError(f"{self.host}: HTTP {status} for the {subject} page")


async def _read_capped(resp: httpx.Response, limit: int) -> bytes | None:
    length = resp.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return None
    parts: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_bytes():
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return None
    return b"".join(parts)
