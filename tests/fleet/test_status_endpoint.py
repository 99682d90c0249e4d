"""``GET /lexitui/v1/status`` on a real ``lexitui serve``: keyed like ``/v1``, and it tells
another lexitui this machine's hardware, models and requests."""

from __future__ import annotations

import os

import httpx
import pytest

from lexitui.storage.starter import STARTER_ID
from tests.gateway.serve_process import running_serve

pytestmark = pytest.mark.engine
KEY = "status-test-key"


def test_the_status_needs_the_key_and_shows_hardware_models_and_requests() -> None:
    env = {**os.environ, "LEXITUI_GATEWAY_KEY": KEY}
    with running_serve("--model", STARTER_ID, "--ctx", "1024", env=env) as (url, _proc):
        root = url.removesuffix("/v1")
        assert httpx.get(f"{root}/lexitui/v1/status", timeout=30).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert httpx.get(f"{root}/lexitui/v1/status", headers=wrong, timeout=30).status_code == 401
        answer = httpx.get(
            f"{root}/lexitui/v1/status", headers={"Authorization": f"Bearer {KEY}"}, timeout=30
        )
        assert answer.status_code == 200
        status = answer.json()
        assert KEY not in answer.text
        assert status["hardware"]["ram_total_bytes"] > 0
        assert isinstance(status["hardware"]["gpus"], list)
        assert STARTER_ID in status["models"]["installed"]
        assert status["models"]["loaded"] == [STARTER_ID]
        assert status["engines"][0]["model"] == STARTER_ID
        assert status["requests"] == {"running": 0, "waiting": 0, "slots": 1}
        assert "used_ratio" in status["kv_cache"]
