"""Model discovery records: the roadmap's search query/result, remote models and their variants,
and the compatibility verdicts the analyzer gives for them.

Frozen dataclasses with tuples for collections, like the hardware records; ``to_json_dict()`` is
the one JSON shape used by ``--json`` output, the store's cache and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lexitui.domain.enums import (
    CompatibilityLevel,
    CompatibilityWarningType,
    InferenceMode,
    ModelCategory,
    ModelFormat,
    ModelRegistryType,
    ModelSizeCategory,
    ModelSortOrder,
    ModelTask,
    QuantizationType,
    WarningSeverity,
)
from lexitui.domain.hardware import JsonRecord
from lexitui.domain.memory import MemoryBreakdown


@dataclass(frozen=True)
class ModelSearchQuery(JsonRecord):
    query: str | None = None
    category: ModelCategory | None = None
    task: ModelTask | None = None
    max_size: ModelSizeCategory | None = None
    formats: tuple[ModelFormat, ...] = ()
    quantizations: tuple[QuantizationType, ...] = ()
    base_model: str | None = None  # "llama", "mistral", or a repo id
    author: str | None = None
    only_gguf: bool | None = None
    only_compatible: bool = False
    sort: ModelSortOrder = ModelSortOrder.TRENDING
    skip: int = 0
    take: int = 20


@dataclass(frozen=True)
class FacetValue(JsonRecord):
    value: str
    count: int


@dataclass(frozen=True)
class SearchFacet(JsonRecord):
    name: str
    values: tuple[FacetValue, ...] = ()


@dataclass(frozen=True)
class ModelVariant(JsonRecord):
    """One downloadable quantization/format of a model: a file, or a split set of files."""

    variant_id: str
    filename: str  # the first (or only) file
    format: ModelFormat
    size_bytes: int
    quantization: QuantizationType | None = None
    # The spelling as parsed ("Q6_K_L", "UD-Q4_K_XL"); ``quantization`` is its nearest base type.
    quantization_label: str | None = None
    sha256: str | None = None
    download_url: str | None = None
    files: tuple[str, ...] = ()  # every file of a split variant, in order
    estimated_vram_bytes: int | None = None
    estimated_ram_bytes: int | None = None
    estimated_quality_score: float | None = None  # 0..1, relative
    min_context_length: int | None = None
    max_context_length: int | None = None


@dataclass(frozen=True)
class RemoteModel(JsonRecord):
    id: str
    name: str
    registry: ModelRegistryType
    description: str | None = None
    author: str | None = None
    homepage: str | None = None
    repository: str | None = None
    base_model: str | None = None
    parameter_count: str | None = None  # "7B", "135M"
    context_length: int | None = None
    architecture: str | None = None
    tasks: tuple[ModelTask, ...] = ()
    variants: tuple[ModelVariant, ...] = ()
    recommended_variant: ModelVariant | None = None
    downloads: int = 0
    likes: int = 0
    average_rating: float | None = None
    license: str | None = None
    commercial_use_allowed: bool = False
    restrictions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Beyond the roadmap: what the Hub says about access, and the pipeline tag it files under.
    gated: str | None = None  # None/"auto"/"manual"
    pipeline_tag: str | None = None
    library: str | None = None
    # Which registry answered, by the name it is shown with ("Hugging Face", or the NAME of a
    # ``[registries.NAME]`` the user configured): details and downloads go back to it.
    registry_name: str | None = None


@dataclass(frozen=True)
class UnavailableRegistry(JsonRecord):
    """A registry searched beside the others that gave no answer, and why (one line)."""

    registry: str
    reason: str


@dataclass(frozen=True)
class ModelSearchResult(JsonRecord):
    models: tuple[RemoteModel, ...] = ()
    total_count: int = 0
    facets: tuple[SearchFacet, ...] = ()
    # Served from the cache because the registry was offline or rate-limited: how old it is.
    cached_age_seconds: float | None = None
    has_more: bool = False
    # Registries searched together whose part of the answer is missing (the others are here).
    unavailable: tuple[UnavailableRegistry, ...] = ()


@dataclass(frozen=True)
class InferenceConfig(JsonRecord):
    """How to load a model: the knobs the analyzer recommends and ``lexitui fit`` takes."""

    gpu_layers: int = -1  # -1 all, 0 CPU only
    context_length: int | None = None
    kv_cache_type: str = "f16"  # llama.cpp cache types: f16, q8_0, q4_0 ...
    batch_size: int = 2048
    ubatch_size: int = 512
    parallel: int = 1


@dataclass(frozen=True)
class CompatibilityWarning(JsonRecord):
    type: CompatibilityWarningType
    message: str
    severity: WarningSeverity = WarningSeverity.WARNING
    suggestion: str | None = None


@dataclass(frozen=True)
class PerformanceEstimate(JsonRecord):
    tokens_per_second_min: float
    tokens_per_second_max: float
    tokens_per_second_expected: float
    estimated_load_seconds: float
    estimated_ram_usage: int
    estimated_vram_usage: int | None = None
    confidence_level: float = 0.5  # 0..1
    # True when the tokens/s figures were measured on this machine (the profiler's figures for
    # the same file, installed here) rather than estimated from memory bandwidth.
    measured: bool = False


@dataclass(frozen=True)
class VariantCompatibility(JsonRecord):
    variant: ModelVariant
    # None for both: no verdict, because the file's own GGUF header could not be read.
    level: CompatibilityLevel | None
    recommended_mode: InferenceMode | None
    recommended_gpu_layers: int | None = None
    recommended_context_length: int | None = None
    reason: str | None = None
    warnings: tuple[CompatibilityWarning, ...] = ()
    breakdown: MemoryBreakdown | None = None
    performance: PerformanceEstimate | None = None


@dataclass(frozen=True)
class VariantRecommendation(JsonRecord):
    variant: ModelVariant
    compatibility: CompatibilityLevel
    score: float  # 0..1, higher is better
    rationale: str
    recommended_config: InferenceConfig = field(default_factory=InferenceConfig)
    estimated_performance: PerformanceEstimate | None = None


@dataclass(frozen=True)
class ModelCompatibility(JsonRecord):
    model_id: str
    overall_level: CompatibilityLevel | None  # None: no variant has a verdict
    variant_compatibilities: tuple[VariantCompatibility, ...] = ()
    recommended_variant: ModelVariant | None = None
    recommended_config: InferenceConfig | None = None
    summary: str | None = None
    warnings: tuple[CompatibilityWarning, ...] = ()
