"""ModelFacts from a header it cannot trust: one GgufError line, never one entry per claimed
layer (a header claiming 4,294,967,295 blocks once ate all memory), never a traceback."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from lexitui.discovery.model_facts import ModelFacts
from lexitui.gguf import GgufError, GgufHeader, parse_header
from tests.gguf.craft import BytesSource, shaped_model


def _parsed(blocks: int = 2) -> GgufHeader:
    return parse_header(BytesSource(bytes(shaped_model(blocks))))


def _claiming(header: GgufHeader, **metadata: object) -> GgufHeader:
    """The same header with other metadata, as if it had not come through the parser."""
    merged = {**header.metadata, **metadata}
    return GgufHeader(3, 32, merged, header.tensors, 64, 60, None)  # type: ignore[arg-type]


def test_facts_from_a_consistent_header() -> None:
    facts = ModelFacts.from_gguf_header(_parsed())
    assert (facts.n_layers, facts.n_embd, facts.n_head, facts.n_head_kv) == (2, 32, 4, 2)
    assert facts.layer_weight_bytes == (4096, 128)


def test_a_header_claiming_billions_of_layers_is_refused_before_any_is_built() -> None:
    bomb = _claiming(_parsed(), **{"llama.block_count": 0xFFFFFFFF})
    tracemalloc.start()
    with pytest.raises(GgufError, match=r"llama\.block_count is 4,294,967,295, outside 1 to"):
        ModelFacts.from_gguf_header(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 10 * 1024 * 1024


def test_more_layers_than_tensors_are_refused() -> None:
    with pytest.raises(GgufError, match=r"the tensors stop at blk\.1"):
        ModelFacts.from_gguf_header(_claiming(_parsed(), **{"llama.block_count": 64}))


@pytest.mark.parametrize(
    ("drop", "missing"),
    [
        ("llama.block_count", "block"),
        ("llama.embedding_length", "embedding"),
        ("llama.attention.head_count", "head"),
    ],
)
def test_a_header_without_a_shape_key_is_one_clear_error(drop: str, missing: str) -> None:
    header = _parsed()
    kept = {k: v for k, v in header.metadata.items() if k != drop}
    stripped = GgufHeader(3, 32, kept, header.tensors, 64, 60, None)
    with pytest.raises(GgufError) as refused:
        ModelFacts.from_gguf_header(stripped)
    assert str(refused.value) == (
        f"the GGUF header of this llama model has no {missing} count, "
        "so its memory cannot be estimated"
    )


def test_a_header_without_tensors_has_no_facts() -> None:
    empty = GgufHeader(3, 32, dict(_parsed().metadata), (), 64, 60, None)
    with pytest.raises(GgufError, match="has no tensors"):
        ModelFacts.from_gguf_header(empty)


def test_run_on_a_gguf_without_a_block_count_prints_one_line(tmp_path: Path) -> None:
    model = shaped_model()
    del model.kvs[1]  # llama.block_count
    path = tmp_path / "no-blocks.gguf"
    path.write_bytes(bytes(model))

    def lexitui(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lexitui", *args], capture_output=True, text=True, timeout=120
        )

    assert lexitui("import", str(path), "--id", "no-blocks").returncode == 0
    ran = lexitui("run", "no-blocks", "hello")
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr
    assert ran.stderr.strip().splitlines() == [
        "lexitui: the GGUF header of this llama model has no block count, "
        "so its memory cannot be estimated"
    ]
