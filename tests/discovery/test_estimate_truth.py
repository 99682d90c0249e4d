"""The done-when of the fit issue: the estimate for the starter model is within 10% of what the
real embedded engine uses after loading it and processing a prompt that fills its context.

"Uses" is the engine child's resident set size (see engine_memory.py for why RSS and not
USS/PSS). bench/bench_estimate.py runs the same check on generated models of other shapes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lexitui.discovery.memory_breakdown import estimate_breakdown
from lexitui.discovery.model_facts import ModelFacts
from lexitui.domain.discovery import InferenceConfig
from lexitui.gguf import read_local_header
from tests.discovery.engine_memory import measure_engine_memory

pytestmark = pytest.mark.engine
TOLERANCE = 0.10


@pytest.mark.parametrize("context", [512, 2048])
async def test_starter_estimate_is_within_ten_percent_of_the_engine(
    starter_path: Path, tmp_path: Path, context: int
) -> None:
    facts = ModelFacts.from_gguf_header(read_local_header(starter_path))
    estimate = estimate_breakdown(facts, InferenceConfig(context_length=context))
    measured = await measure_engine_memory(starter_path, context, tmp_path)
    assert measured.prompt_tokens >= int(context * 0.85)  # the context really was filled
    error = estimate.total_ram_bytes / measured.rss_bytes - 1
    assert abs(error) <= TOLERANCE, (
        f"estimate {estimate.total_ram_bytes / 2**20:.1f} MiB vs engine RSS "
        f"{measured.rss_bytes / 2**20:.1f} MiB ({error:+.1%})"
    )
