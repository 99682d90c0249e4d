"""The event bus routes each typed event to its area's stream and to ``all``."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lexitui.domain.enums import BackendStatus, InferenceBackendType
from lexitui.events import (
    BackendStatusChanged,
    Event,
    EventBus,
    FallbackTriggered,
    HardwareDetected,
    ModelDownloadStarted,
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
