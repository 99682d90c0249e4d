"""A ``ModelSearchQuery`` as Hub listing requests, and the part of it the Hub cannot do.

The Hub filters by ``search`` (substring of the id), ``author``, ``filter`` tags (all must
match), one ``pipeline_tag`` and ``num_parameters``, and sorts by trending score, downloads,
likes, creation or modification date, always descending. So:

* a choice between several values (two formats, a category with two pipeline tags) becomes one
  request per combination, merged on the sort key;
* quantizations, the "instruct" task and an exact size ceiling are checked here, on a pool of the
  first ``CLIENT_POOL`` matches; so are the Name and Size orders (ascending), which therefore
  rank the ``CLIENT_POOL`` matches the Hub puts first by downloads;
* tasks without a tag people use on the Hub (research, data analysis) filter nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lexitui.discovery.hf_mapping import HubHit
from lexitui.domain.discovery import ModelSearchQuery
from lexitui.domain.enums import (
    ModelCategory,
    ModelFormat,
    ModelSizeCategory,
    ModelSortOrder,
    ModelTask,
)

CLIENT_POOL = 100
MAX_POOL = 1000

C = ModelCategory
CATEGORY_PIPELINES: dict[ModelCategory, tuple[tuple[str, tuple[str, ...]], ...]] = {
    C.TEXT_GENERATION: (("text-generation", ()),),
    C.CHAT_COMPLETION: (("text-generation", ("conversational",)),),
    C.CODE_GENERATION: (("text-generation", ("code",)),),
    C.EMBEDDING: (("feature-extraction", ()), ("sentence-similarity", ())),
    C.IMAGE_GENERATION: (("text-to-image", ()),),
    C.SPEECH_TO_TEXT: (("automatic-speech-recognition", ()),),
    C.TEXT_TO_SPEECH: (("text-to-speech", ()),),
    C.TRANSLATION: (("translation", ()),),
    C.SUMMARIZATION: (("summarization", ()),),
    C.QUESTION_ANSWERING: (("question-answering", ()),),
}
FORMAT_TAGS = {
    ModelFormat.GGUF: "gguf",
    ModelFormat.GGML: "ggml",
    ModelFormat.SAFE_TENSORS: "safetensors",
    ModelFormat.PY_TORCH: "pytorch",
    ModelFormat.ONNX: "onnx",
    ModelFormat.MLX: "mlx",
    ModelFormat.GPTQ: "gptq",
    ModelFormat.AWQ: "awq",
}
TASK_FILTERS = {
    ModelTask.GENERAL_CHAT: "conversational",
    ModelTask.CODE_ASSISTANT: "code",
    ModelTask.ROLEPLAY: "roleplay",
    ModelTask.UNCENSORED: "uncensored",
    ModelTask.CREATIVE_WRITING: "creative-writing",
}
# The top of each size class (its comment in domain.enums) with headroom for odd sizes.
SIZE_CEILINGS: dict[ModelSizeCategory, int | None] = {
    ModelSizeCategory.TINY: 4_000_000_000,
    ModelSizeCategory.SMALL: 9_000_000_000,
    ModelSizeCategory.MEDIUM: 15_000_000_000,
    ModelSizeCategory.LARGE: 40_000_000_000,
    ModelSizeCategory.XLARGE: 80_000_000_000,
    ModelSizeCategory.XXLARGE: None,
}
SERVER_SORTS = {
    ModelSortOrder.TRENDING: "trendingScore",
    ModelSortOrder.DOWNLOADS: "downloads",
    ModelSortOrder.LIKES: "likes",
    ModelSortOrder.RECENT: "createdAt",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MERGE_KEYS: dict[str, Callable[[HubHit], Any]] = {
    "trendingScore": lambda h: h.trending,
    "downloads": lambda h: h.model.downloads,
    "likes": lambda h: h.model.likes,
    "createdAt": lambda h: h.model.created_at or _EPOCH,
}

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SearchPlan:
    requests: tuple[Params, ...]  # empty: nothing can match (e.g. only_gguf with formats=[mlx])
    fetch: int  # how many matches to ask each request for
    sort: str  # the Hub's sort key used for every request and the merge
    client_order: ModelSortOrder | None  # NAME or SIZE, done here
    query: ModelSearchQuery

    def accepts(self, hit: HubHit) -> bool:
        """The filters the Hub cannot apply."""
        q = self.query
        if q.quantizations:
            wanted = {x.value for x in q.quantizations}
            if not wanted & {label.removeprefix("UD-") for label in hit.quantizations}:
                return False
        ceiling = SIZE_CEILINGS.get(q.max_size) if q.max_size else None
        if ceiling is not None and hit.parameters is not None and hit.parameters > ceiling:
            return False
        return not (q.task is ModelTask.INSTRUCTION and "instruct" not in hit.model.id.lower())

    def merge(self, pools: list[list[HubHit]]) -> list[HubHit]:
        """One list from every request's answer: deduplicated, in the requested order."""
        seen: dict[str, HubHit] = {}
        for hit in itertools.chain.from_iterable(pools):
            seen.setdefault(hit.model.id, hit)
        hits = [h for h in seen.values() if self.accepts(h)]
        hits.sort(key=MERGE_KEYS[self.sort], reverse=True)
        if self.client_order is ModelSortOrder.NAME:
            hits.sort(key=lambda h: h.model.id.lower())
        elif self.client_order is ModelSortOrder.SIZE:
            hits.sort(key=lambda h: (h.parameters is None, h.parameters or 0))
        return hits


def plan_search(query: ModelSearchQuery, *, extra_filter: bool = False) -> SearchPlan:
    """``extra_filter``: the caller drops more results afterwards (a hardware check), so ask
    for a pool rather than just the page."""
    base: list[tuple[str, str]] = []
    if query.query and query.query.strip():
        base.append(("search", query.query.strip()))
    if query.author and query.author.strip():
        base.append(("author", query.author.strip()))
    if query.base_model and query.base_model.strip():
        name = query.base_model.strip()
        base.append(("filter", f"base_model:{name}" if "/" in name else name.lower()))
    if query.task in TASK_FILTERS:
        base.append(("filter", TASK_FILTERS[query.task]))
    ceiling = SIZE_CEILINGS.get(query.max_size) if query.max_size else None
    if ceiling is not None:
        base.append(("num_parameters", f"max:{ceiling // 1_000_000_000}B"))
    client_order = query.sort if query.sort in (ModelSortOrder.NAME, ModelSortOrder.SIZE) else None
    sort = SERVER_SORTS.get(query.sort, "downloads")
    base.append(("sort", sort))
    pipelines: tuple[tuple[str | None, tuple[str, ...]], ...] = ((None, ()),)
    if query.category:
        pipelines = CATEGORY_PIPELINES[query.category]
    requests: list[Params] = []
    for (pipeline, extra), fmt in itertools.product(pipelines, _format_tags(query)):
        params = list(base) + [("filter", tag) for tag in extra]
        if pipeline:
            params.append(("pipeline_tag", pipeline))
        if fmt:
            params.append(("filter", fmt))
        requests.append(tuple(params))
    window = max(query.skip, 0) + max(query.take, 1) + 1
    client_side = extra_filter or bool(
        query.quantizations or ceiling or query.task is ModelTask.INSTRUCTION
    )
    fetch = max(window, CLIENT_POOL) if client_side or client_order else window
    return SearchPlan(tuple(requests), min(fetch, MAX_POOL), sort, client_order, query)


def _format_tags(query: ModelSearchQuery) -> list[str | None]:
    formats = list(dict.fromkeys(query.formats))
    if query.only_gguf:
        if formats and ModelFormat.GGUF not in formats:
            return []
        formats = [ModelFormat.GGUF]
    return [FORMAT_TAGS[f] for f in formats] or [None]
