"""Quantization names as they appear in model file names on the Hub, and their relative quality.

Publishers spell the same llama.cpp file type many ways (``model.Q4_K_M.gguf``,
``model-q4_k_m.gguf``, ``model.fp16.gguf``) and add recipe names of their own on top of a base
type. ``QuantizationType`` holds only llama.cpp's own file types, the ones the memory estimator
has bits-per-weight figures for. Recipe spellings keep their own *label* and point at the base
type whose size and quality they are closest to:

- ARM repacks ``Q4_0_4_4``/``Q4_0_4_8``/``Q4_0_8_8`` are Q4_0 data in another layout (same
  size). Current llama.cpp no longer loads them (it repacks Q4_0 at load time instead), which a
  compatibility check can tell from the label.
- bartowski's ``Q6_K_L``, ``Q5_K_L``, ``Q4_K_L``, ``Q3_K_XL``, ``Q2_K_L`` are the base recipe with
  the embedding and output tensors kept at Q8_0: a little larger, a little better.
- unsloth's dynamic quants ``UD-Q4_K_XL`` etc. upcast chosen layers; the ``UD-`` prefix stays in
  the label because unsloth repos ship plain and dynamic quants of the same name side by side.
- ``Q3_K``/``Q4_K``/``Q5_K`` are llama.cpp's own aliases for the ``_M`` mixes.
- Pre-GGUF ``q4_2``/``q4_3`` are recognised (so they are not misread as something else) but map
  to no type: nothing current can load them.

mradermacher's imatrix prefix (``.i1-Q4_K_M``) does not change the type; it sets ``imatrix``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from lexitui.domain.discovery import ModelVariant
from lexitui.domain.enums import QuantizationType
from lexitui.hardware.memory_estimate import BITS_PER_WEIGHT

Q = QuantizationType

# Spelling (upper case) -> (base type, label). Labels of llama.cpp's own types are their values.
_EXTRAS: dict[str, tuple[QuantizationType | None, str]] = {
    "FP32": (Q.F32, "F32"),
    "FP16": (Q.F16, "F16"),
    "MXFP4_MOE": (Q.MXFP4, "MXFP4"),  # the name llama-quantize gives the type
    "Q3_K": (Q.Q3_K_M, "Q3_K"),
    "Q4_K": (Q.Q4_K_M, "Q4_K"),
    "Q5_K": (Q.Q5_K_M, "Q5_K"),
    "Q4_0_4_4": (Q.Q4_0, "Q4_0_4_4"),
    "Q4_0_4_8": (Q.Q4_0, "Q4_0_4_8"),
    "Q4_0_8_8": (Q.Q4_0, "Q4_0_8_8"),
    "Q6_K_L": (Q.Q6_K, "Q6_K_L"),
    "Q5_K_L": (Q.Q5_K_M, "Q5_K_L"),
    "Q4_K_L": (Q.Q4_K_M, "Q4_K_L"),
    "Q2_K_L": (Q.Q2_K, "Q2_K_L"),
    # "_XL": bartowski's Q3_K_XL is Q3_K_L plus Q8_0 embeddings; unsloth uses XL on every size.
    "Q2_K_XL": (Q.Q2_K, "Q2_K_XL"),
    "Q3_K_XL": (Q.Q3_K_L, "Q3_K_XL"),
    "Q4_K_XL": (Q.Q4_K_M, "Q4_K_XL"),
    "Q5_K_XL": (Q.Q5_K_M, "Q5_K_XL"),
    "Q6_K_XL": (Q.Q6_K, "Q6_K_XL"),
    "Q8_K_XL": (Q.Q8_0, "Q8_K_XL"),
    "Q4_2": (None, "Q4_2"),
    "Q4_3": (None, "Q4_3"),
}
_SPELLINGS: dict[str, tuple[QuantizationType | None, str]] = {
    **{q.value: (q, q.value) for q in QuantizationType},
    **_EXTRAS,
}

# Longest spelling first, so Q4_K_M beats Q4_K and IQ2_XXS is never read as IQ2_XS. A token must
# stand alone: no letter or digit right before or after it ("seq4_0x", "Q4-2024", "Qwen2.5" and
# "b1_58" are not quants), but ".", "-", "_" and the end of the name may surround it.
_ALTERNATION = "|".join(re.escape(s) for s in sorted(_SPELLINGS, key=len, reverse=True))
_TOKEN = re.compile(
    rf"(?<![A-Za-z0-9])(?P<ud>UD[-_])?(?P<quant>{_ALTERNATION})(?![A-Za-z0-9])", re.IGNORECASE
)
_IMATRIX_BEFORE = re.compile(r"(?:^|[.\-_])i1[-_.]$", re.IGNORECASE)
_IMATRIX_WORD = re.compile(r"(?<![A-Za-z0-9])imat(?:rix)?(?![A-Za-z0-9])", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedQuant:
    quantization: QuantizationType | None  # the base llama.cpp type; None for dead legacy types
    label: str  # normalised upper case as publishers write it: "Q4_K_M", "Q6_K_L", "UD-Q4_K_XL"
    imatrix: bool = False  # quantized with an importance matrix (mradermacher "i1-", "-imat")


def _parse_name(name: str) -> ParsedQuant | None:
    # The last token wins: the quant conventionally ends the name ("DeepSeek-V3-bf16-Q4_K_M").
    matches = list(_TOKEN.finditer(name))
    if not matches:
        return None
    match = matches[-1]
    base, label = _SPELLINGS[match["quant"].upper()]
    if match["ud"]:
        label = f"UD-{label}"
    imatrix = bool(_IMATRIX_BEFORE.search(name[: match.start()]) or _IMATRIX_WORD.search(name))
    return ParsedQuant(base, label, imatrix)


def parse_quantization(filename: str) -> ParsedQuant | None:
    """The quantization a (repo-relative) file name declares, or None when it names none.

    The file's own name is read first; a folder name (``Q4_K_M/model-00001-of-00002.gguf``) is
    the fallback.
    """
    *folders, name = filename.split("/")
    found = _parse_name(name)
    if found is None and folders:
        found = _parse_name("/".join(folders))
    return found


# Relative quality against effective bits per weight: anchors picked so the curve follows the
# shape of llama.cpp's published perplexity increases (near-lossless from Q6_K up, a steep drop
# under ~3 bpw). It is monotone in bits per weight by construction, so a larger type never scores
# lower; ternary TQ types (trained ternary, not quantized down) score by their size too.
_QUALITY_ANCHORS: tuple[tuple[float, float], ...] = (
    (1.0, 0.0),
    (2.0, 0.10),
    (2.4, 0.25),
    (3.0, 0.45),
    (3.5, 0.60),
    (4.0, 0.72),
    (4.5, 0.82),
    (5.0, 0.88),
    (5.7, 0.93),
    (6.6, 0.96),
    (8.5, 0.99),
    (16.0, 1.0),
)


def _quality_at(bpw: float) -> float:
    if bpw >= _QUALITY_ANCHORS[-1][0]:
        return 1.0
    for (x0, y0), (x1, y1) in pairwise(_QUALITY_ANCHORS):
        if bpw <= x1:
            return y0 + (y1 - y0) * max(0.0, bpw - x0) / (x1 - x0)
    return 1.0  # unreachable: the last anchor covers the rest


def quality_score(quant: QuantizationType | str) -> float:
    """0..1 relative quality: F32/F16/BF16 1.0 down to about 0.1 for IQ1_S.

    Takes a type or a label ("Q6_K_L" scores as its base Q6_K). Raises ValueError for a label
    that names no loadable type.
    """
    if isinstance(quant, QuantizationType):
        base = quant
    else:
        parsed = _parse_name(quant.strip())
        if parsed is None or parsed.quantization is None:
            raise ValueError(f"no known quality for quantization {quant!r}")
        base = parsed.quantization
    return round(_quality_at(BITS_PER_WEIGHT[base]), 4)


# --- a variant's labels -----------------------------------------------------------------------

_UNLOADABLE = re.compile(r"^(Q4_0_[48]_[48]|Q4_[23])$")  # ARM repack layouts, pre-GGUF types
_SIZE_LABEL = re.compile(r"^(?:(\d+)X)?(\d+(?:\.\d+)?)([KMBT])$")


def quant_label(variant: ModelVariant) -> str | None:
    if variant.quantization_label:
        return variant.quantization_label
    return variant.quantization.value if variant.quantization else None


def shown_label(variant: ModelVariant) -> str:
    """What a table names a variant by: a tag listed by its pull name (``llama3.2:3b-fp16``,
    whose tag says more than its quantization) by its tag; a file by its quantization."""
    if variant.filename == variant.variant_id and ":" in variant.variant_id:
        return variant.variant_id.rpartition(":")[2]
    return quant_label(variant) or variant.variant_id


def is_unloadable_quant(label: str | None) -> bool:
    return bool(label and _UNLOADABLE.match(label.upper().removeprefix("UD-")))


def variant_quality(variant: ModelVariant) -> float:
    if variant.estimated_quality_score is not None:
        return variant.estimated_quality_score
    label = quant_label(variant)
    try:
        return quality_score(label) if label else 0.5
    except ValueError:
        return 0.5


def parameter_count(label: str | None) -> int | None:
    """ "7B" -> 7e9, "135M" -> 1.35e8, "8x7B" -> 5.6e10; None when unknown."""
    match = _SIZE_LABEL.match((label or "").strip().upper())
    if not match:
        return None
    experts = int(match.group(1) or 1)
    scale = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[match.group(3)]
    return int(float(match.group(2)) * scale * experts)
