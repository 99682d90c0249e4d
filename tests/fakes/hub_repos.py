"""The fake Hub's repositories: metadata shaped like the real ones (tags, card data, ``gguf`` and
``safetensors`` summaries, file lists and sizes as those repos publish them).

Which files have bytes (see ``hub_records``): every README, config and ``.gitattributes``, and
the files of the repos in ``hub_repos_served``. The big quants here are listed only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tests.fakes.hub_records import HubFile, HubRepo, listed_file, text_file

GITATTRIBUTES = (
    "*.gguf filter=lfs diff=lfs merge=lfs -text\n"
    "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
)
LLAMA31_PROMPT = (
    "### LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024"
)
CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
)


def _readme(card: Mapping[str, Any], title: str) -> HubFile:
    front = "\n".join(f"{k}: {json.dumps(v)}" for k, v in card.items())
    return text_file("README.md", f"---\n{front}\n---\n\n# {title}\n")


def common_files(card: Mapping[str, Any], title: str) -> list[HubFile]:
    return [text_file(".gitattributes", GITATTRIBUTES), _readme(card, title)]


def quants(repo_id: str, pattern: str, sizes: dict[str, int]) -> list[HubFile]:
    return [listed_file(repo_id, pattern.format(q=q), size) for q, size in sizes.items()]


def base_tags(base: str, relation: str = "quantized") -> list[str]:
    return [f"base_model:{base}", f"base_model:{relation}:{base}"]


def bartowski_llama_8b() -> HubRepo:
    rid = "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF"
    base = "meta-llama/Llama-3.1-8B-Instruct"
    card = {
        "base_model": base,
        "language": ["en", "de", "fr", "it", "pt", "hi", "es", "th"],
        "license": "llama3.1",
        "pipeline_tag": "text-generation",
        "tags": ["facebook", "meta", "pytorch", "llama", "llama-3"],
        "quantized_by": "bartowski",
        "extra_gated_prompt": LLAMA31_PROMPT,
    }
    sizes = {
        "f32": 32_128_970_112,
        "Q8_0": 8_540_770_880,
        "Q6_K_L": 6_850_209_472,
        "Q6_K": 6_596_007_488,
        "Q5_K_M": 5_732_987_008,
        "Q5_K_S": 5_599_294_592,
        "Q4_K_M": 4_920_734_336,
        "Q4_K_S": 4_692_669_056,
        "Q4_0_4_4": 4_660_351_104,
        "IQ4_XS": 4_447_667_840,
        "Q3_K_L": 4_321_957_504,
        "Q3_K_M": 4_018_918_016,
        "IQ3_M": 3_784_823_936,
        "Q2_K": 3_179_133_568,
        "IQ2_M": 2_948_167_808,
    }
    files = common_files(card, "Llamacpp imatrix Quantizations of Meta-Llama-3.1-8B-Instruct")
    files += quants(rid, "Meta-Llama-3.1-8B-Instruct-{q}.gguf", sizes)
    files.append(listed_file(rid, "Meta-Llama-3.1-8B-Instruct.imatrix", 4_988_146))
    return HubRepo(
        rid,
        "2024-07-23T15:36:34.000Z",
        "2024-09-12T20:02:17.000Z",
        downloads=268_520,
        likes=210,
        trending_score=14,
        tags=[
            "gguf",
            "facebook",
            "meta",
            "pytorch",
            "llama",
            "llama-3",
            "text-generation",
            "en",
            "de",
            "fr",
            "it",
            "pt",
            "hi",
            "es",
            "th",
            *base_tags(base),
            "license:llama3.1",
            "endpoints_compatible",
            "region:us",
            "conversational",
            "imatrix",
        ],
        pipeline_tag="text-generation",
        library_name=None,
        card_data=card,
        files=files,
        gguf={
            "total": 8_030_261_312,
            "architecture": "llama",
            "context_length": 131072,
            "bos_token": "<|begin_of_text|>",
            "eos_token": "<|eot_id|>",
        },
    )


def bartowski_llama_70b() -> HubRepo:
    rid = "bartowski/Meta-Llama-3.1-70B-Instruct-GGUF"
    base = "meta-llama/Llama-3.1-70B-Instruct"
    card = {
        "base_model": base,
        "license": "llama3.1",
        "pipeline_tag": "text-generation",
        "quantized_by": "bartowski",
    }
    files = common_files(card, "Llamacpp imatrix Quantizations of Meta-Llama-3.1-70B-Instruct")
    files += quants(
        rid,
        "Meta-Llama-3.1-70B-Instruct-{q}.gguf",
        {"Q4_K_M": 42_520_395_552, "IQ4_XS": 37_902_708_000, "Q2_K": 26_375_113_024},
    )
    folder = "Meta-Llama-3.1-70B-Instruct-Q8_0"
    files += [
        listed_file(rid, f"{folder}/{folder}-00001-of-00002.gguf", 39_808_344_736),
        listed_file(rid, f"{folder}/{folder}-00002-of-00002.gguf", 35_167_068_768),
    ]
    return HubRepo(
        rid,
        "2024-07-23T16:05:49.000Z",
        "2024-08-02T09:11:05.000Z",
        downloads=61_200,
        likes=160,
        trending_score=6,
        tags=[
            "gguf",
            "facebook",
            "meta",
            "pytorch",
            "llama",
            "llama-3",
            "text-generation",
            *base_tags(base),
            "license:llama3.1",
            "region:us",
            "conversational",
            "imatrix",
        ],
        pipeline_tag="text-generation",
        library_name=None,
        card_data=card,
        files=files,
        gguf={"total": 70_553_706_560, "architecture": "llama", "context_length": 131072},
    )


def thebloke_mistral() -> HubRepo:
    rid = "TheBloke/Mistral-7B-Instruct-v0.2-GGUF"
    base = "mistralai/Mistral-7B-Instruct-v0.2"
    card = {
        "base_model": base,
        "inference": False,
        "license": "apache-2.0",
        "model_creator": "Mistral AI_",
        "model_name": "Mistral 7B Instruct v0.2",
        "model_type": "mistral",
        "pipeline_tag": "text-generation",
        "prompt_template": "<s>[INST] {prompt} [/INST]\n",
        "quantized_by": "TheBloke",
        "tags": ["finetuned"],
    }
    sizes = {
        "Q2_K": 3_083_097_888,
        "Q3_K_S": 3_164_567_840,
        "Q3_K_M": 3_518_986_016,
        "Q4_0": 4_108_916_512,
        "Q4_K_S": 4_140_374_304,
        "Q4_K_M": 4_368_439_584,
        "Q5_K_M": 5_131_409_696,
        "Q6_K": 5_942_065_440,
        "Q8_0": 7_695_857_952,
    }
    files = common_files(card, "Mistral 7B Instruct v0.2 - GGUF")
    files.append(text_file("config.json", json.dumps({"model_type": "mistral"})))
    files += quants(rid, "mistral-7b-instruct-v0.2.{q}.gguf", sizes)
    return HubRepo(
        rid,
        "2023-12-11T09:23:08.000Z",
        "2023-12-11T09:45:47.000Z",
        downloads=84_310,
        likes=430,
        trending_score=3,
        tags=[
            "transformers",
            "gguf",
            "mistral",
            "finetuned",
            "text-generation",
            *base_tags(base),
            "license:apache-2.0",
            "text-generation-inference",
            "region:us",
            "conversational",
        ],
        pipeline_tag="text-generation",
        library_name="transformers",
        card_data=card,
        files=files,
        config={"model_type": "mistral"},
        gguf={"total": 7_241_732_096, "architecture": "llama", "context_length": 32768},
    )


def qwen_coder_gguf() -> HubRepo:
    rid = "Qwen/Qwen2.5-Coder-7B-Instruct-GGUF"
    base = "Qwen/Qwen2.5-Coder-7B-Instruct"
    card = {
        "base_model": base,
        "language": ["en"],
        "license": "apache-2.0",
        "pipeline_tag": "text-generation",
        "tags": ["code", "codeqwen", "chat", "qwen", "qwen-coder"],
    }
    files = common_files(card, "Qwen2.5-Coder-7B-Instruct-GGUF")
    files += quants(
        rid,
        "qwen2.5-coder-7b-instruct-{q}.gguf",
        {"q4_k_m": 4_683_073_984, "q5_k_m": 5_444_831_680, "q8_0": 8_098_525_632},
    )
    files += quants(
        rid,
        "qwen2.5-coder-7b-instruct-fp16-{q}.gguf",
        {f"0000{i}-of-00004": 3_989_000_000 - i * 1_000 for i in range(1, 5)},
    )
    return HubRepo(
        rid,
        "2024-09-17T13:25:52.000Z",
        "2024-11-12T03:25:29.000Z",
        downloads=41_900,
        likes=120,
        trending_score=25,
        tags=[
            "gguf",
            "code",
            "codeqwen",
            "chat",
            "qwen",
            "qwen-coder",
            "text-generation",
            "en",
            *base_tags(base),
            "license:apache-2.0",
            "endpoints_compatible",
            "region:us",
            "conversational",
        ],
        pipeline_tag="text-generation",
        library_name=None,
        card_data=card,
        files=files,
        gguf={
            "total": 7_615_616_512,
            "architecture": "qwen2",
            "context_length": 32768,
            "chat_template": CHATML,
        },
    )


def command_r_gguf() -> HubRepo:
    rid = "bartowski/c4ai-command-r-v01-GGUF"
    base = "CohereForAI/c4ai-command-r-v01"
    card = {
        "base_model": base,
        "license": "cc-by-nc-4.0",
        "pipeline_tag": "text-generation",
        "quantized_by": "bartowski",
        "language": ["en", "fr", "de", "es", "it", "pt", "ja", "ko", "zh", "ar"],
    }
    files = common_files(card, "Llamacpp imatrix Quantizations of c4ai-command-r-v01")
    files += quants(
        rid,
        "c4ai-command-r-v01-{q}.gguf",
        {"Q4_K_M": 21_527_045_760, "IQ3_M": 16_685_473_280, "Q8_0": 37_179_273_472},
    )
    return HubRepo(
        rid,
        "2024-03-12T01:14:04.000Z",
        "2024-04-03T16:22:41.000Z",
        downloads=7_340,
        likes=48,
        trending_score=0,
        tags=[
            "gguf",
            "text-generation",
            "en",
            "fr",
            "de",
            *base_tags(base),
            "license:cc-by-nc-4.0",
            "region:us",
            "conversational",
        ],
        pipeline_tag="text-generation",
        library_name=None,
        card_data=card,
        files=files,
        gguf={"total": 34_980_831_232, "architecture": "command-r", "context_length": 131072},
    )


def nomic_embed_gguf() -> HubRepo:
    rid = "nomic-ai/nomic-embed-text-v1.5-GGUF"
    base = "nomic-ai/nomic-embed-text-v1.5"
    card = {
        "base_model": base,
        "language": ["en"],
        "library_name": "sentence-transformers",
        "license": "apache-2.0",
        "pipeline_tag": "sentence-similarity",
        "tags": ["embedding", "text-embeddings"],
    }
    files = common_files(card, "nomic-embed-text-v1.5 - GGUF")
    files += quants(
        rid,
        "nomic-embed-text-v1.5.{q}.gguf",
        {"Q4_K_M": 84_106_624, "Q8_0": 146_145_472, "f16": 274_290_560, "f32": 547_648_640},
    )
    return HubRepo(
        rid,
        "2024-02-15T17:37:12.000Z",
        "2024-07-22T12:47:49.000Z",
        downloads=95_600,
        likes=330,
        trending_score=4,
        tags=[
            "sentence-transformers",
            "gguf",
            "nomic-bert",
            "embedding",
            "text-embeddings",
            "sentence-similarity",
            "en",
            *base_tags(base),
            "license:apache-2.0",
            "region:us",
        ],
        pipeline_tag="sentence-similarity",
        library_name="sentence-transformers",
        card_data=card,
        files=files,
        gguf={"total": 136_731_648, "architecture": "nomic-bert", "context_length": 2048},
    )
