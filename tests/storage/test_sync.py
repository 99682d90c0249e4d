"""Library sync and start-up reconciliation (S5): rows follow the files, both ways."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from lexitui.domain.models import InstalledModel
from lexitui.services import Services
from lexitui.storage.library_roots import LibraryRoots
from lexitui.storage.manager import StorageManager
from lexitui.storage.starter import STARTER_ID
from tests.storage.conftest import Clock, build_manager
from tests.storage.layouts import add_to_hf_cache, add_to_ollama, hf_repo_dir, sha256_of

REPO = "acme/tiny-llama-GGUF"
HF_ID = "hf:acme.tiny-llama-gguf:q8_0"


async def rows(manager: StorageManager) -> dict[str, InstalledModel]:
    return {m.id: m.model for m in await manager.installed_models()}


async def test_sync_adds_new_models_and_removes_vanished_ones(
    manager: StorageManager, tmp_path: Path, tiny: Path
) -> None:
    link = add_to_hf_cache(tmp_path / "hf", REPO, "tiny-llama.Q8_0.gguf", tiny)
    blob = add_to_ollama(tmp_path / "ollama", "tiny", "latest", tiny)

    first = await manager.sync_library()

    assert sorted(first.added) == [HF_ID, "ollama:tiny:latest"]
    found = await rows(manager)
    assert found[HF_ID].path == str(link)
    assert found[HF_ID].registered_by_path and found[HF_ID].source == "hf-cache"
    assert found["ollama:tiny:latest"].source == "ollama"
    assert STARTER_ID in found  # other rows are left alone
    stored = await manager.installed_model(HF_ID)
    assert stored.facts.quantization == "Q8_0"

    again = await manager.sync_library()
    assert (again.added, again.updated, again.removed) == ((), (), ())

    blob.unlink()  # `ollama rm tiny`
    third = await manager.sync_library()

    assert third.removed == ("ollama:tiny:latest",)
    assert set(await rows(manager)) == {HF_ID, STARTER_ID}


async def test_a_library_id_never_overwrites_another_sources_row(
    manager: StorageManager, services: Services, tmp_path: Path, tiny: Path
) -> None:
    add_to_hf_cache(tmp_path / "hf", REPO, "tiny-llama.Q8_0.gguf", tiny)
    mine = tmp_path / "mine.gguf"
    mine.write_bytes(tiny.read_bytes())
    await services.registry.add(HF_ID, "mine", mine, source="import", registered_by_path=False)

    synced = await manager.sync_library()

    assert synced.added == ()
    assert "taken" in synced.skipped[0].reason
    assert (await rows(manager))[HF_ID].path == str(mine)


async def test_reconcile_drops_rows_without_files_and_files_without_rows(
    services: Services, roots: LibraryRoots, clock: Clock, tmp_path: Path, tiny: Path
) -> None:
    manager = build_manager(services, roots, clock)
    await manager.start()
    try:
        kept = await manager.import_model(tiny)
        doomed_src = tmp_path / "src" / "doomed.gguf"
        doomed_src.write_bytes(tiny.read_bytes() + b"\0" * 32)
        doomed = await manager.import_model(doomed_src)
    finally:
        await manager.stop()
    layout = manager.layout
    # A crash left: a row whose files are gone, a blob nobody names, a manifest without a row.
    for entry in (layout.installed_dir / doomed.id).iterdir():
        entry.unlink()
    orphan = layout.blobs_dir / ("sha256-" + "1" * 64)
    orphan.write_bytes(b"x" * 100)
    young = layout.blobs_dir / ("sha256-" + "2" * 64)
    young.write_bytes(b"y")
    (layout.manifests_dir / "ghost.json").write_text('{"files": []}')
    # An hour later for everything but the young blob, written "just now" by another install
    # (ctime cannot be set back, so the clock moves forward instead).
    clock.offset = timedelta(hours=1)
    soon = time.time() + 3600
    os.utime(young, (soon, soon))
    restarted = build_manager(services, roots, clock, grace_s=600)
    report = await restarted.start()
    await restarted.stop()

    assert report is not None
    assert report.removed_rows == (doomed.id,)
    blob_of_doomed = "sha256-" + sha256_of(doomed_src)
    assert set(report.removed_blobs) == {orphan.name, blob_of_doomed}
    assert report.young_orphans == (young.name,)
    assert not (layout.manifests_dir / "ghost.json").exists()
    assert not (layout.manifests_dir / f"{doomed.id}.json").exists()
    assert (layout.blobs_dir / ("sha256-" + sha256_of(tiny))).exists()
    assert set(await rows(restarted)) == {kept.id, STARTER_ID}


async def test_a_forgotten_library_model_stays_forgotten(
    manager: StorageManager, tmp_path: Path, tiny: Path
) -> None:
    link = add_to_hf_cache(tmp_path / "hf", REPO, "tiny-llama.Q8_0.gguf", tiny)
    await manager.sync_library()

    result = await manager.delete_model(HF_ID)
    again = await manager.sync_library()

    assert result.forgot_only and result.freed_bytes == 0
    assert link.exists() and (hf_repo_dir(tmp_path / "hf", REPO) / "blobs").exists()
    assert again.added == ()
    assert [s.reason for s in again.skipped] == ["forgotten by the user"]
    assert HF_ID not in await rows(manager)


async def test_sync_also_reconciles_lexituis_own_store(manager: StorageManager, tiny: Path) -> None:
    model = await manager.import_model(tiny)
    blob = manager.layout.blob_path(sha256_of(tiny))
    blob.unlink()  # the link in the model's folder still holds the bytes
    for entry in (manager.layout.installed_dir / model.id).iterdir():
        entry.unlink()

    synced = await manager.sync_library()

    assert synced.reconciled.removed_rows == (model.id,)
    assert model.id not in await rows(manager)
    assert not manager.layout.manifest_path(model.id).exists()
