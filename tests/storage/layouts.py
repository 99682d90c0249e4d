"""Real on-disk layouts of other tools' model folders, built the way those tools build them.

- Hugging Face cache: ``models--{org}--{name}/blobs/{sha256}`` holds the bytes and
  ``snapshots/{rev}/{file}`` is a *relative* symlink ``../../blobs/{sha256}``; ``refs/main``
  holds the revision.
- Ollama: ``manifests/registry.ollama.ai/{ns}/{model}/{tag}`` is a v2 image manifest whose
  model layer names ``blobs/sha256-{hex}``.
- LM Studio: ``{publisher}/{repo}/{file}.gguf``.

GGUF files are written with ``gguf.GGUFWriter``: tiny llama-shaped headers with the metadata a
real conversion writes (name, basename, size label, file type).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
from gguf import GGUFWriter

Q8_0_FILE_TYPE = 7
Q4_K_M_FILE_TYPE = 15
F16_FILE_TYPE = 1


def write_gguf(
    path: Path,
    *,
    name: str = "Tiny Llama 1M",
    basename: str = "tiny-llama",
    size_label: str = "1M",
    file_type: int = Q8_0_FILE_TYPE,
    padding: int = 0,
    split: tuple[int, int] | None = None,
) -> Path:
    """A small valid GGUF; ``padding`` adds a tensor of that many bytes (to vary file sizes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = GGUFWriter(path, "llama")
    writer.add_name(name)
    writer.add_string("general.basename", basename)
    writer.add_string("general.size_label", size_label)
    writer.add_block_count(1)
    writer.add_context_length(2048)
    writer.add_embedding_length(16)
    writer.add_head_count(2)
    writer.add_file_type(file_type)
    if split is not None:
        writer.add_uint16("split.no", split[0] - 1)
        writer.add_uint16("split.count", split[1])
    writer.add_tensor("token_embd.weight", np.ones((8, 16), dtype=np.float32))
    writer.add_tensor("blk.0.attn_norm.weight", np.ones(16, dtype=np.float32))
    if padding:
        writer.add_tensor("blk.0.pad.weight", np.zeros(padding // 4, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hf_repo_dir(cache: Path, repo_id: str) -> Path:
    return cache / ("models--" + repo_id.replace("/", "--"))


def add_to_hf_cache(
    cache: Path, repo_id: str, filename: str, source: Path, revision: str = "a" * 40
) -> Path:
    """Put ``source``'s bytes in the cache as ``repo_id``'s ``filename``; returns the snapshot
    link (what huggingface_hub returns from ``hf_hub_download``)."""
    repo = hf_repo_dir(cache, repo_id)
    digest = sha256_of(source)
    blob = repo / "blobs" / digest
    blob.parent.mkdir(parents=True, exist_ok=True)
    if not blob.exists():
        os.link(source, blob) if _same_device(source, blob.parent) else blob.write_bytes(
            source.read_bytes()
        )
    link = repo / "snapshots" / revision / filename
    link.parent.mkdir(parents=True, exist_ok=True)
    depth = len(Path(filename).parts) + 1  # snapshots/{rev}/[folders/]file -> repo
    os.symlink(os.path.join(*([".."] * depth), "blobs", digest), link)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return link


def add_to_ollama(
    store: Path, model: str, tag: str, source: Path, namespace: str = "library"
) -> Path:
    """Install ``source`` as Ollama's ``model:tag``; returns the blob path."""
    digest = sha256_of(source)
    blob = store / "blobs" / f"sha256-{digest}"
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(source.read_bytes())
    config = b'{"model_format":"gguf","model_family":"llama"}'
    config_digest = hashlib.sha256(config).hexdigest()
    (store / "blobs" / f"sha256-{config_digest}").write_bytes(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": f"sha256:{config_digest}",
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.ollama.image.model",
                "digest": f"sha256:{digest}",
                "size": blob.stat().st_size,
            }
        ],
    }
    path = store / "manifests" / "registry.ollama.ai" / namespace / model / tag
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))
    return blob


def _same_device(a: Path, folder: Path) -> bool:
    return os.stat(a).st_dev == os.stat(folder).st_dev
