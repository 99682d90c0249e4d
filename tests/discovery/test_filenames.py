"""Quantization and split parsing against file names as publishers write them on the Hub."""

from __future__ import annotations

import pytest

from lexitui.discovery.quant_names import ParsedQuant, parse_quantization, quality_score
from lexitui.discovery.repo_files import UnsafeNameError, split_part
from lexitui.domain.enums import QuantizationType
from lexitui.hardware.memory_estimate import BITS_PER_WEIGHT

Q = QuantizationType
Split = tuple[str, int, int] | None

# (file name, base type, label, split) -- label None means "no quantization in the name".
CASES: list[tuple[str, QuantizationType | None, str | None, Split]] = [
    # TheBloke: "." before the quant, K-quant mixes and legacy types, GGML-era .bin files.
    ("llama-2-7b-chat.Q4_K_M.gguf", Q.Q4_K_M, "Q4_K_M", None),
    ("mistral-7b-instruct-v0.2.Q5_K_S.gguf", Q.Q5_K_S, "Q5_K_S", None),
    ("mixtral-8x7b-instruct-v0.1.Q3_K_M.gguf", Q.Q3_K_M, "Q3_K_M", None),
    ("llama-2-13b-chat.Q2_K.gguf", Q.Q2_K, "Q2_K", None),
    ("tinyllama-1.1b-chat-v1.0.Q8_0.gguf", Q.Q8_0, "Q8_0", None),
    ("openhermes-2.5-mistral-7b.Q6_K.gguf", Q.Q6_K, "Q6_K", None),
    ("zephyr-7b-beta.Q4_0.gguf", Q.Q4_0, "Q4_0", None),
    ("llama-2-7b.Q5_0.gguf", Q.Q5_0, "Q5_0", None),
    ("codellama-7b-instruct.Q3_K_L.gguf", Q.Q3_K_L, "Q3_K_L", None),
    ("phi-2.Q4_K_S.gguf", Q.Q4_K_S, "Q4_K_S", None),
    ("llama-2-7b-chat.ggmlv3.q4_0.bin", Q.Q4_0, "Q4_0", None),
    ("llama-2-13b-chat.ggmlv3.q5_1.bin", Q.Q5_1, "Q5_1", None),
    ("llama-2-7b-chat.ggmlv3.q4_K_M.bin", Q.Q4_K_M, "Q4_K_M", None),
    # bartowski: "-" before the quant, I-quants, the _L/_XL recipes and ARM repacks.
    ("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", Q.Q4_K_M, "Q4_K_M", None),
    ("Meta-Llama-3.1-8B-Instruct-Q6_K_L.gguf", Q.Q6_K, "Q6_K_L", None),
    ("Meta-Llama-3.1-8B-Instruct-Q5_K_L.gguf", Q.Q5_K_M, "Q5_K_L", None),
    ("Meta-Llama-3.1-8B-Instruct-Q4_K_L.gguf", Q.Q4_K_M, "Q4_K_L", None),
    ("Meta-Llama-3.1-8B-Instruct-Q3_K_XL.gguf", Q.Q3_K_L, "Q3_K_XL", None),
    ("Meta-Llama-3.1-8B-Instruct-Q2_K_L.gguf", Q.Q2_K, "Q2_K_L", None),
    ("Meta-Llama-3.1-8B-Instruct-IQ2_M.gguf", Q.IQ2_M, "IQ2_M", None),
    ("Meta-Llama-3.1-8B-Instruct-IQ3_XS.gguf", Q.IQ3_XS, "IQ3_XS", None),
    ("Meta-Llama-3.1-8B-Instruct-IQ4_XS.gguf", Q.IQ4_XS, "IQ4_XS", None),
    ("Meta-Llama-3.1-8B-Instruct-IQ4_NL.gguf", Q.IQ4_NL, "IQ4_NL", None),
    ("Meta-Llama-3.1-8B-Instruct-Q4_0_4_4.gguf", Q.Q4_0, "Q4_0_4_4", None),
    ("Meta-Llama-3.1-8B-Instruct-Q4_0_4_8.gguf", Q.Q4_0, "Q4_0_4_8", None),
    ("Meta-Llama-3.1-8B-Instruct-Q4_0_8_8.gguf", Q.Q4_0, "Q4_0_8_8", None),
    ("Meta-Llama-3.1-8B-Instruct-f32.gguf", Q.F32, "F32", None),
    ("gemma-2-9b-it-IQ2_XS.gguf", Q.IQ2_XS, "IQ2_XS", None),
    ("Meta-Llama-3-70B-Instruct-IQ3_S.gguf", Q.IQ3_S, "IQ3_S", None),
    ("Mistral-Nemo-Instruct-2407-IQ3_XXS.gguf", Q.IQ3_XXS, "IQ3_XXS", None),
    ("google_gemma-3-12b-it-IQ2_XXS.gguf", Q.IQ2_XXS, "IQ2_XXS", None),
    ("Qwen_Qwen3-30B-A3B-IQ2_S.gguf", Q.IQ2_S, "IQ2_S", None),
    (
        "Meta-Llama-3.1-70B-Instruct-Q8_0/Meta-Llama-3.1-70B-Instruct-Q8_0-00001-of-00002.gguf",
        Q.Q8_0,
        "Q8_0",
        ("Meta-Llama-3.1-70B-Instruct-Q8_0/Meta-Llama-3.1-70B-Instruct-Q8_0.gguf", 1, 2),
    ),
    ("mmproj-google_gemma-3-27b-it-f16.gguf", Q.F16, "F16", None),
    # unsloth: dynamic "UD-" quants, BF16 folders of split files.
    ("Qwen3-30B-A3B-UD-Q4_K_XL.gguf", Q.Q4_K_M, "UD-Q4_K_XL", None),
    ("gemma-3-27b-it-UD-Q8_K_XL.gguf", Q.Q8_0, "UD-Q8_K_XL", None),
    ("Llama-4-Scout-17B-16E-Instruct-UD-IQ2_XXS.gguf", Q.IQ2_XXS, "UD-IQ2_XXS", None),
    (
        "DeepSeek-R1-UD-IQ1_S/DeepSeek-R1-UD-IQ1_S-00001-of-00003.gguf",
        Q.IQ1_S,
        "UD-IQ1_S",
        ("DeepSeek-R1-UD-IQ1_S/DeepSeek-R1-UD-IQ1_S.gguf", 1, 3),
    ),
    (
        "BF16/Qwen3-235B-A22B-BF16-00010-of-00010.gguf",
        Q.BF16,
        "BF16",
        ("BF16/Qwen3-235B-A22B-BF16.gguf", 10, 10),
    ),
    ("Qwen3-8B-BF16.gguf", Q.BF16, "BF16", None),
    ("gpt-oss-20b-F16.gguf", Q.F16, "F16", None),
    # mradermacher: "." separators, imatrix "i1-" quants, old cat-style ".partNofM" splits.
    ("Llama-3-8B-Instruct-abliterated.i1-Q4_K_M.gguf", Q.Q4_K_M, "Q4_K_M", None),
    ("Mixtral-8x22B-Instruct-v0.1.i1-IQ1_S.gguf", Q.IQ1_S, "IQ1_S", None),
    ("Meta-Llama-3-70B-Instruct.i1-IQ1_M.gguf", Q.IQ1_M, "IQ1_M", None),
    ("Llama-3.1-8B.i1-Q4_0_4_4.gguf", Q.Q4_0, "Q4_0_4_4", None),
    (
        "Mistral-Large-Instruct-2407.Q8_0.gguf.part1of3",
        Q.Q8_0,
        "Q8_0",
        ("Mistral-Large-Instruct-2407.Q8_0.gguf", 1, 3),
    ),
    (
        "Mistral-Large-Instruct-2407.i1-Q4_K_M.gguf.part2of2",
        Q.Q4_K_M,
        "Q4_K_M",
        ("Mistral-Large-Instruct-2407.i1-Q4_K_M.gguf", 2, 2),
    ),
    ("Qwen2.5-7B-Instruct.f16.gguf", Q.F16, "F16", None),
    ("Qwen2.5-7B-Instruct.IQ4_XS.gguf", Q.IQ4_XS, "IQ4_XS", None),
    # lmstudio-community, Qwen, ggml-org: lower case, fp16, splits even for small models.
    ("Meta-Llama-3-8B-Instruct-Q4_K_M.gguf", Q.Q4_K_M, "Q4_K_M", None),
    ("gemma-2-2b-it-Q8_0.gguf", Q.Q8_0, "Q8_0", None),
    (
        "qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf",
        Q.Q4_K_M,
        "Q4_K_M",
        ("qwen2.5-7b-instruct-q4_k_m.gguf", 1, 2),
    ),
    ("qwen2.5-0.5b-instruct-fp16.gguf", Q.F16, "F16", None),
    ("qwen2.5-coder-7b-instruct-q5_0.gguf", Q.Q5_0, "Q5_0", None),
    ("qwen1_5-7b-chat-q4_k_m.gguf", Q.Q4_K_M, "Q4_K_M", None),
    ("Qwen3-8B-Q4_K_M.gguf", Q.Q4_K_M, "Q4_K_M", None),
    ("gpt-oss-20b-mxfp4.gguf", Q.MXFP4, "MXFP4", None),
    ("gemma-3-4b-it-Q4_K_M.gguf", Q.Q4_K_M, "Q4_K_M", None),
    ("bert-bge-small/ggml-model-f16.gguf", Q.F16, "F16", None),
    ("phi-2/ggml-model-q4_0.gguf", Q.Q4_0, "Q4_0", None),
    ("SmolLM2-135M-Instruct.Q4_1.gguf", Q.Q4_1, "Q4_1", None),
    # QuantFactory, MaziyarPanahi, NousResearch.
    ("Meta-Llama-3-8B-Instruct.Q4_K_M.gguf", Q.Q4_K_M, "Q4_K_M", None),
    ("Llama-3.2-3B-Instruct.Q2_K.gguf", Q.Q2_K, "Q2_K", None),
    ("Mistral-7B-Instruct-v0.3.Q4_K_M.gguf", Q.Q4_K_M, "Q4_K_M", None),
    ("Meta-Llama-3-70B-Instruct.IQ1_M.gguf", Q.IQ1_M, "IQ1_M", None),
    (
        "Meta-Llama-3-70B-Instruct.Q5_K_M-00001-of-00002.gguf",
        Q.Q5_K_M,
        "Q5_K_M",
        ("Meta-Llama-3-70B-Instruct.Q5_K_M.gguf", 1, 2),
    ),
    ("Hermes-2-Pro-Mistral-7B.Q4_K_M.gguf", Q.Q4_K_M, "Q4_K_M", None),
    ("Hermes-3-Llama-3.1-8B.Q8_0.gguf", Q.Q8_0, "Q8_0", None),
    ("DeepSeek-V2.5-Q2_K_S.gguf", Q.Q2_K_S, "Q2_K_S", None),
    # Ternary models; "b1_58" and "1.58" must not read as a quant.
    ("bitnet_b1_58-large-TQ1_0.gguf", Q.TQ1_0, "TQ1_0", None),
    ("Llama3-8B-1.58-100B-tokens-TQ2_0.gguf", Q.TQ2_0, "TQ2_0", None),
    # llama.cpp's own aliases and a dead legacy type.
    ("Model-Q4_K.gguf", Q.Q4_K_M, "Q4_K", None),
    ("ggml-model-q4_2.bin", None, "Q4_2", None),
    # Names that carry no quantization, however close they come.
    ("Qwen2.5-7B-Instruct.gguf", None, None, None),
    ("stories260K.gguf", None, None, None),
    ("Q4-2024-report.gguf", None, None, None),
    ("seq4_0-model.gguf", None, None, None),
    ("model-q4.gguf", None, None, None),
    ("Qwen2-1_5B-Instruct.gguf", None, None, None),
    ("bitnet_b1_58-large.gguf", None, None, None),
    ("Phi-3-mini-4k-instruct-Fp8.gguf", None, None, None),
    ("bf16x-model.gguf", None, None, None),
    ("model-00001-of-00003.gguf", None, None, ("model.gguf", 1, 3)),
    ("model-00002-of-00004.safetensors", None, None, ("model.safetensors", 2, 4)),
    ("pytorch_model-00001-of-00002.bin", None, None, ("pytorch_model.bin", 1, 2)),
]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 60
    labels = {label for _, _, label, _ in CASES}
    wanted = {"Q4_0_4_4", "Q6_K_L", "IQ1_S", "IQ2_XS", "IQ3_XS", "TQ1_0", "BF16", "F16", "F32"}
    assert wanted <= labels


@pytest.mark.parametrize(("name", "quant", "label", "split"), CASES, ids=[c[0] for c in CASES])
def test_file_name(
    name: str, quant: QuantizationType | None, label: str | None, split: Split
) -> None:
    parsed = parse_quantization(name)
    if label is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert (parsed.quantization, parsed.label) == (quant, label)
    assert split_part(name) == split


@pytest.mark.parametrize(
    ("name", "imatrix"),
    [
        ("Llama-3-8B-Instruct-abliterated.i1-Q4_K_M.gguf", True),
        ("Meta-Llama-3-8B-Instruct-Q4_K_M-imat.gguf", True),
        ("Meta-Llama-3-8B-Instruct.Q4_K_M.gguf", False),
        ("Phi-3-mini-4k-instruct-iq4_xs.gguf", False),
    ],
)
def test_imatrix_flag(name: str, imatrix: bool) -> None:
    parsed = parse_quantization(name)
    assert parsed is not None and parsed.imatrix is imatrix


@pytest.mark.parametrize(
    "name",
    ["model.Q4_K_M.gguf", "model-q4_k_m.gguf", "model_Q4_K_M.gguf", "MODEL.q4_K_m.GGUF"],
)
def test_separators_and_case(name: str) -> None:
    assert parse_quantization(name) == ParsedQuant(Q.Q4_K_M, "Q4_K_M")


def test_longest_spelling_wins() -> None:
    assert parse_quantization("m-IQ2_XXS.gguf") == ParsedQuant(Q.IQ2_XXS, "IQ2_XXS")
    assert parse_quantization("m-IQ3_XXS.gguf") == ParsedQuant(Q.IQ3_XXS, "IQ3_XXS")
    assert parse_quantization("m-Q3_K_XL.gguf") == ParsedQuant(Q.Q3_K_L, "Q3_K_XL")


def test_last_token_wins_and_folder_is_the_fallback() -> None:
    assert parse_quantization("DeepSeek-V3-bf16-Q4_K_M.gguf") == ParsedQuant(Q.Q4_K_M, "Q4_K_M")
    folder = parse_quantization("Q5_K_M/model-00001-of-00002.gguf")
    assert folder == ParsedQuant(Q.Q5_K_M, "Q5_K_M")
    # The file's own name outranks its folder's.
    assert parse_quantization("Q8_0/model-Q4_0.gguf") == ParsedQuant(Q.Q4_0, "Q4_0")


@pytest.mark.parametrize(
    "name",
    [
        "../model-00001-of-00002.gguf",
        "/abs/model-00001-of-00002.gguf",
        "C:model-00001-of-00002.gguf",
        "sub\\model-00001-of-00002.gguf",
        "model-00000-of-00002.gguf",  # parts count from 1
        "model-00003-of-00002.gguf",
        "model.gguf.part0of2",
        "model.gguf.part1of999999",  # an absurd count is refused, not enumerated
    ],
)
def test_bad_shard_names_are_rejected(name: str) -> None:
    with pytest.raises(UnsafeNameError):
        split_part(name)


def test_quality_score_is_monotone_in_bits_per_weight() -> None:
    by_bits = sorted(QuantizationType, key=lambda q: BITS_PER_WEIGHT[q])
    scores = [quality_score(q) for q in by_bits]
    assert scores == sorted(scores)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert quality_score(Q.F32) == quality_score(Q.F16) == quality_score(Q.BF16) == 1.0
    assert quality_score(Q.Q8_0) > 0.95 > quality_score(Q.Q4_K_M) > quality_score(Q.Q2_K)
    assert 0.05 <= quality_score(Q.IQ1_S) <= 0.15


def test_quality_score_of_labels() -> None:
    assert quality_score("Q6_K_L") == quality_score(Q.Q6_K)
    assert quality_score("UD-Q4_K_XL") == quality_score(Q.Q4_K_M)
    assert quality_score("q8_0") == quality_score(Q.Q8_0)
    for label in ("Q4_2", "not-a-quant", ""):
        with pytest.raises(ValueError):
            quality_score(label)
