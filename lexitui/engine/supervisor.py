"""Runs one engine process at a time, of the kind the load asks for, and watches it.

Both the runtime (one supervisor per loaded model) and the managed llama.cpp backend start their
engines here, so every engine lexitui runs writes the same state file and shows in ``lexitui ps``.

Start: ``EngineProcess`` picks a free port and the child binds it; another program can take the
port in between, which llama.cpp reports as "couldn't bind", so a start is retried on a fresh
port. Watch: a task awaits ``EngineProcess.wait()``, so an exit is known the moment it happens
(no polling); an exit nobody asked for is reported to ``on_exit`` with the signal or code and
llama.cpp's own first error line. A small state file lets other lexitui processes find it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.text import clean_text
from lexitui.engine.errors import EngineError
from lexitui.engine.kinds import EngineKind
from lexitui.engine.options import EngineOptions
from lexitui.engine.process import BIND_FAILURE, START_TIMEOUT_S, EngineProcess
from lexitui.engine.process import first_error_line as engine_error_line
from lexitui.engine.select import resolve_engine
from lexitui.engine.settings import LLAMA_SERVER, default_threads
from lexitui.engine.state import ManagedState, clear_state, write_state

log = logging.getLogger(__name__)
DEFAULT_CONTEXT = 4096
BIND_ATTEMPTS = 3


def engine_options(
    options: ModelLoadOptions, *, slot_save_path: Path | None = None, parallel: int = 1
) -> EngineOptions:
    """The engine's start options for a load; ``slot_save_path`` enables KV-cache snapshots."""
    return EngineOptions(
        context_length=options.context_length or DEFAULT_CONTEXT,
        threads=options.threads or default_threads(),
        gpu_layers=-1 if options.gpu_layers is None else options.gpu_layers,
        parallel=parallel,
        embedding=options.embedding,
        batch_size=options.batch_size,
        use_mmap=options.use_mmap,
        use_mlock=options.use_mlock,
        main_gpu=options.main_gpu,
        rope_freq_base=options.rope_freq_base,
        rope_freq_scale=options.rope_freq_scale,
        flash_attention=options.flash_attention,
        kv_cache_type=options.kv_cache_type,
        slot_save_path=str(slot_save_path) if slot_save_path else None,
        rpc_servers=options.rpc_servers,
        tensor_split=options.tensor_split,
    )


STOPPED_FROM_OUTSIDE = "engine was stopped from outside (SIGTERM, e.g. `lexitui unload`)"


def describe_exit(code: int) -> str:
    """Why an engine nobody here stopped has exited. It handles SIGTERM by ending cleanly, so
    code 0 (or death by SIGTERM) means another process asked it to stop."""
    if code == 0 or code == -signal.SIGTERM:
        return STOPPED_FROM_OUTSIDE
    if code < 0:
        try:
            return f"engine exited unexpectedly (killed by {signal.Signals(-code).name})"
        except ValueError:
            pass
    return f"engine exited unexpectedly with code {code}"


class EngineSupervisor:
    def __init__(
        self,
        logs_dir: Path,
        on_exit: Callable[[str], None],
        *,
        state_file: Path | None = None,
        start_timeout: float = START_TIMEOUT_S,
    ) -> None:
        self.logs_dir = logs_dir
        self.start_timeout = start_timeout
        self._on_exit = on_exit
        self._state_file = state_file
        self._engine: EngineProcess | None = None
        self._watch: asyncio.Task[None] | None = None
        self.log_path: Path | None = None  # kept after a crash: that is when it is wanted most
        self.owner = "app"  # written to the state file; see ManagedState.owner
        self.kind: EngineKind | None = None  # what the last start ran on

    @property
    def running(self) -> bool:
        return self._engine is not None and self._engine.running

    @property
    def pid(self) -> int | None:
        return self._engine.pid if self._engine is not None and self.running else None

    @property
    def api_key(self) -> str | None:
        """The running engine's secret, which every request to it must carry."""
        return self._engine.api_key if self._engine is not None else None

    @property
    def auth_headers(self) -> dict[str, str]:
        return self._engine.auth_headers if self._engine is not None else {}

    async def start(
        self,
        model_id: str,
        path: Path,
        options: ModelLoadOptions,
        *,
        slot_save_path: Path | None = None,
        parallel: int = 1,
    ) -> str:
        """Start the engine and return its URL; raises ``EngineError`` with the reason."""
        await self.stop()
        self.log_path = self.logs_dir / f"llamacpp-{model_id.replace(':', '_')}.log"
        try:
            started_with = engine_options(options, slot_save_path=slot_save_path, parallel=parallel)
        except ValueError as exc:
            raise EngineError(str(exc)) from None
        # Off the event loop: the first choice may probe the installed engines' devices.
        # A split over RPC workers needs llama-server, whatever the settings' default engine.
        requested = options.engine or (LLAMA_SERVER if options.rpc_servers else None)
        self.kind = await asyncio.to_thread(resolve_engine, requested)
        for attempt in range(BIND_ATTEMPTS):
            engine = EngineProcess(path, self.log_path, started_with, self.kind)
            try:
                url = await engine.start(timeout=self.start_timeout)
            except EngineError as exc:
                if BIND_FAILURE in str(exc) and attempt + 1 < BIND_ATTEMPTS:
                    log.info("engine port was taken; retrying on another port")
                    continue
                raise
            self._engine = engine
            self._watch = asyncio.get_running_loop().create_task(self._watch_exit(engine))
            if self._state_file is not None and engine.pid is not None:
                state = ManagedState(
                    os.getpid(),
                    engine.pid,
                    url,
                    model_id,
                    self.owner,
                    engine.api_key or "",
                    engine=self.kind.name,
                )
                write_state(self._state_file, state)
            return url
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def stop(self) -> bool:
        """Stop the engine if one runs; returns whether one did."""
        engine, self._engine = self._engine, None
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        if engine is None:
            return False  # the state file, if any, belongs to another process: leave it
        if self._state_file is not None:
            clear_state(self._state_file)
        await engine.stop()
        return True

    async def _watch_exit(self, engine: EngineProcess) -> None:
        code = await engine.wait()
        if self._engine is not engine:
            return  # stopped on purpose
        self._engine = None
        if self._state_file is not None:
            clear_state(self._state_file)
        reason = describe_exit(code)
        cause = engine_error_line(engine.log_path)
        self._on_exit(clean_text(f"{reason}: {cause}" if cause else reason))
