"""The edition checks of loading and generating, made before anything starts.

Loaded models are counted over every lexitui process of this user (each engine leaves a state
file in the run folder), so a second ``lexitui run`` cannot pass a one-model limit that the
first one holds. Which generation fields are "basic" is decided here and in docs/editions.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.inference import LocalGenerationRequest
from lexitui.editions.entitlements import Entitlements
from lexitui.editions.tiers import Action
from lexitui.engine.state import live_loaded_models


def check_load(
    entitlements: Entitlements,
    model_id: str,
    options: ModelLoadOptions,
    loaded_here: Iterable[str],
    run_dir: Path | None,
) -> None:
    """Refuse a load this user's edition does not allow; ``loaded_here`` are this process's
    loaded model ids (the one being loaded again does not count twice)."""
    # The higher requirement first, so a refusal names the tier that would allow this load.
    if (options.parallel or 1) > 1:
        entitlements.require(Action.CONCURRENT_REQUESTS)
    entitlements.require(Action.LOAD_MODEL)
    if entitlements.limit("loaded_models") is None:
        return
    others = [s.model_id for s in live_loaded_models(run_dir)] if run_dir is not None else []
    loaded = [m for m in [*loaded_here, *others] if m != model_id]
    shown = ", ".join(loaded)
    entitlements.require_room(
        "loaded_models", len(loaded), usage=f"{len(loaded)} loaded: {shown}; unload it first"
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
