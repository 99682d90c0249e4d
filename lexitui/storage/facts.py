"""Reading a model file's header facts: quantization, architecture, size, and which base model
it is a quantization of.

The base model groups files that are the same weights at different precisions (for the
"duplicate" and "better version" cleanup suggestions). GGUF writers record it as
``general.basename`` + ``general.size_label`` + ``general.finetune`` (convert_hf_to_gguf.py
fills them from the repo); older files only have ``general.name``. Neither names the
quantization, so every quant of one conversion shares the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lexitui.domain.storage import HeaderFacts, StoredModel
from lexitui.gguf.errors import GgufError
from lexitui.gguf.local import read_local_header
from lexitui.gguf.records import GgufHeader
from lexitui.gguf.text import safe_text
from lexitui.storage.errors import StorageError
from lexitui.storage.parts import model_parts

# A quant spelled inside general.name ("Llama 3 8B Q4_K_M") must not split one model in two.
_QUANT_WORD = re.compile(r"\b(?:i?q\d\w*|f16|bf16|f32|fp16|fp32|gguf)\b", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
BASE_LIMIT = 120


def facts_of(header: GgufHeader) -> HeaderFacts:
    name = header.file_type_name
    return HeaderFacts(
        quantization=None if name is None or name.startswith("unknown") else name,
        architecture=_text(header.architecture),
        parameter_count=header.parameter_count or None,
        context_length=header.context_length,
        base_model=base_model_key(header),
    )


def read_facts(path: Path) -> HeaderFacts:
    """Facts of the GGUF at ``path``; raises GgufError (blocking: call in a thread)."""
    return facts_of(read_local_header(path))


def base_model_key(header: GgufHeader) -> str | None:
    meta = header.metadata
    parts = [meta.get(k) for k in ("general.basename", "general.size_label", "general.finetune")]
    words = [p for p in parts if isinstance(p, str) and p.strip()]
    if not words:
        name = meta.get("general.name")
        words = [name] if isinstance(name, str) else []
    text = _QUANT_WORD.sub(" ", " ".join(words))
    text = _SPACES.sub(" ", text).strip().lower()
    return safe_text(text, BASE_LIMIT) if text else None


def _text(value: str | None) -> str | None:
    return safe_text(value, 80) if value else None


def read_all_facts(models: list[StoredModel]) -> dict[str, tuple[HeaderFacts, int]]:
    """Each readable model's header facts and bytes on disk (blocking: call in a thread)."""
    out: dict[str, tuple[HeaderFacts, int]] = {}
    for model in models:
        path = Path(model.model.path)
        try:
            parts = model_parts(path)
            size = sum(os.stat(p).st_size for p in parts)
        except (OSError, StorageError):
            continue  # gone or incomplete: reconciliation and verification say so
        try:
            facts = read_facts(Path(os.path.realpath(path)))
        except GgufError:
            facts = HeaderFacts()  # remembered as "nothing to show" until the file changes
        out[model.id] = (facts, size)
    return out
