"""vLLM's load figures from its ``/metrics`` page, for both metric generations (the V0 engine's
``vllm:gpu_cache_usage_perc`` and the V1 engine's ``vllm:kv_cache_usage_perc``), read from
recorded pages and shown by the health check and ``lexitui backends``.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lexitui.backends.openai_compat import VllmBackend
from lexitui.backends.vllm_metrics import VllmLoad, parse_vllm_metrics
from lexitui.commands.backends import main

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "vllm"


def page(name: str) -> str:
    return (PAGES / name).read_text()


def test_a_v0_engine_page_gives_its_load_under_the_old_kv_name() -> None:
    load = parse_vllm_metrics(page("metrics_v0_engine.prom"))
    assert load == VllmLoad(running=2, waiting=5, kv_cache_usage=0.875)
    assert load.summary() == "2 running, 5 waiting, KV cache 88%"


def test_a_v1_engine_page_adds_requests_over_engines_and_shows_the_fullest_cache() -> None:
    load = parse_vllm_metrics(page("metrics_v1_engine.prom"))
    assert load == VllmLoad(running=5, waiting=1, kv_cache_usage=0.57)


def test_the_new_name_wins_and_odd_lines_never_break_the_reading() -> None:
    text = (
        "vllm:gpu_cache_usage_perc 0.10\n"
        "vllm:kv_cache_usage_perc 0.30\n"
        'vllm:kv_cache_usage_perc{engine="0"} NaN\n'
        'vllm:num_requests_running{model_name="a}b"} 4 1700000000000\n'
        "vllm:num_requests_waiting garbage\n"
        "vllm:num_requests_waiting\n"
    )
    assert parse_vllm_metrics(text) == VllmLoad(running=4, waiting=0, kv_cache_usage=0.30)
    assert parse_vllm_metrics("vllm:kv_cache_usage_perc 7\n").kv_cache_usage == 1.0
    assert parse_vllm_metrics("<html>not metrics</html>") == VllmLoad()
    assert VllmLoad().summary() == ""


@pytest.fixture
def vllm_url() -> Iterator[str]:
    """A loopback server answering /health, /version and a recorded V1 /metrics page."""
    metrics = page("metrics_v1_engine.prom").encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = {
                "/metrics": metrics,
                "/version": b'{"version": "0.11.0"}',
                "/v1/models": b'{"data": [{"id": "Qwen/Qwen2.5-72B-Instruct"}]}',
            }.get(self.path, b"")
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_the_health_check_carries_running_waiting_and_kv(vllm_url: str) -> None:
    backend = VllmBackend(url=vllm_url)
    try:
        health = await backend.check_health()
    finally:
        await backend.aclose()
    assert (health.running_requests, health.waiting_requests) == (5, 1)
    assert health.kv_cache_usage == 0.57
    assert health.message == "5 running, 1 waiting, KV cache 57%"


def test_lexitui_backends_shows_running_waiting_and_kv(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, vllm_url: str
) -> None:
    with socket.socket() as sock:  # no Ollama here: a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv("OLLAMA_HOST", f"http://127.0.0.1:{sock.getsockname()[1]}")
    assert main(["backend", "add", "gpu-box", vllm_url, "--type", "vllm"]) == 0
    capsys.readouterr()
    assert main(["backends", "--json"]) == 0
    row = {r["name"]: r for r in json.loads(capsys.readouterr().out)}["gpu-box"]
    assert (row["running_requests"], row["waiting_requests"]) == (5, 1)
    assert row["kv_cache_usage"] == 0.57
    assert main(["backends"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("gpu-box"))
    assert line.endswith("5 running, 1 waiting, KV cache 57%")
