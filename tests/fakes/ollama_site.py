"""A fake ollama.com serving recorded library pages, for tests.

What it serves, as the real site answers a browser:

- ``GET /search?q=…`` (and ``?o=popular`` for the popular list, ``&page=N`` for later pages):
  the recorded search page for that query, ``text/html; charset=utf-8``.
- ``GET /library/NAME/tags``: the recorded tags page of NAME; 404 with an HTML body otherwise.

Pages come from ``tests/fixtures/ollama_site`` (each says at its top what it reproduces) and can
be replaced per test through ``searches`` (keyed by ``(query, page)``) and ``tags``. Knobs:
``fail_next`` (status, headers) answers the next request with that status, ``down`` every one
with a 503; ``requests`` records every path with its query string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode

from tests.fakes.ollama_http import Request, Response, ThreadedServer

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "ollama_site"
HTML = "text/html; charset=utf-8"
NOT_FOUND = b"<!doctype html><html><head><title>404</title></head><body>Not found</body></html>"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def recorded_searches() -> dict[tuple[str, int], str]:
    return {
        ("", 1): page("search_popular.html"),
        ("", 2): page("search_popular_page2.html"),
        ("llama", 1): page("search_llama.html"),
        ("zzzz", 1): page("search_no_results.html"),
    }


def recorded_tags() -> dict[str, str]:
    return {"llama3.2": page("tags_llama3.2.html"), "deepseek-r1": page("tags_deepseek-r1.html")}


@dataclass
class FakeOllamaSite:
    searches: dict[tuple[str, int], str] = field(default_factory=recorded_searches)
    tags: dict[str, str] = field(default_factory=recorded_tags)
    requests: list[str] = field(default_factory=list)
    fail_next: tuple[int, dict[str, str]] | None = None
    down: bool = False
    url: str = ""

    def __post_init__(self) -> None:
        self._server = ThreadedServer(self._serve)

    async def __aenter__(self) -> FakeOllamaSite:
        self.url = f"http://127.0.0.1:{await self._server.start()}"
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._server.stop()

    async def _serve(self, request: Request) -> Response:
        query = f"?{urlencode(request.query)}" if request.query else ""
        self.requests.append(request.path + query)
        if self.fail_next is not None or self.down:
            (status, headers), self.fail_next = self.fail_next or (503, {}), None
            return Response(status, b"<html><body>error</body></html>", HTML, headers=headers)
        body: str | None = None
        if request.method == "GET" and request.path == "/search":
            text = request.query.get("q", "").strip().casefold()
            body = self.searches.get((text, int(request.query.get("page", "1"))))
            if body is None and int(request.query.get("page", "1")) == 1:
                body = page("search_no_results.html")
        elif request.method == "GET" and request.path.startswith("/library/"):
            name = request.path.removeprefix("/library/").removesuffix("/tags")
            if request.path.endswith("/tags"):
                body = self.tags.get(name)
        if body is None:
            return Response(404, NOT_FOUND, HTML)
        return Response(200, body.encode(), HTML)
