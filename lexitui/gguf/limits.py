"""How much a GGUF header may claim before we call it hostile (checklists G1, G2, G5).

Real models have under 2,000 tensors, under 100 metadata entries, vocabularies of up to a few
hundred thousand tokens and headers of a few MiB. The limits are generous multiples of that, so no
real file trips them, yet low enough that a hostile header is refused in bounded time and memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexitui.domain.units import KIB, MIB


@dataclass(frozen=True)
class GgufLimits:
    max_tensors: int = 65_536
    max_kv_pairs: int = 65_536
    max_name_bytes: int = 64 * KIB  # a metadata key or a tensor name
    max_string_bytes: int = 16 * MIB  # one string value (chat templates are ~10 KiB)
    max_array_items: int = 16 * MIB  # vocabularies and merge lists are < 1M items
    max_header_bytes: int = 256 * MIB  # everything before the tensor data
    kept_array_items: int = 64  # shorter arrays keep their values; longer ones are summarised


DEFAULT_LIMITS = GgufLimits()
