"""llama.cpp's own HTTP server (``llama-server``), reached at a URL the user gives.

Generation and embeddings go through its OpenAI-compatible ``/v1`` routes (shared code); what
only llama.cpp has comes from its native routes: ``/health`` (503 while the model loads),
``/props`` (context size, model path, slot count, build), ``/slots`` (which slots are busy) and
``/tokenize``. The embedded engine lexitui starts itself is the subclass in ``managed.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from lexitui.backends.errors import BackendError
from lexitui.backends.openai_compat import OpenAICompatBackend, elapsed_ms, health_from_error
from lexitui.backends.wire import error_text
from lexitui.domain.backends import BackendHealth, BackendInfo
from lexitui.domain.enums import BackendStatus, InferenceBackendType
from lexitui.hardware.backend_support import ACCELERATION


@dataclass(frozen=True)
class LlamaCppProps:
    context_length: int | None
    model_path: str | None
    total_slots: int | None
    build: str | None


@dataclass(frozen=True)
class SlotState:
    id: int
    context_length: int | None
    is_processing: bool


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) else None


class LlamaCppBackend(OpenAICompatBackend):
    type = InferenceBackendType.LLAMA_CPP
    default_name = "llamacpp-server"
    default_port = 8080  # llama-server's own default
    repetition_key = "repeat_penalty"
    model_formats = ("gguf",)

    async def check_health(self) -> BackendHealth:
        started = time.perf_counter()
        try:
            resp = await self.transport.request("GET", f"{self.root_path}/health", allow=(404, 503))
        except BackendError as exc:
            return health_from_error(exc, elapsed_ms(started))
        latency = elapsed_ms(started)
        if resp.status_code == 503:
            return BackendHealth(BackendStatus.STARTING, latency, error_text(resp.text))
        if resp.status_code == 404:
            # Something else holds the port: say so rather than "HTTP 404".
            return BackendHealth(
                BackendStatus.ERROR, latency, "no /health here: is this a llama.cpp server?"
            )
        busy = await self._busy_slots()
        message = "" if busy is None else f"{busy} slot(s) busy"
        return BackendHealth(BackendStatus.RUNNING, latency, message, running_requests=busy)

    async def _busy_slots(self) -> int | None:
        try:
            return sum(1 for s in await self.slots() if s.is_processing)
        except BackendError:
            return None  # /slots can be disabled (--no-slots); health does not depend on it

    async def props(self) -> LlamaCppProps:
        data = await self.transport.get_json(f"{self.root_path}/props")
        if not isinstance(data, dict):
            raise self.transport.protocol_error("/props did not answer an object")
        settings = data.get("default_generation_settings")
        ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        return LlamaCppProps(
            context_length=_int(ctx),
            model_path=str(data["model_path"]) if data.get("model_path") else None,
            total_slots=_int(data.get("total_slots")),
            build=str(data["build_info"]) if data.get("build_info") else None,
        )

    async def slots(self) -> list[SlotState]:
        data = await self.transport.get_json(f"{self.root_path}/slots")
        if not isinstance(data, list):
            raise self.transport.protocol_error("/slots did not answer a list")
        return [
            SlotState(
                id=int(s.get("id", i)),
                context_length=_int(s.get("n_ctx")),
                is_processing=bool(s.get("is_processing")),
            )
            for i, s in enumerate(data)
            if isinstance(s, dict)
        ]

    async def tokenize(self, text: str) -> list[int]:
        data = await self.transport.post_json(f"{self.root_path}/tokenize", {"content": text})
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list):
            raise self.transport.protocol_error("/tokenize answer has no 'tokens' list")
        return [int(t) for t in tokens if isinstance(t, int)]

    async def version(self) -> str:
        return (await self.props()).build or "unknown"

    async def get_info(self) -> BackendInfo:
        props = await self.props()
        return BackendInfo(
            type=self.type,
            name=self.name,
            version=props.build or "unknown",
            endpoint=self.endpoint,
            gpu_backends=tuple(sorted(ACCELERATION[self.type])),
            model_formats=self.model_formats,
            supports_streaming=True,
            supports_embeddings=self.serves_embeddings(),
            max_concurrency=props.total_slots,
        )

    def serves_embeddings(self) -> bool:
        """Unknown for a server we did not start (it needs --embeddings): assume it may."""
        return True
