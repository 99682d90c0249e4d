"""What the memory and speed estimates need to know about one model file.

Two ways to get it, and the record says which (``source``):

- ``from_gguf_header``: the real shape and the real size of every tensor, from the GGUF header
  (read locally, or over HTTP Range before downloading). Layer bytes are exact, so the weights a
  partial GPU offload puts on each device are exact too.
- ``from_size``: only a file size and maybe a parameter count (a safetensors repo, a search
  result). The shape is borrowed from the published config of a model of similar size, and the
  file's bytes are spread over it; ``basis`` says so in words a user can read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from lexitui.discovery.quant_names import parse_quantization
from lexitui.gguf.errors import GgufError
from lexitui.gguf.records import BLOCK_TENSOR
from lexitui.gguf.shape import check_shape
from lexitui.gguf.text import safe_text
from lexitui.hardware.memory_estimate import BITS_PER_WEIGHT

if TYPE_CHECKING:
    from lexitui.gguf.records import GgufHeader

FactsSource = Literal["gguf", "estimated"]
TypeBytes = tuple[tuple[str, int], ...]  # (ggml type name, bytes), like dict.items()

_EXPERT_TENSOR = re.compile(r"_exps\.")  # ffn_{up,gate,down}_exps: every expert in one tensor
DEFAULT_BITS_PER_WEIGHT = 4.85  # Q4_K_M, the quant most people pick, when the label says nothing


@dataclass(frozen=True)
class ModelFacts:
    """The shape and per-tensor sizes of one model file; every size is in bytes."""

    architecture: str
    parameter_count: int
    n_layers: int
    n_embd: int
    n_head: int
    n_head_kv: int
    key_length: int  # per head
    value_length: int
    n_vocab: int
    context_length: int | None  # the trained context
    # Width of the feed-forward activations one token produces in one layer: n_ff for dense
    # models, used experts x expert width (+ shared experts) for MoE. Sizes compute buffers.
    feed_forward_length: int
    layer_bytes: tuple[TypeBytes, ...]  # per block, by ggml type
    input_embedding_bytes: int  # token_embd: llama.cpp always keeps it on the CPU
    output_bytes: int  # output.weight; 0 when the embedding matrix is reused (tied)
    output_type: str | None  # ggml type of output.weight (of token_embd when tied)
    other_bytes: int = 0  # final norm, rope factors...: small tensors outside the blocks
    # The largest single weight in a block (an FFN matrix, or an expert stack): what the GPU
    # stages when it runs a CPU layer's matrix product for a prompt batch.
    largest_layer_tensor_bytes: int = 0
    expert_count: int = 0
    expert_used_count: int = 0
    layer_expert_bytes: tuple[int, ...] = ()  # per block, bytes of the stacked expert tensors
    file_type: str | None = None  # "Q4_K_M", "F16"...
    file_size_bytes: int | None = None
    source: FactsSource = "gguf"
    basis: str = ""  # where the numbers come from, in one sentence

    # --- derived sizes ------------------------------------------------------------------------

    @property
    def layer_weight_bytes(self) -> tuple[int, ...]:
        return tuple(sum(b for _, b in layer) for layer in self.layer_bytes)

    @property
    def tied_embeddings(self) -> bool:
        return self.output_bytes == 0

    @property
    def weight_bytes(self) -> int:
        """Every tensor in the file (the tied output is the embedding matrix, counted once)."""
        return (
            sum(self.layer_weight_bytes)
            + self.input_embedding_bytes
            + self.output_bytes
            + self.other_bytes
        )

    @property
    def output_layer_bytes(self) -> int:
        """What the output layer puts on the device that runs it: a tied model's output reuses
        the embedding matrix, and a GPU running it gets its own copy of that matrix."""
        return self.output_bytes or self.input_embedding_bytes

    def layer_bytes_of_types(self, types: frozenset[str]) -> tuple[int, ...]:
        return tuple(sum(b for t, b in layer if t in types) for layer in self.layer_bytes)

    def active_bytes_per_token(self) -> int:
        """Weights one decoded token reads: all of a dense model; for MoE only the used
        experts' share of the expert tensors."""
        share = self.expert_used_count / self.expert_count if self.expert_count else 1.0
        experts = self.layer_expert_bytes or (0,) * self.n_layers
        layers = sum(
            total - exp + exp * share
            for total, exp in zip(self.layer_weight_bytes, experts, strict=False)
        )
        return int(layers + self.output_layer_bytes + self.other_bytes)

    def kv_bytes_per_token_per_layer(self, bytes_per_element: float) -> float:
        return self.n_head_kv * (self.key_length + self.value_length) * bytes_per_element

    # --- constructors -------------------------------------------------------------------------

    @classmethod
    def from_gguf_header(cls, header: GgufHeader) -> ModelFacts:
        """Facts from a validated header; raises GgufError (one line to show) when it lacks the
        shape keys or they disagree with its tensors.

        The header parser checks the shape already; it is checked again here because one entry
        per declared layer is built below, and a header may come from elsewhere."""
        arch = header.architecture or "unknown"
        shown = safe_text(arch, 40)
        n_layers, n_embd, n_head = header.block_count, header.embedding_length, header.head_count
        if not n_layers or not n_embd or not n_head:
            counts = (("block", n_layers), ("embedding", n_embd), ("head", n_head))
            missing = "/".join(name for name, value in counts if not value)
            raise GgufError(
                f"the GGUF header of this {shown} model has no {missing} count, "
                "so its memory cannot be estimated"
            )
        if not header.tensors:
            raise GgufError(f"the GGUF file of this {shown} model has no tensors (no weights)")
        check_shape(header)
        layers: list[dict[str, int]] = [{} for _ in range(n_layers)]
        experts = [0] * n_layers
        embedding = output = other = largest = 0
        embedding_type = output_type = None
        for tensor in header.tensors:
            match = BLOCK_TENSOR.match(tensor.name)
            if match and int(match.group(1)) < n_layers:
                index = int(match.group(1))
                per_type = layers[index]
                per_type[tensor.type_name] = per_type.get(tensor.type_name, 0) + tensor.n_bytes
                largest = max(largest, tensor.n_bytes)
                if _EXPERT_TENSOR.search(tensor.name):
                    experts[index] += tensor.n_bytes
            elif tensor.name == "token_embd.weight":
                embedding, embedding_type = tensor.n_bytes, tensor.type_name
            elif tensor.name == "output.weight":
                output, output_type = tensor.n_bytes, tensor.type_name
            else:
                other += tensor.n_bytes
        used = _meta_int(header, f"{arch}.expert_used_count") or 0
        vocab = header.vocab_size or _vocab_from_embedding(header, n_embd)
        return cls(
            architecture=arch,
            parameter_count=header.parameter_count,
            n_layers=n_layers,
            n_embd=n_embd,
            n_head=n_head,
            n_head_kv=header.head_count_kv or n_head,
            key_length=header.key_length or n_embd // n_head,
            value_length=header.value_length or n_embd // n_head,
            n_vocab=vocab,
            context_length=header.context_length,
            feed_forward_length=_ffn_width(header, arch, n_embd, used),
            layer_bytes=tuple(tuple(sorted(t.items())) for t in layers),
            input_embedding_bytes=embedding,
            output_bytes=output,
            output_type=output_type or embedding_type,
            other_bytes=other,
            expert_count=header.expert_count or 0,
            expert_used_count=used,
            layer_expert_bytes=tuple(experts),
            largest_layer_tensor_bytes=largest,
            file_type=header.file_type_name,
            file_size_bytes=header.file_size,
            source="gguf",
            basis="shape and tensor sizes from the GGUF header",
        )

    @classmethod
    def from_size(
        cls, parameter_count: int | None, size_bytes: int, quant_label: str | None
    ) -> ModelFacts:
        """Facts for a file known only by size (and maybe parameter count and quant label).

        The shape is that of the published model nearest in parameter count; the file's bytes
        are spread over its embedding, output and layers in proportion to their parameters.
        """
        if size_bytes <= 0:
            raise ValueError("size_bytes must be positive")
        bpw = bits_per_weight_of(quant_label)
        params = parameter_count or int(size_bytes * 8 / bpw)
        ref = nearest_reference(params)
        facts = ref.facts(params)
        counted = "parameter count and file size" if parameter_count else "file size"
        return facts.with_weight_bytes(
            size_bytes,
            quant_label,
            basis=f"estimated from the {counted}, shaped like {ref.name}",
            source="estimated",
        )

    def with_weight_bytes(
        self,
        size_bytes: int,
        quant_label: str | None,
        *,
        basis: str | None = None,
        source: FactsSource | None = None,
    ) -> ModelFacts:
        """The same shape stored in ``size_bytes``: another quantization of this model.

        Every tensor group scales by the same factor (real quant recipes keep embeddings and
        some attention tensors at higher precision, so a group may be off by a few percent).
        """
        scale = size_bytes / max(1, self.weight_bytes)
        kind, share = main_block_type(quant_label)
        layers = tuple(
            _split_layer(int(total * scale), kind, share) for total in self.layer_weight_bytes
        )
        return replace(
            self,
            layer_bytes=layers,
            input_embedding_bytes=int(self.input_embedding_bytes * scale),
            output_bytes=int(self.output_bytes * scale),
            output_type=self.output_type,  # recipes keep output.weight at Q6_K or more
            other_bytes=int(self.other_bytes * scale),
            layer_expert_bytes=tuple(int(b * scale) for b in self.layer_expert_bytes),
            largest_layer_tensor_bytes=int(self.largest_layer_tensor_bytes * scale),
            file_type=quant_label or self.file_type,
            file_size_bytes=size_bytes,
            source=source or self.source,
            basis=basis
            or f"shape from another variant's GGUF header, sizes scaled to {quant_label}",
        )


# --- helpers ----------------------------------------------------------------------------------


def _meta_int(header: GgufHeader, key: str) -> int | None:
    value = header.metadata.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    values = getattr(value, "values", None)  # a per-layer array: the widest layer decides
    numbers = [v for v in values or () if type(v) is int]
    return max(numbers) if numbers else None


def _vocab_from_embedding(header: GgufHeader, n_embd: int) -> int:
    for tensor in header.tensors:
        if tensor.name == "token_embd.weight" and len(tensor.dims) >= 2:
            return tensor.dims[1]
    return 32000  # llama's; only for files without a tokenizer or embedding (never seen)


def _ffn_width(header: GgufHeader, arch: str, n_embd: int, used: int) -> int:
    """Per-token FFN activations: from metadata, else from the first block's ffn_up dims."""
    if used:
        expert = _meta_int(header, f"{arch}.expert_feed_forward_length") or 0
        shared = _meta_int(header, f"{arch}.expert_shared_feed_forward_length") or 0
        shared *= _meta_int(header, f"{arch}.expert_shared_count") or (1 if shared else 0)
        if expert:
            return used * expert + shared
    dense = _meta_int(header, f"{arch}.feed_forward_length")
    if dense:
        return dense
    for tensor in header.tensors:
        if tensor.name.startswith("blk.0.ffn_up") and len(tensor.dims) >= 2:
            return tensor.dims[1] * (used or 1)
    return 4 * n_embd  # the classic transformer ratio


def bits_per_weight_of(quant_label: str | None) -> float:
    parsed = parse_quantization(quant_label) if quant_label else None
    if parsed is None or parsed.quantization is None:
        return DEFAULT_BITS_PER_WEIGHT
    return BITS_PER_WEIGHT.get(parsed.quantization, DEFAULT_BITS_PER_WEIGHT)


# Share of layer bytes in the recipe's main block type where the mix matters for repacking:
# llama.cpp's Q4_K_M keeps attn_v and ffn_down of half the layers at Q6_K (~20% of layer bytes
# on Llama-3-8B), Q4_K_S a few at Q5_K, and Q3_K_M stores ffn_down (a third) as Q4_K.
_MIXES: dict[str, tuple[str, float]] = {
    "Q4_K_M": ("Q4_K", 0.8),
    "Q4_K_S": ("Q4_K", 0.95),
    "Q3_K_M": ("Q4_K", 0.3),
}


def main_block_type(quant_label: str | None) -> tuple[str, float]:
    """The ggml block type most of a file's layer bytes have, by its quant label, and its
    share: "Q4_0" files are all Q4_0 blocks, "Q4_K_M" files 80% Q4_K. Tells which layer bytes
    llama.cpp's CPU backend repacks (memory_breakdown.REPACK_TYPES) when no header is read."""
    parsed = parse_quantization(quant_label) if quant_label else None
    if parsed is None or parsed.quantization is None:
        return "unknown", 1.0
    name = parsed.quantization.value
    if name in _MIXES:
        return _MIXES[name]
    return (re.sub(r"_(XXS|XS|S|M|L)$", "", name) if name.startswith("Q") else name), 1.0


def _split_layer(total: int, kind: str, share: float) -> TypeBytes:
    main = int(total * share)
    return ((kind, main), ("mixed", total - main)) if main < total else ((kind, total),)


@dataclass(frozen=True)
class Reference:
    """A published model config, to shape a model known only by its size."""

    name: str
    parameters: int
    n_layers: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_vocab: int
    tied: bool
    context_length: int

    def facts(self, parameter_count: int) -> ModelFacts:
        """Facts at 1 byte per parameter (``with_weight_bytes`` rescales), with the layers
        widened or narrowed so the parameters add up to ``parameter_count``."""
        embed = self.n_vocab * self.n_embd
        output = 0 if self.tied else embed
        per_layer = max(1, (parameter_count - embed - output) // self.n_layers)
        head = self.n_embd // self.n_head
        return ModelFacts(
            architecture="unknown",
            parameter_count=parameter_count,
            n_layers=self.n_layers,
            n_embd=self.n_embd,
            n_head=self.n_head,
            n_head_kv=self.n_head_kv,
            key_length=head,
            value_length=head,
            n_vocab=self.n_vocab,
            context_length=self.context_length,
            feed_forward_length=self.n_ff,
            layer_bytes=tuple((("unknown", per_layer),) for _ in range(self.n_layers)),
            input_embedding_bytes=embed,
            # gate, up and down are each n_embd x n_ff: the largest matrices of a dense block.
            largest_layer_tensor_bytes=min(per_layer, self.n_embd * self.n_ff),
            output_bytes=output,
            output_type="unknown",
            source="estimated",
        )


# Shapes from the models' published config.json files.
REFERENCES: tuple[Reference, ...] = (
    Reference("SmolLM2-135M", 134_515_008, 30, 576, 9, 3, 1536, 49152, True, 8192),
    Reference("Qwen2.5-0.5B", 494_032_768, 24, 896, 14, 2, 4864, 151936, True, 32768),
    Reference("Llama-3.2-1B", 1_235_814_400, 16, 2048, 32, 8, 8192, 128256, True, 131072),
    Reference("Llama-3.2-3B", 3_212_749_824, 28, 3072, 24, 8, 8192, 128256, True, 131072),
    Reference("Llama-3.1-8B", 8_030_261_248, 32, 4096, 32, 8, 14336, 128256, False, 131072),
    Reference("Qwen2.5-14B", 14_770_033_664, 48, 5120, 40, 8, 13824, 152064, False, 131072),
    Reference("Qwen2.5-32B", 32_763_876_352, 64, 5120, 40, 8, 27648, 152064, False, 131072),
    Reference("Llama-3.1-70B", 70_553_706_496, 80, 8192, 64, 8, 28672, 128256, False, 131072),
    Reference("Mistral-Large-123B", 122_610_069_504, 88, 12288, 96, 8, 28672, 32768, False, 131072),
    Reference("Llama-3.1-405B", 405_853_388_800, 126, 16384, 128, 8, 53248, 128256, False, 131072),
)


def nearest_reference(parameter_count: int) -> Reference:
    """Nearest on a log scale: 2B is closer to 3B than to 1B, as shapes go."""
    target = math.log(max(1, parameter_count))
    return min(REFERENCES, key=lambda r: abs(math.log(r.parameters) - target))
