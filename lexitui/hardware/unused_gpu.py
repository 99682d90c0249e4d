"""One line for a machine whose GPUs no installed llama.cpp engine can use, and what fixes it."""

from __future__ import annotations

from collections.abc import Iterable

from lexitui.domain.hardware import GpuInfo
from lexitui.engine.devices import GPU_ENGINE_FIX, available_engines, can_drive
from lexitui.hardware.budget import is_offload_target


def unused_gpu_note(gpus: Iterable[GpuInfo]) -> str | None:
    """One line when this machine has GPUs no available engine can use, saying what fixes it."""
    idle = [g for g in gpus if is_offload_target(g) and not can_drive(g)]
    if not idle:
        return None
    engines = available_engines()
    what = "this machine's GPU is" if len(idle) == 1 else "this machine's GPUs are"
    if not engines:
        return f"no llama.cpp engine is installed: {what} not used; {GPU_ENGINE_FIX}"
    drives = sorted({b.value for e in engines for b in e.gpu_backends})
    broken = next((why for e in engines for why in e.unusable), None)
    if broken and not drives:  # a GPU build is here, but its backend could not start
        backend, _, reason = broken.partition(": ")
        return (
            f"the GPU engine's {backend} backend cannot start here ({reason}): {what} not used; "
            "check the GPU driver (`nvidia-smi`), or rebuild with `make gpu`"
        )
    unread = next((e.error for e in engines if e.error), None)
    if unread and not drives:
        engine = f"the llama.cpp engine's devices could not be read ({unread})"
    elif drives:
        engine = f"the installed llama.cpp engine drives {'/'.join(drives)} GPUs only"
    elif len(engines) > 1:
        engine = "the installed llama.cpp engines run on the CPU only"
    else:
        engine = "the installed llama.cpp engine runs on the CPU only"
    return f"{engine}: {what} not used; {GPU_ENGINE_FIX}"
