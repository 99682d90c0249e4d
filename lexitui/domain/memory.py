"""The memory breakdown record: where every byte of a loaded model lives, per device.

Estimated by ``lexitui.discovery.memory_breakdown``; a record of its own here so the discovery
records can carry it without importing the estimator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lexitui.domain.hardware import JsonRecord
from lexitui.domain.units import MIB


@dataclass(frozen=True)
class DeviceMemory(JsonRecord):
    """What one device (the CPU's RAM, or one GPU's VRAM) holds, in bytes."""

    device: str  # "cpu" or a GPU id
    layers: int = 0  # repeating layers placed here
    holds_output: bool = False
    weights_bytes: int = 0
    repacked_weights_bytes: int = 0  # CPU: interleaved copies (the originals stay mapped)
    offloaded_file_pages_bytes: int = 0  # CPU: mapped pages of weights uploaded to a GPU
    kv_cache_bytes: int = 0
    compute_bytes: int = 0
    output_buffer_bytes: int = 0
    overhead_bytes: int = 0  # the engine process (CPU) or the GPU runtime context

    @property
    def total_bytes(self) -> int:
        return (
            self.weights_bytes
            + self.repacked_weights_bytes
            + self.offloaded_file_pages_bytes
            + self.kv_cache_bytes
            + self.compute_bytes
            + self.output_buffer_bytes
            + self.overhead_bytes
        )

    @property
    def runs_layers(self) -> bool:
        return self.layers > 0 or self.holds_output

    def _json_extras(self) -> dict[str, Any]:
        return {"total_bytes": self.total_bytes}


@dataclass(frozen=True)
class MemoryBreakdown(JsonRecord):
    cpu: DeviceMemory
    gpus: tuple[DeviceMemory, ...] = ()  # GPUs in use, with layers or only for op offload
    n_layers: int = 0
    gpu_layers: int = 0  # llama.cpp's count: repeating layers plus the output layer
    context_length: int = 0
    parallel: int = 1
    kv_cache_type: str = "f16"
    flash_attention: bool = True
    source: str = "gguf"  # ModelFacts.source: "gguf" or "estimated"
    notes: tuple[str, ...] = ()

    @property
    def total_ram_bytes(self) -> int:
        """What the engine process will hold resident (its RSS)."""
        return self.cpu.total_bytes

    @property
    def total_vram_bytes(self) -> int:
        return sum(g.total_bytes for g in self.gpus)

    @property
    def reclaimable_ram_bytes(self) -> int:
        """Resident file pages nothing reads after loading, which the kernel drops first under
        pressure: originals of repacked weights and of weights uploaded to a GPU."""
        return self.cpu.repacked_weights_bytes + self.cpu.offloaded_file_pages_bytes

    @property
    def required_ram_bytes(self) -> int:
        """RAM that must be free to load: the total less what the kernel can reclaim."""
        return self.total_ram_bytes - self.reclaimable_ram_bytes

    def _json_extras(self) -> dict[str, Any]:
        return {
            "total_ram_bytes": self.total_ram_bytes,
            "required_ram_bytes": self.required_ram_bytes,
            "total_vram_bytes": self.total_vram_bytes,
            "reclaimable_ram_bytes": self.reclaimable_ram_bytes,
        }

    def lines(self) -> list[str]:
        """The breakdown as aligned text lines, one per buffer, each device then the totals."""
        out: list[str] = []
        for device in (self.cpu, *self.gpus):
            out += _device_lines(device, self)
        if self.gpus:
            out.append(_row("Total VRAM", self.total_vram_bytes))
        out.append(_row("Total RAM", self.total_ram_bytes))
        return out


LABEL_WIDTH = 52


def _row(label: str, n: int, indent: str = "") -> str:
    return f"{indent}{label:<{LABEL_WIDTH - len(indent)}}{n / MIB:>11,.1f} MiB"


def _device_lines(d: DeviceMemory, b: MemoryBreakdown) -> list[str]:
    is_cpu = d.device == "cpu"
    placed = f"{d.layers} layers" + (" + output" if d.holds_output else "")
    rows = [
        (
            f"weights (mmap: embeddings, {placed})" if is_cpu else f"weights ({placed})",
            d.weights_bytes,
        ),
        ("repacked weight copies", d.repacked_weights_bytes),
        ("file pages of GPU weights (reclaimable)", d.offloaded_file_pages_bytes),
        (f"KV cache ({b.kv_cache_type}, {b.context_length} tokens)", d.kv_cache_bytes),
        (
            f"compute buffer ({'flash attn' if b.flash_attention else 'no flash attn'})",
            d.compute_bytes,
        ),
        ("output buffer (logits)", d.output_buffer_bytes),
        ("engine process" if is_cpu else "GPU runtime (CUDA context, pools)", d.overhead_bytes),
    ]
    head = "RAM:" if is_cpu else f"VRAM of {d.device}" + ("" if d.runs_layers else " (op offload)")
    return [head.rstrip(":") + ":", *(_row(label, n, "  ") for label, n in rows if n)]
