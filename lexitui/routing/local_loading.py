"""Loading the installed model a request names on demand: one load per model.

The local provider asks here for the model a request names: a loaded one answers at once; an
installed one that is not loaded is loaded through the runtime with its default load options and
memory budget (the runtime evicts least recently used idle models when ``[runtime] auto_evict``
allows, and refuses with ``ModelDoesNotFit`` when it cannot make room). Concurrent requests for a
model that is loading wait for that one load instead of starting engines of their own. A model
loaded here keeps ``[runtime] keep_alive`` (see ``IdleUnloader``). Which models are installed
comes from the ``InstalledCatalog`` the router reads too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from lexitui.domain.models import InstalledModel
from lexitui.editions.refusals import EditionRefusal
from lexitui.routing.errors import FailureKind, ProviderError
from lexitui.routing.local_models import InstalledCatalog
from lexitui.runtime.errors import NoModelLoaded
from lexitui.runtime.keep_alive import parse_keep_alive
from lexitui.runtime.loaded_engine import LoadedEngine
from lexitui.runtime.manager import InferenceManager
from lexitui.storage.starter import STARTER_ID


@dataclass(frozen=True)
class KeepAlive:
    """A request's own keep-alive: ``seconds`` idle before it unloads (None: never)."""

    seconds: float | None


def requested_keep_alive(raw: object) -> KeepAlive | None:
    """``keep_alive`` as a client sent it (Ollama's forms); None when it sent none, which leaves
    the model's keep-alive as it is. ``InvalidRequest`` for a value that is no duration."""
    return None if raw is None else KeepAlive(parse_keep_alive(raw))


class LocalModelLoader:
    def __init__(
        self, runtime: InferenceManager, catalog: InstalledCatalog | None, *, provider_id: str
    ) -> None:
        self._runtime = runtime
        self._catalog = catalog
        self._provider_id = provider_id
        self._loads: dict[str, asyncio.Task[str]] = {}

    # --- the installed models (no I/O: the catalog is refreshed before each request) ------

    async def refresh(self, wanted: str | None = None) -> None:
        if self._catalog is not None:
            await self._catalog.refresh(wanted)

    def find(self, name: str) -> InstalledModel | None:
        return self._catalog.find(name) if self._catalog is not None else None

    def starter(self) -> str | None:
        """The starter model's id, when it is installed."""
        model = self.find(STARTER_ID)
        return model.id if model is not None else None

    # --- loaded models and loading --------------------------------------------------------

    def loaded(self, name: str) -> LoadedEngine | None:
        """The loaded model ``name`` means (a load id, a model id, or any name of an installed
        model), or None."""
        for candidate in (name, *self._ids_of(name)):
            try:
                return self._runtime.engine(candidate)
            except NoModelLoaded:
                continue
        return None

    async def named(self, model: str) -> LoadedEngine:
        """A model a request names, held for it: loaded, or installed and loaded now (a 404
        when it is neither, never another model in its place)."""
        engine = self.loaded(model)
        if engine is not None:
            engine.hold()
            return engine
        await self.refresh(model)
        installed = self.find(model)
        if installed is None:
            message = f"model '{model}' not found"
            raise ProviderError(self._provider_id, FailureKind.BAD_REQUEST, message, status=404)
        if not self._runtime.settings.load_on_demand:
            message = f"{installed.id} is not loaded (loading on demand is off)"
            raise ProviderError(self._provider_id, FailureKind.UNAVAILABLE, message)
        try:
            return await self.load(installed.id)
        except EditionRefusal:  # the user's edition: no other provider may quietly answer it
            raise
        except Exception as exc:  # does not fit, engine failed to start: say why, fall back
            message = f"{installed.id} could not be loaded: {exc}"
            raise ProviderError(self._provider_id, FailureKind.UNAVAILABLE, message) from exc

    def done_with(self, engine: LoadedEngine, keep_alive: KeepAlive | None) -> None:
        """The request on ``engine`` is over: its keep-alive (if it gave one) counts from now."""
        if keep_alive is not None:
            self._runtime.idle_unloader.keep_alive(engine, keep_alive.seconds)
        engine.release()

    async def load(self, model_id: str) -> LoadedEngine:
        """Load an installed model (or join the load of it already under way) and return it
        held for the caller's request: the caller must ``release()`` it when done."""
        task = self._loads.get(model_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._load(model_id))
            self._loads[model_id] = task
            task.add_done_callback(lambda _done: self._loads.pop(model_id, None))
        # Shielded: a caller that hangs up does not cancel the load the others wait for.
        try:
            loaded_id = await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(self._unclaimed)  # its keep-alive starts if no one asks
            raise
        engine = self._runtime.engine(loaded_id)
        engine.hold()  # before any pause: its keep-alive must not end it before it is asked
        return engine

    async def _load(self, model_id: str) -> str:
        already = self.loaded(model_id)  # loaded since the caller looked: keep its keep-alive
        if already is not None:
            return already.id
        loaded = await self._runtime.load(model_id)
        # Counted from the end of the request it was loaded for, not from now: a keep-alive of
        # 0 must not unload it before that request is sent.
        self._runtime.idle_unloader.keep_alive(
            self._runtime.engine(loaded.id), self._runtime.settings.keep_alive_s, from_now=False
        )
        return loaded.id

    def _unclaimed(self, task: asyncio.Task[str]) -> None:
        """A load whose caller hung up: count its keep-alive from now unless a request is on it
        (a model loaded for nobody must not stay forever)."""
        if task.cancelled() or task.exception() is not None:
            return
        engine = self.loaded(task.result())
        if engine is not None and engine.idle:
            self._runtime.idle_unloader.keep_alive(engine, engine.keep_alive_s)

    def _ids_of(self, name: str) -> tuple[str, ...]:
        model = self.find(name)
        return (model.id,) if model is not None and model.id != name else ()
