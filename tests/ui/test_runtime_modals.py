"""The Runtime area's dialogs: load (options, checks, live fit), eviction, snapshots, embeddings.

Each dialog is pushed over a blank screen (pictures independent of the area screens) of the real
app, whose services run on a temporary home with recorded hardware (no GPU, 256 GiB RAM), so the
fit verdict is the same on every machine. Everything is driven with the keyboard only.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from textual._doc import take_svg_screenshot
from textual.pilot import Pilot
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Static

from lexitui.config import Paths
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.inference import ContextSnapshot
from lexitui.domain.units import format_bytes
from lexitui.runtime.manager import DEFAULT_LOAD
from lexitui.storage.starter import STARTER_ID
from lexitui.store.snapshots import SnapshotRows
from lexitui.ui.app import LexituiApp
from lexitui.ui.runtime.embed import EmbeddingsTester, cosine, norm
from lexitui.ui.runtime.evict_dialog import ConfirmEvictDialog
from lexitui.ui.runtime.load_dialog import LoadChoice, LoadModelDialog
from lexitui.ui.runtime.snapshots import SnapshotPicker
from lexitui.ui.widgets.confirm_dialog import ConfirmDialog
from tests.ui.hardware_machine import build_services
from tests.waiting import until as until_shown

NO_GPU = "nvml_0_gpus.json"
MODELS = [(STARTER_ID, "SmolLM2 135M Instruct")]
# Typed into the load form; each shown value reads back as the same number.
TYPED: dict[str, Any] = {"context_length": 2048, "gpu_layers": 0, "threads": 2, "batch_size": 256}
TYPED |= {"main_gpu": 1, "rope_freq_base": 10000.5, "rope_freq_scale": 0.25}


async def until(check: Callable[[], bool], seconds: float = 30) -> None:
    """Generous: the estimate reads a file and detects hardware, slow on a busy machine."""
    await until_shown(check, seconds)


class ModalHost(LexituiApp):
    """The real app and services, opening on a blank screen instead of the dashboard."""

    MODES = LexituiApp.MODES | {"blank": Screen}
    DEFAULT_MODE = "blank"


@pytest.fixture
def app(paths: Paths, tmp_path: Path) -> LexituiApp:
    return ModalHost(build_services(paths, tmp_path / "root", NO_GPU))


async def open_modal(pilot: Pilot[None], dialog: ModalScreen[Any], results: list[Any]) -> None:
    """Show ``dialog`` over a blank screen once the services run; its answer goes to results."""
    app = pilot.app
    assert isinstance(app, LexituiApp)
    await app.services_ready.wait()
    await app.push_screen(dialog, callback=results.append)
    await pilot.pause()


def text(screen: Screen[Any], selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def fit(dialog: LoadModelDialog) -> str:
    return text(dialog, "#load-fit")


async def type_into(pilot: Pilot[None], dialog: Screen[Any], selector: str, keys: str) -> None:
    """Focus the field and type over its value, key by key, as a user would."""
    field = dialog.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    field.value = ""
    await pilot.press(*keys)


async def test_untouched_form_returns_the_default_load(app: LexituiApp) -> None:
    results: list[Any] = []
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = LoadModelDialog(MODELS, STARTER_ID)
        await open_modal(pilot, dialog, results)
        await pilot.press("enter")  # focus starts in the context field: Enter loads
        await until(lambda: bool(results))
    # Equal to the manager's default, so a model already loaded that way is reused, not reloaded.
    assert results == [LoadChoice(STARTER_ID, DEFAULT_LOAD, evict=False)]


async def test_a_valid_form_returns_its_options(app: LexituiApp) -> None:
    results: list[Any] = []
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = LoadModelDialog(MODELS, STARTER_ID)
        await open_modal(pilot, dialog, results)
        for key, value in TYPED.items():
            await type_into(pilot, dialog, f"#load-{key}", str(value))
        dialog.query_one("#load-mmap").focus()
        await pilot.press("enter", "down", "down", "enter")  # default -> on -> off
        dialog.query_one("#load-mlock").focus()
        await pilot.press("enter", "down", "enter")  # off -> on
        await pilot.press("ctrl+s")
        await until(lambda: bool(results))
    expected = ModelLoadOptions(**TYPED, use_mmap=False, use_mlock=True, embedding=True)
    assert results == [LoadChoice(STARTER_ID, expected)]


async def test_loading_right_after_an_edit_leaves_no_estimate_behind(app: LexituiApp) -> None:
    """Ctrl+S within the estimate's debounce: the estimate must not touch the closed dialog
    (an exception in it would end ``run_test`` with an error)."""
    results: list[Any] = []
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = LoadModelDialog(MODELS, STARTER_ID)
        await open_modal(pilot, dialog, results)
        await type_into(pilot, dialog, "#load-context_length", "2048")
        await pilot.press("ctrl+s")
        await until(lambda: bool(results))
        await pilot.pause(1.0)  # past the debounce and an estimate's run
        assert not dialog.is_attached
    assert results[0].options.context_length == 2048


@pytest.mark.parametrize(
    ("key", "keys", "message", "fixed"),
    [
        ("context_length", "100", "context must be a whole number ≥ 256", "1024"),
        ("context_length", "99999999", "Context must be at most 16777216", "8192"),
        ("gpu_layers", "-2", "GPU layers must be -1, 0 or a count", "-1"),
        ("threads", "0", "threads must be a whole number ≥ 1", "1"),
        ("batch_size", "-", "batch size must be a whole number ≥ 1", "512"),
        ("main_gpu", "-1", "main GPU must be a GPU index ≥ 0", "0"),
        ("rope_freq_base", "0", "RoPE base must be a number > 0", "10000"),
        ("rope_freq_scale", "1e", "RoPE scale must be a number > 0", "1e-1"),
    ],
)
async def test_a_bad_value_is_named_beside_its_field_and_blocks_the_load(
    app: LexituiApp, key: str, keys: str, message: str, fixed: str
) -> None:
    results: list[Any] = []
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = LoadModelDialog(MODELS, STARTER_ID)
        await open_modal(pilot, dialog, results)
        await type_into(pilot, dialog, f"#load-{key}", keys)
        note = dialog.query_one(f"#load-note-{key}", Static)
        await until(lambda: message in str(note.render()))
        assert note.has_class("error")
        assert "Fix the fields marked in red" in fit(dialog)
        dialog.query_one("#load-model").focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog and results == []
        assert app.focused is dialog.query_one(f"#load-{key}"), "focus goes to the bad field"
        # Fixing it clears the message and brings the estimate back.
        await type_into(pilot, dialog, f"#load-{key}", fixed)
        await until(lambda: not note.has_class("error"))
        await until(lambda: "Fits this machine now" in fit(dialog))


async def test_the_fit_verdict_for_the_starter_follows_the_options(app: LexituiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = LoadModelDialog(MODELS, STARTER_ID)
        await open_modal(pilot, dialog, [])
        await until(lambda: "Fits this machine now" in fit(dialog))
        shown = fit(dialog)
        footprint = await app.services.runtime.estimate(STARTER_ID, DEFAULT_LOAD)
        assert f"Layers: 0 on GPU, {footprint.n_layers} on CPU (of {footprint.n_layers})" in shown
        assert f"RAM {format_bytes(footprint.ram_bytes)} · VRAM none" in shown
        # A bigger context needs more RAM: the verdict follows once typing pauses.
        calls: list[ModelLoadOptions | None] = []
        estimate = app.services.runtime.estimate

        async def counted(model_id: str, options: ModelLoadOptions | None = None) -> Any:
            calls.append(options)
            return await estimate(model_id, options)

        app.services.runtime.estimate = counted  # type: ignore[method-assign]
        await type_into(pilot, dialog, "#load-context_length", "65536")
        await until(lambda: bool(calls) and fit(dialog) != shown)
        bigger = await estimate(STARTER_ID, calls[-1])
        assert bigger.ram_bytes > footprint.ram_bytes
        await pilot.pause(0.5)
        # Keys typed within the pause are never estimated: fewer asks than keys, the last one right.
        assert len(calls) < 5 and calls[-1] is not None and calls[-1].context_length == 65536


@pytest.mark.parametrize(
    ("models", "reason"),
    [
        ([("no-such-model", "Gone")], "Cannot estimate memory: no installed model 'no-such-model'"),
        ([], "No model"),
    ],
)
async def test_what_cannot_be_estimated_is_said_in_words(
    app: LexituiApp, models: list[tuple[str, str]], reason: str
) -> None:
    results: list[Any] = []
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = LoadModelDialog(models)
        await open_modal(pilot, dialog, results)
        await until(lambda: fit(dialog).startswith(reason))
        assert dialog.query_one("#load-fit").has_class("error")
        if not models:  # nothing to return
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is dialog
        await pilot.press("escape")
        await until(lambda: bool(results))
    assert results == [None]


async def test_the_whole_form_fits_80x24(app: LexituiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = LoadModelDialog(MODELS, STARTER_ID)
        await open_modal(pilot, dialog, [])
        assert dialog.query_one("#load-box").max_scroll_y == 0, "nothing hides below"
        for selector in ("#load-model", "#load-rope_freq_scale", "#load-mlock", "#load-ok"):
            region = dialog.query_one(selector).region
            assert region.bottom <= 24 and region.right <= 80 and region.height >= 1


@pytest.mark.parametrize(
    ("key", "evictable", "answer", "listed"),
    [
        ("y", ("load-1234",), True, "• load-1234"),
        ("enter", ("load-1234",), True, "• load-1234"),
        ("n", ("load-1234",), False, "• load-1234"),
        ("escape", (), False, "no idle model can be unloaded"),
    ],
)
async def test_eviction_is_asked_with_the_models_named(
    app: LexituiApp, key: str, evictable: tuple[str, ...], answer: bool, listed: str
) -> None:
    results: list[Any] = []
    message = "big-model does not fit; unloading idle models (starter) may make room"
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = ConfirmEvictDialog(message, evictable)
        await open_modal(pilot, dialog, results)
        assert message in text(dialog, "#evict-message")
        assert listed in text(dialog, "#evict-list")
        await pilot.press(key)
        await until(lambda: bool(results))
    assert results == [answer]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Times show in local time; pin it so the pictures are the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


async def saved(app: LexituiApp, model_id: str, hour: int, label: str) -> ContextSnapshot:
    """A snapshot row and its file, as ``save_snapshot`` leaves them."""
    when = datetime(2026, 11, 30, hour, 15, tzinfo=UTC)
    name = f"{hour:032x}"
    snapshot = ContextSnapshot(
        name, model_id, 100 * hour, 1_500_000 * hour, f"{name}.bin", when, label
    )
    folder = app.services.context.folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / snapshot.file_name).write_bytes(b"kv" * hour)
    await SnapshotRows(app.services.store).add(snapshot)
    return snapshot


async def three_snapshots(app: LexituiApp) -> list[ContextSnapshot]:
    await app.services_ready.wait()
    await saved(app, "other-model", 12, "not this model's")
    labels = {9: "before the long answer", 11: "", 14: "system prompt + 3 turns"}
    return [await saved(app, STARTER_ID, hour, label) for hour, label in labels.items()]


async def open_picker(pilot: Pilot[None], results: list[Any]) -> SnapshotPicker:
    picker = SnapshotPicker(STARTER_ID, "SmolLM2 135M Instruct")
    await open_modal(pilot, picker, results)
    await until(lambda: picker.loaded)
    await pilot.pause()
    return picker


async def test_picker_lists_newest_first_and_enter_returns_one(app: LexituiApp, utc: None) -> None:
    results: list[Any] = []
    async with app.run_test(size=(80, 24)) as pilot:
        _first, second, _third = await three_snapshots(app)
        picker = await open_picker(pilot, results)
        table = picker.query_one(DataTable)
        rows = [[str(c).strip() for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows == [
            ["2026-11-30 14:15", "system prompt + 3 turns", "1,400", "20.0 MiB"],
            ["2026-11-30 11:15", "—", "1,100", "15.7 MiB"],
            ["2026-11-30 09:15", "before the long answer", "900", "12.9 MiB"],
        ]
        await pilot.press("down", "enter")
        await until(lambda: bool(results))
    assert results == [second]


async def test_d_deletes_the_highlighted_snapshot_and_its_file(app: LexituiApp) -> None:
    results: list[Any] = []
    async with app.run_test(size=(80, 24)) as pilot:
        first, second, third = await three_snapshots(app)
        folder = app.services.context.folder
        picker = await open_picker(pilot, results)
        await pilot.press("d")
        await until(lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")  # asked first: no keeps it
        await until(lambda: app.screen is picker)
        assert (folder / third.file_name).exists()
        await pilot.press("d")
        await until(lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await until(lambda: len(picker.snapshots) == 2)
        assert not (folder / third.file_name).exists()
        left = await app.services.context.list_snapshots(STARTER_ID)
        assert [s.id for s in left] == [second.id, first.id]
        assert len(await app.services.context.list_snapshots("other-model")) == 1
        await pilot.press("escape")
        await until(lambda: bool(results))
    assert results == [None]


async def test_picker_says_when_there_is_nothing_saved(app: LexituiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        picker = await open_picker(pilot, [])
        assert picker.query_one("#snap-empty").display
        empty = "No snapshots saved for SmolLM2 135M Instruct yet: press s in the chat to save one."
        assert empty in text(picker, "#snap-empty")
        await pilot.press("d", "enter")  # nothing to delete or return; the dialog stays
        await pilot.pause()
        assert app.screen is picker


def test_norm_and_cosine() -> None:
    assert norm([3.0, 4.0]) == 5.0 and cosine([1.0, 0.0], [0.0, 2.0]) == 0.0
    assert cosine([1.0, 1.0], [2.0, 2.0]) == pytest.approx(1.0) and cosine([0.0], [1.0]) is None


async def embed_two(pilot: Pilot[None], tester: EmbeddingsTester) -> str:
    await pilot.press(*"the cat sat", "tab", *"a dog ran", "enter")
    shown = tester.query_one("#embed-result", Static).render
    await until(lambda: any(w in str(shown()) for w in ("dimensions", "Cannot")), seconds=60)
    return str(shown())


async def test_embedding_without_a_model_says_so(app: LexituiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        tester = EmbeddingsTester()
        await open_modal(pilot, tester, [])
        await until(lambda: "no model is loaded" in text(tester, "#embed-model"))
        shown = await embed_two(pilot, tester)
        assert "Cannot embed: no model is loaded: load one first" in shown


@pytest.mark.engine
async def test_embeddings_of_the_starter_are_unit_vectors(app: LexituiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await app.services_ready.wait()
        await app.services.runtime.load(STARTER_ID)
        tester = EmbeddingsTester()
        await open_modal(pilot, tester, [])
        await until(lambda: "Model: " in text(tester, "#embed-model"))
        shown = await embed_two(pilot, tester)
        assert "576 dimensions" in shown
        assert shown.count("norm 1.000") == 2
        result = tester.result
        assert result is not None and result.dimensions == 576
        similarity = cosine(result.embeddings[0], result.embeddings[1])
        assert similarity is not None and f"Cosine similarity: {similarity:.3f}" in shown


@pytest.mark.engine
async def test_a_model_loaded_without_embeddings_is_named(app: LexituiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await app.services_ready.wait()
        await app.services.runtime.load(STARTER_ID, ModelLoadOptions(context_length=2048))
        tester = EmbeddingsTester()
        await open_modal(pilot, tester, [])
        await until(lambda: "loaded without embeddings" in text(tester, "#embed-model"))
        shown = await embed_two(pilot, tester)
        assert f"Cannot embed: {STARTER_ID} was loaded without embeddings: reload it" in shown


def shoot(app: LexituiApp, drive: Callable[[Pilot[None]], Awaitable[None]]) -> str:
    return take_svg_screenshot(app=app, terminal_size=(100, 30), run_before=drive)


def test_load_dialog_snapshot(app: LexituiApp, svg_snapshot: SnapshotAssertion) -> None:
    async def drive(pilot: Pilot[None]) -> None:
        dialog = LoadModelDialog(MODELS, STARTER_ID)
        await open_modal(pilot, dialog, [])
        await type_into(pilot, dialog, "#load-threads", "2")
        await until(lambda: "Fits this machine now" in fit(dialog))
        await pilot.pause()

    assert svg_snapshot == shoot(app, drive)


def test_snapshot_picker_snapshot(
    app: LexituiApp, utc: None, svg_snapshot: SnapshotAssertion
) -> None:
    async def drive(pilot: Pilot[None]) -> None:
        await three_snapshots(pilot.app)  # type: ignore[arg-type]
        await open_picker(pilot, [])

    assert svg_snapshot == shoot(app, drive)
