"""A built-in backend moved in the config (``"lm-studio.url" = ...``) is looked for there, and a
bad value is one clear error line."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from lexitui.backends.factory import MOVABLE_NAMES
from lexitui.backends.manager import BackendManager
from lexitui.commands.backends import main
from lexitui.config import Paths, load_config
from lexitui.domain.enums import BackendStatus
from tests.backends.servers import Request, ScriptedServer, send
from tests.home_config import closed_url, write_test_config


async def lm_studio(request: Request, writer: asyncio.StreamWriter) -> None:
    if request.path == "/v1/models":
        await send(writer, 200, {"object": "list", "data": [{"id": "qwen2.5-7b-instruct"}]})
    else:
        await send(writer, 404, {"error": "not found"})


async def test_a_moved_lm_studio_is_looked_for_at_its_new_address(paths: Paths) -> None:
    async with ScriptedServer(lm_studio) as server:
        write_test_config(paths.config_file, f'[backends]\n"lm-studio.url" = "{server.url}/"\n')
        async with BackendManager(paths) as manager:
            backend = manager.get("lm-studio")
            assert backend.endpoint == server.url
            health = (await manager.monitor.check_all())["lm-studio"]
            assert health.status is BackendStatus.RUNNING, health
            assert [m.id for m in await backend.list_models()] == ["qwen2.5-7b-instruct"]
            assert server.requests, "the server at the moved address was asked"
            manager.set_preferred("lm-studio")  # saving the section keeps the moved address
        stored = load_config(paths)["backends"]
        assert stored["lm-studio.url"] == server.url and stored["preferred"] == "lm-studio"


async def test_the_config_wins_over_ollama_host(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    write_test_config(paths.config_file, '[backends]\n"ollama.url" = "http://127.0.0.1:11999"\n')
    async with BackendManager(paths) as manager:
        assert manager.get("ollama").endpoint == "http://127.0.0.1:11999"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('"lm-studio.url" = "ftp://127.0.0.1:1235"', "'lm-studio.url': invalid URL"),
        ('"vllm.url" = "http://me:secret@10.0.0.5:8000"', "'vllm.url': put credentials"),
        ('"localai.url" = "http://127.0.0.1:0"', "'localai.url': invalid URL"),
        ('"llamacpp.url" = "http://127.0.0.1:8081"', "llamacpp is lexitui's own engine"),
        ('"lmstudio.url" = "http://127.0.0.1:1235"', "no built-in backend named 'lmstudio'"),
    ],
)
def test_a_bad_moved_address_is_one_clear_error_line(
    paths: Paths, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    write_test_config(paths.config_file, f"[backends]\n{line}\n")
    before = paths.config_file.read_text(encoding="utf-8")
    assert main(["backends"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err, err
    assert "secret" not in err
    assert paths.config_file.read_text(encoding="utf-8") == before, "nothing is lost"


def test_every_test_home_keeps_the_built_ins_off_their_real_ports() -> None:
    """A developer's running Ollama or LM Studio must not change what the tests see, in this
    process or in a ``lexitui`` started from it."""
    done = subprocess.run(
        [sys.executable, "-m", "lexitui", "backends", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    endpoints = {row["name"]: row["endpoint"] for row in json.loads(done.stdout)}
    looked_at = {name: endpoints[name] for name in MOVABLE_NAMES}
    assert looked_at == dict.fromkeys(MOVABLE_NAMES, closed_url()), looked_at
