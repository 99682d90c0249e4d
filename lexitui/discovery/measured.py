"""Speeds measured on this machine, refining the Discover area's estimates.

When a model installed here has been profiled (a benchmark, or real requests), the same file seen
in Discover shows the measured decode speed instead of the bandwidth estimate. "The same file" is
the same GGUF file name from the same repository; a file whose origin is unknown (imported by
path, or the starter model) matches by file name alone, since quantized files of one model and
quantization share one name across mirrors.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath, PurePosixPath

from lexitui.domain.discovery import PerformanceEstimate
from lexitui.domain.storage import HF_CACHE_SOURCE

# A measurement on this machine is not a range, but a later run differs by a few percent.
MEASURED_CONFIDENCE = 0.9
_HF_CACHE_FOLDER = re.compile(r"^models--([^/]+?)--(.+)$")

MeasuredLookup = Callable[[str], float | None]  # GGUF file name -> decode tokens/s


@dataclass(frozen=True)
class MeasuredSpeed:
    file_name: str
    repository: str | None  # where the file came from, when known ("org/name")
    tokens_per_second: float
    benchmarked: bool  # from the fixed benchmark rather than the average of real requests


MeasuredSpeeds = Callable[[], Awaitable[Sequence[MeasuredSpeed]]]


def repository_of(source: str, path: str) -> str | None:
    """The repository an installed file came from, from its ``source`` (``hf:org/name`` for
    downloads) or its Hugging Face cache folder (``models--org--name``); None when unknown."""
    kind, _, rest = source.partition(":")
    if kind in ("hf", "url") and rest:
        return rest
    if source == HF_CACHE_SOURCE:
        for part in PurePath(path).parts:
            match = _HF_CACHE_FOLDER.match(part)
            if match:
                return f"{match.group(1)}/{match.group(2)}"
    return None


def speed_lookup(model_id: str, speeds: Sequence[MeasuredSpeed]) -> MeasuredLookup | None:
    """The measured speed of each file of ``model_id``: rows from this very repository win over
    rows of unknown origin, and benchmarks over averages; rows from another repository never
    apply (a file name like ``model-q4_0.gguf`` is shared by unrelated models)."""
    wanted = model_id.casefold()
    best: dict[str, tuple[tuple[bool, bool], float]] = {}
    for speed in speeds:
        if speed.repository is not None and speed.repository.casefold() != wanted:
            continue
        rank = (speed.repository is not None, speed.benchmarked)
        current = best.get(speed.file_name)
        if current is None or rank > current[0]:
            best[speed.file_name] = (rank, speed.tokens_per_second)
    if not best:
        return None
    table = {name: tps for name, (_rank, tps) in best.items()}

    def lookup(file_name: str) -> float | None:
        return table.get(PurePosixPath(file_name).name)

    return lookup


def with_measured_speed(
    estimate: PerformanceEstimate, tokens_per_second: float
) -> PerformanceEstimate:
    """``estimate`` with the measured decode speed in place of the bandwidth model's range.
    Memory and load-time figures stay estimates: the profiler does not measure them."""
    tps = round(tokens_per_second, 1)
    return replace(
        estimate,
        tokens_per_second_min=tps,
        tokens_per_second_max=tps,
        tokens_per_second_expected=tps,
        confidence_level=MEASURED_CONFIDENCE,
        measured=True,
    )
