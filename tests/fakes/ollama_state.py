"""What the fake Ollama knows: installed models, loaded models with expiry, blobs on disk.

Route mixins (generation, transfers) inherit this so each module stays small and they all share
one source of truth. Loaded-model expiry is checked lazily on every read, the way a client sees
it through ``/api/ps``: a model whose ``keep_alive`` ran out is simply gone.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path
from typing import Any

from tests.fakes.ollama_engine import Engine
from tests.fakes.ollama_http import Response, error_response, json_response, ndjson_response
from tests.fakes.ollama_models import (
    DIGEST_RE,
    FakeModel,
    default_models,
    default_registry,
    expires_ns,
    go_time,
    normalize_name,
)

NOT_FOUND = "model '{}' not found"


class ProgressError(Exception):
    """A failure inside a progress stream (pull, create) with the status Ollama would use."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FakeState:
    def __init__(self, engine_url: str | None, models: dict[str, FakeModel] | None = None) -> None:
        self.engine = Engine(engine_url)
        chosen = default_models() if models is None else models
        self.models: dict[str, FakeModel] = {}
        for name, model in chosen.items():
            normal = normalize_name(name)
            if normal is None:
                raise ValueError(f"invalid model name: {name!r}")
            self.models[normal] = model
        # What /api/pull can download, keyed by normalized name.
        self.registry: dict[str, FakeModel] = default_registry()
        self.loaded: dict[str, int] = {}  # name -> expires_at in ns since the epoch
        self.version = "0.12.6"
        self.pull_delay_s = 0.0
        self.pull_chunk_bytes = 128 * 1024
        self.pull_corrupt = False  # flip a byte of the next pulled chunk: verification fails
        self.pull_locks: dict[str, asyncio.Lock] = {}  # one download per blob at a time
        self.fail_next: int | None = None
        self.requests: list[tuple[str, str, Any]] = []
        self.blobs_dir = Path(tempfile.mkdtemp(prefix="fake-ollama-blobs-"))

    def cleanup(self) -> None:
        shutil.rmtree(self.blobs_dir, ignore_errors=True)

    # -- models -------------------------------------------------------------------------------

    def find(self, name: Any) -> tuple[str, FakeModel] | None:
        normal = normalize_name(name)
        if normal is None:
            return None
        model = self.models.get(normal)
        return (normal, model) if model is not None else None

    def loaded_now(self) -> dict[str, int]:
        now = time.time_ns()
        for name in [
            n for n, expiry in self.loaded.items() if expiry <= now or n not in self.models
        ]:
            del self.loaded[name]
        return self.loaded

    async def load(self, name: str) -> int:
        """Make ``name`` the loaded model; returns the real ns this took (``load_duration``)."""
        started = time.perf_counter_ns()
        if name not in self.loaded_now():
            await self.engine.health()
            self.loaded[name] = expires_ns(5 * 60 * 1_000_000_000)
        return max(1, time.perf_counter_ns() - started)

    def keep(self, name: str, keep_alive_ns: int) -> None:
        """Apply ``keep_alive`` after a request: 0 unloads, otherwise the timer restarts."""
        if keep_alive_ns == 0:
            self.loaded.pop(name, None)
        else:
            self.loaded[name] = expires_ns(keep_alive_ns)

    # -- blobs --------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path | None:
        """Where a blob lives on disk (``sha256-<hex>`` as Ollama names it); None if malformed."""
        match = DIGEST_RE.match(digest)
        return self.blobs_dir / f"sha256-{match.group(1).lower()}" if match else None


def now_utc() -> str:
    return go_time(time.time_ns(), utc=True)


def not_found(name: Any) -> Response:
    return error_response(404, NOT_FOUND.format(name if isinstance(name, str) else ""))


async def progress_response(events: AsyncGenerator[dict[str, Any], None], stream: bool) -> Response:
    """Ollama's progress framing: NDJSON status lines, or one object when ``stream`` is false.

    An error before the first line becomes a JSON error with its own status; after it, an
    ``{"error": ...}`` line, since the 200 status line has already gone out.
    """
    if not stream:
        last: dict[str, Any] = {}
        try:
            async with aclosing(events):
                async for event in events:
                    last = event
        except ProgressError as exc:
            return error_response(exc.status, exc.message)
        return json_response(200, last)
    try:
        first = await anext(events)
    except ProgressError as exc:
        await events.aclose()
        return error_response(exc.status, exc.message)

    async def lines() -> AsyncGenerator[dict[str, Any], None]:
        async with aclosing(events):
            yield first
            try:
                async for event in events:
                    yield event
            except ProgressError as exc:
                yield {"error": exc.message}

    return ndjson_response(lines())
