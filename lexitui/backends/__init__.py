"""Inference backends (roadmap v0.16.1g-i): one contract over Ollama, llama.cpp (connected or
managed), LM Studio, vLLM, LocalAI, text-generation-webui and any OpenAI-compatible endpoint;
the manager that holds them; and the health monitor that reports their status.

Service layer: never imports Textual. Screens use ``BackendManager`` and its streams.
"""

from lexitui.backends.base import InferenceBackend, ModelInstance
from lexitui.backends.errors import (
    BackendError,
    BackendProtocolError,
    BackendTimeout,
    BackendUnavailable,
    InvalidBackendConfig,
    NotSupported,
    UnknownBackend,
)
from lexitui.backends.health import HealthCheck, HealthMonitor
from lexitui.backends.manager import BackendChoice, BackendManager

__all__ = [
    "BackendChoice",
    "BackendError",
    "BackendManager",
    "BackendProtocolError",
    "BackendTimeout",
    "BackendUnavailable",
    "HealthCheck",
    "HealthMonitor",
    "InferenceBackend",
    "InvalidBackendConfig",
    "ModelInstance",
    "NotSupported",
    "UnknownBackend",
]
