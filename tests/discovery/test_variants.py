"""Grouping a repo's tree listing into downloadable variants, and telling formats apart."""

from __future__ import annotations

import pytest

from lexitui.discovery.variants import (
    RepoFile,
    SkipKind,
    detect_format,
    group_variants,
    scan_repo,
)
from lexitui.domain.enums import ModelFormat, QuantizationType

F = ModelFormat
Q = QuantizationType
GIB = 1024**3
SHA = "a" * 64
HUB = "http://127.0.0.1:9999"

# Around a repo's weights there is always some of this; none of it is a variant.
CLUTTER = [
    RepoFile(".gitattributes", 1_519),
    RepoFile("README.md", 12_000),
    RepoFile("config.json", 700),
    RepoFile("generation_config.json", 180),
    RepoFile("tokenizer.json", 9_000_000),
    RepoFile("tokenizer.model", 500_000),
    RepoFile("tokenizer_config.json", 50_000),
    RepoFile("model.safetensors.index.json", 24_000),
    RepoFile("assets/benchmark.png", 80_000),
    RepoFile("Meta-Llama-3.1-8B-Instruct.imatrix", 5_000_000),
    RepoFile("imatrix_unsloth.gguf", 6_000_000),
]


def _ids(files: list[RepoFile]) -> list[str]:
    return [v.variant_id for v in group_variants(files, repo_id="o/r")]


def test_one_variant_per_gguf_file_smallest_first() -> None:
    files = [
        RepoFile("Meta-Llama-3.1-8B-Instruct-Q8_0.gguf", 8_540_000_000, SHA),
        RepoFile("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", 4_920_000_000, "b" * 64),
        RepoFile("Meta-Llama-3.1-8B-Instruct-Q6_K_L.gguf", 6_850_000_000),
        RepoFile("Meta-Llama-3.1-8B-Instruct-Q4_0_4_4.gguf", 4_660_000_000),
        *CLUTTER,
    ]
    variants = group_variants(
        files, repo_id="bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", endpoint=HUB + "/"
    )
    assert [v.variant_id for v in variants] == ["Q4_0_4_4", "Q4_K_M", "Q6_K_L", "Q8_0"]
    q4 = variants[1]
    assert q4.format is F.GGUF and q4.quantization is Q.Q4_K_M
    assert q4.quantization_label == "Q4_K_M" and q4.sha256 == "b" * 64
    assert q4.files == ("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",)
    assert q4.download_url == (
        f"{HUB}/bartowski/Meta-Llama-3.1-8B-Instruct-GGUF/resolve/main/"
        "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"
    )
    # Recipe spellings keep their label and stand on their base type.
    assert (variants[0].quantization, variants[0].quantization_label) == (Q.Q4_0, "Q4_0_4_4")
    assert (variants[2].quantization, variants[2].quantization_label) == (Q.Q6_K, "Q6_K_L")
    assert variants[3].estimated_quality_score is not None
    assert variants[3].estimated_quality_score > (q4.estimated_quality_score or 1.0)


def test_split_sets_become_one_variant_with_parts_in_order() -> None:
    folder = "Q4_K_M/Qwen3-235B-A22B-Q4_K_M"
    files = [
        RepoFile(f"{folder}-00003-of-00003.gguf", 40 * GIB, "3" * 64),
        RepoFile(f"{folder}-00001-of-00003.gguf", 50 * GIB, "1" * 64),
        RepoFile(f"{folder}-00002-of-00003.gguf", 50 * GIB, "2" * 64),
        RepoFile("Qwen3-235B-A22B-UD-Q2_K_XL.gguf.part1of2", 40 * GIB),
        RepoFile("Qwen3-235B-A22B-UD-Q2_K_XL.gguf.part2of2", 30 * GIB),
    ]
    ud, q4 = group_variants(
        files, repo_id="unsloth/Qwen3-235B-A22B-GGUF", revision="refs/pr/1", endpoint=HUB
    )
    assert q4.variant_id == "Q4_K_M" and q4.size_bytes == 140 * GIB
    assert q4.files == tuple(f"{folder}-0000{i}-of-00003.gguf" for i in (1, 2, 3))
    assert q4.filename == q4.files[0]
    assert q4.sha256 is None  # one hash cannot stand for three files
    assert q4.download_url == (
        f"{HUB}/unsloth/Qwen3-235B-A22B-GGUF/resolve/refs%2Fpr%2F1/{folder}-00001-of-00003.gguf"
    )
    assert (ud.variant_id, ud.quantization, ud.size_bytes) == ("UD-Q2_K_XL", Q.Q2_K, 70 * GIB)
    assert ud.files == tuple(f"Qwen3-235B-A22B-UD-Q2_K_XL.gguf.part{i}of2" for i in (1, 2))


def test_incomplete_split_sets_are_reported_not_offered() -> None:
    files = [
        RepoFile("m-Q8_0-00001-of-00003.gguf", 10),
        RepoFile("m-Q8_0-00003-of-00003.gguf", 10),
        RepoFile("m-Q6_K-00001-of-00002.gguf", 10),
        RepoFile("m-Q6_K-00002-of-00003.gguf", 10),  # disagrees on the count
        RepoFile("m-Q4_K_M.gguf", 5),
    ]
    scan = scan_repo(files, repo_id="o/r")
    assert [v.variant_id for v in scan.variants] == ["Q4_K_M"]
    reasons = {s.paths: s for s in scan.incomplete}
    q8 = reasons[("m-Q8_0-00001-of-00003.gguf", "m-Q8_0-00003-of-00003.gguf")]
    assert q8.kind is SkipKind.INCOMPLETE_SPLIT and "part 2 of 3 missing" in q8.reason
    q6 = reasons[("m-Q6_K-00001-of-00002.gguf", "m-Q6_K-00002-of-00003.gguf")]
    assert "disagree" in q6.reason


def test_projectors_are_listed_apart_from_models() -> None:
    files = [
        RepoFile("gemma-3-4b-it-Q4_K_M.gguf", 2_490_000_000),
        RepoFile("mmproj-model-f16.gguf", 851_000_000, SHA),
        RepoFile("mmproj-google_gemma-3-4b-it-bf16.gguf", 851_000_000),
    ]
    scan = scan_repo(files, repo_id="ggml-org/gemma-3-4b-it-GGUF")
    assert [v.variant_id for v in scan.variants] == ["Q4_K_M"]
    assert {(p.variant_id, p.quantization) for p in scan.projectors} == {
        ("F16", Q.F16),
        ("BF16", Q.BF16),
    }
    assert detect_format("mmproj-model-f16.gguf") is None


def test_duplicate_labels_fall_back_to_file_stems() -> None:
    files = [
        RepoFile("llava-v1.6-mistral-7b.Q4_K_M.gguf", 4_370_000_000),
        RepoFile("llava-v1.6-vicuna-7b.Q4_K_M.gguf", 4_080_000_000),
        RepoFile("a/model.gguf", 1),
        RepoFile("b/model.gguf", 2),
        RepoFile("llava-v1.6-mistral-7b.Q5_K_M.gguf", 5_130_000_000),
    ]
    assert _ids(files) == [
        "a_model",
        "b_model",
        "llava-v1.6-vicuna-7b.Q4_K_M",
        "llava-v1.6-mistral-7b.Q4_K_M",
        "Q5_K_M",
    ]


def test_safetensors_shards_are_one_variant() -> None:
    files = [
        RepoFile(f"model-0000{i}-of-00004.safetensors", 4 * GIB + i, f"{i}" * 64)
        for i in (4, 2, 1, 3)
    ]
    files += [*CLUTTER, RepoFile("original/consolidated.00.pth", 15 * GIB)]
    variants = group_variants(files, repo_id="meta-llama/Llama-3.1-8B-Instruct")
    pt, st = variants  # smallest first
    assert (st.variant_id, st.format, st.size_bytes) == (
        "safetensors",
        F.SAFE_TENSORS,
        16 * GIB + 10,
    )
    assert st.files == tuple(f"model-0000{i}-of-00004.safetensors" for i in (1, 2, 3, 4))
    assert st.quantization is None and st.sha256 is None
    assert (pt.variant_id, pt.format) == ("pytorch", F.PY_TORCH)


def test_a_missing_safetensors_shard_withholds_the_set() -> None:
    files = [RepoFile(f"model-0000{i}-of-00004.safetensors", 10) for i in (1, 2, 4)]
    scan = scan_repo(files, repo_id="o/r")
    assert scan.variants == ()
    (skipped,) = scan.incomplete
    assert "part 3 of 4 missing" in skipped.reason and len(skipped.paths) == 3


def test_mistral_consolidated_copy_is_not_counted_twice() -> None:
    files = [
        RepoFile("consolidated.safetensors", 14 * GIB),
        RepoFile("model-00001-of-00003.safetensors", 5 * GIB),
        RepoFile("model-00002-of-00003.safetensors", 5 * GIB),
        RepoFile("model-00003-of-00003.safetensors", 4 * GIB),
        RepoFile("params.json", 200),
    ]
    (variant,) = group_variants(files, repo_id="mistralai/Mistral-7B-Instruct-v0.3")
    assert variant.size_bytes == 14 * GIB and "consolidated.safetensors" not in variant.files
    # Alone, consolidated.safetensors is the model.
    (alone,) = group_variants(files[:1], repo_id="o/r")
    assert alone.files == ("consolidated.safetensors",)


@pytest.mark.parametrize(
    ("repo_id", "tags", "name", "fmt"),
    [
        ("mlx-community/Qwen2.5-7B-Instruct-4bit", ("mlx",), "model.safetensors", F.MLX),
        ("someone/Qwen2.5-7B-Instruct-4bit", ("mlx", "safetensors"), "model.safetensors", F.MLX),
        ("mlx-community/Qwen2.5-7B-Instruct-4bit", (), "model.safetensors", F.MLX),
        ("TheBloke/Llama-2-7B-Chat-GPTQ", ("gptq", "4-bit"), "model.safetensors", F.GPTQ),
        ("TheBloke/Llama-2-7B-Chat-GPTQ", (), "model.safetensors", F.GPTQ),
        ("o/r", (), "gptq_model-4bit-128g.safetensors", F.GPTQ),
        ("Qwen/Qwen2.5-7B-Instruct-AWQ", (), "model-00001-of-00002.safetensors", F.AWQ),
        ("o/r", ("awq",), "model.safetensors", F.AWQ),
        ("Qwen/Qwen2.5-7B-Instruct", ("transformers",), "model.safetensors", F.SAFE_TENSORS),
        ("o/r", (), "pytorch_model-00001-of-00002.bin", F.PY_TORCH),
        ("o/r", (), "original/consolidated.00.pth", F.PY_TORCH),
        ("o/r", (), "checkpoint.pt", F.PY_TORCH),
        ("o/r", (), "onnx/model.onnx", F.ONNX),
        ("o/r", (), "onnx/model.onnx_data", F.ONNX),
        ("o/r", (), "Qwen2.5-7B-Instruct-Q4_K_M.gguf", F.GGUF),
        ("o/r", (), "m.Q8_0.gguf.part1of2", F.GGUF),
        ("o/r", (), "llama-2-7b-chat.ggmlv3.q4_0.bin", F.GGML),
        ("o/r", (), "ggml-model-q4_0.bin", F.GGML),
        ("o/r", (), "model.ggml", F.GGML),
        # Not weights at all.
        ("o/r", (), "mmproj-Qwen2-VL-7B-Instruct-f16.gguf", None),
        ("o/r", (), "imatrix.gguf", None),
        ("o/r", (), "training_args.bin", None),
        ("o/r", (), "optimizer.pt", None),
        ("o/r", (), "rng_state.pth", None),
        ("o/r", (), "model.bin", None),
        ("o/r", (), "tokenizer.model", None),
        ("o/r", (), "README.md", None),
        ("o/r", (), ".gitattributes", None),
        ("o/r", (), "config.json", None),
        ("o/r", (), "llama.png", None),
    ],
)
def test_detect_format(repo_id: str, tags: tuple[str, ...], name: str, fmt: F | None) -> None:
    assert detect_format(name, repo_tags=tags, repo_id=repo_id) is fmt


def test_every_format_is_detected() -> None:
    found = {
        detect_format(n, repo_tags=t)
        for n, t in [
            ("m.gguf", ()),
            ("m.ggml", ()),
            ("model.safetensors", ()),
            ("model.safetensors", ("gptq",)),
            ("model.safetensors", ("awq",)),
            ("model.safetensors", ("mlx",)),
            ("pytorch_model.bin", ()),
            ("model.onnx", ()),
        ]
    }
    assert found == set(ModelFormat)


def test_mlx_repo_variant() -> None:
    files = [RepoFile("model.safetensors", 4_300_000_000), *CLUTTER]
    (variant,) = group_variants(
        files, repo_id="mlx-community/Qwen2.5-7B-Instruct-4bit", repo_tags=("mlx",)
    )
    assert (variant.variant_id, variant.format) == ("mlx", F.MLX)


def test_onnx_precisions_are_separate_variants_with_their_data() -> None:
    files = [
        RepoFile("onnx/model.onnx", 1_000_000),
        RepoFile("onnx/model.onnx_data", 2_000_000_000),
        RepoFile("onnx/model_fp16.onnx", 500_000),
        RepoFile("onnx/model_fp16.onnx_data", 1_000_000_000),
        RepoFile("onnx/model_q4.onnx", 600_000_000),
        RepoFile("onnx/orphan.onnx.data", 5),  # no graph beside it: loads nowhere
    ]
    variants = {v.variant_id: v for v in group_variants(files, repo_id="onnx-community/m")}
    assert set(variants) == {"onnx", "onnx-fp16", "onnx-q4"}
    assert variants["onnx"].files == ("onnx/model.onnx", "onnx/model.onnx_data")
    assert variants["onnx"].size_bytes == 2_001_000_000
    assert variants["onnx-fp16"].quantization is Q.F16
    assert variants["onnx-q4"].quantization is None


@pytest.mark.parametrize(
    "path",
    [
        "../evil.gguf",
        "Q4_K_M/../../evil.gguf",
        "/etc/evil.gguf",
        "C:/evil.gguf",
        "C:evil.gguf",
        "sub\\evil.gguf",
        "//server/share/evil.gguf",
        "a//evil.gguf",
        "./evil.gguf",
        "evil\x1b[31m.gguf",
        "x" * 300 + ".gguf",
        "m-Q4_K_M-00000-of-00002.gguf",
    ],
)
def test_unsafe_names_are_rejected(path: str) -> None:
    scan = scan_repo([RepoFile(path, 1), RepoFile("m-Q8_0.gguf", 2)], repo_id="o/r")
    assert [v.variant_id for v in scan.variants] == ["Q8_0"]
    (rejected,) = scan.rejected
    assert rejected.kind is SkipKind.UNSAFE_NAME and rejected.paths == (path,)


def test_subfolders_are_legitimate() -> None:
    files = [RepoFile(f"Q4_K_M/model-Q4_K_M-0000{i}-of-00002.gguf", 3) for i in (1, 2)]
    scan = scan_repo(files, repo_id="o/r")
    assert scan.rejected == () and scan.variants[0].size_bytes == 6


def test_lettered_splits_and_negative_sizes_are_refused() -> None:
    files = [
        RepoFile("llama-2-70b-chat.Q6_K.gguf-split-a", 30 * GIB),
        RepoFile("llama-2-70b-chat.Q6_K.gguf-split-b", 26 * GIB),
        RepoFile("m-Q4_0.gguf", -1),
    ]
    scan = scan_repo(files, repo_id="TheBloke/Llama-2-70B-Chat-GGUF")
    assert scan.variants == ()
    kinds = sorted(s.kind for s in scan.rejected)
    assert kinds == [SkipKind.UNSAFE_NAME, SkipKind.UNSUPPORTED_SPLIT, SkipKind.UNSUPPORTED_SPLIT]


@pytest.mark.parametrize("repo_id", ["", "../x", "a/b/c", "a/..", "a b/c", "/a"])
def test_bad_repo_ids(repo_id: str) -> None:
    with pytest.raises(ValueError, match="repo id"):
        group_variants([], repo_id=repo_id)


def test_no_endpoint_no_url_and_empty_repo() -> None:
    (variant,) = group_variants([RepoFile("m-Q4_K_M.gguf", 1)], repo_id="o/r")
    assert variant.download_url is None
    assert scan_repo([], repo_id="o/r") == scan_repo(CLUTTER, repo_id="o/r")
