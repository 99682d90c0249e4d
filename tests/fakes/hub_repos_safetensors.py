"""The fake Hub's transformers-style repos: a safetensors model, a gated Meta model, an MLX quant.

Configs, READMEs and small JSON files have bytes; the weights are listed only (see
``hub_records``). ``meta-llama/Llama-3.1-8B-Instruct`` is gated "manual": its metadata and tree
are public (as on the Hub) but its files need a token whose user was granted access.
"""

from __future__ import annotations

import json

from tests.fakes.hub_records import HubRepo, listed_file, text_file
from tests.fakes.hub_repos import base_tags, common_files


def _index(total_size: int) -> str:
    return json.dumps({"metadata": {"total_size": total_size}})


LLAMA_LANGUAGES = ["en", "de", "fr", "it", "pt", "hi", "es", "th"]


def qwen_small() -> HubRepo:
    rid = "Qwen/Qwen2.5-0.5B-Instruct"
    base = "Qwen/Qwen2.5-0.5B"
    card = {
        "base_model": base,
        "language": ["en"],
        "library_name": "transformers",
        "license": "apache-2.0",
        "license_link": f"https://huggingface.co/{rid}/blob/main/LICENSE",
        "pipeline_tag": "text-generation",
        "tags": ["chat"],
    }
    config = {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "max_position_embeddings": 32768,
        "num_hidden_layers": 24,
        "hidden_size": 896,
        "torch_dtype": "bfloat16",
    }
    files = common_files(card, "Qwen2.5-0.5B-Instruct")
    files += [
        text_file("config.json", json.dumps(config, indent=2)),
        text_file("generation_config.json", json.dumps({"do_sample": True, "top_p": 0.8})),
        text_file("LICENSE", "Apache License\nVersion 2.0, January 2004\n"),
        listed_file(rid, "model.safetensors", 988_097_824),
        listed_file(rid, "tokenizer.json", 7_031_645),
        text_file("tokenizer_config.json", json.dumps({"model_max_length": 131072})),
    ]
    return HubRepo(
        rid,
        "2024-09-16T11:55:40.000Z",
        "2024-09-25T12:32:56.000Z",
        downloads=1_254_300,
        likes=260,
        trending_score=30,
        tags=[
            "transformers",
            "safetensors",
            "qwen2",
            "text-generation",
            "chat",
            "conversational",
            "en",
            "arxiv:2407.10671",
            *base_tags(base, "finetune"),
            "license:apache-2.0",
            "autotrain_compatible",
            "text-generation-inference",
            "endpoints_compatible",
            "region:us",
        ],
        pipeline_tag="text-generation",
        library_name="transformers",
        card_data=card,
        files=files,
        config={"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"},
        safetensors={"parameters": {"BF16": 494_032_768}, "total": 494_032_768},
    )


def meta_llama_gated() -> HubRepo:
    rid = "meta-llama/Llama-3.1-8B-Instruct"
    base = "meta-llama/Llama-3.1-8B"
    card = {
        "language": LLAMA_LANGUAGES,
        "license": "llama3.1",
        "base_model": base,
        "pipeline_tag": "text-generation",
        "tags": ["facebook", "meta", "pytorch", "llama", "llama-3"],
        "extra_gated_prompt": "### LLAMA 3.1 COMMUNITY LICENSE AGREEMENT",
        "extra_gated_fields": {"First Name": "text", "Last Name": "text", "Country": "country"},
        "extra_gated_button_content": "Submit",
    }
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "max_position_embeddings": 131072,
        "num_hidden_layers": 32,
    }
    shards = [4_976_698_672, 4_999_802_720, 4_915_916_176, 1_168_138_808]
    files = common_files(card, "Llama 3.1")
    files += [
        text_file("config.json", json.dumps(config, indent=2)),
        text_file("USE_POLICY.md", "# Llama 3.1 Acceptable Use Policy\n"),
        text_file(
            "model.safetensors.index.json", json.dumps({"metadata": {"total_size": 16060522496}})
        ),
        *[
            listed_file(rid, f"model-{i:05d}-of-00004.safetensors", size)
            for i, size in enumerate(shards, 1)
        ],
        listed_file(rid, "original/consolidated.00.pth", 16_060_617_592),
        text_file("original/params.json", json.dumps({"dim": 4096, "n_layers": 32})),
        listed_file(rid, "original/tokenizer.model", 2_183_982),
    ]
    return HubRepo(
        rid,
        "2024-07-18T08:56:00.000Z",
        "2024-09-25T17:00:57.000Z",
        downloads=5_630_100,
        likes=3_920,
        trending_score=44,
        tags=[
            "transformers",
            "safetensors",
            "llama",
            "text-generation",
            "facebook",
            "meta",
            "pytorch",
            "llama-3",
            "conversational",
            *LLAMA_LANGUAGES,
            "arxiv:2204.05149",
            *base_tags(base, "finetune"),
            "license:llama3.1",
            "autotrain_compatible",
            "text-generation-inference",
            "endpoints_compatible",
            "region:us",
        ],
        pipeline_tag="text-generation",
        library_name="transformers",
        card_data=card,
        files=files,
        gated="manual",
        config={"architectures": ["LlamaForCausalLM"], "model_type": "llama"},
        safetensors={"parameters": {"BF16": 8_030_261_248}, "total": 8_030_261_248},
        granted_users={"granted-user"},
    )


def mlx_llama() -> HubRepo:
    """MLX 4-bit: the Hub counts packed U32 words, so its ``safetensors.total`` undercounts."""
    rid = "mlx-community/Llama-3.2-3B-Instruct-4bit"
    base = "meta-llama/Llama-3.2-3B-Instruct"
    card = {
        "base_model": base,
        "language": LLAMA_LANGUAGES,
        "library_name": "mlx",
        "license": "llama3.2",
        "pipeline_tag": "text-generation",
        "tags": ["facebook", "meta", "llama", "llama-3", "mlx"],
    }
    config = {"model_type": "llama", "quantization": {"group_size": 64, "bits": 4}}
    files = common_files(card, "mlx-community/Llama-3.2-3B-Instruct-4bit")
    files += [
        text_file("config.json", json.dumps(config)),
        listed_file(rid, "model.safetensors", 1_807_496_128),
        text_file(
            "model.safetensors.index.json", json.dumps({"metadata": {"total_size": 1807404032}})
        ),
        listed_file(rid, "tokenizer.json", 17_209_920),
        text_file("tokenizer_config.json", json.dumps({"model_max_length": 131072})),
    ]
    return HubRepo(
        rid,
        "2024-09-25T18:41:43.000Z",
        "2024-10-01T09:14:28.000Z",
        downloads=58_700,
        likes=33,
        trending_score=5,
        tags=[
            "mlx",
            "safetensors",
            "llama",
            "facebook",
            "meta",
            "llama-3",
            "text-generation",
            "conversational",
            "en",
            *base_tags(base),
            "license:llama3.2",
            "region:us",
        ],
        pipeline_tag="text-generation",
        library_name="mlx",
        card_data=card,
        files=files,
        config={"model_type": "llama"},
        safetensors={"parameters": {"F16": 100_395_392, "U32": 401_604_608}, "total": 502_000_000},
    )
