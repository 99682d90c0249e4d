"""Probing bare engines over real HTTP on loopback: llama-server's and vLLM's ``/metrics`` (both
KV-usage names), Ollama's ``/api/ps``, and the reason a host is down."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lexitui.fleet.host_settings import HostSpec
from lexitui.fleet.metrics_text import engine_load
from lexitui.fleet.probe import probe_all
from tests.home_config import closed_url

LLAMA_METRICS = """# HELP llamacpp:kv_cache_usage_ratio KV-cache usage. 1 means 100 percent usage.
# TYPE llamacpp:kv_cache_usage_ratio gauge
llamacpp:kv_cache_usage_ratio 0.25
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 2
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred 3
"""
VLLM_OLD = """# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="m"} 4.0
vllm:num_requests_waiting{model_name="m"} 1.0
vllm:gpu_cache_usage_perc{model_name="m"} 0.5
"""
VLLM_NEW = """vllm:num_requests_running{engine="0",model_name="m"} 1.0
vllm:num_requests_running{engine="1",model_name="m"} 2.0
vllm:num_requests_waiting{engine="0",model_name="m"} 0.0
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.75
"""
PAGES: dict[str, tuple[int, str]] = {}


class Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = PAGES.get(self.path, (404, "{}"))
        if self.headers.get("Authorization") != "Bearer right" and self.path == "/keyed":
            status = 401
        self.send_response(status)
        self.send_header("content-length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def engine_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_metrics_pages_of_both_engines_and_both_vllm_generations() -> None:
    assert engine_load(LLAMA_METRICS, llama=True) == (2, 3, 0.25)
    assert engine_load(VLLM_OLD, llama=False) == (4, 1, 0.5)
    assert engine_load(VLLM_NEW, llama=False) == (3, 0, 0.75)


async def test_bare_engines_are_probed_for_load_and_models(engine_url: str) -> None:
    models = json.dumps({"data": [{"id": "qwen"}]})
    PAGES.update(
        {
            "/metrics": (200, LLAMA_METRICS),
            "/v1/models": (200, models),
            "/api/ps": (200, json.dumps({"models": [{"name": "llama3.2:1b"}]})),
        }
    )
    llama, ollama = await probe_all(
        [HostSpec("box", engine_url, "llama-server"), HostSpec("ol", engine_url, "ollama")]
    )
    assert (llama.healthy, llama.running, llama.waiting, llama.kv_used) == (True, 2, 3, 0.25)
    assert llama.models == ("qwen",) and llama.latency_ms is not None
    assert ollama.healthy and ollama.loaded == ("llama3.2:1b",)


async def test_a_down_host_says_why(engine_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    PAGES["/lexitui/v1/status"] = (401, "{}")
    PAGES["/metrics"] = (500, "")
    monkeypatch.delenv("BOX_KEY", raising=False)
    refused, closed, broken = await probe_all(
        [
            HostSpec("keyed", engine_url, key_env="BOX_KEY"),
            HostSpec("gone", closed_url()),
            HostSpec("sick", engine_url, "vllm"),
        ]
    )
    assert refused.reason == "its key was refused or is missing (set BOX_KEY)"
    assert closed.reason == "connection refused or host unreachable"
    assert broken.reason == "/metrics answered HTTP 500"
    assert not (refused.healthy or closed.healthy or broken.healthy)
