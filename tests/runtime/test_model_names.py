"""A request's model name finds the same installed model however the client spells it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lexitui.domain.enums import ModelFormat
from lexitui.domain.models import InstalledModel
from lexitui.runtime.model_names import find_installed


def installed(model_id: str, name: str, path: str) -> InstalledModel:
    return InstalledModel(
        id=model_id,
        name=name,
        path=path,
        format=ModelFormat.GGUF,
        size_bytes=1,
        source="local",
        registered_by_path=False,
        installed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


SMOL = installed("smollm2-135m-q8_0", "SmolLM2 135M", "/m/SmolLM2-135M-Instruct-Q8_0.gguf")
LLAMA = installed("ollama:llama3.2:3b", "llama3.2:3b", "/o/blobs/sha256-ab")
LATEST = installed("ollama:qwen3:latest", "qwen3:latest", "/o/blobs/sha256-cd")
MODELS = [SMOL, LLAMA, LATEST]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("smollm2-135m-q8_0", SMOL),
        ("SmolLM2-135M-q8_0", SMOL),
        ("smollm2-135m-q8_0:latest", SMOL),
        ("SmolLM2-135M-Instruct-Q8_0.gguf", SMOL),
        ("smollm2-135m-instruct-q8_0", SMOL),
        ("llama3.2:3b", LLAMA),
        ("library/llama3.2:3b", LLAMA),
        ("ollama:llama3.2:3b", LLAMA),
        ("qwen3", LATEST),
        ("qwen3:latest", LATEST),
    ],
)
def test_every_spelling_a_client_uses_finds_the_model(name: str, expected: InstalledModel) -> None:
    assert find_installed(MODELS, name) == expected


@pytest.mark.parametrize("name", ["", "  ", "llama3.2:1b", "gpt-4o", "qwen3:8b", "../etc/passwd"])
def test_a_name_no_installed_model_has_finds_nothing(name: str) -> None:
    assert find_installed(MODELS, name) is None


def test_an_exact_id_wins_over_another_models_file_name() -> None:
    other = installed("b", "B", "/m/smollm2-135m-q8_0.gguf")
    assert find_installed([other, SMOL], "smollm2-135m-q8_0") == SMOL
