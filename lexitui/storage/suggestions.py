"""Which models to delete to free space, with the reason for each, best candidates first.

Only deleting a model lexitui owns frees bytes, so only those are suggested (a shared-library
model costs lexitui nothing; a loaded one is in use). Each model gets its strongest reason, and
its other reasons are said after it:

==============================  =====  ==============================================
reason                          score  when
==============================  =====  ==============================================
incompatible with hardware      0.90   the fit check says it cannot load here at all
duplicate quantization          0.85   the same model at the same quantization is
                                       installed again (another copy stays usable)
never used                      0.60+  installed a week or more ago, never loaded
not used recently               0.50+  last loaded more than 30 days ago
better version available        0.40   the same model at a higher-quality quant is
                                       installed (and not known not to fit)
large size                      0.30   5% of the disk or more
==============================  =====  ==============================================

"+": up to 0.2 more the longer it has been; every score adds up to 0.05 for size, so of two
equal reasons the bigger file goes first. With a target, suggestions are taken in order until
they free that much.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lexitui.discovery.quant_names import quality_score
from lexitui.domain.enums import CleanupReason
from lexitui.domain.storage import CleanupSuggestion, StoredModel
from lexitui.domain.units import format_bytes

NEVER_USED_AFTER = timedelta(days=7)
NOT_RECENT_AFTER = timedelta(days=30)
LARGE_FRACTION = 0.05
BASE_SCORE = {
    CleanupReason.INCOMPATIBLE_WITH_HARDWARE: 0.90,
    CleanupReason.DUPLICATE_QUANTIZATION: 0.85,
    CleanupReason.NEVER_USED: 0.60,
    CleanupReason.NOT_USED_RECENTLY: 0.50,
    CleanupReason.BETTER_VERSION_AVAILABLE: 0.40,
    CleanupReason.LARGE_SIZE: 0.30,
}


@dataclass(frozen=True)
class SuggestionContext:
    now: datetime
    freeable: Mapping[str, int]  # bytes that deleting each model frees
    incompatible: Mapping[str, str]  # model id -> why it cannot load on this machine
    loaded: Collection[str] = ()
    disk_total: int = 0


def cleanup_suggestions(
    models: Sequence[StoredModel], ctx: SuggestionContext, target_free_bytes: int = 0
) -> list[CleanupSuggestion]:
    candidates = [
        m
        for m in models
        if not m.shared and ctx.freeable.get(m.id, 0) > 0 and m.id not in ctx.loaded
    ]
    largest = max((ctx.freeable[m.id] for m in candidates), default=1) or 1
    out = []
    for model in candidates:
        reasons = _reasons(model, models, ctx)
        if not reasons:
            continue
        reasons.sort(key=lambda r: -r[1])
        reason, score, text = reasons[0]
        explanation = " ".join([text, *(t for _, _, t in reasons[1:])])
        freeable = ctx.freeable[model.id]
        score += 0.05 * freeable / largest
        out.append(CleanupSuggestion(model, reason, explanation, round(score, 4), freeable))
    out.sort(key=lambda s: (-s.priority_score, -s.freeable_bytes, s.model.id))
    if target_free_bytes <= 0:
        return out
    chosen, total = [], 0
    for suggestion in out:
        if total >= target_free_bytes:
            break
        chosen.append(suggestion)
        total += suggestion.freeable_bytes
    return chosen


def _reasons(
    model: StoredModel, models: Sequence[StoredModel], ctx: SuggestionContext
) -> list[tuple[CleanupReason, float, str]]:
    found: list[tuple[CleanupReason, float, str]] = []

    def add(reason: CleanupReason, text: str, extra: float = 0.0) -> None:
        found.append((reason, BASE_SCORE[reason] + extra, text))

    if model.id in ctx.incompatible:
        add(
            CleanupReason.INCOMPATIBLE_WITH_HARDWARE,
            f"Cannot run here: {ctx.incompatible[model.id]}.",
        )
    twin = _duplicate_of(model, models)
    if twin is not None:
        where = "another tool's copy" if twin.shared else "another copy"
        add(
            CleanupReason.DUPLICATE_QUANTIZATION,
            f"Same model and quantization as {twin.id} ({where}, {twin.model.source}).",
        )
    age = ctx.now - model.model.installed_at
    last = model.last_used_at
    if model.use_count == 0 and last is None and age >= NEVER_USED_AFTER:
        add(
            CleanupReason.NEVER_USED,
            f"Never loaded since it was installed {age.days} days ago.",
            _staleness(age),
        )
    elif last is not None and ctx.now - last >= NOT_RECENT_AFTER:
        idle = ctx.now - last
        add(CleanupReason.NOT_USED_RECENTLY, f"Last loaded {idle.days} days ago.", _staleness(idle))
    better = _better_version(model, models, ctx)
    if better is not None:
        add(
            CleanupReason.BETTER_VERSION_AVAILABLE,
            f"{better.id} is the same model at a higher-quality quantization "
            f"({better.facts.quantization} vs {model.facts.quantization}).",
        )
    if ctx.disk_total and model.size_bytes >= LARGE_FRACTION * ctx.disk_total:
        share = model.size_bytes / ctx.disk_total
        add(
            CleanupReason.LARGE_SIZE,
            f"{format_bytes(model.size_bytes)}, {share:.0%} of this disk.",
        )
    return found


def _staleness(age: timedelta) -> float:
    return min(0.2, 0.2 * age.days / 365)


def _same_model(a: StoredModel, b: StoredModel) -> bool:
    return (
        a.id != b.id and a.facts.base_model is not None and a.facts.base_model == b.facts.base_model
    )


def _duplicate_of(model: StoredModel, models: Sequence[StoredModel]) -> StoredModel | None:
    """The copy to keep when ``model`` is one of several of the same model and quant, unless
    ``model`` is that one: a shared copy first (it costs lexitui nothing), then the most
    recently used, then the most used, then the smallest id."""
    quant = model.facts.quantization
    group = [
        m
        for m in models
        if m.id == model.id or (_same_model(m, model) and m.facts.quantization == quant)
    ]
    if quant is None or len(group) < 2:
        return None
    keeper = min(group, key=_keep_order)
    return None if keeper.id == model.id else keeper


def _keep_order(m: StoredModel) -> tuple[bool, float, int, str]:
    last = m.last_used_at.timestamp() if m.last_used_at else 0.0
    return (not m.shared, -last, -m.use_count, m.id)


def _better_version(
    model: StoredModel, models: Sequence[StoredModel], ctx: SuggestionContext
) -> StoredModel | None:
    mine = _quality(model.facts.quantization)
    if mine is None:
        return None
    better = [
        (q, m)
        for m in models
        if _same_model(m, model)
        and m.id not in ctx.incompatible
        and (q := _quality(m.facts.quantization)) is not None
        and q > mine
    ]
    return max(better, key=lambda pair: (pair[0], pair[1].id))[1] if better else None


def _quality(quant: str | None) -> float | None:
    try:
        return quality_score(quant) if quant else None
    except ValueError:
        return None
