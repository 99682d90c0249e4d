"""Another lexitui loads and unloads a model on a real ``lexitui serve`` host over HTTP: behind
the host's key, by model id, with one clear message when it cannot (not installed, not loaded);
a host without a gateway key refuses such orders."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lexitui.config import Paths
from lexitui.fleet.host_settings import HostSpec
from lexitui.fleet.model_orders import OrderFailed, send_order
from lexitui.storage.starter import STARTER_ID
from tests.fleet.test_fleet_serve import home_env
from tests.gateway.serve_process import running_serve
from tests.home_config import write_test_config

pytestmark = pytest.mark.engine


def test_load_then_unload_by_model_id_behind_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = home_env(tmp_path / "host", LEXITUI_GATEWAY_KEY="key-of-host")
    write_test_config(Paths.from_env(env).config_file, "")
    monkeypatch.setenv("HOST_KEY", "key-of-host")
    monkeypatch.setenv("WRONG_KEY", "not-the-key")
    with running_serve("--ctx", "1024", env=env) as (url, _proc):
        base = url.removesuffix("/v1")
        spec = HostSpec("host", base, key_env="HOST_KEY")

        with pytest.raises(OrderFailed, match="Incorrect API key"):
            asyncio.run(send_order(HostSpec("host", base, key_env="WRONG_KEY"), "load", "x"))
        assert asyncio.run(send_order(spec, "load", STARTER_ID)) == [STARTER_ID]
        assert asyncio.run(send_order(spec, "unload", STARTER_ID)) == []
        with pytest.raises(OrderFailed, match="is not loaded on this host"):
            asyncio.run(send_order(spec, "unload", STARTER_ID))
        with pytest.raises(OrderFailed, match="is not installed on this host"):
            asyncio.run(send_order(spec, "load", "no-such-model"))


def test_a_host_without_a_key_refuses_orders(tmp_path: Path) -> None:
    env = home_env(tmp_path / "open")
    env.pop("LEXITUI_GATEWAY_KEY", None)
    write_test_config(Paths.from_env(env).config_file, "")
    with running_serve(env=env) as (url, _proc):
        spec = HostSpec("open", url.removesuffix("/v1"))
        with pytest.raises(OrderFailed, match="Set a gateway key"):
            asyncio.run(send_order(spec, "load", STARTER_ID))
