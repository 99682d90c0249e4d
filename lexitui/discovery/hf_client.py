"""Blocking calls to the Hub through ``huggingface_hub``; the registry runs them in a thread.

``model_info`` and ``get_hf_file_metadata`` are used as they are. Listings (``/api/models`` and
the repo tree) are fetched page by page here, with the library's session, headers, error mapping
(``hf_raise_for_status``) and record types, but without its ``paginate`` helper: that one retries
a 429 or a dropped connection five times, sleeping up to ~30 s, with no timeout — a user waiting
on a search is better served by the cache at once. A next-page link must stay on the endpoint's
origin, so a hostile ``Link`` header cannot send the token elsewhere (K3).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from huggingface_hub import (
    HfApi,
    get_hf_file_metadata,
    get_session,
    hf_hub_url,
    hf_raise_for_status,
)
from huggingface_hub import (
    __version__ as hf_version,
)
from huggingface_hub.file_download import HfFileMetadata
from huggingface_hub.hf_api import ExpandModelProperty_T, ModelInfo, RepoFile

from lexitui.discovery.errors import RegistryError
from lexitui.discovery.hf_settings import HubToken

TIMEOUT_S = 15.0
MAX_PAGES = 50  # bounds a listing whatever the server's Link headers say
LIBRARY = "lexitui"

# What a listing needs for a result row, its facets and client-side filters.
LIST_EXPAND: list[ExpandModelProperty_T] = [
    "author", "cardData", "createdAt", "downloads", "gated", "gguf", "lastModified",
    "library_name", "likes", "pipeline_tag", "safetensors", "siblings", "tags", "trendingScore",
]  # fmt: skip
INFO_EXPAND: list[ExpandModelProperty_T] = [
    "author", "cardData", "config", "createdAt", "downloads", "gated", "gguf", "lastModified",
    "library_name", "likes", "pipeline_tag", "safetensors", "sha", "siblings", "tags",
]  # fmt: skip


class HubClient:
    def __init__(self, endpoint: str, token: HubToken | None, timeout_s: float = TIMEOUT_S) -> None:
        self.endpoint = endpoint
        self._token = token
        self._timeout = timeout_s

    @property
    def _auth(self) -> str | bool:
        # False, not None: None would let huggingface_hub pick a token on its own.
        return self._token.value if self._token else False

    def list_models(self, params: list[tuple[str, str]], want: int) -> tuple[list[ModelInfo], bool]:
        """At least ``want`` models (fewer if the Hub has fewer) and whether it has more."""
        query = [*params, ("limit", str(min(max(want, 1), 1000)))]
        query += [("expand", e) for e in LIST_EXPAND]
        items, more = self._pages(f"{self.endpoint}/api/models", query, want)
        models = [ModelInfo(**item) for item in items]  # type: ignore[no-untyped-call]
        return models, more

    def model_info(self, repo_id: str) -> ModelInfo:
        api = HfApi(endpoint=self.endpoint, library_name=LIBRARY)
        return api.model_info(repo_id, expand=INFO_EXPAND, timeout=self._timeout, token=self._auth)

    def list_files(self, repo_id: str, revision: str) -> list[RepoFile]:
        """Every file of the repo at ``revision``, from the recursive tree listing."""
        url = f"{self.endpoint}/api/models/{repo_id}/tree/{quote(revision, safe='')}"
        entries, _ = self._pages(url, [("recursive", "true"), ("expand", "false")], None)
        files = [e for e in entries if e.get("type") == "file"]
        return [RepoFile(**e) for e in files]  # type: ignore[no-untyped-call]  # untyped upstream

    def file_metadata(self, repo_id: str, filename: str, revision: str) -> HfFileMetadata:
        url = hf_hub_url(repo_id, filename, revision=revision, endpoint=self.endpoint)
        return get_hf_file_metadata(url, token=self._auth, timeout=self._timeout)

    def _pages(
        self, url: str, params: list[tuple[str, str]], want: int | None
    ) -> tuple[list[dict[str, Any]], bool]:
        headers = {"user-agent": f"{LIBRARY}; huggingface_hub/{hf_version}"}
        if self._token is not None:
            headers["authorization"] = f"Bearer {self._token.value}"
        session = get_session()
        items: list[dict[str, Any]] = []
        next_url: str | None = url
        query: tuple[tuple[str, str], ...] | None = tuple(params)
        for _ in range(MAX_PAGES):
            assert next_url is not None
            response = session.get(next_url, params=query, headers=headers, timeout=self._timeout)
            hf_raise_for_status(response)
            page = response.json()
            if not isinstance(page, list):
                raise RegistryError(f"{self.endpoint} sent a listing that is not a list")
            items.extend(p for p in page if isinstance(p, dict))
            next_url, query = response.links.get("next", {}).get("url"), None
            if next_url is None:
                return items, False
            if want is not None and len(items) >= want:
                return items, True
            self._check_origin(next_url)
        return items, True

    def _check_origin(self, url: str) -> None:
        ours, theirs = urlsplit(self.endpoint), urlsplit(url)
        if (ours.scheme, ours.netloc) != (theirs.scheme, theirs.netloc):
            raise RegistryError(f"{self.endpoint} pointed its next page at another host; refused")
