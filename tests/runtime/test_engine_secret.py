"""The engine's secret on the way through lexitui: every request lexitui makes carries it
(generation, embeddings, slots, health, the managed backend's native endpoints), and it never
lands anywhere others can read: the state file is 0600, and what ``lexitui ps`` shows, the
logs and the database never hold it."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import LocalEmbeddingRequest, LocalGenerationRequest
from lexitui.engine.state import ManagedState, run_dir
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

pytestmark = [pytest.mark.engine, pytest.mark.timeout(180)]
SMALL = ModelLoadOptions(context_length=1024, threads=1, embedding=True)


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []


@pytest.mark.usefixtures("engine_kind")
async def test_lexitui_sends_the_secret_and_never_shows_it(services: Services) -> None:
    loaded = await services.runtime.load(STARTER_ID, SMALL)
    engine = services.runtime.engine()
    assert engine.supervisor is not None
    secret = engine.supervisor.api_key
    assert secret

    # Without the secret the port is useless to anyone else on the machine.
    async with httpx.AsyncClient(base_url=loaded.endpoint, timeout=60) as stranger:
        refused = await stranger.post("/completion", json={"prompt": "hi", "n_predict": 1})
        assert refused.status_code == 401

    # lexitui's own requests all carry it.
    ask = LocalGenerationRequest(messages=(LocalChatMessage(ChatRole.USER, "Hi"),), max_tokens=4)
    assert (await services.runtime.generate(ask)).text
    vectors = await services.runtime.embed(LocalEmbeddingRequest(texts=["a cat"]))
    assert len(vectors.embeddings[0]) == 576
    assert engine.client is not None
    assert (await engine.client.get("/slots")).status_code == 200

    [state_file] = run_dir(services.paths).glob("runtime-*.json")
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    # What `lexitui ps` shows of it, and its repr, leave the secret out.
    data = json.loads(state_file.read_text(encoding="utf-8"))
    state = ManagedState(**data)
    assert state.api_key == secret
    assert "api_key" not in state.public() and secret not in repr(state)

    await services.store.close()  # flushed, so the database file holds every row written
    for path in files_under(services.paths.logs_dir) + files_under(services.paths.data_dir):
        if path != state_file:
            assert secret.encode() not in path.read_bytes(), path
    await services.store.open()
