"""Can an inference backend run on this hardware, and with which acceleration?

A pure function of the detected capabilities, so it is tested without probing anything. The rules
follow each project's published platform support: llama.cpp-based servers (Ollama, LM Studio,
llama.cpp, LocalAI) and text-generation-webui run on a CPU alone; vLLM needs a CUDA or ROCm GPU.
"""

from __future__ import annotations

from lexitui.domain.enums import GpuBackend, InferenceBackendType
from lexitui.domain.hardware import BackendSupport, CpuInfo, GpuInfo, HardwareCapabilities

B = InferenceBackendType

# The GPU backends each inference backend can use for acceleration.
ACCELERATION: dict[InferenceBackendType, frozenset[GpuBackend]] = {
    B.OLLAMA: frozenset({GpuBackend.CUDA, GpuBackend.ROCM, GpuBackend.METAL}),
    B.LLAMA_CPP: frozenset(
        {GpuBackend.CUDA, GpuBackend.ROCM, GpuBackend.METAL, GpuBackend.VULKAN, GpuBackend.SYCL}
    ),
    B.LM_STUDIO: frozenset({GpuBackend.CUDA, GpuBackend.ROCM, GpuBackend.METAL, GpuBackend.VULKAN}),
    B.VLLM: frozenset({GpuBackend.CUDA, GpuBackend.ROCM}),
    B.TEXT_GEN_WEB_UI: frozenset({GpuBackend.CUDA, GpuBackend.ROCM, GpuBackend.METAL}),
    B.LOCAL_AI: frozenset(
        {GpuBackend.CUDA, GpuBackend.ROCM, GpuBackend.METAL, GpuBackend.VULKAN, GpuBackend.SYCL}
    ),
    B.CUSTOM: frozenset(),
}
VLLM_MIN_COMPUTE = 70  # vLLM's CUDA kernels need Volta (7.0) or newer


def _simd(cpu: CpuInfo) -> str:
    if cpu.supports_avx512:
        return "AVX-512"
    if cpu.supports_avx2:
        return "AVX2"
    return "AVX" if cpu.supports_avx else "no AVX (slow)"


def _names(gpus: list[GpuInfo]) -> str:
    seen: dict[str, int] = {}
    for g in gpus:
        seen[g.name] = seen.get(g.name, 0) + 1
    return ", ".join(f"{n}x {name}" if n > 1 else name for name, n in seen.items())


def backend_support(backend: InferenceBackendType, caps: HardwareCapabilities) -> BackendSupport:
    if backend is B.CUSTOM:
        return BackendSupport(
            backend,
            True,
            "a custom OpenAI-compatible endpoint runs wherever it "
            "is hosted; this machine only sends requests",
        )
    if backend is B.VLLM:
        return _vllm(caps)
    if (
        backend is B.LM_STUDIO
        and caps.operating_system == "darwin"
        and caps.architecture != "arm64"
    ):
        return BackendSupport(
            backend, False, "LM Studio on macOS needs Apple Silicon (M1 or newer)"
        )
    usable = [g for g in caps.gpus if g.supported_backend in ACCELERATION[backend]]
    if usable:
        kinds = sorted({g.supported_backend.value for g in usable})
        return BackendSupport(
            backend,
            True,
            f"GPU acceleration via {'/'.join(kinds)} on "
            f"{_names(usable)}; CPU fallback ({_simd(caps.cpu)})",
        )
    return BackendSupport(
        backend,
        True,
        f"runs on the CPU only ({caps.cpu.physical_cores} cores, "
        f"{_simd(caps.cpu)}); no GPU this backend can accelerate with was found",
    )


def _vllm(caps: HardwareCapabilities) -> BackendSupport:
    if caps.operating_system != "linux":
        return BackendSupport(
            B.VLLM, False, f"vLLM runs on Linux GPUs; this is {caps.operating_system}"
        )
    cuda = [g for g in caps.gpus if g.supported_backend is GpuBackend.CUDA]
    new_enough = [g for g in cuda if (g.compute_capability_int or 0) >= VLLM_MIN_COMPUTE]
    rocm = [g for g in caps.gpus if g.supported_backend is GpuBackend.ROCM]
    if new_enough or rocm:
        gpus = new_enough or rocm
        kind = "CUDA" if new_enough else "ROCm"
        return BackendSupport(
            B.VLLM, True, f"vLLM can use {len(gpus)} {kind} GPU(s): {_names(gpus)}"
        )
    if cuda:
        found = ", ".join(sorted({g.compute_capability or "unknown" for g in cuda}))
        return BackendSupport(
            B.VLLM, False, f"vLLM needs CUDA compute capability 7.0 or newer; found {found}"
        )
    return BackendSupport(
        B.VLLM,
        False,
        "vLLM needs an NVIDIA (CUDA) or AMD (ROCm) GPU; none was found (see probe notes)"
        if caps.probe_notes
        else "vLLM needs an NVIDIA (CUDA) or AMD (ROCm) GPU; none was found",
    )
