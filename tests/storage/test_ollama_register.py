"""Registering an installed model with Ollama, against the fake Ollama server (which keeps blobs
on disk and builds models from them the way /api/blobs and /api/create do)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from lexitui.backends.ollama import OllamaBackend
from lexitui.storage.errors import StorageError
from lexitui.storage.manager import StorageManager
from lexitui.storage.ollama_register import ollama_name
from lexitui.storage.starter import STARTER_ID, starter_model_path
from tests.fakes import FakeOllama
from tests.storage.layouts import write_gguf


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with FakeOllama(None) as server:  # no generation here: no engine behind it
        yield server


@pytest.fixture
async def ollama(fake: FakeOllama) -> AsyncIterator[OllamaBackend]:
    backend = OllamaBackend(environ={"OLLAMA_HOST": fake.base_url})
    try:
        yield backend
    finally:
        await backend.aclose()


def blob_calls(fake: FakeOllama, method: str) -> list[str]:
    return [p for m, p, _ in fake.requests if m == method and p.startswith("/api/blobs/")]


def listed(fake: FakeOllama) -> list[str]:
    tags = httpx.get(f"{fake.base_url}/api/tags").json()
    return [m["name"] for m in tags["models"]]


async def test_the_starter_registers_once_and_a_second_time_skips_the_upload(
    manager: StorageManager, ollama: OllamaBackend, fake: FakeOllama
) -> None:
    starter = starter_model_path()
    assert starter is not None
    model = await manager.installed_model(STARTER_ID)
    assert Path(model.model.path) == starter

    name = await manager.register_with_ollama(STARTER_ID, ollama)

    assert name == "smollm2-135m-instruct-q4_1:latest"
    assert name in listed(fake)
    assert len(blob_calls(fake, "POST")) == 1
    created = {m.id: m for m in await ollama.list_models()}[name]
    assert (created.size_bytes or 0) >= starter.stat().st_size  # the GGUF layer and more

    again = await manager.register_with_ollama(STARTER_ID, ollama, name="smol:test")
    assert again == "smol:test"
    assert {name, again} <= set(listed(fake))
    assert len(blob_calls(fake, "HEAD")) == 2
    assert len(blob_calls(fake, "POST")) == 1, "Ollama had the blob: no second upload"


async def test_a_split_model_is_refused_before_any_upload(
    manager: StorageManager, ollama: OllamaBackend, fake: FakeOllama, tmp_path: Path
) -> None:
    first = write_gguf(tmp_path / "src" / "big-00001-of-00002.gguf", split=(1, 2))
    write_gguf(tmp_path / "src" / "big-00002-of-00002.gguf", split=(2, 2), padding=32)
    model = await manager.import_model(first)

    with pytest.raises(StorageError, match=r"split GGUF.*one file only"):
        await manager.register_with_ollama(model.id, ollama)
    assert blob_calls(fake, "HEAD") == blob_calls(fake, "POST") == []
    assert not [n for n in listed(fake) if n.startswith("big")]


async def test_a_bad_name_is_refused_and_ids_become_safe_names(
    manager: StorageManager, ollama: OllamaBackend, fake: FakeOllama
) -> None:
    with pytest.raises(StorageError, match="not a valid Ollama model name"):
        await manager.register_with_ollama(STARTER_ID, ollama, name="../evil")
    assert fake.requests == []
    assert ollama_name("Org/Some Model@Q4_K_M") == "org-some-model-q4_k_m:latest"
    assert ollama_name("x", "Me/Tiny:Q8") == "me/tiny:q8"


async def test_the_cli_registers_an_installed_model_with_the_ollama_it_finds(
    fake: FakeOllama,
) -> None:
    env = {**os.environ, "OLLAMA_HOST": fake.base_url}
    # The fake answers from its own thread, so a blocking subprocess call is fine here.
    done = subprocess.run(
        [sys.executable, "-m", "lexitui", "storage", "--register-ollama", STARTER_ID, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ollama_name"] in listed(fake)

    bad = subprocess.run(
        [sys.executable, "-m", "lexitui", "storage", "--register-ollama", "no-such-model"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert bad.returncode == 1 and bad.stderr.startswith("lexitui: "), bad.stderr
    assert "Traceback" not in bad.stderr
