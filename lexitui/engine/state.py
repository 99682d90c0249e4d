"""A small file per running engine saying which lexitui process owns it, and where it serves.

An engine lives only as long as the process that started it (it exits when orphaned), so
``lexitui backend start llamacpp`` runs in the foreground. These files let *other* lexitui
processes see every engine (``lexitui ps``, ``lexitui backends``) and ask it or its owner to stop
(``lexitui unload``, ``lexitui backend stop llamacpp``). A stale file, from a process that is
gone, is ignored.
It carries the engine's secret, so it is written readable by its owner alone (0600).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from lexitui.config import Paths


@dataclass(frozen=True)
class ManagedState:
    owner_pid: int
    engine_pid: int
    endpoint: str
    model_id: str
    # "cli": a foreground `lexitui backend start`, which `backend stop` may signal to stop;
    # "app": the TUI, which must never be sent a signal by another command.
    owner: str = "app"
    api_key: str = field(default="", repr=False)  # the engine's secret: never shown
    engine: str = "embedded"  # the engine kind: "embedded" or "llama-server"

    def public(self) -> dict[str, Any]:
        """The fields that may be shown (``lexitui ps``): all but the secret."""
        return {k: v for k, v in asdict(self).items() if k != "api_key"}


def run_dir(paths: Paths) -> Path:
    return paths.data_dir / "run"


def state_path(state_dir: Path, name: str) -> Path:
    return state_dir / f"{name}.json"


def write_state(path: Path, state: ManagedState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    # Created 0600 (not chmod-ed after writing): the secret is never readable by others.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(tmp, flags, 0o600), "w", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(state)))
    os.replace(tmp, path)


def clear_state(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _is_lexitui(pid: int) -> bool:
    try:
        return any("lexitui" in part for part in psutil.Process(pid).cmdline())
    except (psutil.Error, OSError):
        return False


def read_live_state(path: Path) -> ManagedState | None:
    """The state if its owner is another live lexitui process and its engine still runs."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        state = ManagedState(
            owner_pid=int(data["owner_pid"]),
            engine_pid=int(data["engine_pid"]),
            endpoint=str(data["endpoint"]),
            model_id=str(data["model_id"]),
            owner=str(data.get("owner", "app")),
            api_key=str(data.get("api_key", "")),
            engine=str(data.get("engine", "embedded")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if state.owner_pid == os.getpid():
        return None
    if not (_is_lexitui(state.owner_pid) and psutil.pid_exists(state.engine_pid)):
        return None
    if not state.endpoint.startswith("http://127.0.0.1:"):
        return None  # we only ever write loopback endpoints; anything else was not us
    return state


def live_engines(paths: Paths) -> list[ManagedState]:
    """Every engine another live lexitui process runs: loaded models and ``backend start``."""
    folder = run_dir(paths)
    if not folder.is_dir():
        return []
    states = (read_live_state(p) for p in sorted(folder.glob("*.json")))
    return [s for s in states if s is not None]


def live_loaded_models(folder: Path) -> list[ManagedState]:
    """The models other live lexitui processes of this user have loaded (not ``backend
    start`` engines): what a loaded-model limit counts beside this process's own."""
    if not folder.is_dir():
        return []
    states = (read_live_state(p) for p in sorted(folder.glob("runtime-*.json")))
    return [s for s in states if s is not None]
