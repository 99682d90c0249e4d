"""The llama.cpp engines installed here and the devices each can really use.

A machine's GPUs are only half the story: the engine must have been built for them. The
embedded engine (xllamacpp's wheel) may be a CPU-only build, and then no GPU layer is ever
offloaded whatever the plan says. So plans and advice ask this module which GPU backends an
available engine can drive, instead of assuming llama.cpp can use every GPU it could in principle.

The embedded engine is asked through ``xllamacpp.get_device_info()`` in a short child process:
initialising a GPU backend can be slow, and a broken driver can crash the process that tries.
A llama-server is asked with ``--list-devices`` and ``--version``. The answers are cached for
the life of the process.

Tests inject recorded device lists with ``use_recorded``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from lexitui.domain.enums import GpuBackend
from lexitui.domain.hardware import GpuInfo
from lexitui.domain.units import MIB, format_bytes
from lexitui.engine.errors import EngineNotFound
from lexitui.engine.kinds import find_llama_server
from lexitui.engine.llama_server import parse_version, run_probe
from lexitui.engine.settings import EMBEDDED, LLAMA_SERVER

PROBE_TIMEOUT_S = 60.0
GPU_ENGINE_FIX = "build a GPU engine with `make gpu` (or `lexitui engine build --cuda`)"

# ggml backend device names ("CUDA0", "ROCm0", "Metal", "Vulkan1", ...) without the index, mapped
# to the GPU kinds hardware detection reports.
_BACKEND_KINDS: dict[str, GpuBackend] = {
    "cuda": GpuBackend.CUDA,
    "rocm": GpuBackend.ROCM,
    "hip": GpuBackend.ROCM,
    "metal": GpuBackend.METAL,
    "mtl": GpuBackend.METAL,
    "vulkan": GpuBackend.VULKAN,
    "sycl": GpuBackend.SYCL,
}
# ggml_backend_dev_type: 0 CPU, 1 GPU, 2 ACCEL (BLAS and the like, which help the CPU), 3 IGPU.
_GPU_TYPES = (1, 3)


@dataclass(frozen=True)
class EngineDevice:
    name: str  # the ggml device name: "CPU", "CUDA0"
    description: str
    type: str  # "cpu" or "gpu"
    backend: str  # "CPU", "CUDA", "Metal", "Vulkan", ...
    memory_free_bytes: int | None = None
    memory_total_bytes: int | None = None

    @property
    def gpu_backend(self) -> GpuBackend | None:
        return _BACKEND_KINDS.get(self.backend.lower()) if self.type == "gpu" else None

    def summary(self) -> str:
        details = [self.description] if self.description else []
        if self.memory_total_bytes:
            details.append(format_bytes(self.memory_total_bytes))
        return f"{self.name} ({', '.join(details)})" if details else self.name


@dataclass(frozen=True)
class EngineInfo:
    kind: str  # EMBEDDED or LLAMA_SERVER
    version: str | None
    path: str | None  # the binary, where the engine is one
    devices: tuple[EngineDevice, ...]
    error: str | None = None  # why the device list could not be read
    # GPU backends built in that found nothing to use here, with llama.cpp's reason:
    # ("CUDA: CUDA driver version is insufficient for CUDA runtime version",)
    unusable: tuple[str, ...] = ()

    @property
    def gpu_backends(self) -> frozenset[GpuBackend]:
        return frozenset(b for d in self.devices if (b := d.gpu_backend) is not None)

    def summary(self) -> str:
        """One line: the engine and its devices."""
        name = "embedded llama.cpp" if self.kind == EMBEDDED else self.kind
        head = name + (f" {self.version}" if self.version else "")
        head += f" at {self.path}" if self.path else ""
        if self.error:
            return f"{head}: devices unknown ({self.error})"
        devices = ", ".join(d.summary() for d in self.devices) or "no devices"
        built = "".join(
            f" ({why.replace(':', ' built in, unusable here:', 1)})" for why in self.unusable
        )
        return f"{head}: {'' if self.gpu_backends else 'CPU only: '}{devices}{built}"

    def to_json_dict(self) -> dict[str, object]:
        return asdict(self)


# --- what an engine reports -------------------------------------------------------------------


def _backend_of(name: str) -> str:
    return re.sub(r"\d+$", "", name) or name


def devices_from_device_info(rows: Iterable[dict[str, object]]) -> tuple[EngineDevice, ...]:
    """``xllamacpp.get_device_info()`` rows as devices (the type may be an enum or an int)."""
    devices = []
    for row in rows:
        name = str(row.get("name", "?"))
        raw_type = row.get("type", 0)
        type_code = int(raw_type) if isinstance(raw_type, int) else 0
        free, total = row.get("memory_free"), row.get("memory_total")
        devices.append(
            EngineDevice(
                name=name,
                description=str(row.get("description", "")),
                type="gpu" if type_code in _GPU_TYPES else "cpu",
                backend=_backend_of(name),
                memory_free_bytes=free if isinstance(free, int) and free > 0 else None,
                memory_total_bytes=total if isinstance(total, int) and total > 0 else None,
            )
        )
    return tuple(devices)


LIST_HEADING = "Available devices:"
# "  CUDA0: NVIDIA H100 80GB HBM3 (81079 MiB, 80500 MiB free)"
_LISTED = re.compile(
    r"^\s+(?P<name>[A-Za-z]+\d*): (?P<desc>.*?)"
    r"(?: \((?P<total>\d+) MiB, (?P<free>\d+) MiB free\))?\s*$"
)


def parse_list_devices(text: str) -> tuple[EngineDevice, ...]:
    """``llama-server --list-devices`` output as devices. It lists the offload devices only (the
    CPU is always there), so every row is a GPU unless its name says CPU or BLAS."""
    devices: list[EngineDevice] = []
    lines = text.splitlines()
    heading = next(
        (i for i, line in enumerate(lines) if line.strip() == "Available devices:"), None
    )
    for line in lines[heading + 1 :] if heading is not None else ():
        match = _LISTED.match(line)
        if match is None:
            continue
        name = match["name"]
        backend = _backend_of(name)
        total, free = match["total"], match["free"]
        devices.append(
            EngineDevice(
                name=name,
                description=match["desc"],
                type="cpu" if backend.upper() in ("CPU", "BLAS") else "gpu",
                backend=backend,
                memory_free_bytes=int(free) * MIB if free else None,
                memory_total_bytes=int(total) * MIB if total else None,
            )
        )
    return tuple(devices)


# --- the embedded engine ----------------------------------------------------------------------

_PROBE = (
    "import json, xllamacpp\n"
    "rows = [dict(d, type=int(d.get('type', 0))) for d in xllamacpp.get_device_info()]\n"
    "print(json.dumps({'version': getattr(xllamacpp, '__version__', None), 'devices': rows}))\n"
)


def probe_embedded() -> EngineInfo | None:
    """The embedded engine and its devices; None when xllamacpp is not installed."""
    from importlib.util import find_spec

    if find_spec("xllamacpp") is None:
        return None
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return EngineInfo(EMBEDDED, None, None, (), error=f"device probe failed: {exc}")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return EngineInfo(EMBEDDED, None, None, (), error=f"device probe failed: {last[:200]}")
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1])
        devices = devices_from_device_info(data["devices"])
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return EngineInfo(EMBEDDED, None, None, (), error="device probe gave unreadable output")
    version = data.get("version")
    return EngineInfo(EMBEDDED, str(version) if version else None, None, devices)


# --- a llama-server --------------------------------------------------------------------------

CPU_DEVICE = EngineDevice("CPU", "", "cpu", "CPU")


def probe_llama_server(binary: Path) -> EngineInfo:
    """A llama-server and its devices. ``--list-devices`` names the offload devices only; the
    CPU is always there besides."""
    try:
        version = parse_version(run_probe(binary, "--version"))
        text = run_probe(binary, "--list-devices")
    except (OSError, subprocess.SubprocessError) as exc:
        return EngineInfo(LLAMA_SERVER, None, str(binary), (), error=f"device probe failed: {exc}")
    listed = parse_list_devices(text)
    return EngineInfo(
        LLAMA_SERVER, version, str(binary), (CPU_DEVICE, *listed), unusable=unusable_backends(text)
    )


# "E ggml_cuda_init: failed to initialize CUDA: CUDA driver version is insufficient ..."
_INIT_FAILED = re.compile(r"ggml_\w+_init: failed to initialize (\w+): (.+?)\s*$", re.MULTILINE)


def unusable_backends(text: str) -> tuple[str, ...]:
    """The GPU backends a build has that could not start here, as "CUDA: reason"."""
    return tuple(f"{m[1]}: {m[2]}" for m in _INIT_FAILED.finditer(text))


def probe_all() -> tuple[EngineInfo, ...]:
    """Every engine installed here: the embedded one, then a llama-server if there is one."""
    found = []
    embedded = probe_embedded()
    if embedded is not None:
        found.append(embedded)
    try:
        binary = find_llama_server()
    except EngineNotFound as exc:
        return (*found, EngineInfo(LLAMA_SERVER, None, None, (), error=str(exc)))
    if binary is not None:
        found.append(probe_llama_server(binary))
    return tuple(found)


# --- the cache and the questions plans ask ----------------------------------------------------

_lock = threading.Lock()
_engines: tuple[EngineInfo, ...] | None = None


def available_engines() -> tuple[EngineInfo, ...]:
    """Every engine installed here, probed once per process (blocks on the first call)."""
    global _engines
    with _lock:
        if _engines is None:
            _engines = probe_all()
        return _engines


def use_recorded(engines: tuple[EngineInfo, ...] | None) -> None:
    """Replace the probed answer (tests feed recorded device lists); None probes again."""
    global _engines
    with _lock:
        _engines = engines


def can_drive(gpu: GpuInfo, engines: tuple[EngineInfo, ...] | None = None) -> bool:
    """Whether some available engine can offload layers to this GPU. Vulkan drives any GPU."""
    found = available_engines() if engines is None else engines
    backends: frozenset[GpuBackend] = frozenset().union(*(e.gpu_backends for e in found))
    return gpu.supported_backend in backends or GpuBackend.VULKAN in backends
