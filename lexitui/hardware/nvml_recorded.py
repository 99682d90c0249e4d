"""``RecordedNvml``: replays recorded NVML readings, for tests and for demos without a GPU.

A recording is JSON: ``{"snapshots": [STEP, ...]}`` where each STEP is a snapshot (see
``nvml_snapshot.snapshot_to_dict``) or ``{"error": {"code": 18, "reason": "..."}}``. Successive
``read()`` calls walk the steps and then repeat the last one, so a recording can show a GPU that
vanishes between samples, or a driver that breaks. ``{"error": ...}`` at the top level means
every read fails (no driver, version mismatch).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from lexitui.hardware.nvml_snapshot import (
    NvmlSnapshot,
    NvmlUnavailable,
    reason_for_code,
    snapshot_from_dict,
)

Step = NvmlSnapshot | NvmlUnavailable


class RecordedNvml:
    """An ``NvmlReader`` that answers from a list of recorded steps."""

    def __init__(self, steps: list[Step]) -> None:
        if not steps:
            raise ValueError("a recording needs at least one step")
        self._steps = steps
        self._position = 0
        self.reads = 0
        self.closed = False

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RecordedNvml:
        if "error" in data:
            return cls([_error(data["error"])])
        raw = data.get("snapshots")
        if not isinstance(raw, list):
            raise ValueError('a recording needs "snapshots": [...] or "error": {...}')
        return cls([_error(s["error"]) if "error" in s else snapshot_from_dict(s) for s in raw])

    @classmethod
    def from_file(cls, path: Path) -> RecordedNvml:
        return cls.from_data(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def of(cls, *snapshots: NvmlSnapshot) -> RecordedNvml:
        return cls(list(snapshots))

    def read(self, *, processes: bool = True) -> NvmlSnapshot:
        self.reads += 1
        step = self._steps[min(self._position, len(self._steps) - 1)]
        self._position += 1
        if isinstance(step, NvmlUnavailable):
            raise NvmlUnavailable(step.reason, step.code)
        if processes:
            return step
        # The monitor asks for no process list; honour it as the real driver would.
        return replace(step, devices=tuple(replace(d, processes=()) for d in step.devices))

    def close(self) -> None:
        self.closed = True


def _error(data: dict[str, Any]) -> NvmlUnavailable:
    code = data.get("code")
    code = int(code) if code is not None else None
    reason = data.get("reason") or ""
    # A recorded code maps to the same sentence the real adapter would give.
    return NvmlUnavailable(reason_for_code(code, reason) if code is not None else reason, code)
