"""Which installed models cannot load on this machine at all, by the same fit check Discover
uses (``CompatibilityAnalyzer``) run on each file's real header.

A split model's first part holds only some of the tensors, so its header says too little to
judge; such models are left out rather than judged on part of the data. A file whose header is
refused (malformed or hostile) cannot load anywhere: it is listed with the parser's reason.
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
from lexitui.gguf.text import safe_text
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
            real = os.path.realpath(path)
            header = read_local_header(real)
        except (StorageError, OSError):
            continue  # unreadable: verification reports it
        except GgufError as exc:
            if isinstance(exc.__cause__, OSError):
                continue  # gone or unreadable, not refused: verification reports it
            # The bytes were refused (malformed or hostile): no llama.cpp can load them.
            reason = str(exc).removeprefix(safe_text(real) + ": ")
            out[model.id] = f"its GGUF header is invalid ({reason})"
            continue
        try:
            facts = ModelFacts.from_gguf_header(header)
        except (StorageError, ValueError, OSError):  # GgufError is a ValueError
            continue  # too little to judge (no block count...): no verdict without facts
        plan = analyzer.plan(facts)
        if not plan.fits:
            need = plan.breakdown.required_ram_bytes + plan.breakdown.total_vram_bytes
            out[model.id] = (
                f"needs about {human_bytes(need)} of memory even with a short context, "
                f"{human_bytes(usable)} is usable here"
            )
    return out
