"""Records for models lexitui knows about locally."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lexitui.domain.enums import ModelFormat

# Ids end up in file names, SQL rows, URLs and on screen: keep them to a safe alphabet.
MODEL_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,127}$")


class InvalidModelId(ValueError):
    pass


def check_model_id(model_id: str) -> str:
    if not MODEL_ID_PATTERN.fullmatch(model_id):
        raise InvalidModelId(
            f"invalid model id {model_id!r}: use lowercase letters, digits, '.', '_', ':' or '-'"
        )
    return model_id


def model_id_from_filename(file_name: str) -> str:
    """``SmolLM2-135M-Instruct.Q4_1.gguf`` -> ``smollm2-135m-instruct-q4_1``."""
    stem = file_name.rsplit(".gguf", 1)[0] if file_name.lower().endswith(".gguf") else file_name
    slug = re.sub(r"[^a-z0-9_:-]+", "-", stem.lower()).strip("-._:")
    return check_model_id(slug[:128] or "model")


@dataclass(frozen=True)
class InstalledModel:
    id: str
    name: str
    path: str
    format: ModelFormat
    size_bytes: int
    source: str
    registered_by_path: bool
    installed_at: datetime
    last_used_at: datetime | None = None
