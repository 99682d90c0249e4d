"""One block-count bomb among good models: every listing still lists the good ones, and the bad
one is said to be invalid in one line (it was installed before the shape checks existed, or its
file was replaced on disk; a shared library folder may hold one too)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.discovery.hostile_hub import run_lexitui
from tests.gguf.craft import block_count_bomb
from tests.storage.layouts import add_to_hf_cache, write_gguf

MAX_RSS = 150 * 1024**2
REFUSAL = "llama.block_count is 4,294,967,295, outside 1 to 4,096"


def _install(tmp_path: Path, name: str, padding: int) -> None:
    source = write_gguf(
        tmp_path / "src" / f"{name}.Q8_0.gguf", name=name, basename=name, padding=padding
    )
    imported = run_lexitui("import", str(source), "--id", name)
    assert imported.returncode == 0, imported.stderr


def _turn_into_the_bomb(lexitui_home: Path, model_id: str) -> None:
    (path,) = (lexitui_home / "data" / "models" / "installed" / model_id).glob("*.gguf")
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    path.write_bytes(block_count_bomb())


def test_installed_listings_keep_the_good_models_and_name_the_bad_one(
    tmp_path: Path, lexitui_home: Path
) -> None:
    for name, padding in (("alpha", 64), ("bravo", 128), ("bad", 256)):
        _install(tmp_path, name, padding)
    _turn_into_the_bomb(lexitui_home, "bad")

    cleanup = run_lexitui("cleanup", "--dry-run")
    assert cleanup.returncode == 0, cleanup.stderr
    assert cleanup.max_rss_bytes < MAX_RSS, cleanup
    about_bad = [line for line in cleanup.stdout.splitlines() if " bad " in line]
    assert len(about_bad) == 1, cleanup.stdout
    assert about_bad[0].startswith("would delete  bad  frees")
    assert f"Cannot run here: its GGUF header is invalid ({REFUSAL})." in about_bad[0]
    assert not any(f" {good} " in cleanup.stdout for good in ("alpha", "bravo"))

    listed = run_lexitui("ls")
    assert listed.returncode == 0, listed.stderr
    assert listed.max_rss_bytes < MAX_RSS, listed
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert {"alpha", "bravo", "bad"} <= set(rows)
    assert rows["bad"].endswith(f"  invalid GGUF: {REFUSAL}")
    assert [i for i, row in rows.items() if "invalid" in row] == ["bad"]

    verified = run_lexitui("verify", "--quick")
    lines = verified.stdout.splitlines()
    assert [line for line in lines if line.startswith("FAILED")] == [
        f"FAILED  bad  {lexitui_home}/data/models/installed/bad/bad.Q8_0.gguf: {REFUSAL}"
    ]
    assert sum(line.startswith("ok ") for line in lines) >= 2


def test_a_bomb_in_the_shared_library_is_skipped_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    cache = tmp_path / "hf-home" / "hub"
    good = write_gguf(tmp_path / "src" / "good.Q8_0.gguf")
    bomb = tmp_path / "src" / "bomb.Q8_0.gguf"
    bomb.write_bytes(block_count_bomb())
    add_to_hf_cache(cache, "org/good-GGUF", "good.Q8_0.gguf", good)
    add_to_hf_cache(cache, "evil/bomb-GGUF", "bomb.Q8_0.gguf", bomb)

    library = run_lexitui("library")
    assert library.returncode == 0, library.stderr
    lines = library.stdout.splitlines()
    assert any(line.startswith("new     hf:org.good-gguf:q8_0") for line in lines), lines
    skipped = [line for line in lines if "bomb.Q8_0.gguf" in line]
    assert len(skipped) == 1 and skipped[0].startswith("skipped ")
    assert skipped[0].endswith(f"bomb.Q8_0.gguf: {REFUSAL}")
