"""The edition checks of loading and generating, made before anything starts.

Loaded models are counted over every lexitui process of this user (each engine leaves a state
file in the run folder), so a second ``lexitui run`` cannot pass a one-model limit that the
first one holds. Which generation fields are "basic" is decided here and in docs/editions.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.inference import LocalGenerationRequest
from lexitui.editions.entitlements import Entitlements
from lexitui.editions.tiers import Action
from lexitui.engine.state import live_loaded_models
from lexitui.runtime.loaded_engine import LoadedEngine

# Basic loading (WriterPro) is the context size and the GPU layers. ``embedding`` is lexitui's
# own (the engine serves embeddings beside chat), ``keep_alive`` is when an idle model goes
# (Ollama clients send it with every request), ``parallel`` is checked as concurrent requests
# and ``engine`` and ``rpc_servers`` (RPC workers lexitui starts) as the managed engine: none of
# them is a configuration option of the load.
BASIC_LOAD_FIELDS = frozenset(
    {"context_length", "gpu_layers", "embedding", "keep_alive", "parallel", "engine", "rpc_servers"}
)
DEFAULT_ENGINES = (None, "auto")  # loading in the default engine is basic loading
EMBEDDED = "embedded llama.cpp"  # what a model loaded in lexitui's own engine is served by


def configuration_options(options: ModelLoadOptions) -> list[str]:
    """The load options set beyond basic loading (threads, batch size, mmap, mlock, main GPU,
    RoPE frequency base and scale, flash attention, KV cache type): Teams' "all configuration
    options"."""
    return [
        f.name
        for f in fields(options)
        if f.name not in BASIC_LOAD_FIELDS and getattr(options, f.name) != f.default
    ]


def check_load_options(entitlements: Entitlements, options: ModelLoadOptions) -> None:
    """Loading with these options: ``InferenceManager.load`` and the managed engine's start
    (``lexitui backend start``) both ask it."""
    # The higher requirement first, so a refusal names the tier that would allow this load.
    if (options.parallel or 1) > 1:
        entitlements.require(Action.CONCURRENT_REQUESTS)
    if options.engine not in DEFAULT_ENGINES or options.rpc_servers:
        entitlements.require(Action.MANAGED_ENGINE)
    if configuration_options(options):
        entitlements.require(Action.ALL_CONFIGURATION)
    entitlements.require(Action.LOAD_MODEL)


def check_load(
    entitlements: Entitlements,
    model_id: str,
    options: ModelLoadOptions,
    engines: Iterable[LoadedEngine],
    run_dir: Path | None,
    *,
    backend: str = EMBEDDED,
) -> None:
    """Refuse a load this user's edition does not allow; ``engines`` are this process's loaded
    models (the one being loaded again does not count twice), ``backend`` the one asked to
    serve it."""
    engines = list(engines)
    loaded_here = [e.model.id for e in engines]
    check_load_options(entitlements, options)
    check_backends(entitlements, backend, [served_by(e) for e in engines if e.model.id != model_id])
    if entitlements.limit("loaded_models") is None:
        return
    others = [s.model_id for s in live_loaded_models(run_dir)] if run_dir is not None else []
    loaded = [m for m in [*loaded_here, *others] if m != model_id]
    shown = ", ".join(loaded)
    entitlements.require_room(
        "loaded_models", len(loaded), usage=f"{len(loaded)} loaded: {shown}; unload it first"
    )


def served_by(engine: LoadedEngine) -> str:
    """The backend a loaded model counts against: its remote backend, or lexitui's own engine
    (whichever llama.cpp build runs it)."""
    return engine.backend if engine.instance is not None else EMBEDDED


def check_backends(entitlements: Entitlements, backend: str, backends_here: Iterable[str]) -> None:
    """The ``backends`` limit: how many backends serve this user's models at once (WriterPro:
    one, lexitui's own engine or the backend they chose)."""
    used = sorted(set(backends_here))
    if backend in used:
        return
    entitlements.require_room(
        "backends", len(used), usage=f"{len(used)} in use: {', '.join(used)}; unload first"
    )


def uses_all_parameters(request: LocalGenerationRequest) -> bool:
    """Whether a request sets more than basic generation: a system prompt, temperature, top-p,
    max tokens, stop sequences, a seed and the repetition penalty every client sends."""
    advanced = (
        request.top_k,
        request.min_p,
        request.typical_p,
        request.mirostat or None,
        request.format,
        request.grammar,
    )
    penalties = request.frequency_penalty != 0 or request.presence_penalty != 0
    return penalties or any(value is not None for value in advanced)


def check_generation(entitlements: Entitlements, request: LocalGenerationRequest) -> None:
    # The higher requirement first, so a refusal names the tier that would allow this request.
    if uses_all_parameters(request):
        entitlements.require(Action.ALL_PARAMETERS)
    entitlements.require(Action.GENERATE)
