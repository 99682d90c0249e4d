"""Filtering, sorting and paging a known list of Ollama models against a ``ModelSearchQuery``.

The list is small (hundreds of names at most), so this is plain Python over records. A filter
that needs a fact a record lacks (a size, a quantization, a format) excludes that record: a
name-only entry cannot be shown as matching "Q4_K_M, under 4 GB" when nobody knows. Category
and task filters are ignored because no Ollama name carries either (the registry's
``limitations`` say so); sorts by popularity have no data and keep the list's own order, most
recently opened first.
"""

from __future__ import annotations

from lexitui.discovery.ollama_browse import sizes_of
from lexitui.domain.discovery import ModelSearchQuery, ModelSearchResult, RemoteModel
from lexitui.domain.enums import ModelFormat, ModelSizeCategory, ModelSortOrder


def _size(model: RemoteModel) -> int | None:
    return model.variants[0].size_bytes if model.variants else None


# The largest parameter count each class admits, between the ranges its enum comment names
# (tiny 1-3B, small 7-8B, ...), so a 3.8B model is still "tiny" and a 9B one "small".
_MAX_PARAMETERS = {
    ModelSizeCategory.TINY: 5e9,
    ModelSizeCategory.SMALL: 10e9,
    ModelSizeCategory.MEDIUM: 20e9,
    ModelSizeCategory.LARGE: 45e9,
    ModelSizeCategory.XLARGE: 100e9,
}
_SCALE = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def _parameters(model: RemoteModel) -> float | None:
    return _label_parameters(model.parameter_count)


def _label_parameters(text: str | None) -> float | None:
    """The count a label states: 3.2B -> 3.2e9, 8X7B -> 5.6e10 (what ``ollama_mapping`` keeps)."""
    label = (text or "").upper()
    experts, _, count = label.rpartition("X")
    try:
        return float(count[:-1]) * _SCALE[count[-1]] * (int(experts) if experts else 1)
    except (ValueError, KeyError, IndexError):
        return None


def _fits_size(model: RemoteModel, limit: ModelSizeCategory) -> bool:
    return _fits(_parameters(model), limit)


def _fits(parameters: float | None, limit: ModelSizeCategory) -> bool:
    maximum = _MAX_PARAMETERS.get(limit)
    if maximum is None:
        return True  # XXLARGE: no upper bound
    return parameters is not None and parameters <= maximum


def _matches(model: RemoteModel, query: ModelSearchQuery) -> bool:
    text = (query.query or "").strip().casefold()
    if text and text not in model.id.casefold():
        return False
    if query.author and (model.author or "library").casefold() != query.author.casefold():
        return False
    if (
        query.base_model
        and query.base_model.casefold() not in (model.architecture or "").casefold()
    ):
        return False
    variant = model.variants[0] if model.variants else None
    formats = set(query.formats) | ({ModelFormat.GGUF} if query.only_gguf else set())
    if formats and (variant is None or variant.format not in formats):
        return False
    if query.quantizations and (variant is None or variant.quantization not in query.quantizations):
        return False
    return query.max_size is None or _fits_size(model, query.max_size)


def _sorted(models: list[RemoteModel], order: ModelSortOrder) -> list[RemoteModel]:
    if order is ModelSortOrder.NAME:
        return sorted(models, key=lambda m: m.id.casefold())
    if order is ModelSortOrder.SIZE:
        # Known sizes smallest first; unknown ones after them, in list order (sort is stable).
        return sorted(models, key=lambda m: (_size(m) is None, _size(m) or 0))
    return models  # TRENDING/DOWNLOADS/LIKES: no such data; RECENT: already most recent first


def search_names(models: list[RemoteModel], query: ModelSearchQuery) -> ModelSearchResult:
    matched = _sorted([m for m in models if _matches(m, query)], query.sort)
    skip, take = max(query.skip, 0), max(query.take, 0)
    page = matched[skip : skip + take]
    return ModelSearchResult(
        models=tuple(page),
        total_count=len(matched),
        has_more=skip + len(page) < len(matched),
    )


def _smallest_fits(model: RemoteModel, limit: ModelSizeCategory) -> bool:
    """A library model passes a size limit when one of its sizes does ("1b, 70b" is tiny)."""
    return any(_fits(_label_parameters(size), limit) for size in sizes_of(model))


def _library_sorted(models: list[RemoteModel], order: ModelSortOrder) -> list[RemoteModel]:
    if order is ModelSortOrder.NAME:
        return sorted(models, key=lambda m: m.id.casefold())
    if order is ModelSortOrder.RECENT:
        # Newest first; models whose date the page did not show keep their order, after them.
        return sorted(models, key=lambda m: -m.updated_at.timestamp() if m.updated_at else 0.0)
    if order is ModelSortOrder.DOWNLOADS:
        return sorted(models, key=lambda m: -m.downloads)
    if order is ModelSortOrder.SIZE:
        return sorted(models, key=lambda m: (_parameters(m) is None, _parameters(m) or 0.0))
    return models  # TRENDING/LIKES: the site's own order (popularity, then relevance)


def search_library(
    models: list[RemoteModel],
    query: ModelSearchQuery,
    *,
    site_has_more: bool,
    cached_age_seconds: float | None,
) -> ModelSearchResult:
    """The library site's results for ``query.query``, with the filters a listed model can be
    checked against: author and size. Format, quantization, category and task have no data
    in a listing (the registry's ``limitations`` say so) and are not applied."""
    kept = [
        m
        for m in models
        if (not query.author or (m.author or "library").casefold() == query.author.casefold())
        and (query.max_size is None or _smallest_fits(m, query.max_size))
    ]
    matched = _library_sorted(kept, query.sort)
    skip, take = max(query.skip, 0), max(query.take, 0)
    page = matched[skip : skip + take]
    return ModelSearchResult(
        models=tuple(page),
        total_count=len(matched),
        cached_age_seconds=cached_age_seconds,
        has_more=skip + len(page) < len(matched) or site_has_more,
    )
