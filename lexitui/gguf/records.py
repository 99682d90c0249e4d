"""What a validated GGUF header says: plain frozen records, no I/O.

``GgufHeader`` answers the questions the rest of lexitui asks of a model file (architecture,
size, layers, heads, context, quantisation) without anyone having to know GGUF key spellings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lexitui.gguf.constants import VALUE_TYPE_NAMES, file_type_name
from lexitui.gguf.text import safe_text

Scalar = int | float | bool | str
# Nine digits at most: int() of a 5,000-digit block index raises instead of answering.
BLOCK_TENSOR = re.compile(r"blk\.(\d{1,9})\.")
JSON_TEXT_LIMIT = 200  # chat templates run to kilobytes; --json shows their start


@dataclass(frozen=True)
class GgufArray:
    """A metadata array. ``values`` is kept only for short arrays; long ones (a tokenizer's
    vocabulary and merges) are skipped while parsing, so only their type and length remain."""

    item_type: int
    length: int
    values: tuple[Scalar, ...] | None

    @property
    def item_type_name(self) -> str:
        return VALUE_TYPE_NAMES.get(self.item_type, str(self.item_type))


MetadataValue = Scalar | GgufArray


@dataclass(frozen=True)
class GgufTensor:
    name: str
    dims: tuple[int, ...]  # ggml order: dims[0] is the row length
    ggml_type: int
    type_name: str
    offset: int  # from the start of the tensor data (GgufHeader.data_offset), as in the file
    n_elements: int
    n_bytes: int


@dataclass(frozen=True)
class GgufHeader:
    version: int
    alignment: int
    metadata: Mapping[str, MetadataValue] = field(hash=False)  # a read-only mapping
    tensors: tuple[GgufTensor, ...]
    data_offset: int  # where tensor data starts: the end of the header, padded to `alignment`
    header_bytes: int  # bytes of magic, counts, metadata and tensor infos (before the padding)
    file_size: int | None  # None when a remote server did not say

    # --- metadata lookups -------------------------------------------------------------------

    def _int(self, key: str) -> int | None:
        value = self.metadata.get(key)
        if isinstance(value, bool) or not isinstance(value, int | GgufArray):
            return None
        if isinstance(value, GgufArray):  # per-layer values (e.g. head_count_kv in some archs)
            numbers = [v for v in value.values or () if type(v) is int]
            return max(numbers) if numbers else None
        return value

    def _str(self, key: str) -> str | None:
        value = self.metadata.get(key)
        return value if isinstance(value, str) else None

    def _arch_int(self, suffix: str) -> int | None:
        arch = self.architecture
        return None if arch is None else self._int(f"{arch}.{suffix}")

    @property
    def architecture(self) -> str | None:
        return self._str("general.architecture")

    @property
    def name(self) -> str | None:
        """``general.name`` as written in the file: pass it through ``safe_text`` to show it."""
        return self._str("general.name")

    @property
    def block_count(self) -> int | None:
        return self._arch_int("block_count")

    @property
    def embedding_length(self) -> int | None:
        return self._arch_int("embedding_length")

    @property
    def head_count(self) -> int | None:
        return self._arch_int("attention.head_count")

    @property
    def head_count_kv(self) -> int | None:
        """KV heads; the largest layer's where the file lists them per layer. Defaults to the
        head count, as llama.cpp does when the key is absent (no grouped-query attention)."""
        kv = self._arch_int("attention.head_count_kv")
        return kv if kv is not None else self.head_count

    def _per_head(self, suffix: str) -> int | None:
        explicit = self._arch_int(suffix)
        if explicit is not None:
            return explicit
        embedding, heads = self.embedding_length, self.head_count
        return embedding // heads if embedding and heads else None

    @property
    def key_length(self) -> int | None:
        return self._per_head("attention.key_length")

    @property
    def value_length(self) -> int | None:
        return self._per_head("attention.value_length")

    @property
    def context_length(self) -> int | None:
        return self._arch_int("context_length")

    @property
    def expert_count(self) -> int | None:
        return self._arch_int("expert_count")

    @property
    def vocab_size(self) -> int | None:
        tokens = self.metadata.get("tokenizer.ggml.tokens")
        if isinstance(tokens, GgufArray):
            return tokens.length
        return self._arch_int("vocab_size")

    @property
    def file_type(self) -> int | None:
        return self._int("general.file_type")

    @property
    def file_type_name(self) -> str | None:
        file_type = self.file_type
        return None if file_type is None else file_type_name(file_type)

    # --- tensor sums ------------------------------------------------------------------------

    @property
    def parameter_count(self) -> int:
        return sum(t.n_elements for t in self.tensors)

    @property
    def tensor_bytes(self) -> int:
        return sum(t.n_bytes for t in self.tensors)

    def bytes_by_type(self) -> dict[str, int]:
        """Tensor bytes per ggml type name, e.g. ``{"Q4_1": 70_000_000, "F32": 300_000}``."""
        totals: dict[str, int] = {}
        for tensor in self.tensors:
            totals[tensor.type_name] = totals.get(tensor.type_name, 0) + tensor.n_bytes
        return totals

    def layer_tensor_bytes(self) -> dict[int, int]:
        """Tensor bytes per repeating block (``blk.N.*``), the unit of GPU layer offload."""
        totals: dict[int, int] = {}
        for tensor in self.tensors:
            match = BLOCK_TENSOR.match(tensor.name)
            if match:
                layer = int(match.group(1))
                totals[layer] = totals.get(layer, 0) + tensor.n_bytes
        return totals

    @property
    def non_layer_tensor_bytes(self) -> int:
        """Bytes outside the blocks: token embeddings, output head, final norm..."""
        return sum(t.n_bytes for t in self.tensors if not BLOCK_TENSOR.match(t.name))

    # --- output -----------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``: arrays summarised, every file string made safe_text."""
        return {
            "version": self.version,
            "architecture": _json_value(self.architecture),
            "name": _json_value(self.name),
            "file_type": self.file_type,
            "file_type_name": self.file_type_name,
            "parameter_count": self.parameter_count,
            "block_count": self.block_count,
            "embedding_length": self.embedding_length,
            "head_count": self.head_count,
            "head_count_kv": self.head_count_kv,
            "key_length": self.key_length,
            "value_length": self.value_length,
            "context_length": self.context_length,
            "vocab_size": self.vocab_size,
            "expert_count": self.expert_count,
            "alignment": self.alignment,
            "tensor_count": len(self.tensors),
            "tensor_bytes": self.tensor_bytes,
            "bytes_by_type": self.bytes_by_type(),
            "header_bytes": self.header_bytes,
            "data_offset": self.data_offset,
            "file_size": self.file_size,
            "metadata": {safe_text(k): _json_value(v) for k, v in self.metadata.items()},
            "tensors": [
                {
                    "name": safe_text(t.name),
                    "type": t.type_name,
                    "dims": list(t.dims),
                    "offset": t.offset,
                    "n_bytes": t.n_bytes,
                }
                for t in self.tensors
            ],
        }


def _json_value(value: MetadataValue | None) -> Any:
    if isinstance(value, str):
        return safe_text(value, JSON_TEXT_LIMIT)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or Infinity
    if isinstance(value, GgufArray):
        summary: dict[str, Any] = {"array_of": value.item_type_name, "length": value.length}
        if value.values is not None:
            summary["values"] = [_json_value(v) for v in value.values]
        return summary
    return value
