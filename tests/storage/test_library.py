"""Scanning other tools' model folders, laid out on disk as those tools lay them out."""

from __future__ import annotations

import os
from pathlib import Path

from lexitui.storage.library import LibraryScanner
from lexitui.storage.library_roots import LibraryRoots
from tests.storage.layouts import (
    Q4_K_M_FILE_TYPE,
    add_to_hf_cache,
    add_to_ollama,
    hf_repo_dir,
    sha256_of,
    write_gguf,
)

REPO = "acme/tiny-llama-GGUF"


def scan(roots: LibraryRoots):  # type: ignore[no-untyped-def]
    return LibraryScanner(roots).scan()


def reasons(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {Path(s.path).name: s.reason for s in result.skipped}


def test_hf_cache_models_are_found_through_their_snapshot_links(
    tmp_path: Path, roots: LibraryRoots, tiny: Path
) -> None:
    link = add_to_hf_cache(tmp_path / "hf", REPO, "tiny-llama.Q8_0.gguf", tiny)
    q4 = write_gguf(tmp_path / "src" / "q4.gguf", file_type=Q4_K_M_FILE_TYPE, padding=512)
    add_to_hf_cache(tmp_path / "hf", REPO, "Q4_K_M/tiny-llama.Q4_K_M.gguf", q4)
    assert link.is_symlink()

    result = scan(roots)

    by_id = {m.model_id: m for m in result.models}
    assert sorted(by_id) == ["hf:acme.tiny-llama-gguf:q4_k_m", "hf:acme.tiny-llama-gguf:q8_0"]
    q8 = by_id["hf:acme.tiny-llama-gguf:q8_0"]
    assert q8.path == str(link)  # the snapshot name, which llama.cpp can open
    assert q8.size_bytes == tiny.stat().st_size
    assert q8.name == "acme/tiny-llama-GGUF (Q8_0)"
    assert q8.facts.quantization == "Q8_0"
    assert q8.facts.base_model == "tiny-llama 1m"
    assert by_id["hf:acme.tiny-llama-gguf:q4_k_m"].facts.quantization == "Q4_K_M"
    assert result.skipped == ()


def test_malformed_and_dangling_files_are_skipped_with_a_reason(
    tmp_path: Path, roots: LibraryRoots, tiny: Path
) -> None:
    cache = tmp_path / "hf"
    add_to_hf_cache(cache, REPO, "tiny-llama.Q8_0.gguf", tiny)
    bad = tmp_path / "src" / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 40)  # 2^64-1 tensors
    add_to_hf_cache(cache, "acme/broken-GGUF", "broken.Q4_0.gguf", bad)
    snapshot = hf_repo_dir(cache, REPO) / "snapshots" / ("a" * 40)
    os.symlink("../../blobs/" + "0" * 64, snapshot / "gone.Q2_K.gguf")

    result = scan(roots)

    assert [m.model_id for m in result.models] == ["hf:acme.tiny-llama-gguf:q8_0"]
    why = reasons(result)
    assert "tensor count" in why["broken.Q4_0.gguf"]
    assert "dangling link" in why["gone.Q2_K.gguf"]


def test_a_snapshot_link_out_of_the_repo_is_never_followed(
    tmp_path: Path, roots: LibraryRoots, tiny: Path
) -> None:
    add_to_hf_cache(tmp_path / "hf", REPO, "tiny-llama.Q8_0.gguf", tiny)
    elsewhere = write_gguf(tmp_path / "private" / "secret.gguf")  # valid, but not the cache's
    snapshot = hf_repo_dir(tmp_path / "hf", REPO) / "snapshots" / ("a" * 40)
    os.symlink(elsewhere, snapshot / "planted.gguf")

    result = scan(roots)

    assert [m.model_id for m in result.models] == ["hf:acme.tiny-llama-gguf:q8_0"]
    assert "outside" in reasons(result)["planted.gguf"]


def test_the_revision_refs_main_names_wins(tmp_path: Path, roots: LibraryRoots) -> None:
    old = write_gguf(tmp_path / "src" / "old.gguf", padding=64)
    new = write_gguf(tmp_path / "src" / "new.gguf", padding=128)
    add_to_hf_cache(tmp_path / "hf", REPO, "m.Q8_0.gguf", old, revision="1" * 40)
    add_to_hf_cache(tmp_path / "hf", REPO, "m.Q8_0.gguf", new, revision="2" * 40)

    result = scan(roots)

    (model,) = result.models
    assert os.path.realpath(model.path).endswith(sha256_of(new))
    assert [s.reason for s in result.skipped] == ["older revision of a file"]


def test_ollama_models_come_from_manifests(tmp_path: Path, roots: LibraryRoots, tiny: Path) -> None:
    store = tmp_path / "ollama"
    blob = add_to_ollama(store, "tiny", "latest", tiny)
    add_to_ollama(store, "tiny", "q8", tiny)  # a second tag for the same weights
    other = write_gguf(tmp_path / "src" / "o.gguf", file_type=Q4_K_M_FILE_TYPE)
    gone = add_to_ollama(store, "gone", "latest", other, namespace="someone")
    gone.unlink()

    result = scan(roots)

    (model,) = result.models
    assert model.model_id == "ollama:tiny:latest"
    assert model.name == "tiny:latest"
    assert model.path == str(blob)
    why = {Path(s.path).parts[-2] + ":" + Path(s.path).name: s.reason for s in result.skipped}
    assert "same weights as tiny:latest" in why["tiny:q8"]
    assert "missing" in why["gone:latest"]


def test_ollama_blob_of_the_wrong_size_is_skipped(
    tmp_path: Path, roots: LibraryRoots, tiny: Path
) -> None:
    blob = add_to_ollama(tmp_path / "ollama", "tiny", "latest", tiny)
    with open(blob, "ab") as handle:
        handle.write(b"extra")

    result = scan(roots)

    assert result.models == ()
    assert "the manifest says" in result.skipped[0].reason


def test_lmstudio_split_sets_count_once_and_must_be_complete(
    tmp_path: Path, roots: LibraryRoots
) -> None:
    repo = tmp_path / "lmstudio" / "pub" / "Big-GGUF"
    first = write_gguf(repo / "big.Q8_0-00001-of-00002.gguf", split=(1, 2))
    second = write_gguf(repo / "big.Q8_0-00002-of-00002.gguf", split=(2, 2))
    write_gguf(repo / "half-00001-of-00002.gguf", split=(1, 2))
    os.symlink("/etc/hostname", repo / "planted.gguf")

    result = scan(roots)

    (model,) = result.models
    assert model.model_id == "lmstudio:pub.big-gguf:q8_0"
    assert model.path == str(first)
    assert model.parts == 2
    assert model.size_bytes == first.stat().st_size + second.stat().st_size
    why = reasons(result)
    assert "missing part 2 of 2" in why["half-00001-of-00002.gguf"]
    assert "outside" in why["planted.gguf"]


def test_roots_follow_each_tools_variables(tmp_path: Path) -> None:
    home = str(tmp_path)
    assert LibraryRoots.from_env({"HOME": home, "HF_HUB_CACHE": "/x/hub"}).hf_cache == (
        Path("/x/hub"),
    )
    assert LibraryRoots.from_env({"HOME": home, "HF_HOME": "/h"}).hf_cache == (Path("/h/hub"),)
    assert LibraryRoots.from_env({"HOME": home, "XDG_CACHE_HOME": "/c"}).hf_cache == (
        Path("/c/huggingface/hub"),
    )
    assert LibraryRoots.from_env({"HOME": home}).hf_cache == (
        tmp_path / ".cache" / "huggingface" / "hub",
    )
    assert LibraryRoots.from_env({"HOME": home, "OLLAMA_MODELS": "/m"}).ollama == (Path("/m"),)
    assert LibraryRoots.from_env({"HOME": home}).ollama[0] == tmp_path / ".ollama" / "models"
