"""The one place that owns lexitui's event streams.

Services publish typed records here; screens, the CLI and the store subscribe. Each roadmap
event (``HardwareDetectedEvent``...) is a frozen dataclass; the streams group them by area so a
screen subscribes only to what it shows. Subjects are plain ``reactivex`` subjects: callers that
need events on an asyncio loop add ``observe_on`` themselves (the UI does).

``bus.of(ModelLoaded, ModelUnloaded)`` is the narrow way in: a stream of just those types (typed
as that type when there is one), so a screen hears only what it shows.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, overload

from reactivex import Observable
from reactivex import operators as ops
from reactivex.subject import Subject

from lexitui.domain.enums import BackendStatus, InferenceBackendType

E = TypeVar("E", bound="Event")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Event:
    """Base of every event; ``timestamp`` is UTC."""

    timestamp: datetime = field(default_factory=_now, kw_only=True)

    @property
    def kind(self) -> str:
        return type(self).__name__

    def details(self) -> dict[str, Any]:
        """The fields worth persisting, JSON-friendly."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            if name == "timestamp":
                continue
            value = getattr(self, name)
            out[name] = value.value if hasattr(value, "value") else value
        return out


@dataclass(frozen=True)
class HardwareDetected(Event):
    summary: str
    gpu_count: int


@dataclass(frozen=True)
class HardwareChanged(Event):
    """A change the live monitor saw: ``change`` names it (gpu_added, vram_low, temp_alert...)."""

    change: str
    subject: str
    message: str


@dataclass(frozen=True)
class BackendStatusChanged(Event):
    backend: InferenceBackendType
    name: str
    old: BackendStatus
    new: BackendStatus
    message: str = ""


@dataclass(frozen=True)
class ModelSearched(Event):
    query: str
    result_count: int


@dataclass(frozen=True)
class ModelDownloadQueued(Event):
    download_id: str
    model_id: str
    variant_id: str
    size_bytes: int


@dataclass(frozen=True)
class ModelDownloadStarted(Event):
    download_id: str
    model_id: str
    file_name: str


@dataclass(frozen=True)
class ModelDownloadProgress(Event):
    download_id: str
    bytes_done: int
    bytes_total: int | None


@dataclass(frozen=True)
class ModelDownloadCompleted(Event):
    download_id: str
    model_id: str
    success: bool
    error: str = ""


@dataclass(frozen=True)
class ModelInstalled(Event):
    model_id: str
    path: str
    size_bytes: int


@dataclass(frozen=True)
class ModelDeleted(Event):
    model_id: str
    freed_bytes: int


@dataclass(frozen=True)
class ModelUsageRecorded(Event):
    """A model's use (count, time, "last used") is in the store: published once the write has
    committed, so a reader that follows it reads the new figures, however slow the write was."""

    model_id: str


@dataclass(frozen=True)
class StoreChanged(Event):
    """Rows of these store tables were written (by this process or another one sharing the
    database) since the last such event: a screen showing them reads them again."""

    tables: frozenset[str]


@dataclass(frozen=True)
class ModelLoadStarted(Event):
    model_id: str
    options: str  # the load options in words ("ctx 4096, 8 threads")


@dataclass(frozen=True)
class ModelLoaded(Event):
    """The roadmap's ModelLoadCompletedEvent."""

    model_id: str
    backend: str
    load_seconds: float
    loaded_model_id: str = ""


@dataclass(frozen=True)
class ModelLoadFailed(Event):
    model_id: str
    error: str


@dataclass(frozen=True)
class ModelUnloaded(Event):
    model_id: str
    reason: str
    loaded_model_id: str = ""


@dataclass(frozen=True)
class GenerationStarted(Event):
    loaded_model_id: str
    model_id: str
    prompt_tokens: int  # 0 when the prompt is not counted before sending


@dataclass(frozen=True)
class LocalGenerationCompleted(Event):
    model_id: str
    completion_tokens: int
    tokens_per_second: float
    time_to_first_token_ms: float
    loaded_model_id: str = ""
    prompt_tokens: int = 0
    total_ms: float = 0.0
    prompt_eval_tokens_per_second: float = 0.0


@dataclass(frozen=True)
class GenerationFailed(Event):
    loaded_model_id: str
    model_id: str
    error: str


@dataclass(frozen=True)
class ResourceAlert(Event):
    resource: str  # a ResourceType value: ram, vram, disk, cpu
    usage_percent: float
    message: str


@dataclass(frozen=True)
class RequestRouted(Event):
    request_id: str
    provider: str
    reason: str
    model: str = ""
    strategy: str = ""
    was_fallback: bool = False


@dataclass(frozen=True)
class FallbackTriggered(Event):
    request_id: str
    from_provider: str
    to_provider: str
    reason: str


@dataclass(frozen=True)
class CostThresholdReached(Event):
    spent_usd: float
    limit_usd: float
    period: str = ""  # "daily" or "monthly": which cloud budget was reached


# Events that later features (history, audit, reconciliation) read back are written to the store.
PERSISTED_EVENTS: tuple[type[Event], ...] = (
    HardwareDetected,
    ModelDownloadQueued,
    ModelDownloadCompleted,
    ModelInstalled,
    ModelDeleted,
    ModelLoadStarted,
    ModelLoadFailed,
    ModelLoaded,
    ModelUnloaded,
    GenerationStarted,
    LocalGenerationCompleted,
    GenerationFailed,
    ResourceAlert,
    RequestRouted,
    FallbackTriggered,
    CostThresholdReached,
)


class EventBus:
    """Owns one subject per area; ``all`` carries every event for loggers and the store."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hardware: Subject[Event] = Subject()
        self._backends: Subject[Event] = Subject()
        self._discovery: Subject[Event] = Subject()
        self._downloads: Subject[Event] = Subject()
        self._inference: Subject[Event] = Subject()
        self._routing: Subject[Event] = Subject()
        self._storage: Subject[Event] = Subject()
        self._all: Subject[Event] = Subject()
        # One stream per set of types asked for: the same request gets the same object, so a
        # screen that subscribes twice to it (resumed twice) is recognised and not doubled.
        self._narrowed: dict[frozenset[type[Event]], Observable[Event]] = {}
        self._routes: dict[type[Event], Subject[Event]] = {
            HardwareDetected: self._hardware,
            HardwareChanged: self._hardware,
            BackendStatusChanged: self._backends,
            ModelSearched: self._discovery,
            ModelDownloadQueued: self._downloads,
            ModelDownloadStarted: self._downloads,
            ModelDownloadProgress: self._downloads,
            ModelDownloadCompleted: self._downloads,
            ModelInstalled: self._downloads,
            ModelDeleted: self._downloads,
            ModelUsageRecorded: self._storage,
            StoreChanged: self._storage,
            ModelLoadStarted: self._inference,
            ModelLoaded: self._inference,
            ModelLoadFailed: self._inference,
            ModelUnloaded: self._inference,
            GenerationStarted: self._inference,
            LocalGenerationCompleted: self._inference,
            GenerationFailed: self._inference,
            ResourceAlert: self._inference,
            RequestRouted: self._routing,
            FallbackTriggered: self._routing,
            CostThresholdReached: self._routing,
        }

    def publish(self, event: Event) -> None:
        self._check_loop(event)
        subject = self._routes.get(type(event))
        if subject is None:
            raise TypeError(f"no stream carries {event.kind}")
        subject.on_next(event)
        self._all.on_next(event)

    def _check_loop(self, event: Event) -> None:
        """Every event is published on the loop that owns the bus (the one that published
        first), never from a worker thread: subscribers (the store's writers, the screens) rely
        on it, so none of them guards against threads."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self._loop is None:
            self._loop = running
        elif running is not self._loop:
            raise RuntimeError(f"{event.kind} was published off the event loop that owns the bus")

    @overload
    def of(self, kind: type[E], /) -> Observable[E]: ...

    @overload
    def of(self, *kinds: type[Event]) -> Observable[Event]: ...

    def of(self, *kinds: type[Event]) -> Observable[Event]:
        """The events of just these types, as they are published."""
        unknown = [kind.__name__ for kind in kinds if kind not in self._routes]
        if unknown or not kinds:
            raise TypeError(f"no stream carries {', '.join(unknown) or 'nothing'}")
        key = frozenset(kinds)
        stream = self._narrowed.get(key)
        if stream is None:
            wanted = tuple(key)
            stream = self._all.pipe(ops.filter(lambda event: isinstance(event, wanted)))
            self._narrowed[key] = stream
        return stream

    @property
    def hardware(self) -> Observable[Event]:
        return self._hardware

    @property
    def backends(self) -> Observable[Event]:
        return self._backends

    @property
    def discovery(self) -> Observable[Event]:
        return self._discovery

    @property
    def downloads(self) -> Observable[Event]:
        return self._downloads

    @property
    def inference(self) -> Observable[Event]:
        return self._inference

    @property
    def routing(self) -> Observable[Event]:
        return self._routing

    @property
    def storage(self) -> Observable[Event]:
        """What the store has recorded: installed models' usage, and which tables changed."""
        return self._storage

    @property
    def all(self) -> Observable[Event]:
        return self._all

    def close(self) -> None:
        for subject in {*self._routes.values(), self._all}:
            subject.on_completed()
