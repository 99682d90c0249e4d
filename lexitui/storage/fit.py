"""Which installed models cannot load on this machine at all, by the same fit check Discover
uses (``CompatibilityAnalyzer``) run on each file's real header.

A split model's first part holds only some of the tensors, so its header says too little to
judge; such models are left out rather than judged on part of the data. A file whose header is
refused (malformed or hostile) cannot load anywhere: it is listed with the parser's reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from lexitui.domain.enums import ModelFormat
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.domain.models import InstalledModel
from lexitui.domain.storage import StoredModel
from lexitui.domain.units import format_bytes
from lexitui.gguf.errors import GgufError
from lexitui.gguf.local import read_local_header
from lexitui.gguf.records import GgufHeader
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
        if model.model.format is not ModelFormat.GGUF or _part_of_a_set(path):
            continue
        header, refused = read_checked(path)
        if refused is not None:
            out[model.id] = f"its GGUF header is invalid ({refused})"
        if header is None:
            continue
        try:
            facts = ModelFacts.from_gguf_header(header)
        except ValueError:  # GgufError is one: too little to judge (no block count...)
            continue
        plan = analyzer.plan(facts)
        if not plan.fits:
            need = plan.breakdown.required_ram_bytes + plan.breakdown.total_vram_bytes
            out[model.id] = (
                f"needs about {format_bytes(need)} of memory even with a short context, "
                f"{format_bytes(usable)} is usable here"
            )
    return out


def refused_headers(models: Iterable[InstalledModel]) -> dict[str, str]:
    """Model id -> why its GGUF header is refused, for the models whose file is malformed or
    hostile; blocking (reads headers): run in a thread."""
    out: dict[str, str] = {}
    for model in models:
        if model.format is ModelFormat.GGUF:
            _, refused = read_checked(Path(model.path))
            if refused is not None:
                out[model.id] = refused
    return out


def read_checked(path: Path) -> tuple[GgufHeader | None, str | None]:
    """The header of the GGUF at ``path``, or why its bytes are refused (a malformed or hostile
    file no llama.cpp can load); neither when it cannot be read at all (gone, no permission:
    verification reports that)."""
    real = os.path.realpath(path)
    try:
        return read_local_header(real), None
    except GgufError as exc:
        if isinstance(exc.__cause__, OSError):
            return None, None
        return None, str(exc).removeprefix(safe_text(real) + ": ")


def _part_of_a_set(path: Path) -> bool:
    try:
        return split_index(path.name) is not None
    except StorageError:  # impossible part numbers: verification reports them
        return True
