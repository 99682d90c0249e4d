"""Bulk fit: many models analysed at once, one row each, a failure being a row like any other.

A list of targets (Hub repos, ``REPO/FILE.gguf``, local files, installed ids) is analysed a few
at a time, so a long list neither waits on one slow registry answer nor opens dozens of
connections at once. Whatever goes wrong with one target (an unknown repo, a refused header, the
network) becomes that target's row with the reason; the table is never cut short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lexitui.discovery.compatibility_text import level_word
from lexitui.discovery.fit_rules import check_fit
from lexitui.domain.discovery import ModelCompatibility, VariantCompatibility
from lexitui.domain.enums import CompatibilityLevel
from lexitui.editions.entitlements import OPEN, Entitlements

DEFAULT_CONCURRENCY = 4
VERDICT_ERROR = "error"
VERDICT_NONE_FITS = "none fits"


@dataclass(frozen=True)
class FitRow:
    """One target's verdict: its best variant that fits, or why there is none."""

    model: str
    variant: str | None = None
    level: CompatibilityLevel | None = None
    verdict: str = VERDICT_ERROR
    ram_bytes: int | None = None
    vram_bytes: int | None = None
    gpu_layers: int | None = None
    tokens_per_second: float | None = None
    context_length: int | None = None
    reason: str | None = None

    @property
    def analysed(self) -> bool:
        return self.verdict != VERDICT_ERROR

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "variant": self.variant,
            "level": self.level.value if self.level else None,
            "verdict": self.verdict,
            "ram_bytes": self.ram_bytes,
            "vram_bytes": self.vram_bytes,
            "gpu_layers": self.gpu_layers,
            "tokens_per_second": self.tokens_per_second,
            "context_length": self.context_length,
            "reason": self.reason,
        }


def error_row(model: str, exc: BaseException) -> FitRow:
    text = " ".join(str(exc).split()) or type(exc).__name__  # one line, whatever the error held
    return FitRow(model=model, reason=text)


def row_from_fit(model: str, fit: VariantCompatibility) -> FitRow:
    """The row of one file's verdict (a local file, an installed model, ``REPO/FILE.gguf``)."""
    if fit.level is None:
        return FitRow(model, fit.variant.filename, reason=fit.reason or "no verdict")
    if fit.level is CompatibilityLevel.INCOMPATIBLE:
        return FitRow(
            model,
            fit.variant.filename,
            fit.level,
            VERDICT_NONE_FITS,
            reason=fit.reason,
        )
    breakdown = fit.breakdown
    perf = fit.performance
    return FitRow(
        model=model,
        variant=fit.variant.filename,
        level=fit.level,
        verdict=level_word(fit.level),
        ram_bytes=breakdown.total_ram_bytes if breakdown else None,
        vram_bytes=breakdown.total_vram_bytes if breakdown else None,
        gpu_layers=fit.recommended_gpu_layers,
        tokens_per_second=perf.tokens_per_second_expected if perf else None,
        context_length=fit.recommended_context_length,
        reason=fit.reason,
    )


def row_from_model(model: str, compatibility: ModelCompatibility | None) -> FitRow:
    """The row of a repo: the variant the analyzer recommends, when one fits."""
    if compatibility is None:
        return FitRow(model, reason="no variant to analyse")
    best = compatibility.recommended_variant
    fits = [f for f in compatibility.variant_compatibilities if f.variant == best]
    if best is None or not fits or fits[0].level in (None, CompatibilityLevel.INCOMPATIBLE):
        why = compatibility.summary or "no variant fits this machine"
        level = compatibility.overall_level
        return FitRow(model, level=level, verdict=VERDICT_NONE_FITS, reason=why)
    row = row_from_fit(model, fits[0])
    label = best.quantization_label or best.filename
    return replace(row, variant=label)


async def analyse_all(
    targets: Sequence[str],
    analyse_one: Callable[[str], Awaitable[FitRow]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_row: Callable[[int, FitRow], None] | None = None,
    entitlements: Entitlements = OPEN,
    listed: bool = False,
) -> list[FitRow]:
    """Every target's row, in the order given, at most ``concurrency`` analysed at once;
    ``on_row(index, row)`` hears of each as soon as it is done (a screen's progress). More
    than one target, or ``listed`` ones (from a list or a search), is bulk analysis."""
    check_fit(entitlements, len(targets), listed=listed)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(index: int, target: str) -> FitRow:
        async with gate:
            try:
                row = await analyse_one(target)
            # Any failure of one target is that target's row: the others are still worth having.
            except Exception as exc:
                row = error_row(target, exc)
        if on_row is not None:
            on_row(index, row)
        return row

    return list(await asyncio.gather(*(one(i, t) for i, t in enumerate(targets))))


def read_target_list(lines: Iterable[str]) -> list[str]:
    """One target a line; blank lines and ``#`` comments (whole or trailing) are skipped."""
    targets = []
    for line in lines:
        target = line.split("#", 1)[0].strip()
        if target:
            targets.append(target)
    return targets


def is_repo_id(target: str) -> bool:
    """``owner/name``: a whole repo, whose variants are all analysed."""
    parts = target.split("/")
    return len(parts) == 2 and all(parts) and not target.lower().endswith(".gguf")
