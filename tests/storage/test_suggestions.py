"""Cleanup suggestions: which models to delete first, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from lexitui.domain.enums import CleanupReason, ModelFormat
from lexitui.domain.models import InstalledModel
from lexitui.domain.storage import HeaderFacts, StoredModel
from lexitui.services import Services
from lexitui.storage.library_roots import LibraryRoots
from lexitui.storage.suggestions import SuggestionContext, cleanup_suggestions
from tests.storage.conftest import Clock, build_manager
from tests.storage.layouts import add_to_hf_cache
from tests.ui.hardware_machine import Machine, build_services

NOW = datetime(2026, 3, 1, tzinfo=UTC)
GB = 1_000_000_000


def model(
    model_id: str,
    *,
    size: int = GB,
    base: str | None = None,
    quant: str | None = "Q4_K_M",
    installed_days: int = 60,
    last_used_days: int | None = 1,
    shared: bool = False,
) -> StoredModel:
    last = None if last_used_days is None else NOW - timedelta(days=last_used_days)
    return StoredModel(
        model=InstalledModel(
            id=model_id,
            name=model_id,
            path=f"/m/{model_id}.gguf",
            format=ModelFormat.GGUF,
            size_bytes=size,
            source="hf-cache" if shared else "import",
            registered_by_path=shared,
            installed_at=NOW - timedelta(days=installed_days),
            last_used_at=last,
        ),
        facts=HeaderFacts(quantization=quant, base_model=base or model_id),
        use_count=0 if last is None else 3,
        facts_current=True,
    )


def context(models: list[StoredModel], **kw: object) -> SuggestionContext:
    freeable = {m.id: 0 if m.shared else m.size_bytes for m in models}
    kw.setdefault("incompatible", {})
    return SuggestionContext(now=NOW, freeable=freeable, **kw)  # type: ignore[arg-type]


def test_reasons_rank_from_unrunnable_to_merely_large() -> None:
    models = [
        model("fresh", installed_days=2, last_used_days=None),  # too new to call unused
        model("huge", size=80 * GB),
        model("stale", last_used_days=90),
        model("never", last_used_days=None),
        model("dup-mine", base="llama", quant="Q8_0"),
        model("dup-shared", base="llama", quant="Q8_0", shared=True),
        model("toobig", size=2 * GB),
        model("llama-q4", base="llama", quant="Q4_K_M"),
    ]
    ctx = context(models, incompatible={"toobig": "needs 90 GB"}, disk_total=1000 * GB)

    found = cleanup_suggestions(models, ctx)

    order = [(s.model.id, s.reason) for s in found]
    assert order == [
        ("toobig", CleanupReason.INCOMPATIBLE_WITH_HARDWARE),
        ("dup-mine", CleanupReason.DUPLICATE_QUANTIZATION),
        ("never", CleanupReason.NEVER_USED),
        ("stale", CleanupReason.NOT_USED_RECENTLY),
        ("llama-q4", CleanupReason.BETTER_VERSION_AVAILABLE),
        ("huge", CleanupReason.LARGE_SIZE),
    ]
    by_id = {s.model.id: s for s in found}
    assert "dup-shared" in by_id["dup-mine"].explanation
    assert "another tool's copy" in by_id["dup-mine"].explanation
    assert "60 days ago" in by_id["never"].explanation
    assert "Q8_0 vs Q4_K_M" in by_id["llama-q4"].explanation
    assert "8% of this disk" in by_id["huge"].explanation


def test_a_target_takes_suggestions_in_order_until_it_is_met() -> None:
    models = [
        model("a", size=3 * GB, last_used_days=None),
        model("b", size=5 * GB, last_used_days=None),
        model("c", size=1 * GB, last_used_days=200),
    ]
    ctx = context(models)

    assert [s.model.id for s in cleanup_suggestions(models, ctx, 4 * GB)] == ["b"]
    assert [s.model.id for s in cleanup_suggestions(models, ctx, 6 * GB)] == ["b", "a"]
    assert len(cleanup_suggestions(models, ctx, 100 * GB)) == 3  # all there is


def test_shared_loaded_and_freeing_nothing_are_never_suggested() -> None:
    models = [
        model("shared", last_used_days=None, shared=True),
        model("loaded", last_used_days=None),
        model("hardlinked", last_used_days=None),
    ]
    freeable = {**context(models).freeable, "hardlinked": 0}  # the user's file shares its bytes
    ctx = SuggestionContext(now=NOW, freeable=freeable, incompatible={}, loaded={"loaded"})

    assert cleanup_suggestions(models, ctx) == []


async def test_a_model_too_big_for_this_machine_is_flagged(
    services: Services, roots: LibraryRoots, clock: Clock, tmp_path: Path, tiny: Path
) -> None:
    # A machine with 1 GiB of RAM: llama.cpp's own 1 GiB margin leaves nothing for any model.
    small = build_services(
        services.paths, tmp_path / "root", "nvml_0_gpus.json",
        machine=Machine(ram_total_gib=1, ram_available_gib=1),
    )  # fmt: skip
    manager = build_manager(services, roots, clock, hardware=small.hardware.detect)
    await manager.start()
    try:
        add_to_hf_cache(tmp_path / "hf", "acme/t-GGUF", "t.Q8_0.gguf", tiny)
        await manager.sync_library()
        mine = await manager.import_model(tiny)

        (only,) = await manager.cleanup_suggestions()
    finally:
        await manager.stop()
        small.hardware.close()

    assert only.model.id == mine.id  # the shared copy and the starter are not lexitui's to free
    assert only.reason is CleanupReason.INCOMPATIBLE_WITH_HARDWARE
    assert "is usable here" in only.explanation
    assert "Same model and quantization as hf:acme.t-gguf:q8_0" in only.explanation
    assert only.freeable_bytes == tiny.stat().st_size
