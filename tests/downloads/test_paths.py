"""Checklist P1-P4: remote names, digests, planted symlinks and redirects."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lexitui.config import Paths
from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import DownloadStatus, ModelFormat, ModelRegistryType
from lexitui.downloads.errors import UnsafePathError
from lexitui.downloads.job import file_specs
from lexitui.downloads.layout import StoreLayout, inside, local_file_name
from lexitui.downloads.lock import open_locked
from lexitui.downloads.manager import DownloadManager
from lexitui.downloads.resolve import next_location
from lexitui.downloads.target import PullTargetError, parse_target, url_target
from lexitui.services import Services
from tests.downloads.conftest import TINY, fetch, pick, sha256_of
from tests.fakes.hub_server import FakeHub

Q8 = "tiny-random-llama-Q8_0.gguf"


def download_of(*files: str, url: str = "https://hf.example/o/r/resolve/main/") -> ModelDownload:
    variant = ModelVariant(
        "Q8_0", files[0], ModelFormat.GGUF, 10, download_url=url + files[0], files=files
    )
    model = RemoteModel("o/r", "r", ModelRegistryType.HUGGING_FACE)
    return ModelDownload("ab" * 16, model, variant, DownloadStatus.QUEUED, 10, datetime.now(UTC))


@pytest.mark.parametrize(
    "name",
    ["../evil.gguf", "/etc/passwd", "C:\\x.gguf", "c:x.gguf", "a/../../b.gguf", "\\\\srv\\x"],
)
def test_p1_unsafe_remote_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafePathError):
        file_specs(download_of(name))
    with pytest.raises(UnsafePathError):
        local_file_name(name)


def test_p1_a_sub_folder_name_installs_under_its_last_segment() -> None:
    (spec,) = file_specs(download_of("Q8_0/model-Q8_0.gguf"))
    assert spec.name == "model-Q8_0.gguf"
    assert spec.url.endswith("/resolve/main/Q8_0/model-Q8_0.gguf")


def test_p1_joined_paths_stay_inside_their_folder(tmp_path: Path) -> None:
    for bad in ("..", ".", "a/b", "", "x\x00y"):
        with pytest.raises(UnsafePathError):
            inside(tmp_path, bad)
    assert inside(tmp_path, "ok.gguf") == tmp_path / "ok.gguf"
    with pytest.raises(PullTargetError):
        url_target("file:///etc/passwd")
    with pytest.raises(UnsafePathError):
        url_target("https://example.com/%2E%2E")


@pytest.mark.parametrize("digest", ["../" * 3 + "x", "A" * 64, "0" * 63, "g" * 64, "0" * 65])
def test_p2_only_sha256_digests_name_blobs(tmp_path: Path, digest: str) -> None:
    layout = StoreLayout(tmp_path)
    with pytest.raises(UnsafePathError):
        layout.blob_path(digest)
    with pytest.raises(UnsafePathError):
        layout.partial_path("../" + digest)
    assert layout.blob_path("0" * 64).name == "sha256-" + "0" * 64


def test_p3_the_lock_never_opens_through_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    planted = tmp_path / "x.partial"
    planted.symlink_to(victim)
    with pytest.raises(UnsafePathError, match="symlink"):
        open_locked(planted)


async def test_p3_a_symlink_planted_at_the_partial_is_never_followed(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    model, variant = await pick(services, TINY, "Q8_0")
    queued = await services.downloads.enqueue(model, variant)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = paths.models_dir / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{queued.id}.partial").symlink_to(victim)
    await manager.start_download(model, variant)
    done = await manager.wait(queued.id)
    assert done.status is DownloadStatus.FAILED
    assert done.error is not None and "symlink" in done.error
    assert victim.read_text() == "precious"


async def test_p3_a_symlink_planted_at_the_blob_path_is_replaced_not_written_through(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    f = hub.repos[TINY].file(Q8)
    assert f is not None
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    blobs = paths.models_dir / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    blob = blobs / f"sha256-{f.sha256}"
    blob.symlink_to(victim)
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert victim.read_text() == "precious"
    assert not blob.is_symlink() and sha256_of(blob) == f.sha256


def test_p4_redirects_must_stay_http() -> None:
    here = "https://hf.example/o/r/resolve/main/x.gguf"
    assert next_location(here, "/cdn/x?sig=1") == "https://hf.example/cdn/x?sig=1"
    assert next_location(here, "https://cdn.example/x").startswith("https://cdn.example/")
    for bad in ("file:///etc/passwd", "ftp://x/y", "https://user:pw@cdn.example/x", "data:,x"):
        with pytest.raises(UnsafePathError):
            next_location(here, bad)


def test_pull_targets_parse_or_fail_with_a_clear_message() -> None:
    assert parse_target("o/r:Q4_K_M") == replace(parse_target("o/r"), quant="Q4_K_M")
    assert parse_target("o/r/sub/f.gguf").file == "sub/f.gguf"
    assert parse_target("https://x.example/f.gguf").url == "https://x.example/f.gguf"
    for bad in ("noslash", "../x/y", "o/r:", "o/r/f.gguf:Q4"):
        with pytest.raises(PullTargetError):
            parse_target(bad)
    assert os.sep == "/"  # the P1 checks above assume POSIX paths
