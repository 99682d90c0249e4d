"""The shape keys a header declares are checked against its own tensors and sane bounds: a file
that claims billions of blocks, or a width its tensors do not have, is refused with one line."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from lexitui.gguf import GgufError, GgufHeader, parse_header, read_local_header
from tests.gguf.craft import (
    I32,
    STRING,
    U32,
    BytesSource,
    Crafted,
    block_count_bomb,
    kv,
    kv_array,
    shaped_model,
    tensor_info,
)


def parse(data: bytes | Crafted) -> GgufHeader:
    return parse_header(BytesSource(bytes(data)))


def rejects(data: bytes | Crafted, match: str) -> None:
    with pytest.raises(GgufError, match=match):
        parse(data)


def test_a_consistent_shape_is_accepted() -> None:
    header = parse(shaped_model())
    assert (header.block_count, header.embedding_length, header.head_count_kv) == (2, 32, 2)


def test_the_block_count_bomb_is_refused_at_once_in_little_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.gguf"
    path.write_bytes(block_count_bomb())
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(GgufError) as refused:
        read_local_header(path)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    message = str(refused.value)
    assert message == f"{path}: llama.block_count is 4,294,967,295, outside 1 to 4,096"
    assert "\n" not in message
    assert elapsed < 1.0 and peak < 20 * 1024 * 1024  # generous: it takes ~1 ms and ~1 MB


def test_more_blocks_than_the_tensors_hold_are_refused() -> None:
    rejects(shaped_model(3), r"llama.block_count is 3, but the tensors stop at blk.1 \(2 blocks\)")
    no_blocks = shaped_model(2, tensors=[tensor_info("token_embd.weight", (32, 2))])
    rejects(no_blocks, "llama.block_count is 2, more than the 1 tensors")


def test_fewer_declared_blocks_than_tensors_are_accepted() -> None:
    assert parse(shaped_model(1)).block_count == 1  # llama.cpp's own check, not a hazard


@pytest.mark.parametrize(
    ("index", "key", "value", "message"),
    [
        (2, "llama.embedding_length", 1 << 21, "llama.embedding_length is 2,097,152, outside"),
        (3, "llama.attention.head_count", 100_000, "llama.attention.head_count is 100,000"),
        (None, "llama.context_length", 1 << 31, "llama.context_length is 2,147,483,648, out"),
        (None, "llama.expert_count", 1_000_000, "llama.expert_count is 1,000,000, outside"),
    ],
)
def test_absurd_shape_values_are_refused(
    index: int | None, key: str, value: int, message: str
) -> None:
    model = shaped_model()
    if index is None:
        model.kvs.append(kv(key, U32, value))
    else:
        model.kvs[index] = kv(key, U32, value)
    rejects(model, message)


def test_negative_counts_are_refused() -> None:
    model = shaped_model(extra=[kv("llama.feed_forward_length", I32, -5)])
    rejects(model, "llama.feed_forward_length is -5, outside 0 to")


def test_an_embedding_width_the_tensors_do_not_have_is_refused() -> None:
    model = shaped_model()
    model.kvs[2] = kv("llama.embedding_length", U32, 64)
    rejects(model, "llama.embedding_length is 64, but token_embd.weight rows are 32 long")


def test_kv_heads_that_do_not_match_the_projections_are_refused() -> None:
    model = shaped_model()
    model.kvs[4] = kv("llama.attention.head_count_kv", U32, 4)
    rejects(model, "declares 4 KV heads of 8, but blk.0.attn_k.weight is 16 wide")
    explicit = shaped_model(extra=[kv("llama.attention.value_length", U32, 4)])
    rejects(explicit, "declares 2 KV heads of 4, but blk.0.attn_v.weight is 16 wide")


def test_per_layer_arrays_must_list_one_value_per_block() -> None:
    model = shaped_model(extra=[kv_array("llama.feed_forward_length", U32, [64, 64, 64])])
    rejects(model, "llama.feed_forward_length lists 3 values for 2 blocks")
    assert parse(shaped_model(extra=[kv_array("llama.feed_forward_length", U32, [64, 96])]))


def test_more_used_experts_than_experts_are_refused() -> None:
    extra = [kv("llama.expert_count", U32, 4), kv("llama.expert_used_count", U32, 8)]
    rejects(shaped_model(extra=extra), "llama uses 8 experts per token of 4")


def test_a_split_part_and_a_vocabulary_only_file_skip_the_tensor_checks() -> None:
    part = shaped_model(40, extra=[kv("split.count", U32, 3)])
    assert parse(part).block_count == 40  # the other parts hold the other blocks
    vocab_only = Crafted([kv("general.architecture", STRING, "llama"), *shaped_model().kvs[1:]], [])
    assert parse(vocab_only).block_count == 2
    rejects(shaped_model(5000, extra=[kv("split.count", U32, 3)]), "outside 1 to 4,096")


def test_a_block_index_too_long_to_be_a_number_is_just_a_name() -> None:
    name = "blk." + "9" * 5000 + ".weight"
    tensors = [*shaped_model().tensors[:2], tensor_info(name, (32,), offset=2304)]
    header = parse(shaped_model(1, tensors=tensors))
    assert header.layer_tensor_bytes() == {0: 2048}
    assert header.non_layer_tensor_bytes == 256 + 128
