"""Loads a model again when its engine dies under it (a crash, an out-of-memory kill, SIGKILL).

A long-running server (``lexitui serve``) has nobody watching it: without this, one crash
leaves every later request failing until a person restarts it. After an unexpected exit the
model is loaded again with the same options, after a short and then growing delay, a few
times. A model that keeps crashing is given up on: its ``crash_limit``-th crash within
``window_s`` is not reloaded, and the reason says so. While it reloads, and after it gives up,
``status`` (and the runtime's ``crash_notice``, which the local provider gives as its reason)
says what is happening; the log says it too.

An engine stopped from outside on purpose (``lexitui unload`` sends SIGTERM) is not reloaded,
and neither is one the runtime unloaded itself (that is no unexpected exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lexitui.engine.supervisor import STOPPED_FROM_OUTSIDE

if TYPE_CHECKING:
    from lexitui.runtime.loaded_engine import LoadedEngine
    from lexitui.runtime.manager import InferenceManager

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadPolicy:
    delays_s: tuple[float, ...] = (0.5, 2.0, 8.0)  # before each attempt; one attempt each
    crash_limit: int = 3  # this many crashes within window_s: not reloaded again
    window_s: float = 600.0


class EngineReloader:
    def __init__(
        self,
        runtime: InferenceManager,
        policy: ReloadPolicy | None = None,
    ) -> None:
        self._runtime = runtime
        self.policy = policy or ReloadPolicy()
        self._crashes: dict[str, deque[float]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.status: str | None = None  # what is being done about a crash, or why not
        self.given_up: dict[str, str] = {}  # model id -> why it is no longer reloaded
        runtime.on_engine_exit.append(self._exited)

    async def close(self) -> None:
        """Stop watching and cancel reloads in progress (before the runtime is closed)."""
        with contextlib.suppress(ValueError):
            self._runtime.on_engine_exit.remove(self._exited)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _say(self, status: str | None) -> None:
        self.status = status
        self._runtime.crash_notice = status

    def _exited(self, engine: LoadedEngine, reason: str) -> None:
        if reason.startswith(STOPPED_FROM_OUTSIDE):
            return  # someone asked it to stop
        model = engine.model.id
        now = time.monotonic()
        crashes = self._crashes.setdefault(model, deque())
        crashes.append(now)
        while crashes and now - crashes[0] > self.policy.window_s:
            crashes.popleft()
        if len(crashes) >= self.policy.crash_limit:
            minutes = self.policy.window_s / 60
            why = (
                f"{model} crashed {len(crashes)} times within {minutes:.0f} min and is no "
                f"longer reloaded (last: {reason}); load it again once the cause is fixed"
            )
            self.given_up[model] = why
            log.error("lexitui: %s", why)
            self._say(why)
            return
        task = asyncio.get_running_loop().create_task(self._reload(engine, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload(self, engine: LoadedEngine, reason: str) -> None:
        model = engine.model.id
        delays = self.policy.delays_s
        last_error = ""
        for attempt, delay in enumerate(delays, start=1):
            doing = (
                f"{model} crashed ({reason}); reloading it in {delay:g} s "
                f"(attempt {attempt} of {len(delays)})"
            )
            log.warning("lexitui: %s", doing)
            self._say(doing)
            await asyncio.sleep(delay)
            try:
                loaded = await self._runtime.load(model, engine.options, evict=False)
            except Exception as exc:  # any load failure: wait longer, try again
                last_error = str(exc)
                log.warning("lexitui: reloading %s failed: %s", model, last_error)
                continue
            if engine.keep_alive_s is not None:  # it unloads when idle, as before it crashed
                again = self._runtime.engine(loaded.id)
                self._runtime.idle_unloader.keep_alive(again, engine.keep_alive_s)
            log.warning("lexitui: reloaded %s after its engine crashed", model)
            self._say(None)
            return
        why = f"{model} crashed ({reason}) and could not be reloaded: {last_error}"
        self.given_up[model] = why
        log.error("lexitui: %s", why)
        self._say(why)
