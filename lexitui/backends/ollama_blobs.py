"""Importing a local GGUF file into Ollama: ``/api/blobs/:digest`` then ``/api/create``.

The file is hashed in a worker thread (gigabytes of sha256 would freeze the TUI) and uploaded in
chunks read in a thread too, so memory stays flat whatever the model size. The upload is skipped
when Ollama already has the blob (HEAD answers 200).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from lexitui.backends.base import PullProgress
from lexitui.backends.errors import BackendError, BackendTimeout, BackendUnavailable
from lexitui.backends.ollama_records import DIGEST_PATTERN
from lexitui.backends.transport import HttpTransport
from lexitui.domain.backends import ModelPullResult

if TYPE_CHECKING:
    from lexitui.backends.ollama import OllamaBackend

CHUNK = 1 << 20


def check_digest(transport: HttpTransport, digest: str) -> str:
    if not DIGEST_PATTERN.fullmatch(digest):
        raise transport.remote_error(f"not a sha256 digest: {digest[:80]!r}")
    return digest


def sha256_file(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            sha.update(block)
    return f"sha256:{sha.hexdigest()}"


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while block := await asyncio.to_thread(handle.read, CHUNK):
            yield block


async def blob_exists(transport: HttpTransport, digest: str) -> bool:
    path = f"/api/blobs/{check_digest(transport, digest)}"
    resp = await transport.request("HEAD", path, allow=(404,))
    return resp.status_code == 200


async def push_blob(transport: HttpTransport, path: Path, timeout: float) -> str:
    if not path.is_file():
        raise transport.remote_error(f"file not found: {path}")
    digest = await asyncio.to_thread(sha256_file, path)
    if not await blob_exists(transport, digest):
        await transport.request(
            "POST", f"/api/blobs/{digest}", content=_chunks(path), timeout=timeout
        )
    return digest


async def create_from_gguf(
    backend: OllamaBackend, model_id: str, gguf: Path, progress: PullProgress | None
) -> ModelPullResult:
    try:
        digest = await backend.push_blob(gguf)
    except (BackendUnavailable, BackendTimeout):
        raise
    except BackendError as exc:
        return ModelPullResult(model_id, success=False, error=exc.detail)
    body = {"model": model_id, "files": {gguf.name: digest}, "stream": True}
    return await backend.run_progress("/api/create", body, model_id, progress)
