"""A local Hugging Face Hub for tests: the Hub's API on one port, its file CDN on another.

The real ``huggingface_hub`` client runs against it unchanged (point ``HfApi(endpoint=...)`` or
``HF_ENDPOINT`` at ``base_url``)::

    async with FakeHub() as hub:
        HfApi(endpoint=hub.base_url).list_models(filter="gguf", sort="downloads")

Endpoints: ``GET /api/models`` (search/author/filter/pipeline_tag/gated/num_parameters, sort
and direction, limit, full/cardData/config/expand, cursor paging with ``Link: rel="next"``),
``GET /api/models/{id}[/revision/{rev}]`` (expand, blobs), ``GET /api/models/{id}/tree/{rev}
[/{path}]`` (recursive, expand, paged), ``POST /api/models/{id}/paths-info/{rev}``, and
``HEAD/GET /{id}/resolve/{rev}/{path}``: an LFS file redirects (302) to a signed CDN URL with
``X-Linked-Size``/``X-Linked-Etag``/``X-Repo-Commit``; a regular file redirects (307) on the same
host to ``/api/resolve-cache/...``, which sends it. Gated repos, unknown repos, bad tokens and
rate limits answer as the Hub does (see ``hub_errors``).

Knobs: ``tokens`` (token -> user name; ``GRANTED_TOKEN`` belongs to the user granted the gated
repo, ``OTHER_TOKEN`` to one who is not), ``page_size``/``tree_page_size``, ``rate_limit()``,
``expire_cdn_urls()``, ``cdn_url_ttl_s``, ``clock``, and ``faults`` (``hub_faults.CdnFaults``:
a CDN that ignores ranges, resets, stalls, corrupts, compresses, throttles). ``calls`` logs every
request.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, quote, urlencode

from tests.fakes import hub_errors as err
from tests.fakes.hub_api import (
    EXPANDABLE,
    INFO_DEFAULT,
    SORT_ALIASES,
    SORT_KEYS,
    decode_cursor,
    encode_cursor,
    list_keys,
    matches,
    pick,
    tree_entries,
)
from tests.fakes.hub_faults import CdnFaults
from tests.fakes.hub_files import (
    access_denied,
    cdn_path,
    serve_bytes,
    signature_valid,
    signed_query,
)
from tests.fakes.hub_http import HubHttpServer, HubRequest
from tests.fakes.hub_records import HubFile, HubRepo
from tests.fakes.hub_repos import (
    bartowski_llama_8b,
    bartowski_llama_70b,
    command_r_gguf,
    nomic_embed_gguf,
    qwen_coder_gguf,
    thebloke_mistral,
)
from tests.fakes.hub_repos_safetensors import meta_llama_gated, mlx_llama, qwen_small
from tests.fakes.hub_repos_served import starter_gguf, tiny_fixture_gguf
from tests.fakes.ollama_http import Response, json_response

GRANTED_TOKEN = "hf_fakeGrantedUser0000000000000000000"
OTHER_TOKEN = "hf_fakeOtherUser000000000000000000000"
MAX_PAGE = 1000


def default_repos() -> list[HubRepo]:
    builders = (
        bartowski_llama_8b,
        bartowski_llama_70b,
        thebloke_mistral,
        qwen_coder_gguf,
        command_r_gguf,
        nomic_embed_gguf,
        starter_gguf,
        tiny_fixture_gguf,
        qwen_small,
        meta_llama_gated,
        mlx_llama,
    )
    return [build() for build in builders]


@dataclass(frozen=True)
class HubCall:
    server: str  # "hub" or "cdn"
    method: str
    path: str
    params: dict[str, list[str]]
    has_auth: bool  # an Authorization header was sent
    user: str | None  # whose token it was (None: none, or not a known token)
    range: str | None
    if_range: str | None = None
    accept_encoding: str | None = None


class FakeHub:
    def __init__(self, repos: list[HubRepo] | None = None) -> None:
        self.repos = {r.id: r for r in (repos if repos is not None else default_repos())}
        self.tokens = {GRANTED_TOKEN: "granted-user", OTHER_TOKEN: "other-user"}
        self.page_size = MAX_PAGE
        self.tree_page_size: int | None = None  # None: the Hub's 1000 (50 with expand)
        self.cdn_url_ttl_s = 3600
        self.clock: Callable[[], float] = time.time
        self.calls: list[HubCall] = []
        self.faults = CdnFaults()
        self.base_url = ""
        self.cdn_url = ""
        self._rate_limited = 0
        self._retry_after = 0
        self._cdn_key = secrets.token_bytes(16)
        self._hub = HubHttpServer(self._origin)  # type: ignore[arg-type]
        self._cdn = HubHttpServer(self._serve_cdn)  # type: ignore[arg-type]

    async def start(self) -> str:
        self.base_url = f"http://127.0.0.1:{await self._hub.start()}"
        self.cdn_url = f"http://127.0.0.1:{await self._cdn.start()}"
        return self.base_url

    async def stop(self) -> None:
        await self._hub.stop()
        await self._cdn.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- knobs ----------------------------------------------------------------------------------

    def rate_limit(self, times: int = 1, retry_after: int = 0) -> None:
        """Answer the next ``times`` API/resolve requests with 429 and ``Retry-After``."""
        self._rate_limited, self._retry_after = times, retry_after

    def expire_cdn_urls(self) -> None:
        """Every signed CDN URL handed out so far now answers 403, as an expired one does."""
        self._cdn_key = secrets.token_bytes(16)

    def hub_calls(self, path_prefix: str = "") -> list[HubCall]:
        return [c for c in self.calls if c.server == "hub" and c.path.startswith(path_prefix)]

    # -- origin ---------------------------------------------------------------------------------

    def _log(self, server: str, request: HubRequest, user: str | None) -> None:
        self.calls.append(
            HubCall(
                server,
                request.method,
                request.path,
                request.params,
                "authorization" in request.headers,
                user,
                request.headers.get("range"),
                request.headers.get("if-range"),
                request.headers.get("accept-encoding"),
            )
        )

    async def _origin(self, request: HubRequest) -> Response:
        token = request.bearer
        user = self.tokens.get(token) if token else None
        self._log("hub", request, user)
        if self._rate_limited > 0:
            self._rate_limited -= 1
            return err.rate_limited(self._retry_after)
        if token and user is None:
            return err.invalid_credentials()
        return await self._route(request, user)

    async def _route(self, request: HubRequest, user: str | None) -> Response:
        segs, method = request.segments, request.method
        if segs[:2] == ["api", "models"] and len(segs) == 2 and method == "GET":
            return self._list_models(request)
        if segs[:2] == ["api", "models"] and len(segs) >= 4:
            repo = self.repos.get("/".join(segs[2:4]))
            if repo is None:
                return err.repo_not_found(user is not None)
            rest = segs[4:]
            if not rest and method == "GET":
                return self._model_info(request, repo, "main")
            if len(rest) == 2 and rest[0] == "revision" and method == "GET":
                return self._model_info(request, repo, rest[1])
            if len(rest) >= 2 and rest[0] == "tree" and method == "GET":
                return self._tree(request, repo, rest[1], "/".join(rest[2:]))
            if len(rest) == 2 and rest[0] == "paths-info" and method == "POST":
                return await self._paths_info(request, repo, rest[1])
        if segs[:3] == ["api", "resolve-cache", "models"] and len(segs) >= 7:
            return self._resolve_cache(request, user, "/".join(segs[3:5]), segs[5], segs[6:])
        if len(segs) >= 5 and segs[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(request, user, "/".join(segs[:2]), segs[3], "/".join(segs[4:]))
        return err.hub_error(404, "Sorry, we can't find the page you are looking for.")

    def _link_base(self, request: HubRequest) -> str:
        host = request.headers.get("host")
        return f"http://{host}" if host else self.base_url

    def _next_link(self, request: HubRequest, offset: int) -> str:
        params = {k: v for k, v in request.params.items() if k != "cursor"}
        params["cursor"] = [encode_cursor(offset)]
        query = urlencode(params, doseq=True)
        return f'<{self._link_base(request)}{request.raw_path}?{query}>; rel="next"'

    def _paged(self, request: HubRequest, items: list[Any], page: int) -> Response:
        offset = decode_cursor(request.param("cursor"))
        response = json_response(200, items[offset : offset + page])
        if offset + page < len(items):
            response.headers["Link"] = self._next_link(request, offset + page)
        return response

    def _expand(self, request: HubRequest) -> list[str] | Response:
        expand = request.values("expand", "expand[]")
        unknown = [e for e in expand if e not in EXPANDABLE]
        if unknown:
            return err.bad_request(f'"expand" must be one of {sorted(EXPANDABLE)}, got {unknown}')
        return expand

    def _list_models(self, request: HubRequest) -> Response:
        expand = self._expand(request)
        if isinstance(expand, Response):
            return expand
        full, card, config = (request.flag(n) for n in ("full", "cardData", "config"))
        if expand and (full or card or config):
            return err.bad_request("expand cannot be used with full, cardData or config")
        sort = request.param("sort") or "trendingScore"
        sort = SORT_ALIASES.get(sort, sort)
        if sort not in SORT_KEYS:
            return err.bad_request(f"Invalid sort parameter: {sort}")
        descending = request.param("direction", "-1") == "-1"
        try:
            found = [r for r in self.repos.values() if matches(r, request.params)]
        except ValueError as exc:  # e.g. num_parameters=max:lots
            return err.bad_request(f"Invalid filter: {exc}")
        found.sort(key=lambda r: (SORT_KEYS[sort](r), r.id), reverse=descending)
        keys = expand or list_keys(full, card, config)
        limit = int(request.param("limit") or MAX_PAGE)
        page = max(1, min(limit, self.page_size, MAX_PAGE))
        return self._paged(request, [pick(r, keys) for r in found], page)

    def _model_info(self, request: HubRequest, repo: HubRepo, revision: str) -> Response:
        if revision not in ("main", repo.sha):
            return err.revision_not_found(revision)
        expand = self._expand(request)
        if isinstance(expand, Response):
            return expand
        keys = expand or list(INFO_DEFAULT)
        return json_response(200, pick(repo, keys, blobs=request.flag("blobs")))

    def _tree(self, request: HubRequest, repo: HubRepo, revision: str, path: str) -> Response:
        if revision not in ("main", repo.sha):
            return err.revision_not_found(revision)
        if path and path not in repo.directories():
            return err.entry_not_found(path)
        expand = request.flag("expand")
        entries = tree_entries(repo, path, request.flag("recursive"), expand)
        page = self.tree_page_size or (50 if expand else MAX_PAGE)
        return self._paged(request, entries, page)

    async def _paths_info(self, request: HubRequest, repo: HubRepo, revision: str) -> Response:
        if revision not in ("main", repo.sha):
            return err.revision_not_found(revision)
        form = parse_qs((await request.body()).decode(), keep_blank_values=True)
        wanted = set(form.get("paths", []))
        expand = (form.get("expand", ["false"])[-1]).lower() == "true"
        entries = tree_entries(repo, "", True, expand)
        return json_response(200, [e for e in entries if e["path"] in wanted])

    # -- files ----------------------------------------------------------------------------------

    def _servable(
        self, user: str | None, repo: HubRepo | None, revision: str, path: str
    ) -> HubFile | Response:
        """The checks the Hub makes before serving a file, in its order."""
        if repo is None:
            return err.repo_not_found(user is not None)
        if repo.gated and user not in repo.granted_users:
            return err.gated(repo.id, user is not None, self.base_url)
        if revision not in ("main", repo.sha):
            return err.revision_not_found(revision)
        f = repo.file(path)
        if f is None:
            return err.entry_not_found(path)
        if not f.served:
            return err.entry_not_found(
                path, f"fake hub: {path} is listed in the tree only; its bytes are not stored"
            )
        return f

    def _resolve(
        self, request: HubRequest, user: str | None, repo_id: str, revision: str, path: str
    ) -> Response:
        repo = self.repos.get(repo_id)
        found = self._servable(user, repo, revision, path)
        if isinstance(found, Response):
            return found
        assert repo is not None
        headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{found.git_oid}"'}
        if found.lfs:
            target = cdn_path(repo.id, found.sha256)
            expires = int(self.clock()) + self.cdn_url_ttl_s
            name = path.rsplit("/", 1)[-1]
            location = (
                f"{self.cdn_url}{target}?{signed_query(self._cdn_key, target, name, expires)}"
            )
            headers |= {"X-Linked-Size": str(found.size), "X-Linked-Etag": f'"{found.sha256}"'}
            if self.faults.hide_linked_size:
                del headers["X-Linked-Size"]
            status = 302
        else:
            location = f"/api/resolve-cache/models/{repo.id}/{repo.sha}/{quote(path)}"
            status = 307
        body = f"Found. Redirecting to {location}".encode()
        headers["Location"] = location
        return Response(status, body, content_type="text/plain; charset=utf-8", headers=headers)

    def _resolve_cache(
        self, request: HubRequest, user: str | None, repo_id: str, commit: str, path: list[str]
    ) -> Response:
        repo = self.repos.get(repo_id)
        found = self._servable(user, repo, commit, "/".join(path))
        if isinstance(found, Response):
            return found
        assert repo is not None
        return serve_bytes(request, found, f'"{found.git_oid}"', {"X-Repo-Commit": repo.sha})

    def _maybe_expire(self, response: Response) -> None:
        every = self.faults.expire_after
        if every and response.status in (200, 206) and self.faults.bodies % every == 0:
            self.expire_cdn_urls()

    async def _serve_cdn(self, request: HubRequest) -> Response:
        self._log("cdn", request, None)
        if request.method not in ("GET", "HEAD"):
            return access_denied()
        if not signature_valid(request, self._cdn_key, self.clock()):
            return access_denied()
        sha256 = request.segments[-1] if request.segments else ""
        for repo in self.repos.values():
            for f in repo.files:
                if f.served and f.lfs and f.sha256 == sha256:
                    disposition = request.param("response-content-disposition")
                    headers = {"Content-Disposition": disposition} if disposition else {}
                    asked = self.faults.adjust_request(request)
                    response = serve_bytes(asked, f, f'"{f.cdn_etag}"', headers)
                    response = self.faults.shape(asked, f, response)
                    if asked.method == "GET":
                        self._maybe_expire(response)
                    return response
        return access_denied()  # S3 answers 403, not 404, for a key it does not have
