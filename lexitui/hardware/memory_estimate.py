"""How much memory a model needs: weights + KV cache + runtime overhead.

This is the one estimator in lexitui. The recommender feeds it representative models per size
class; model discovery feeds it real models (parameter count and, from GGUF metadata, layer count
and KV head shape) to say whether a quant fits *before* downloading.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexitui.domain.enums import ModelSizeCategory, QuantizationType
from lexitui.domain.units import MIB

# Effective bits per weight of a whole GGUF file, not the per-block nominal: llama.cpp keeps
# embeddings/output and some attention tensors at higher precision in the mixed "_M"/"_S" recipes.
# Derived from published file sizes of Llama-2-7B and Llama-3-8B quants (size * 8 / params).
BITS_PER_WEIGHT: dict[QuantizationType, float] = {
    QuantizationType.F32: 32.0,
    QuantizationType.F16: 16.0,
    QuantizationType.BF16: 16.0,
    QuantizationType.Q8_0: 8.5,
    QuantizationType.Q6_K: 6.56,
    QuantizationType.Q5_K_M: 5.69,
    QuantizationType.Q5_K_S: 5.54,
    QuantizationType.Q4_K_M: 4.85,
    QuantizationType.Q4_K_S: 4.58,
    QuantizationType.Q4_0: 4.55,
    QuantizationType.Q3_K_M: 3.91,
    QuantizationType.Q3_K_S: 3.50,
    QuantizationType.Q2_K: 3.35,
    QuantizationType.IQ4_XS: 4.46,
    QuantizationType.IQ4_NL: 4.68,
    QuantizationType.IQ3_M: 3.77,
    QuantizationType.IQ2_XXS: 2.40,
    # The rest, for the types discovery reads from file names. Legacy and K types: the Llama-3-8B
    # file sizes llama.cpp's quantize tool lists per type (GiB * 2**30 * 8 / 8.03e9 weights).
    # I-quants and ternary types: llama.cpp's nominal block bits per weight, plus the ~0.2-0.45
    # the full-precision embedding/output tensors add on Llama-3-8B (cross-checked against the
    # published Llama-3-8B quant file sizes); TQ types keep the nominal figure, since ternary
    # models' files vary too much in their embedding share.
    QuantizationType.Q5_1: 6.04,  # 5.65 GiB
    QuantizationType.Q5_0: 5.57,  # 5.21 GiB
    QuantizationType.Q4_1: 5.11,  # 4.78 GiB
    QuantizationType.Q3_K_L: 4.31,  # 4.03 GiB
    QuantizationType.Q2_K_S: 3.17,  # 2.96 GiB
    QuantizationType.IQ3_S: 3.67,  # 3.44 nominal
    QuantizationType.IQ3_XS: 3.51,  # 3.3 nominal
    QuantizationType.IQ3_XXS: 3.26,  # 3.06 nominal
    QuantizationType.IQ2_M: 2.93,  # 2.7 nominal
    QuantizationType.IQ2_S: 2.74,  # 2.5 nominal
    QuantizationType.IQ2_XS: 2.59,  # 2.31 nominal
    QuantizationType.IQ1_M: 2.15,  # 1.75 nominal
    QuantizationType.IQ1_S: 2.01,  # 1.56 nominal
    QuantizationType.TQ2_0: 2.06,  # nominal
    QuantizationType.TQ1_0: 1.69,  # nominal
    # 4.25 nominal (4-bit e2m1 + one 8-bit scale per 32); gpt-oss files keep attention at higher
    # precision: gpt-oss-120b's file is ~4.3 and gpt-oss-20b's ~4.6 bits per weight overall.
    QuantizationType.MXFP4: 4.5,
}

# Best quality first; the recommender walks this to upgrade or downgrade a choice.
QUALITY_ORDER: tuple[QuantizationType, ...] = tuple(
    sorted(BITS_PER_WEIGHT, key=lambda q: -BITS_PER_WEIGHT[q])
)

# Runtime context, scratch and compute buffers: a fixed part (CUDA/Metal context, graph) plus a
# share of the weights (llama.cpp's compute buffer grows with model width). A heuristic that errs
# a little high, so "fits" means fits.
OVERHEAD_FIXED_BYTES = 512 * MIB
OVERHEAD_WEIGHT_SHARE = 0.03


@dataclass(frozen=True)
class ModelShape:
    """What the KV cache size depends on: layers and the K/V width per layer."""

    n_layers: int
    n_kv_heads: int
    head_dim: int

    def kv_bytes_per_token(self, bytes_per_element: float = 2.0) -> float:
        return 2 * self.n_layers * self.n_kv_heads * self.head_dim * bytes_per_element


@dataclass(frozen=True)
class Representative:
    parameters: int
    shape: ModelShape
    example: str


# One typical model per size class (shapes from their published configs, all GQA with 8 KV heads).
REPRESENTATIVE: dict[ModelSizeCategory, Representative] = {
    ModelSizeCategory.TINY: Representative(3_200_000_000, ModelShape(28, 8, 128), "Llama-3.2-3B"),
    ModelSizeCategory.SMALL: Representative(8_000_000_000, ModelShape(32, 8, 128), "Llama-3.1-8B"),
    ModelSizeCategory.MEDIUM: Representative(14_800_000_000, ModelShape(48, 8, 128), "Qwen2.5-14B"),
    ModelSizeCategory.LARGE: Representative(32_800_000_000, ModelShape(64, 8, 128), "Qwen2.5-32B"),
    ModelSizeCategory.XLARGE: Representative(
        70_600_000_000, ModelShape(80, 8, 128), "Llama-3.1-70B"
    ),
    # The low end of "100B+"; a 405B-class model needs about 250 GB even at Q4_K_M.
    ModelSizeCategory.XXLARGE: Representative(
        123_000_000_000, ModelShape(88, 8, 128), "Mistral-Large-123B"
    ),
}


@dataclass(frozen=True)
class MemoryEstimate:
    weights_bytes: int
    kv_cache_bytes: int
    overhead_bytes: int
    n_layers: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_cache_bytes + self.overhead_bytes


def bits_per_weight(quant: QuantizationType | float) -> float:
    return quant if isinstance(quant, float) else BITS_PER_WEIGHT[quant]


def shape_for(parameter_count: int) -> ModelShape:
    """A plausible shape when the model's own is unknown: the nearest representative's."""
    nearest = min(REPRESENTATIVE.values(), key=lambda r: abs(r.parameters - parameter_count))
    return nearest.shape


def estimate_memory(
    parameter_count: int,
    quant: QuantizationType | float,
    context_length: int,
    *,
    shape: ModelShape | None = None,
    kv_bytes_per_element: float = 2.0,
    parallel: int = 1,
) -> MemoryEstimate:
    """Bytes to load ``parameter_count`` weights at ``quant`` and serve ``context_length`` tokens.

    ``kv_bytes_per_element`` is 2 for llama.cpp's default f16 cache (1 for q8_0); ``parallel``
    slots each hold their own context.
    """
    if parameter_count <= 0 or context_length <= 0 or parallel <= 0:
        raise ValueError("parameter_count, context_length and parallel must be positive")
    bpw = bits_per_weight(quant)
    if not 1.0 <= bpw <= 32.0:
        raise ValueError(f"bits per weight must be between 1 and 32, got {bpw}")
    shape = shape or shape_for(parameter_count)
    weights = int(parameter_count * bpw / 8)
    kv = int(shape.kv_bytes_per_token(kv_bytes_per_element) * context_length * parallel)
    overhead = int(OVERHEAD_FIXED_BYTES + OVERHEAD_WEIGHT_SHARE * weights)
    return MemoryEstimate(weights, kv, overhead, shape.n_layers)


def estimate_for_category(
    size: ModelSizeCategory, quant: QuantizationType, context_length: int
) -> MemoryEstimate:
    rep = REPRESENTATIVE[size]
    return estimate_memory(rep.parameters, quant, context_length, shape=rep.shape)
