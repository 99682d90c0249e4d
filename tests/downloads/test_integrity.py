"""Checklist D8: a file whose sha256 (or GGUF header) is wrong is deleted, recorded and never
installed; and the verifier on its own."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import replace
from pathlib import Path

from lexitui.config import Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.downloads.layout import EMPTY_SHA256
from lexitui.downloads.manager import DownloadManager
from lexitui.downloads.target import url_target
from lexitui.downloads.verify import IntegrityVerifier
from lexitui.services import Services
from tests.downloads.conftest import SMALL, TINY, fetch, partials, pick
from tests.fakes.hub_records import blob_file
from tests.fakes.hub_repos_served import tiny_fixture_gguf
from tests.fakes.hub_server import FakeHub

BROKEN = "lexitui-fixtures/broken-GGUF"


def add_repo(hub: FakeHub, files: dict[str, bytes]) -> None:
    repo = replace(
        tiny_fixture_gguf(), id=BROKEN, files=[blob_file(n, b) for n, b in files.items()]
    )
    hub.repos[BROKEN] = repo


async def recorded_failures(services: Services) -> list[dict[str, object]]:
    for _ in range(50):  # the event recorder writes in the background
        rows = await services.store.fetch_all(
            "SELECT details FROM events WHERE kind = 'ModelDownloadCompleted'"
        )
        if rows:
            return [json.loads(r["details"]) for r in rows]
        await asyncio.sleep(0.02)
    return []


async def test_d8_a_corrupted_copy_is_deleted_recorded_and_never_installed(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    hub.faults.corrupt_offset = 700
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.FAILED
    assert done.error is not None and "does not match" in done.error
    assert await services.registry.list() == [
        m for m in await services.registry.list() if m.source.startswith("package:")
    ]
    assert not list((paths.models_dir / "blobs").iterdir())
    assert partials(paths.models_dir) == []
    (event,) = await recorded_failures(services)
    assert event["success"] is False and "does not match" in str(event["error"])


async def test_d8_a_mismatch_is_downloaded_again_by_the_automatic_retry(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.faults.corrupt_offset = 700
    model, variant = await pick(services, TINY, "Q8_0")
    options = replace(SMALL, auto_retry_on_failure=True, max_retries=1)
    started = await manager.start_download(model, variant, options)
    done = await manager.wait(started.id)
    assert done.status is DownloadStatus.FAILED
    assert done.retry_count == 1


async def test_d8_an_empty_file_is_never_installed_even_when_its_hash_is_expected(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    add_repo(hub, {"empty-Q8_0.gguf": b""})
    url = f"{hub.base_url}/{BROKEN}/resolve/main/empty-Q8_0.gguf"
    model, variant = url_target(url)
    started = await manager.start_download(model, variant, SMALL, require_size=False)
    done = await manager.wait(started.id)
    assert hashlib.sha256(b"").hexdigest() == EMPTY_SHA256  # what the Hub announces for it
    assert done.status is DownloadStatus.FAILED
    assert done.error is not None and "empty" in done.error
    assert not list((paths.models_dir / "blobs").iterdir())


async def test_a_broken_gguf_with_a_matching_hash_is_not_installed(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    add_repo(hub, {"broken-Q8_0.gguf": b"GGUF\x03\x00\x00\x00" + b"\xff" * 600})
    done = await fetch(manager, services, repo=BROKEN, variant_id="Q8_0")
    assert done.status is DownloadStatus.FAILED
    assert done.error is not None and "not a usable GGUF" in done.error
    assert not list((paths.models_dir / "blobs").iterdir())
    assert partials(paths.models_dir) == []


async def test_the_verifier_hashes_with_progress_and_reads_gguf_headers(
    tmp_path: Path, starter_path: Path
) -> None:
    verifier = IntegrityVerifier()
    data = b"x" * 5_000_000
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    seen: list[int] = []
    assert await verifier.compute_hash(path, seen.append) == hashlib.sha256(data).hexdigest()
    assert seen[-1] == len(data) and len(seen) >= 2
    good = await verifier.verify(path, hashlib.sha256(data).hexdigest())
    assert good.is_valid
    bad = await verifier.verify(path, "0" * 64)
    assert not bad.is_valid and bad.error is not None
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    assert not (await verifier.verify(empty, EMPTY_SHA256)).is_valid
    ok = await verifier.validate_gguf(starter_path)
    assert ok.is_valid and ok.metadata is not None
    assert ok.metadata.architecture == "llama" and ok.metadata.context_length == 8192
    broken = await verifier.validate_gguf(path)
    assert not broken.is_valid and broken.error
