"""One ``lexitui serve`` with no ``--model``, and the tools people already use as its clients: the
``openai`` SDK and the ``ollama`` Python client list what is installed, chat with two different
installed models in turn (each loads on demand), stream, embed, get a 404 in their own shape for a
model nobody has, and the models unload on their own after a short keep-alive."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import ollama
import openai
import pytest

from lexitui.config import Paths
from lexitui.storage.starter import STARTER_ID, starter_model_path
from tests.gateway.serve_process import engines_running, running_serve
from tests.home_config import write_test_config

pytestmark = [pytest.mark.engine, pytest.mark.timeout(240)]

SECOND = "starter-copy"
ASK = [{"role": "user", "content": "Name a colour."}]


def install_second_model() -> None:
    """A second installed model, as a user adds a GGUF they have (linked, not copied)."""
    starter = starter_model_path()
    assert starter is not None
    done = subprocess.run(
        [sys.executable, "-m", "lexitui", "import", str(starter), "--symlink", "--id", SECOND],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr


def loaded_models() -> set[str]:
    return {row["model_id"] for row in engines_running()}


def test_the_openai_sdk_and_the_ollama_client_use_models_loaded_on_demand(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, '[runtime]\nkeep_alive = "3s"\n')
    install_second_model()
    with running_serve() as (base_url, _proc):
        sdk = openai.OpenAI(base_url=base_url, api_key="unused-on-loopback", max_retries=0)
        listed = {m.id: m.model_extra for m in sdk.models.list().data}
        assert listed[STARTER_ID] == listed[SECOND] == {"loaded": False}
        assert loaded_models() == set()

        first = sdk.chat.completions.create(model=STARTER_ID, messages=ASK, max_tokens=6)
        assert first.model == STARTER_ID and first.choices[0].message.content
        stream = sdk.chat.completions.create(model=SECOND, messages=ASK, max_tokens=6, stream=True)
        chunks = list(stream)
        assert {c.model for c in chunks} == {SECOND}
        pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
        assert "".join(pieces).strip(), "the second model streamed an answer"
        vectors = sdk.embeddings.create(model=SECOND, input=["red", "blue"])
        assert len(vectors.data) == 2 and len(vectors.data[0].embedding) > 100
        with pytest.raises(openai.NotFoundError) as refused:
            sdk.chat.completions.create(model="llama-9000", messages=ASK, max_tokens=4)
        assert refused.value.code == "model_not_found"

        client = ollama.Client(host=base_url.removesuffix("/v1"))
        names = {m.model for m in client.list().models}
        assert {STARTER_ID, SECOND} <= names
        answer = client.chat(model=SECOND, messages=ASK, options={"num_predict": 6})
        assert answer.message.content and answer.done
        streamed = "".join(
            part.message.content or ""
            for part in client.chat(
                model=STARTER_ID, messages=ASK, options={"num_predict": 6}, stream=True
            )
        )
        assert streamed.strip()
        assert len(client.embed(model=STARTER_ID, input="green").embeddings[0]) > 100
        with pytest.raises(ollama.ResponseError) as missing:
            client.chat(model="llama-9000", messages=ASK)
        assert missing.value.status_code == 404 and "not found" in missing.value.error

        # Idle past the test's 3 s keep-alive, both models unload by themselves.
        deadline = time.monotonic() + 60
        while loaded_models():
            assert time.monotonic() < deadline, "an idle model was never unloaded"
            time.sleep(0.25)
        assert client.ps().models == []
