"""A Hub ``ModelInfo`` as lexitui's ``RemoteModel``, plus what search needs beside it.

Sources, in the order they are trusted:

* parameters: the Hub's ``gguf.total`` (read from the file header), then a size in the repo name
  ("7B", "135M", "8x7B"), then ``safetensors.total`` — last because for packed quantizations
  (MLX 4-bit, GPTQ, AWQ) the Hub counts packed integers and undercounts several-fold;
* the label shown ("8B") comes from the name when it has one, as publishers round it;
* license: the card's ``license`` (its ``license_name`` when that is ``other``), else a
  ``license:`` tag; base model: the card's ``base_model``, else a ``base_model:`` tag;
* context length and architecture: the Hub's ``gguf`` summary, else the config's model type.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

from huggingface_hub.hf_api import ModelInfo

from lexitui.discovery.licenses import license_terms
from lexitui.discovery.quant_names import parse_quantization
from lexitui.discovery.repo_files import detect_format
from lexitui.domain.discovery import RemoteModel
from lexitui.domain.enums import ModelRegistryType, ModelTask

_SIZE_IN_NAME = re.compile(
    r"(?<![A-Za-z0-9.])(?:(?P<experts>\d{1,3})x)?(?P<n>\d{1,4}(?:\.\d{1,2})?)(?P<unit>[MBT])"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_BITS = re.compile(r"(?<![A-Za-z0-9])(\d{1,2})-?bits?(?![A-Za-z0-9])", re.IGNORECASE)
_TAG_FORMATS = frozenset({"gguf", "safetensors", "mlx", "onnx", "gptq", "awq"})
_SCALE = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
TASK_TAGS = {
    "conversational": ModelTask.GENERAL_CHAT,
    "code": ModelTask.CODE_ASSISTANT,
    "roleplay": ModelTask.ROLEPLAY,
    "uncensored": ModelTask.UNCENSORED,
    "creative-writing": ModelTask.CREATIVE_WRITING,
}


@dataclass(frozen=True)
class HubHit:
    """One search result with the Hub facts search sorts and filters on."""

    model: RemoteModel
    trending: float = 0.0
    parameters: int | None = None
    quantizations: tuple[str, ...] = ()  # labels seen in file names and tags: "Q4_K_M", "4-bit"
    formats: tuple[str, ...] = ()  # weight formats of the files it lists: "gguf", "mlx"


def size_from_name(repo_id: str) -> tuple[str, int] | None:
    """("8x7B", 56e9) from "mistralai/Mixtral-8x7B-v0.1"; None when the name states no size.

    Thousands ("4k", "128K") are left out: in a model name they are a context length.
    """
    match = _SIZE_IN_NAME.search(repo_id.rsplit("/", 1)[-1])
    if match is None:
        return None
    experts = int(match["experts"]) if match["experts"] else 1
    unit = match["unit"].upper()
    label = f"{match['experts']}x" if match["experts"] else ""
    label += f"{match['n']}{unit}"
    return label, int(float(match["n"]) * _SCALE[unit] * experts)


def count_label(count: int) -> str:
    """8_030_261_312 -> "8B", 1_235_814_400 -> "1.2B", 494_032_768 -> "494M"."""
    for unit in ("T", "B", "M", "K"):
        value = count / _SCALE[unit]
        if value >= 1:
            text = f"{value:.0f}" if value >= 10 else f"{value:.1f}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
    return str(count)


def _total(summary: Any) -> int | None:
    total = getattr(summary, "total", None) if summary is not None else None
    if total is None and isinstance(summary, dict):
        total = summary.get("total")
    return int(total) if isinstance(total, (int, float)) and total > 0 else None


def parameters_of(info: ModelInfo) -> tuple[str | None, int | None]:
    named = size_from_name(info.id)
    gguf_total, st_total = _total(info.gguf), _total(info.safetensors)
    count = gguf_total or (named[1] if named else None) or st_total
    label = named[0] if named else (count_label(count) if count else None)
    return label, count


def quantizations_of(info: ModelInfo) -> tuple[str, ...]:
    labels: set[str] = set()
    for sibling in info.siblings or ():
        if ".gguf" in sibling.rfilename.lower():
            parsed = parse_quantization(sibling.rfilename)
            if parsed is not None:
                labels.add(parsed.label)
    for text in [info.id, *(info.tags or ())]:
        labels.update(f"{m[1]}-bit" for m in _BITS.finditer(text.rsplit("/", 1)[-1]))
    return tuple(sorted(labels))


def formats_of(info: ModelInfo) -> tuple[str, ...]:
    """From the file names (a card tag such as "pytorch" often names the original, not the
    files); from tags only when the Hub sent no file list."""
    tags = list(info.tags or ())
    names = [s.rfilename for s in info.siblings or ()]
    found = set()
    for name in names:
        with contextlib.suppress(ValueError):  # an unsafe name is no format
            fmt = detect_format(name, repo_tags=tags, repo_id=info.id)
            if fmt is not None:
                found.add(fmt.value)
    if not names:
        found = {t for t in tags if t in _TAG_FORMATS}
    return tuple(sorted(found))


def _card(info: ModelInfo) -> dict[str, Any]:
    card = info.card_data
    if card is None:
        return {}
    data = card.to_dict() if hasattr(card, "to_dict") else card  # type: ignore[no-untyped-call]
    return data if isinstance(data, dict) else {}


def _first_str(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    return value.strip() if isinstance(value, str) and value.strip() else None


def license_of(card: dict[str, Any], tags: list[str]) -> str | None:
    lic = _first_str(card.get("license"))
    if lic == "other" and _first_str(card.get("license_name")):
        lic = _first_str(card.get("license_name"))
    if lic:
        return lic
    return next((t.split(":", 1)[1] for t in tags if t.startswith("license:")), None)


def base_model_of(card: dict[str, Any], tags: list[str]) -> str | None:
    base = _first_str(card.get("base_model"))
    if base:
        return base
    plain = (t.split(":", 1)[1] for t in tags if t.startswith("base_model:") and t.count(":") == 1)
    return next(plain, None)


def tasks_of(repo_id: str, tags: list[str]) -> tuple[ModelTask, ...]:
    tasks = [TASK_TAGS[t] for t in dict.fromkeys(tags) if t in TASK_TAGS]
    if "instruct" in repo_id.lower():
        tasks.append(ModelTask.INSTRUCTION)
    return tuple(dict.fromkeys(tasks))


def to_hit(info: ModelInfo, endpoint: str) -> HubHit:
    tags = list(info.tags or [])
    card = _card(info)
    label, count = parameters_of(info)
    gguf = info.gguf if isinstance(info.gguf, dict) else {}
    config = info.config if isinstance(info.config, dict) else {}
    lic = license_of(card, tags)
    terms = license_terms(lic)
    page = f"{endpoint}/{info.id}"
    restrictions = list(terms.restrictions)
    if info.gated:
        restrictions.append(f"gated: accept the terms at {page} and set HF_TOKEN to download")
    model = RemoteModel(
        id=info.id,
        name=info.id.rsplit("/", 1)[-1],
        registry=ModelRegistryType.HUGGING_FACE,
        description=_first_str(card.get("description")) or _first_str(card.get("summary")),
        author=info.author or info.id.split("/", 1)[0],
        homepage=_first_str(card.get("homepage")),
        repository=page,
        base_model=base_model_of(card, tags),
        parameter_count=label,
        context_length=_positive(gguf.get("context_length")),
        architecture=_first_str(gguf.get("architecture")) or _first_str(config.get("model_type")),
        tasks=tasks_of(info.id, tags),
        downloads=int(info.downloads or 0),
        likes=int(info.likes or 0),
        license=lic,
        commercial_use_allowed=terms.commercial_use,
        restrictions=tuple(restrictions),
        tags=tuple(tags),
        created_at=info.created_at,
        updated_at=info.last_modified,
        gated=info.gated if isinstance(info.gated, str) else None,
        pipeline_tag=info.pipeline_tag,
        library=info.library_name,
    )
    trending = getattr(info, "trending_score", None)
    return HubHit(model, float(trending or 0), count, quantizations_of(info), formats_of(info))


def _positive(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and value > 0 else None
