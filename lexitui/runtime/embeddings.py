"""Embeddings from a llama.cpp engine started with ``embedding`` on (mean pooling).

``/v1/embeddings`` always returns unit vectors; when a caller wants them as the model produced
them, the native ``/embedding`` endpoint with ``embd_normalize: -1`` skips the normalisation.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from lexitui.domain.inference import LocalEmbeddingRequest, LocalEmbeddingResult
from lexitui.runtime.errors import GenerationError
from lexitui.runtime.generation import error_text

if TYPE_CHECKING:
    import httpx


async def embed(
    client: httpx.AsyncClient, model: str, request: LocalEmbeddingRequest
) -> LocalEmbeddingResult:
    if not request.texts or any(not t.strip() for t in request.texts):
        raise GenerationError("give at least one text to embed, and no empty ones")
    if request.normalize:
        body = await _post(client, "/v1/embeddings", {"model": model, "input": list(request.texts)})
        rows = sorted(body.get("data", []), key=lambda d: int(d.get("index", 0)))
        vectors = [unit([float(x) for x in row["embedding"]]) for row in rows]
        tokens = int((body.get("usage") or {}).get("total_tokens", 0))
    else:
        raw = await _post(
            client, "/embedding", {"content": list(request.texts), "embd_normalize": -1}
        )
        items = sorted(raw if isinstance(raw, list) else [raw], key=lambda d: int(d["index"]))
        vectors = [_pooled(item["embedding"]) for item in items]
        tokens = 0
    if len(vectors) != len(request.texts):
        raise GenerationError(f"asked for {len(request.texts)} embeddings, got {len(vectors)}")
    return LocalEmbeddingResult(vectors, len(vectors[0]) if vectors else 0, tokens)


def _pooled(embedding: Any) -> list[float]:
    # The native endpoint nests one pooled vector in a list.
    if embedding and isinstance(embedding[0], list):
        embedding = embedding[0]
    return [float(x) for x in embedding]


def unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else vector


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
    import httpx

    try:
        resp = await client.post(path, json=body, timeout=120.0)
    except httpx.TransportError as exc:
        raise GenerationError(f"could not reach the engine: {exc!r}") from exc
    if resp.status_code != 200:
        raise GenerationError(error_text(resp.status_code, resp.text))
    return resp.json()
