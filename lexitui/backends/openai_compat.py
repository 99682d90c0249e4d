"""Backends that speak the OpenAI-compatible API, one small class per server flavour.

They differ only in their default port, their type, how they name the repetition penalty and
what extra they expose (vLLM's ``/health``, ``/version`` and Prometheus ``/metrics``). A URL may
be given with or without its ``/v1`` suffix: ``http://host:1234`` and ``http://host:1234/v1``
mean the same server. Load options cannot be applied through this API (the server loads models
its own way), so ``load_model`` checks the model is offered and hands out an instance.
"""

from __future__ import annotations

import time
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from lexitui.backends.base import InferenceBackend
from lexitui.backends.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    InvalidBackendConfig,
)
from lexitui.backends.openai_instance import OpenAIModelInstance
from lexitui.backends.transport import (
    DEFAULT_TIMEOUT,
    REQUEST_TIMEOUT,
    STREAM_IDLE_TIMEOUT,
    HttpTransport,
)
from lexitui.backends.vllm_metrics import VllmLoad, parse_vllm_metrics
from lexitui.domain.backends import BackendHealth, BackendModel, ModelLoadOptions
from lexitui.domain.enums import BackendStatus, InferenceBackendType

DEFAULT_HOST = "127.0.0.1"


def health_from_error(exc: BackendError, latency_ms: float | None = None) -> BackendHealth:
    """Nothing listening is STOPPED; anything else that went wrong is ERROR, with its reason.

    Latency is kept only when the server answered (an HTTP error): the time to a refusal or a
    timeout says nothing about the backend.
    """
    if isinstance(exc, BackendUnavailable):
        return BackendHealth(BackendStatus.STOPPED, None, exc.detail)
    answered = not isinstance(exc, BackendTimeout) and exc.status_code is not None
    return BackendHealth(BackendStatus.ERROR, latency_ms if answered else None, exc.detail)


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class OpenAICompatBackend(InferenceBackend):
    type: ClassVar[InferenceBackendType] = InferenceBackendType.CUSTOM
    default_name: ClassVar[str] = "custom"
    default_port: ClassVar[int | None] = None
    repetition_key: ClassVar[str | None] = None
    version_path: ClassVar[str | None] = None  # a JSON {"version": ...} beside /v1, if any

    def __init__(
        self,
        name: str | None = None,
        url: str | None = None,
        *,
        api_key_env: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        idle_timeout: float = STREAM_IDLE_TIMEOUT,
        request_timeout: float = REQUEST_TIMEOUT,
        api_key: str | None = None,
    ) -> None:
        super().__init__(name or self.default_name)
        if url is None:
            if self.default_port is None:
                raise InvalidBackendConfig(f"backend {self.name!r} needs a URL")
            url = f"http://{DEFAULT_HOST}:{self.default_port}"
        self.timeout = timeout
        self.api_key_env = api_key_env
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.api_key = api_key  # sent instead of api_key_env's (the managed engine's secret)
        self._retired: list[HttpTransport] = []
        self.transport = self._transport_for(url)

    def _connect(self, url: str) -> None:
        """Point at ``url``; the managed engine calls it again with each new port."""
        self._retired.append(self.transport)  # closed in aclose(): it may still hold a pool
        self.transport = self._transport_for(url)

    def _transport_for(self, url: str) -> HttpTransport:
        self._url = url.rstrip("/")
        parsed = urlsplit(self._url)
        path = parsed.path.rstrip("/")
        # Native endpoints (/health, /metrics, /props) live beside /v1, not under it.
        self.root_path = path[: -len("/v1")] if path.endswith("/v1") else path
        self.api_prefix = f"{self.root_path}/v1"
        server = urlunsplit((parsed.scheme, parsed.netloc, "", "", ""))
        return HttpTransport(
            self.name,
            server,
            timeout=self.timeout,
            api_key_env=self.api_key_env,
            on_outcome=self._outcome,
            shown_url=self._url,
            api_key=self.api_key,
        )

    def _outcome(self, status: BackendStatus, message: str, latency: float | None) -> None:
        self.push(status, message, latency)

    @property
    def endpoint(self) -> str:
        return self._url

    async def aclose(self) -> None:
        for transport in [*self._retired, self.transport]:
            await transport.aclose()
        self._retired.clear()

    async def check_health(self) -> BackendHealth:
        started = time.perf_counter()
        try:
            data = await self.transport.get_json(f"{self.api_prefix}/models")
        except BackendError as exc:
            return health_from_error(exc, elapsed_ms(started))
        count = len(_rows(data))
        return BackendHealth(BackendStatus.RUNNING, elapsed_ms(started), f"{count} model(s)")

    async def version(self) -> str:
        """The server's version; "unknown" for servers that do not publish one."""
        if self.version_path is None:
            await self.transport.request("GET", f"{self.api_prefix}/models")
            return "unknown"
        path = f"{self.root_path}{self.version_path}"
        resp = await self.transport.request("GET", path, allow=(404,))
        data = self.transport.parse(resp) if resp.status_code == 200 else {}
        return str(data.get("version") or "unknown") if isinstance(data, dict) else "unknown"

    async def list_models(self) -> list[BackendModel]:
        data = await self.transport.get_json(f"{self.api_prefix}/models")
        return [model_of(row) for row in _rows(data) if isinstance(row.get("id"), str)]

    async def load_model(
        self, model_id: str, options: ModelLoadOptions | None = None
    ) -> OpenAIModelInstance:
        models = await self.list_models()
        ids = {m.id for m in models} | {m.name for m in models}
        if models and model_id not in ids:
            offered = ", ".join(m.name for m in models[:5])
            raise BackendError(
                self.name, self.endpoint, f"model {model_id!r} is not offered (offered: {offered})"
            )
        match = next((m.id for m in models if model_id in (m.id, m.name)), model_id)
        return OpenAIModelInstance(self, match, options)


def _rows(data: Any) -> list[dict[str, Any]]:
    rows = data.get("data") if isinstance(data, dict) else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _params(count: Any) -> str | None:
    if not isinstance(count, (int, float)) or count <= 0:
        return None
    for unit, size in (("B", 1e9), ("M", 1e6)):
        if count >= size:
            return f"{count / size:.3g}{unit}"
    return str(int(count))


def model_of(row: dict[str, Any]) -> BackendModel:
    """A ``/v1/models`` row; llama.cpp adds a ``meta`` block with size and parameters."""
    model_id = str(row["id"])
    meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
    assert isinstance(meta, dict)
    size = meta.get("size")
    ctx = meta.get("n_ctx_train")
    return BackendModel(
        id=model_id,
        # llama.cpp names a model by its file path; the file name is what a person recognises.
        name=PurePosixPath(model_id).name if "/" in model_id else model_id,
        size_bytes=int(size) if isinstance(size, (int, float)) else None,
        quantization=str(meta["ftype"]) if meta.get("ftype") else None,
        parameter_size=_params(meta.get("n_params")),
        context_length=int(ctx) if isinstance(ctx, int) else None,
    )


class LMStudioBackend(OpenAICompatBackend):
    type = InferenceBackendType.LM_STUDIO
    default_name = "lm-studio"
    default_port = 1234
    repetition_key = "repeat_penalty"
    model_formats = ("gguf", "mlx")


class LocalAIBackend(OpenAICompatBackend):
    type = InferenceBackendType.LOCAL_AI
    default_name = "localai"
    default_port = 8080
    repetition_key = "repeat_penalty"
    model_formats = ("gguf", "safetensors")
    version_path = "/version"


class TextGenWebUIBackend(OpenAICompatBackend):
    type = InferenceBackendType.TEXT_GEN_WEB_UI
    default_name = "text-generation-webui"
    default_port = 5000
    repetition_key = "repetition_penalty"
    model_formats = ("gguf", "safetensors", "gptq", "awq")


class CustomBackend(OpenAICompatBackend):
    type = InferenceBackendType.CUSTOM
    default_name = "custom"


class VllmBackend(OpenAICompatBackend):
    type = InferenceBackendType.VLLM
    default_name = "vllm"
    default_port = 8000
    repetition_key = "repetition_penalty"
    model_formats = ("safetensors", "gptq", "awq", "gguf")
    version_path = "/version"

    async def check_health(self) -> BackendHealth:
        started = time.perf_counter()
        try:
            await self.transport.request("GET", f"{self.root_path}/health")
            latency = elapsed_ms(started)
            load = await self.load()
        except BackendError as exc:
            return health_from_error(exc, elapsed_ms(started))
        return BackendHealth(
            BackendStatus.RUNNING,
            latency,
            load.summary(),
            running_requests=load.running,
            waiting_requests=load.waiting,
            kv_cache_usage=load.kv_cache_usage,
        )

    async def load(self) -> VllmLoad:
        """Requests running and waiting and KV-cache use, from ``/metrics`` (empty when absent)."""
        resp = await self.transport.request("GET", f"{self.root_path}/metrics", allow=(404, 501))
        if resp.status_code != 200:
            return VllmLoad()
        return parse_vllm_metrics(resp.text)
