"""The pipeline end to end against the fake Hub: resolve, chunked fetch, verify, install."""

from __future__ import annotations

import os
from pathlib import Path

from lexitui.config import Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.downloads.manager import DownloadManager
from lexitui.downloads.records import DownloadProgressEvent
from lexitui.events import Event, ModelDownloadCompleted, ModelDownloadStarted, ModelInstalled
from lexitui.gguf.local import read_local_header
from lexitui.services import Services
from tests.downloads.conftest import TINY, fetch, manifest, partials, served_bytes, sha256_of
from tests.fakes.hub_server import FakeHub

SPLIT = ("tiny-random-llama-F16-00001-of-00002.gguf", "tiny-random-llama-F16-00002-of-00002.gguf")


async def test_a_single_file_is_fetched_in_parallel_chunks_verified_and_installed(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    seen: list[Event] = []
    services.bus.downloads.subscribe(seen.append)
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.COMPLETED, done.error
    body = served_bytes(hub, TINY, "tiny-random-llama-Q8_0.gguf")
    installed = await services.registry.get("lexitui-fixtures.tiny-random-llama-gguf:q8_0")
    assert Path(installed.path).read_bytes() == body
    assert done.destination_path == installed.path
    blob = paths.models_dir / "blobs" / f"sha256-{sha256_of(installed.path)}"
    assert os.path.samefile(blob, installed.path)  # a hard link, not a copy
    ranges = [c.range for c in hub.calls if c.server == "cdn" and c.method == "GET"]
    assert len(ranges) == 4 and all(r and r.startswith("bytes=") for r in ranges)
    assert partials(paths.models_dir) == []
    kinds = [type(e) for e in seen]
    assert kinds.index(ModelDownloadStarted) < kinds.index(ModelInstalled)
    assert kinds.index(ModelInstalled) < kinds.index(ModelDownloadCompleted)


async def test_a_split_gguf_installs_as_one_model_whose_first_part_finds_the_rest(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    blobs = paths.models_dir / "blobs"
    seen_at_part_2: list[list[str]] = []

    def watch(event: DownloadProgressEvent) -> None:
        if event.message == f"fetching {SPLIT[1]}":
            seen_at_part_2.append(os.listdir(blobs))

    manager.progress.subscribe(watch)
    done = await fetch(manager, services, variant_id="F16")
    assert done.status is DownloadStatus.COMPLETED, done.error
    # Part 1 stays a locked partial until part 2 verified: no orphan blob for a sweep to take.
    assert seen_at_part_2 == [[]]
    model_id = "lexitui-fixtures.tiny-random-llama-gguf:f16"
    installed = await services.registry.get(model_id)
    folder = Path(installed.path).parent
    assert Path(installed.path).name == SPLIT[0]
    for name in SPLIT:  # llama.cpp looks for "-0000N-of-00002.gguf" beside the first part
        assert (folder / name).read_bytes() == served_bytes(hub, TINY, name)
    header = read_local_header(installed.path)
    assert header.metadata["split.count"] == 2
    files = manifest(paths.models_dir, model_id)["files"]
    assert [f["name"] for f in files] == list(SPLIT)
    for f in files:
        assert (paths.models_dir / "blobs" / f["digest"]).is_file()


async def test_an_installed_blob_is_not_downloaded_again(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    first = await fetch(manager, services)
    assert first.status is DownloadStatus.COMPLETED
    gets = len([c for c in hub.calls if c.server == "cdn" and c.method == "GET"])
    again = await fetch(manager, services)
    assert again.status is DownloadStatus.COMPLETED
    assert again.id != first.id
    assert len([c for c in hub.calls if c.server == "cdn" and c.method == "GET"]) == gets
