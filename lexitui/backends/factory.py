"""Which class serves which backend type, and the built-in set lexitui looks for.

Built-ins sit at each server's documented default port on 127.0.0.1 (Ollama honours
``OLLAMA_HOST``) unless the config moves them (``"lm-studio.url" = ...``); a custom entry may
use any type, so a second Ollama or a remote vLLM is just
``lexitui backend add gpu-box http://10.0.0.5:8000 --type vllm``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from lexitui.backends.base import InferenceBackend
from lexitui.backends.llamacpp import LlamaCppBackend
from lexitui.backends.managed import ManagedLlamaCpp, ModelCatalog, ModelResolver
from lexitui.backends.ollama import OllamaBackend
from lexitui.backends.openai_compat import (
    CustomBackend,
    LMStudioBackend,
    LocalAIBackend,
    OpenAICompatBackend,
    TextGenWebUIBackend,
    VllmBackend,
)
from lexitui.backends.settings import CustomBackendSpec
from lexitui.domain.enums import InferenceBackendType

T = InferenceBackendType
OPENAI_FLAVOURS: dict[InferenceBackendType, type[OpenAICompatBackend]] = {
    T.LM_STUDIO: LMStudioBackend,
    T.VLLM: VllmBackend,
    T.LOCAL_AI: LocalAIBackend,
    T.TEXT_GEN_WEB_UI: TextGenWebUIBackend,
    T.LLAMA_CPP: LlamaCppBackend,
    T.CUSTOM: CustomBackend,
}
MANAGED_NAME = "llamacpp"
BUILTIN_NAMES = frozenset(
    {"ollama", MANAGED_NAME, *(cls.default_name for cls in OPENAI_FLAVOURS.values())}
)


# The built-ins found at an address of their own, which the config may move.
OPENAI_BUILTINS: tuple[type[OpenAICompatBackend], ...] = (
    LMStudioBackend,
    VllmBackend,
    LocalAIBackend,
    TextGenWebUIBackend,
)
MOVABLE_NAMES = frozenset({"ollama", *(cls.default_name for cls in OPENAI_BUILTINS)})


def make_backend(spec: CustomBackendSpec, timeout: float) -> InferenceBackend:
    if spec.type is T.OLLAMA:
        return OllamaBackend(spec.name, spec.url, api_key_env=spec.api_key_env, timeout=timeout)
    return OPENAI_FLAVOURS[spec.type](
        spec.name, spec.url, api_key_env=spec.api_key_env, timeout=timeout
    )


def builtin_backends(
    *,
    logs_dir: Path,
    state_dir: Path | None,
    environ: Mapping[str, str] | None,
    resolve_model: ModelResolver | None,
    catalog: ModelCatalog | None,
    timeout: float,
    urls: Mapping[str, str] | None = None,
) -> list[InferenceBackend]:
    """System Ollama first (the roadmap's order), then the embedded engine, then the rest.

    ``urls`` moves a built-in (by name) away from its default address."""
    moved = urls or {}
    return [
        OllamaBackend(url=moved.get("ollama"), environ=environ, timeout=timeout),
        ManagedLlamaCpp(
            logs_dir,
            name=MANAGED_NAME,
            resolve_model=resolve_model,
            catalog=catalog,
            state_dir=state_dir,
            timeout=timeout,
        ),
        *(cls(url=moved.get(cls.default_name), timeout=timeout) for cls in OPENAI_BUILTINS),
    ]
