"""Moving the whole store: copy, switch, delete; interrupted before the switch, nothing moved."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lexitui.domain.storage import MovePhase, StorageMoveProgress
from lexitui.files.model_location import LOCATION_FILE, Location, read_location, write_location
from lexitui.services import Services
from lexitui.storage import move
from lexitui.storage.errors import StorageError
from lexitui.storage.library_roots import LibraryRoots
from lexitui.storage.manager import StorageManager
from tests.storage.conftest import Clock, build_manager
from tests.storage.layouts import sha256_of, write_gguf


class Boom(Exception):
    pass


async def two_models(manager: StorageManager, tmp_path: Path, tiny: Path) -> list[str]:
    other = write_gguf(tmp_path / "src" / "other.Q4_0.gguf", padding=4096)
    return [(await manager.import_model(p)).id for p in (tiny, other)]


@pytest.mark.parametrize("same_disk", [True, False], ids=["linked", "copied"])
async def test_move_copies_switches_and_deletes(
    manager: StorageManager,
    tmp_path: Path,
    tiny: Path,
    monkeypatch: pytest.MonkeyPatch,
    same_disk: bool,
) -> None:
    monkeypatch.setattr(move, "_same_device", lambda _old, _new: same_disk)
    ids = await two_models(manager, tmp_path, tiny)
    old = manager.layout.root
    steps: list[StorageMoveProgress] = []

    new = await manager.move_storage(tmp_path / "big-disk" / "models", steps.append)

    assert new == tmp_path / "big-disk" / "models"
    assert read_location(manager.data_dir) == Location(new)
    assert not old.exists()
    assert manager.layout.root == new
    for model_id in ids:
        model = await manager.installed_model(model_id)
        assert Path(model.model.path).is_relative_to(new)
        assert (await manager.verify_model(model_id)).ok
    blob = new / "blobs" / f"sha256-{sha256_of(tiny)}"
    (link,) = (new / "installed" / ids[0]).iterdir()
    assert link.samefile(blob)  # still one file, not two
    phases = [s.phase for s in steps]
    assert phases[0] is MovePhase.COPYING and phases[-1] is MovePhase.DONE
    assert steps[phases.index(MovePhase.SWITCHING) - 1].bytes_done == steps[0].bytes_total


@pytest.mark.parametrize("same_disk", [True, False], ids=["linked", "copied"])
async def test_an_interrupted_move_leaves_the_old_store_live(
    manager: StorageManager,
    tmp_path: Path,
    tiny: Path,
    monkeypatch: pytest.MonkeyPatch,
    same_disk: bool,
) -> None:
    monkeypatch.setattr(move, "_same_device", lambda _old, _new: same_disk)
    ids = await two_models(manager, tmp_path, tiny)
    old = manager.layout.root
    before = {i: (await manager.installed_model(i)).model.path for i in ids}

    def fail_half_way(step: StorageMoveProgress) -> None:
        if step.phase is MovePhase.COPYING and step.bytes_done > step.bytes_total // 2:
            raise Boom("disk unplugged")

    target = tmp_path / "big-disk" / "models"
    with pytest.raises(Boom):
        await manager.move_storage(target, fail_half_way)

    assert read_location(manager.data_dir).live == old
    assert not (manager.data_dir / LOCATION_FILE).exists()
    assert not target.exists()  # the half copy was removed
    assert manager.layout.root == old
    for model_id, path in before.items():
        assert (await manager.installed_model(model_id)).model.path == path
        assert (await manager.verify_model(model_id)).ok
    # And the store still works: a later move goes through.
    assert await manager.move_storage(target) == target


async def test_a_move_killed_after_the_switch_is_finished_at_start(
    services: Services, roots: LibraryRoots, clock: Clock, tmp_path: Path, tiny: Path
) -> None:
    manager = build_manager(services, roots, clock)
    await manager.start()
    model_id = (await manager.import_model(tiny)).id
    old = manager.layout.root
    new = tmp_path / "new-store"
    move.copy_store(old, new)  # step 1 done
    write_location(manager.data_dir, Location(new, previous=old))  # step 2 done; then a kill
    await manager.stop()

    restarted = build_manager(services, roots, clock)
    await restarted.start()
    try:
        model = await restarted.installed_model(model_id)
        assert Path(model.model.path).is_relative_to(new)
        assert not old.exists()
        assert json.loads((restarted.data_dir / LOCATION_FILE).read_text())["previous"] is None
        assert (await restarted.verify_model(model_id)).ok
    finally:
        await restarted.stop()


async def test_unsuitable_targets_are_refused(manager: StorageManager, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "photo.jpg").write_bytes(b"x")
    old = manager.layout.root

    with pytest.raises(StorageError, match="not empty"):
        await manager.move_storage(busy)
    with pytest.raises(StorageError, match="inside the current"):
        await manager.move_storage(old / "blobs" / "x")
    with pytest.raises(StorageError, match="contains the current"):
        await manager.move_storage(old.parent)
    assert (busy / "photo.jpg").exists() and old.exists()
    assert sorted(os.listdir(busy)) == ["photo.jpg"]


async def test_a_move_killed_just_before_the_switch_is_redone_by_a_rerun(
    manager: StorageManager, tmp_path: Path, tiny: Path
) -> None:
    """The copy finished but the location never switched: the old store is live, and running
    the same move again replaces the leftover copy instead of refusing it for ever."""
    model_id = (await manager.import_model(tiny)).id
    old = manager.layout.root
    target = tmp_path / "big-disk" / "models"
    move.copy_store(old, target)  # step 1 done; then a kill, before the switch

    assert read_location(manager.data_dir).live == old
    assert await manager.move_storage(target) == target

    assert read_location(manager.data_dir) == Location(target)
    assert not old.exists()
    assert sorted(os.listdir(target)).count(".lexitui-incomplete") == 0  # it is live now
    assert Path((await manager.installed_model(model_id)).model.path).is_relative_to(target)
    assert (await manager.verify_model(model_id)).ok
    # A complete store without the marker (live elsewhere, or another home's) is never
    # replaced: only a copy still marked incomplete is.
    another = tmp_path / "another-store"
    move.copy_store(target, another)
    move.mark_live(another)
    with pytest.raises(StorageError, match="already holds"):
        await manager.move_storage(another)
