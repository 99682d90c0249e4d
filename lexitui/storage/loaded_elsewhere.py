"""Whether another lexitui process has a model loaded (``lexitui serve``, ``run``, the TUI, a
foreground ``backend start``).

Each of them leaves a small state file in the data folder's ``run`` folder while its engine
runs (``engine.state``). Deleting a model such an engine holds open would free no
space until that engine stops, and pull the model from under whoever is using it.
"""

from __future__ import annotations

from pathlib import Path

from lexitui.engine.state import ManagedState, read_live_state

RUN_FOLDER = "run"  # ``managed_state.run_dir``: the same folder, reached from the data folder


def loaded_elsewhere(data_dir: Path, model_id: str) -> ManagedState | None:
    """The live engine of another lexitui process that has ``model_id`` loaded, if any."""
    folder = data_dir / RUN_FOLDER
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.json")):
        state = read_live_state(path)
        if state is not None and state.model_id == model_id:
            return state
    return None
