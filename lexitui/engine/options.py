"""What an engine is started with, whichever kind runs it.

Each kind turns these into its own command line: the embedded engine's child takes them as
``as_args()``, llama-server as ``llama_server.server_args()``. ``None`` keeps llama.cpp's own
default, so an option left out never overrides what llama.cpp (or the GGUF) would choose.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexitui.domain.slots import slots_problem

FLASH_ATTENTION = ("on", "off", "auto")
# The KV cache types llama.cpp accepts for ``--cache-type-k/-v``.
KV_CACHE_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")


@dataclass(frozen=True)
class EngineOptions:
    context_length: int = 4096
    threads: int = 0
    gpu_layers: int = -1  # -1: every layer the GPU can take
    parallel: int = 1
    embedding: bool = False
    batch_size: int | None = None
    use_mmap: bool | None = None
    use_mlock: bool | None = None
    main_gpu: int | None = None
    rope_freq_base: float | None = None
    rope_freq_scale: float | None = None
    flash_attention: str | None = None  # "on", "off" or "auto"
    kv_cache_type: str | None = None  # the type of both K and V caches, e.g. "q8_0"
    slot_save_path: str | None = None  # enables saving and restoring the KV cache
    # llama.cpp RPC workers ("HOST:PORT") that hold the layers, and each one's share of them
    # (``--tensor-split``; empty: llama.cpp splits by free memory). llama-server only.
    rpc_servers: tuple[str, ...] = ()
    tensor_split: tuple[float, ...] = ()
    # True: the engine answers only requests carrying its secret. False serves anyone, as a
    # llama-server started by hand would (tests use it to stand in for one).
    private: bool = True

    def __post_init__(self) -> None:
        if self.flash_attention not in (None, *FLASH_ATTENTION):
            raise ValueError(
                f"flash attention must be one of {', '.join(FLASH_ATTENTION)}, "
                f"not {self.flash_attention!r}"
            )
        problem = slots_problem(self.parallel, embedding=self.embedding)
        if problem:
            raise ValueError(problem)
        if self.tensor_split and len(self.tensor_split) != len(self.rpc_servers):
            raise ValueError("the tensor split needs one share for each RPC worker")
        if self.kv_cache_type not in (None, *KV_CACHE_TYPES):
            raise ValueError(
                f"KV cache type must be one of {', '.join(KV_CACHE_TYPES)}, "
                f"not {self.kv_cache_type!r}"
            )

    def as_args(self) -> list[str]:
        """The embedded engine child's arguments (``embedded_main.parse_args``)."""
        args = [
            f"--ctx={self.context_length}",
            f"--threads={self.threads}",
            f"--gpu-layers={self.gpu_layers}",
            f"--parallel={self.parallel}",
        ]
        optional = {
            "--batch": self.batch_size,
            "--main-gpu": self.main_gpu,
            "--rope-freq-base": self.rope_freq_base,
            "--rope-freq-scale": self.rope_freq_scale,
            "--flash-attn": self.flash_attention,
            "--cache-type": self.kv_cache_type,
            "--slot-save-path": self.slot_save_path,
        }
        args += [f"{flag}={value}" for flag, value in optional.items() if value is not None]
        if self.use_mmap is not None:
            args.append("--mmap" if self.use_mmap else "--no-mmap")
        if self.use_mlock:
            args.append("--mlock")
        return [*args, "--embedding"] if self.embedding else args
