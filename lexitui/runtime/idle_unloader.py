"""Unloads idle models when their keep-alive runs out: one timer for all of them.

Each loaded model sets its expiry when it becomes idle (``LoadedEngine.keep_alive``) and tells
this unloader, which sets its one timer for the soonest expiry; when it fires, every model that
is still idle and past its expiry is unloaded and the timer is set for the next. Nothing polls:
with no expiry pending there is no timer at all.

Which models get a keep-alive is decided where they are loaded: a model loaded on demand by a
request (the gateway, ``lexitui route``) gets ``[runtime] keep_alive`` (5 minutes unless set).
A model the user loads by hand (the TUI, ``lexitui run``/``load``, ``lexitui serve --model``)
stays until the user unloads it: it was asked for by name, and for ``serve --model`` it is the
model that answers requests naming none, which must not turn into another after an idle spell.
A request's own ``keep_alive`` replaces its model's, whoever loaded it, as in Ollama.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from lexitui.runtime.errors import NoModelLoaded
from lexitui.runtime.keep_alive import describe_keep_alive
from lexitui.runtime.loaded_engine import LoadedEngine

Unload = Callable[..., Awaitable[None]]


class IdleUnloader:
    def __init__(self, engines: Callable[[], Iterable[LoadedEngine]], unload: Unload) -> None:
        self._engines = engines
        self._unload = unload
        self._timer: asyncio.TimerHandle | None = None
        self._unloading: set[asyncio.Task[None]] = set()

    def keep_alive(
        self, engine: LoadedEngine, seconds: float | None, *, from_now: bool = True
    ) -> None:
        """``engine`` stays loaded ``seconds`` once idle (None: until unloaded by hand), counted
        from now if it is idle now, else from when it next becomes idle; ``from_now=False``
        always waits for that (a model loaded for a request not yet sent)."""
        engine.on_idle = self.idle
        if not from_now:
            engine.keep_alive_s = seconds
            return
        engine.keep_alive(seconds)
        self.plan()

    def idle(self, _engine: LoadedEngine) -> None:
        self.plan()

    def plan(self) -> None:
        """Set the one timer for the soonest expiry of an idle model (or none)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due = [e.expires_at for e in self._engines() if e.idle and e.expires_at is not None]
        if not due:
            return
        loop = asyncio.get_running_loop()
        delay = (min(due) - datetime.now(UTC)).total_seconds()
        self._timer = loop.call_later(max(0.0, delay), self._fire)

    def _fire(self) -> None:
        self._timer = None
        now = datetime.now(UTC)
        for engine in list(self._engines()):
            if engine.expired(now):
                task = asyncio.get_running_loop().create_task(self._unload_if_expired(engine))
                self._unloading.add(task)
                task.add_done_callback(self._unloading.discard)
        self.plan()

    async def _unload_if_expired(self, engine: LoadedEngine) -> None:
        # Checked again here: a request may have picked the model since the timer fired. The
        # check and the unload's first step (forgetting the model) run without a pause between.
        if not engine.expired(datetime.now(UTC)):
            return
        kept = describe_keep_alive(engine.keep_alive_s)
        with contextlib.suppress(NoModelLoaded):  # unloaded meanwhile by someone else
            await self._unload(engine.id, reason=f"idle past its keep-alive ({kept})")

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await asyncio.gather(*self._unloading, return_exceptions=True)
