"""The event bus routes each typed event to its area's stream and to ``all``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import mypy.api
import pytest

from lexitui.domain.enums import BackendStatus, InferenceBackendType
from lexitui.events import (
    BackendStatusChanged,
    Event,
    EventBus,
    FallbackTriggered,
    HardwareDetected,
    ModelDownloadStarted,
    ModelLoaded,
    ModelSearched,
    ModelUnloaded,
    StoreChanged,
)


def test_events_reach_their_area_stream_and_all() -> None:
    bus = EventBus()
    seen: dict[str, list[str]] = {"hardware": [], "backends": [], "routing": [], "all": []}
    bus.hardware.subscribe(lambda e: seen["hardware"].append(e.kind))
    bus.backends.subscribe(lambda e: seen["backends"].append(e.kind))
    bus.routing.subscribe(lambda e: seen["routing"].append(e.kind))
    bus.all.subscribe(lambda e: seen["all"].append(e.kind))

    bus.publish(HardwareDetected(summary="cpu only", gpu_count=0))
    bus.publish(
        BackendStatusChanged(
            backend=InferenceBackendType.OLLAMA,
            name="ollama",
            old=BackendStatus.STOPPED,
            new=BackendStatus.RUNNING,
        )
    )
    bus.publish(FallbackTriggered(request_id="r", from_provider="a", to_provider="b", reason="x"))
    bus.publish(ModelDownloadStarted(download_id="d", model_id="m", file_name="f.gguf"))

    assert seen["hardware"] == ["HardwareDetected"]
    assert seen["backends"] == ["BackendStatusChanged"]
    assert seen["routing"] == ["FallbackTriggered"]
    assert len(seen["all"]) == 4


def test_details_serialise_enums_as_values() -> None:
    event = BackendStatusChanged(
        backend=InferenceBackendType.LLAMA_CPP,
        name="engine",
        old=BackendStatus.STARTING,
        new=BackendStatus.ERROR,
    )
    assert event.details()["new"] == "error"
    assert "timestamp" not in event.details()


def test_an_event_no_stream_carries_is_refused() -> None:
    @dataclass(frozen=True)
    class Stray(Event):
        pass

    with pytest.raises(TypeError, match="Stray"):
        EventBus().publish(Stray())


def test_of_gives_just_the_asked_types_and_the_same_stream_for_the_same_ask() -> None:
    bus = EventBus()
    loads: list[float] = []
    both: list[str] = []
    # ``load_seconds`` exists on ModelLoaded only: the stream is typed as that type.
    bus.of(ModelLoaded).subscribe(lambda event: loads.append(event.load_seconds))
    bus.of(ModelLoaded, StoreChanged).subscribe(lambda event: both.append(event.kind))

    bus.publish(ModelLoaded(model_id="m", backend="engine", load_seconds=0.4))
    bus.publish(ModelUnloaded(model_id="m", reason="asked"))
    bus.publish(StoreChanged(tables=frozenset({"routed_requests"})))

    assert loads == [0.4]
    assert both == ["ModelLoaded", "StoreChanged"]
    assert bus.of(ModelLoaded) is bus.of(ModelLoaded)
    assert bus.of(ModelLoaded, StoreChanged) is bus.of(StoreChanged, ModelLoaded)


def test_of_refuses_a_type_no_stream_carries() -> None:
    @dataclass(frozen=True)
    class Stray(Event):
        pass

    with pytest.raises(TypeError, match="Stray"):
        EventBus().of(Stray)


def test_mypy_knows_the_element_type_of_one_asked_type(tmp_path: Path) -> None:
    checked = tmp_path / "typed_of.py"
    checked.write_text(
        "from typing import assert_type\n"
        "from reactivex import Observable\n"
        "from lexitui.events import Event, EventBus, ModelLoaded, StoreChanged\n"
        "bus = EventBus()\n"
        "assert_type(bus.of(ModelLoaded), Observable[ModelLoaded])\n"
        "assert_type(bus.of(ModelLoaded, StoreChanged), Observable[Event])\n"
        "bus.of(StoreChanged).subscribe(lambda event: print(event.tables))\n",
        encoding="utf-8",
    )
    out, err, status = mypy.api.run(["--strict", "--no-incremental", str(checked)])
    assert status == 0, out + err


async def test_an_event_published_off_the_loop_is_refused_at_once() -> None:
    bus = EventBus()
    heard: list[Event] = []
    bus.all.subscribe(heard.append)
    bus.publish(ModelSearched("a", 1))  # on the loop: it owns the bus from now on
    with pytest.raises(RuntimeError, match="ModelSearched was published off the event loop"):
        await asyncio.to_thread(bus.publish, ModelSearched("b", 2))
    assert [e.query for e in heard if isinstance(e, ModelSearched)] == ["a"]
