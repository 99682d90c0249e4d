"""Importing GGUF files (copy, hard link, move, symlink), exporting them, verifying them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lexitui.domain.storage import ImportMode, ModelImportOptions
from lexitui.storage.errors import StorageError
from lexitui.storage.manager import StorageManager
from lexitui.storage.starter import STARTER_ID
from tests.storage.layouts import add_to_hf_cache, sha256_of, write_gguf


def store_files(manager: StorageManager) -> list[str]:
    root = manager.layout.root
    return sorted(str(Path(d, f).relative_to(root)) for d, _, files in os.walk(root) for f in files)


async def test_a_copy_lands_as_a_content_named_blob(manager: StorageManager, tiny: Path) -> None:
    model = await manager.import_model(tiny)

    digest = sha256_of(tiny)
    assert model.id == "tiny-llama-q8_0"
    assert model.model.source == "import" and not model.shared
    assert model.facts.quantization == "Q8_0"
    assert Path(model.model.path).name == tiny.name  # its own name, in its own folder
    assert Path(model.model.path).samefile(manager.layout.blob_path(digest))
    assert tiny.exists()
    assert store_files(manager) == [
        f"blobs/sha256-{digest}",
        f"installed/{model.id}/{tiny.name}",
        f"manifests/{model.id}.json",
    ]


async def test_link_and_move_imports(manager: StorageManager, tmp_path: Path, tiny: Path) -> None:
    linked = await manager.import_model(tiny, ModelImportOptions(mode=ImportMode.HARDLINK))
    assert os.stat(linked.model.path).st_ino == os.stat(tiny).st_ino

    moving = write_gguf(tmp_path / "src" / "moved.Q4_0.gguf", padding=64)
    moved = await manager.import_model(moving, ModelImportOptions(mode=ImportMode.MOVE))
    assert not moving.exists()
    assert (await manager.verify_model(moved.id)).ok


async def test_a_bad_gguf_is_refused_and_nothing_is_written(
    manager: StorageManager, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 40)
    before = store_files(manager)

    with pytest.raises(StorageError, match=r"not a valid GGUF file: .*tensor count"):
        await manager.import_model(bad)
    with pytest.raises(StorageError, match="not a file"):
        await manager.import_model(tmp_path / "missing.gguf")

    assert store_files(manager) == before
    assert {m.id for m in await manager.installed_models()} == {STARTER_ID}


async def test_an_id_in_use_or_a_file_already_in_the_store_is_refused(
    manager: StorageManager, tiny: Path
) -> None:
    model = await manager.import_model(tiny)
    with pytest.raises(StorageError, match="installed already"):
        await manager.import_model(tiny)
    with pytest.raises(StorageError, match="already inside"):
        await manager.import_model(Path(model.model.path), ModelImportOptions(custom_id="x"))


async def test_a_split_model_imports_and_exports_as_one(
    manager: StorageManager, tmp_path: Path
) -> None:
    first = write_gguf(tmp_path / "src" / "big-00001-of-00002.gguf", split=(1, 2))
    second = write_gguf(tmp_path / "src" / "big-00002-of-00002.gguf", split=(2, 2), padding=32)
    with pytest.raises(StorageError, match="part 2 of 2"):
        await manager.import_model(second)

    model = await manager.import_model(first)

    assert model.id == "big"
    assert model.size_bytes == first.stat().st_size + second.stat().st_size
    out = tmp_path / "out"
    out.mkdir()
    written = await manager.export_model(model.id, out)
    assert [p.name for p in written] == [first.name, second.name]
    assert [p.read_bytes() for p in written] == [first.read_bytes(), second.read_bytes()]
    with pytest.raises(StorageError, match="exists; not overwritten"):
        await manager.export_model(model.id, out)


async def test_export_copies_the_bytes_under_a_new_name(
    manager: StorageManager, tmp_path: Path, tiny: Path
) -> None:
    model = await manager.import_model(tiny)
    target = tmp_path / "copy.gguf"

    (written,) = await manager.export_model(model.id, target)

    assert written == target and target.read_bytes() == tiny.read_bytes()
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())
    with pytest.raises(StorageError, match="not a folder"):
        await manager.export_model(model.id, tmp_path / "no" / "such" / "x.gguf")


async def test_verify_catches_a_changed_byte(
    manager: StorageManager, tmp_path: Path, tiny: Path
) -> None:
    model = await manager.import_model(tiny)
    link = add_to_hf_cache(tmp_path / "hf", "acme/t-GGUF", "t.Q8_0.gguf", tiny)
    await manager.sync_library()
    assert (await manager.verify_model(model.id)).ok
    shared = await manager.verify_model("hf:acme.t-gguf:q8_0")
    assert shared.ok and shared.expected_sha256 == sha256_of(tiny)

    with open(link, "r+b") as handle:  # bit rot in the cache's blob (the store's has its own)
        handle.seek(-1, os.SEEK_END)
        handle.write(b"\x01")
    quick = await manager.verify_model("hf:acme.t-gguf:q8_0", rehash=False)
    full = await manager.verify_model("hf:acme.t-gguf:q8_0")

    assert quick.ok and quick.computed_sha256 is None  # the header alone still parses
    assert not full.ok and full.header_ok
    assert full.error is not None and "does not match" in full.error


async def test_export_to_a_path_ending_in_a_slash_writes_into_that_folder(
    manager: StorageManager, tmp_path: Path, tiny: Path
) -> None:
    model = await manager.import_model(tiny)
    folder = tmp_path / "out"

    (written,) = await manager.export_model(model.id, f"{folder}/")

    assert folder.is_dir() and written == folder / tiny.name
    assert written.read_bytes() == tiny.read_bytes()
    (again,) = await manager.export_model(model.id, f"{tmp_path / 'existing'}/")
    assert again == tmp_path / "existing" / tiny.name
    with pytest.raises(StorageError, match="not a folder"):
        await manager.export_model(model.id, f"{tmp_path / 'no' / 'such'}/")


def test_lexitui_export_to_dir_slash_keeps_the_model_file_name(tmp_path: Path) -> None:
    """The command line hands the destination over as typed: ``DIR/`` is a folder."""
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    folder = tmp_path / "exported"
    done = subprocess.run(
        [sys.executable, "-m", "lexitui", "export", STARTER_ID, f"{folder}/", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    (written,) = json.loads(done.stdout)["files"]
    assert Path(written).parent == folder and Path(written).name.endswith(".gguf")
    assert Path(written).name != "exported"
