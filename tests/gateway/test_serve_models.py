"""``lexitui serve`` with no ``--model``, asked by the ``openai`` SDK what it serves: every
installed model is listed (and says it is not loaded yet), a model is found by its file name
too, and a model nobody has is OpenAI's 404 ``model_not_found``, with nothing loaded for it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import openai
import pytest

from lexitui.config import Paths
from lexitui.storage.starter import STARTER_FILE, STARTER_ID
from tests.gateway.serve_process import engines_running, running_serve


@pytest.fixture
def gateway(paths: Paths) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    with running_serve() as (url, proc):
        yield url, proc


def test_the_list_has_the_installed_models_and_an_unknown_one_is_404(
    gateway: tuple[str, subprocess.Popen[str]],
) -> None:
    base_url, _proc = gateway
    client = openai.OpenAI(base_url=base_url, api_key="unused-on-loopback", max_retries=0)

    listed = {m.id: m for m in client.models.list().data}
    assert STARTER_ID in listed and listed[STARTER_ID].owned_by == "local"
    assert listed[STARTER_ID].model_extra == {"loaded": False}
    assert client.models.retrieve(STARTER_FILE).id == STARTER_ID

    with pytest.raises(openai.NotFoundError) as refused:
        client.chat.completions.create(
            model="llama-9000", messages=[{"role": "user", "content": "hi"}], max_tokens=4
        )
    assert refused.value.code == "model_not_found"
    assert "llama-9000" in refused.value.message
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("llama-9000")
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="llama-9000", input="hi")
    assert engines_running() == []  # nothing was loaded to answer a model it does not have
