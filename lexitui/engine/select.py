"""Which engine a load runs on.

Named (``--engine``, ``LEXITUI_ENGINE``, ``[runtime] engine``): that one, or a clear error when
it is not there. "auto": the first installed engine that can use one of this machine's GPUs (an
engine lists a GPU only when it was built for it and the GPU is present), else the embedded
engine, else a llama-server. A GPU the chosen engine cannot use is said by
``hardware.unused_gpu`` and planned as CPU, so the plan matches what runs.
"""

from __future__ import annotations

from pathlib import Path

from lexitui.engine.devices import EngineInfo, available_engines
from lexitui.engine.errors import EngineNotFound
from lexitui.engine.kinds import EMBEDDED_KIND, EngineKind, llama_server_kind
from lexitui.engine.settings import (
    AUTO,
    EMBEDDED,
    LLAMA_SERVER,
    EngineSettings,
    check_engine_name,
)


def resolve_engine(
    requested: str | None = None, settings: EngineSettings | None = None
) -> EngineKind:
    """The engine for a load; ``requested`` (a load's own choice) beats the settings."""
    chosen = settings or EngineSettings.load()
    name = check_engine_name(requested, "--engine") if requested else chosen.engine
    if name == EMBEDDED:
        return EMBEDDED_KIND
    if name == LLAMA_SERVER:
        return llama_server_kind(chosen)
    assert name == AUTO
    engines = [e for e in available_engines() if not e.error]
    for info in engines:
        if info.gpu_backends:
            return _kind_of(info)
    if any(e.kind == EMBEDDED for e in engines):
        return EMBEDDED_KIND
    if engines:
        return _kind_of(engines[0])
    raise EngineNotFound(
        "no llama.cpp engine is installed: reinstall lexitui (the embedded engine comes with it) "
        "or build one with `lexitui engine build`"
    )


def _kind_of(info: EngineInfo) -> EngineKind:
    if info.kind == LLAMA_SERVER and info.path:
        return EngineKind(LLAMA_SERVER, Path(info.path))
    return EMBEDDED_KIND
