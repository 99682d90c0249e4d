"""Ollama through its native REST API (the roadmap's primary backend).

Loading follows Ollama's documented idiom: a generate request with no prompt loads the model
(honouring ``keep_alive`` and the load ``options``), and ``keep_alive: 0`` unloads it. Errors
come back as ``{"error": "..."}`` (also as a line inside a stream) and become ``BackendError``
with that text. Importing a local GGUF goes through ``/api/blobs`` and ``/api/create`` (see
``ollama_blobs.py``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lexitui.backends.base import InferenceBackend, PullProgress
from lexitui.backends.errors import BackendError, BackendTimeout, BackendUnavailable
from lexitui.backends.ollama_blobs import blob_exists, create_from_gguf, push_blob
from lexitui.backends.ollama_host import ollama_base_url
from lexitui.backends.ollama_instance import OllamaModelInstance
from lexitui.backends.ollama_records import (
    RunningModel,
    load_options,
    model_from_tag,
    running_from_ps,
)
from lexitui.backends.openai_compat import elapsed_ms, health_from_error
from lexitui.backends.transport import (
    DEFAULT_TIMEOUT,
    REQUEST_TIMEOUT,
    STREAM_IDLE_TIMEOUT,
    HttpTransport,
)
from lexitui.backends.wire import ndjson
from lexitui.domain.backends import (
    BackendHealth,
    BackendModel,
    ModelLoadOptions,
    ModelPullProgress,
    ModelPullResult,
)
from lexitui.domain.enums import BackendStatus, InferenceBackendType


class OllamaBackend(InferenceBackend):
    type = InferenceBackendType.OLLAMA
    model_formats = ("gguf", "safetensors")

    def __init__(
        self,
        name: str = "ollama",
        url: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        api_key_env: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        idle_timeout: float = STREAM_IDLE_TIMEOUT,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        super().__init__(name)
        env = os.environ if environ is None else environ
        self._url = (url or ollama_base_url(env.get("OLLAMA_HOST"))).rstrip("/")
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.transport = HttpTransport(
            name, self._url, timeout=timeout, api_key_env=api_key_env, on_outcome=self.push
        )

    @property
    def endpoint(self) -> str:
        return self._url

    async def aclose(self) -> None:
        await self.transport.aclose()

    def _object(self, data: Any, path: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.transport.protocol_error(f"{path} did not answer an object")
        return data

    async def version(self) -> str:
        data = self._object(await self.transport.get_json("/api/version"), "/api/version")
        return str(data.get("version") or "unknown")

    async def check_health(self) -> BackendHealth:
        started = time.perf_counter()
        try:
            version = await self.version()
        except BackendError as exc:
            return health_from_error(exc, elapsed_ms(started))
        return BackendHealth(BackendStatus.RUNNING, elapsed_ms(started), f"version {version}")

    async def running_models(self) -> list[RunningModel]:
        data = self._object(await self.transport.get_json("/api/ps"), "/api/ps")
        return [running_from_ps(m) for m in data.get("models") or [] if isinstance(m, dict)]

    async def list_models(self) -> list[BackendModel]:
        data = self._object(await self.transport.get_json("/api/tags"), "/api/tags")
        loaded = {m.name for m in await self.running_models()}
        return [model_from_tag(m, loaded) for m in data.get("models") or [] if isinstance(m, dict)]

    async def show(self, model_id: str) -> dict[str, Any]:
        """Everything Ollama says about one model (``details``, ``model_info``, template...)."""
        data = await self.transport.post_json("/api/show", {"model": model_id})
        return self._object(data, "/api/show")

    async def load_model(
        self, model_id: str, options: ModelLoadOptions | None = None
    ) -> OllamaModelInstance:
        instance = OllamaModelInstance(self, model_id, options)
        body: dict[str, Any] = {"model": model_id, "stream": False}
        chosen = load_options(instance.load_options)
        if chosen:
            body["options"] = chosen
        if instance.load_options.keep_alive is not None:
            body["keep_alive"] = instance.load_options.keep_alive
        await self.transport.post_json("/api/generate", body, timeout=self.request_timeout)
        return instance

    async def unload(self, model_id: str) -> None:
        body = {"model": model_id, "keep_alive": 0, "stream": False}
        await self.transport.post_json("/api/generate", body, timeout=self.request_timeout)

    async def pull_model(
        self, model_id: str, progress: PullProgress | None = None
    ) -> ModelPullResult:
        body = {"model": model_id, "stream": True}
        return await self.run_progress("/api/pull", body, model_id, progress)

    async def run_progress(
        self, path: str, body: dict[str, Any], model_id: str, progress: PullProgress | None
    ) -> ModelPullResult:
        """Follow a pull/create status stream; Ollama's refusal is a failed result, while an
        unreachable or silent server raises (nothing was attempted, or we cannot know)."""
        last = ""
        try:
            async with self.transport.stream(
                "POST", path, json=body, idle_timeout=self.idle_timeout
            ) as resp:
                async for event in ndjson(resp, self.transport):
                    last = str(event.get("status") or "")
                    if progress is not None:
                        progress(_pull_progress(model_id, event))
        except (BackendUnavailable, BackendTimeout):
            raise
        except BackendError as exc:
            return ModelPullResult(model_id, success=False, error=exc.detail)
        if last != "success":
            return ModelPullResult(model_id, False, f"{path} ended without success ({last!r})")
        return ModelPullResult(model_id, success=True)

    async def delete_model(self, model_id: str) -> None:
        await self.transport.request("DELETE", "/api/delete", json={"model": model_id})

    async def blob_exists(self, digest: str) -> bool:
        return await blob_exists(self.transport, digest)

    async def push_blob(self, path: Path) -> str:
        """Upload a file as a blob unless Ollama has it; returns its ``sha256:`` digest."""
        return await push_blob(self.transport, path, self.request_timeout)

    async def create_model(
        self, model_id: str, gguf: Path, progress: PullProgress | None = None
    ) -> ModelPullResult:
        """Make a local GGUF file an Ollama model named ``model_id``."""
        return await create_from_gguf(self, model_id, gguf, progress)


def _pull_progress(model_id: str, event: dict[str, Any]) -> ModelPullProgress:
    def number(key: str) -> int | None:
        value = event.get(key)
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

    digest = event.get("digest")
    total, completed = number("total"), number("completed")
    if total is not None and completed is None:
        completed = 0  # Ollama leaves out a zero "completed" (Go's omitempty)
    return ModelPullProgress(
        model_id=model_id,
        status=str(event.get("status") or ""),
        digest=digest if isinstance(digest, str) else None,
        completed_bytes=completed,
        total_bytes=total,
    )
