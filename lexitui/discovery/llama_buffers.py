"""The sizes of the buffers llama.cpp allocates, as formulas grounded in its graph and measured
against the engine's own logged buffer sizes.

Measured here: the embedded engine (xllamacpp 2026.10, llama.cpp's server, CPU) on SmolLM2-135M
and generated llama models (n_embd 256-1024, n_ff 768-2816, 4-16 heads, head size 64/128, vocab
49k/99k) at contexts 512-8192, n_ubatch 256-1024, 1 and 4 slots, f16/q8_0/q4_0 KV. On a GPU:
llama.cpp's CLI built with CUDA 13.0 on one H100 (driver 580) with a 1B-shaped Q4_0 model and a
SmolLM2-shaped Q8_0 model at 0-17 GPU layers, contexts 2048-32768, flash attention on and off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lexitui.discovery.model_facts import ModelFacts
from lexitui.domain.units import MIB

F32 = 4  # bytes of one activation

# --- compute buffers -------------------------------------------------------------------------
# Each backend sizes its compute buffer by allocating the worst-case graph (one micro-batch of
# n_ubatch tokens) in one arena, reusing a tensor's memory once nothing reads it any more; the
# arena's high-water mark is the buffer. Two phases of the graph compete for that mark:
# - the feed-forward block, where these f32 activations of every token are live together: the
#   residual stream, its norm, the scaled norm, the FFN output and the layer output
#   (5 x n_embd), and gate, up and the gated product (3 x n_ff), plus 9 scalars of
#   bookkeeping. The attention mask (one value per KV cell of a sequence and token, f16 with
#   flash attention) is an input live through every layer, so it sits on top of this phase.
# - the output layer: the logits of every output row (the server asks for one row per slot;
#   llama.cpp's CLI for every token of the batch, 96 MiB with a 49k vocabulary) plus the
#   final hidden state. The mask is dead by then.
# Fitted to the byte on the CPU engine (FFN phase) and on CUDA (output phase, CLI).
FFN_ACTIVATIONS_PER_EMBD = 5
FFN_ACTIVATIONS_PER_FF = 3
FFN_ACTIVATIONS_EXTRA = 9
FA_MASK_BYTES = 2  # f16; without flash attention an f32 mask plus f32 scores of every head
# Without flash attention the KQ scores are live with the FFN-phase figure kept too, which makes
# the result an upper bound: measured peaks were 3-7 MiB lower on the CPU and 50 MiB (9%) lower
# on CUDA (546 MiB measured, 1B model at ctx 8192).

# --- fixed costs -----------------------------------------------------------------------------
# The engine child with no model is a Python interpreter plus the xllamacpp extension (25 MiB
# resident, measured). Loaded and after a full prompt it holds more that no llama.cpp buffer
# accounts for: HTTP server and thread pools, libllama's pages, graph and scheduler metadata,
# request bookkeeping, and the tokenizer's tables, which grow with the vocabulary. Measured as
# resident size minus logged buffers after a full prompt: 50-59 MiB with a 49,152-token
# vocabulary and 61-64 MiB with 99,152 (4 models x contexts 512-8192).
ENGINE_BASELINE_BYTES = 48 * MIB
ENGINE_BYTES_PER_VOCAB_TOKEN = 150
# Per GPU in use: the CUDA context, cuBLAS handles and workspace, and ggml's CUDA memory pool,
# which llama.cpp reports as "unaccounted" VRAM: 608-615 MiB in all 8 CUDA runs with flash
# attention (H100, CUDA 13.0), 908 MiB without it (the pool then holds the f16 score copies).
GPU_OVERHEAD_BYTES = 610 * MIB
GPU_OVERHEAD_NO_FLASH_ATTENTION_BYTES = 300 * MIB
# In RAM once a GPU backend is loaded: the CUDA runtime's host allocations and the pages of the
# GPU libraries. The CUDA CLI process held 131 MiB of anonymous memory and 153 MiB of library
# pages beyond the model file at every layer count; less what any llama.cpp process has anyway.
GPU_HOST_OVERHEAD_BYTES = 256 * MIB

# --- KV cache --------------------------------------------------------------------------------
# Bytes per cached element for llama.cpp's KV cache types (quantized types: block bytes / 32).
KV_BYTES_PER_ELEMENT: dict[str, float] = {
    "f32": 4.0,
    "f16": 2.0,
    "bf16": 2.0,
    "q8_0": 34 / 32,
    "q5_1": 24 / 32,
    "q5_0": 22 / 32,
    "q4_1": 20 / 32,
    "q4_0": 18 / 32,
    "iq4_nl": 18 / 32,
}
KV_CELL_PADDING = 256  # llama.cpp rounds the context up to a multiple of this


def padded_context(n_ctx: int) -> int:
    return -(-max(1, n_ctx) // KV_CELL_PADDING) * KV_CELL_PADDING


def kv_bytes_per_layer(facts: ModelFacts, n_ctx: int, kv_type: str) -> int:
    return int(n_ctx * facts.kv_bytes_per_token_per_layer(KV_BYTES_PER_ELEMENT[kv_type]))


@dataclass(frozen=True)
class ComputePhases:
    """Peak bytes of the two graph phases that compete for a compute buffer."""

    ffn: int  # feed-forward activations + attention inputs
    output: int  # logits + final hidden state
    host_inputs: int  # what the CPU keeps when a GPU runs the layers: inputs and the mask

    @property
    def peak(self) -> int:
        return max(self.ffn, self.output)


def compute_phases(
    facts: ModelFacts, ctx_per_seq: int, ubatch: int, outputs: int, flash: bool
) -> ComputePhases:
    per_token = (
        FFN_ACTIVATIONS_PER_EMBD * facts.n_embd
        + FFN_ACTIVATIONS_PER_FF * facts.feed_forward_length
        + FFN_ACTIVATIONS_EXTRA
    ) * F32
    mask = ctx_per_seq * (FA_MASK_BYTES if flash else F32)
    scores = 0 if flash else ctx_per_seq * F32 * facts.n_head
    hidden = ubatch * facts.n_embd * F32
    return ComputePhases(
        ffn=ubatch * (per_token + mask + scores),
        output=outputs * facts.n_vocab * F32 + hidden,
        # Token embeddings are looked up on the CPU and copied over, next to the mask: measured
        # 2 x n_embd x n_ubatch f32 plus the mask, at every context and layer count.
        host_inputs=2 * hidden + ubatch * mask,
    )


# --- layer placement -------------------------------------------------------------------------


def place_layers(n_layers: int, gpu_layers: int, free: Sequence[int]) -> list[int | None]:
    """Device index (None: CPU) of each layer, then of the output layer, as llama.cpp places
    them: the last ``gpu_layers`` of the n_layers + 1 slots go to the GPUs, split in proportion
    to their free memory (its default), the earlier slots to the earlier GPUs."""
    slots = n_layers + 1
    offload = 0 if not free else slots if gpu_layers < 0 else min(gpu_layers, slots)
    start = slots - offload
    total = sum(max(0, f) for f in free) or 1
    bounds, running = [], 0
    for f in free:
        running += max(0, f)
        bounds.append(running / total)
    placed: list[int | None] = []
    for slot in range(slots):
        if slot < start:
            placed.append(None)
            continue
        position = (slot - start) / offload
        placed.append(next((i for i, b in enumerate(bounds) if position < b), len(free) - 1))
    return placed
