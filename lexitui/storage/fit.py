"""Which installed models cannot load on this machine at all, by the same fit check Discover
uses (``CompatibilityAnalyzer``) run on each file's real header.

A split model's first part holds only some of the tensors, so its header says too little to
judge; such models are left out rather than judged on part of the data.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from lexitui.domain.enums import ModelFormat
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.domain.storage import StoredModel
from lexitui.downloads.space import human_bytes
from lexitui.gguf.errors import GgufError
from lexitui.gguf.local import read_local_header
from lexitui.storage.errors import StorageError
from lexitui.storage.parts import split_index


def incompatible_models(
    models: Sequence[StoredModel], hardware: HardwareCapabilities
) -> dict[str, str]:
    """Model id -> why it cannot load here; blocking (reads headers): run in a thread."""
    from lexitui.discovery.compatibility import CompatibilityAnalyzer
    from lexitui.discovery.model_facts import ModelFacts

    analyzer = CompatibilityAnalyzer(hardware)
    usable = analyzer.ram_capacity + sum(analyzer.gpu_capacity.values())
    out: dict[str, str] = {}
    for model in models:
        path = Path(model.model.path)
        try:
            if model.model.format is not ModelFormat.GGUF or split_index(path.name):
                continue
            facts = ModelFacts.from_gguf_header(read_local_header(os.path.realpath(path)))
        except (GgufError, StorageError, ValueError, OSError):
            continue  # unreadable: verification reports it; no verdict without facts
        plan = analyzer.plan(facts)
        if not plan.fits:
            need = plan.breakdown.required_ram_bytes + plan.breakdown.total_vram_bytes
            out[model.id] = (
                f"needs about {human_bytes(need)} of memory even with a short context, "
                f"{human_bytes(usable)} is usable here"
            )
    return out
