"""Another lexitui pulls a model onto a real ``lexitui serve`` host over HTTP: the host answers
202 with the queued download at once, lists its downloads while the file comes from the Hub, and
the model is installed there when it is done; a bad spec gets one clear reason, and a host
without a gateway key refuses pulls."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from lexitui.config import Paths
from lexitui.fleet.host_settings import HostSpec
from lexitui.fleet.model_orders import OrderFailed
from lexitui.fleet.model_pulls import host_downloads, send_pull
from tests.fakes.hub_server import FakeHub
from tests.fleet.test_fleet_serve import home_env
from tests.gateway.serve_process import running_serve
from tests.home_config import write_test_config

TINY = "lexitui-fixtures/tiny-random-llama-GGUF"
WAIT_S = 60.0


async def installed(spec: HostSpec) -> list[str]:
    headers = {"Authorization": f"Bearer {spec.key()}"}
    async with httpx.AsyncClient() as client:
        answer = await client.get(spec.url + "/lexitui/v1/status", headers=headers)
    return [str(m) for m in answer.json()["models"]["installed"]]


async def pull_status(spec: HostSpec, model: str) -> int:
    headers = {"Authorization": f"Bearer {spec.key()}"}
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            spec.url + "/lexitui/v1/models/pull", json={"model": model}, headers=headers
        )
    return answer.status_code


async def finished(spec: HostSpec, download_id: str) -> dict[str, object]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        rows = {r["id"]: r for r in await host_downloads(spec)}
        if rows[download_id]["status"] in ("completed", "failed", "cancelled"):
            return rows[download_id]
        await asyncio.sleep(0.2)
    raise AssertionError(f"the download did not finish within {WAIT_S} s")


async def test_pull_onto_a_host_queues_then_installs_it(
    tmp_path: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = home_env(tmp_path / "host", LEXITUI_GATEWAY_KEY="key-of-host")
    write_test_config(Paths.from_env(env).config_file, "")
    monkeypatch.setenv("HOST_KEY", "key-of-host")
    with running_serve(env=env) as (url, _proc):
        spec = HostSpec("host", url.removesuffix("/v1"), key_env="HOST_KEY")

        queued = await send_pull(spec, f"{TINY}:Q8_0")
        assert str(queued["model"]).startswith(TINY)
        assert queued["status"] in ("queued", "downloading")
        done = await finished(spec, str(queued["id"]))
        assert done["status"] == "completed", done
        assert done["progress"] == 100.0
        assert any("tiny-random-llama" in m for m in await installed(spec))

        with pytest.raises(OrderFailed, match="not found"):
            await send_pull(spec, "nobody/no-such-repo:Q4_K_M")
        with pytest.raises(OrderFailed, match="Q9_9 names no variant"):
            await send_pull(spec, f"{TINY}:Q9_9")
        with pytest.raises(OrderFailed, match="REPO:QUANT"):
            await send_pull(spec, "  ")
        assert await pull_status(spec, "nobody/no-such-repo:Q4_K_M") == 404
        assert await pull_status(spec, f"{TINY}:Q9_9") == 404
        assert await pull_status(spec, "not a spec") == 400


async def test_a_host_without_a_key_refuses_pulls(tmp_path: Path, hub: FakeHub) -> None:
    env = home_env(tmp_path / "open")
    env.pop("LEXITUI_GATEWAY_KEY", None)
    write_test_config(Paths.from_env(env).config_file, "")
    with running_serve(env=env) as (url, _proc):
        spec = HostSpec("open", url.removesuffix("/v1"))
        with pytest.raises(OrderFailed, match="Set a gateway key to pull"):
            await send_pull(spec, f"{TINY}:Q8_0")
        assert hub.calls == []  # refused before anything was asked of the Hub
