"""A model split over two llama.cpp RPC workers, for real, on loopback: two ``ggml-rpc-server``
processes and a head ``llama-server --rpc`` started by lexitui answer a prompt with the starter
model's layers on the workers, token for token as one llama-server alone answers it greedily."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.engine.errors import EngineError
from lexitui.engine.kinds import RPC_BINARY_NAME, EngineKind
from lexitui.engine.options import EngineOptions
from lexitui.engine.process import EngineProcess
from lexitui.engine.rpc_address import RpcEndpoint
from lexitui.engine.rpc_probe import PROTOCOL_MAJOR, worker_memory
from lexitui.engine.rpc_workers import RpcWorker, free_port, read_split
from lexitui.engine.settings import EMBEDDED, ENGINE_ENV, LLAMA_SERVER, SERVER_ENV
from lexitui.runtime.settings import RuntimeSettings
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

pytestmark = pytest.mark.engine

PROMPT = "The three primary colours are"
# Greedy and seeded, in one slot with the same context, so both runs decode the same way.
BODY = {
    "prompt": PROMPT,
    "n_predict": 32,
    "temperature": 0,
    "seed": 7,
    "return_tokens": True,
    "cache_prompt": False,
}
CONTEXT = 1024


@pytest.fixture
def rpc_server_binary(llama_server_binary: Path) -> Path:
    return llama_server_binary.with_name(RPC_BINARY_NAME)  # one build makes both


@pytest.fixture
async def workers(
    rpc_server_binary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[list[RpcWorker]]:
    monkeypatch.setenv("GGML_RPC_DEBUG", "1")  # each worker logs the buffers the head allocates
    started: list[RpcWorker] = []
    try:
        for n in range(2):
            endpoint = RpcEndpoint("127.0.0.1", free_port())
            worker = RpcWorker(rpc_server_binary, endpoint, tmp_path / f"w{n}.log", threads=1)
            await worker.start()
            started.append(worker)
        yield started
    finally:
        for worker in started:
            await worker.stop()


async def complete(engine: EngineProcess) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=engine.base_url, headers=engine.auth_headers, timeout=120
    ) as client:
        answer = await client.post("/completion", json=BODY)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result


async def answer_of(binary: Path, model: Path, log: Path, options: EngineOptions) -> dict[str, Any]:
    engine = EngineProcess(model, log, options, EngineKind(LLAMA_SERVER, binary))
    await engine.start()
    try:
        return await complete(engine)
    finally:
        await engine.stop()


def held_mib(worker: RpcWorker) -> float:
    """What the head has placed on a worker: the buffers it allocated there, from its log."""
    text = worker.log_path.read_text()
    sizes = re.findall(r"\[alloc_buffer\] device: \d+, size: (\d+) -> remote", text)
    return sum(int(size) for size in sizes) / 2**20


def each_holds_a_part(workers: list[RpcWorker]) -> bool:
    return all(held_mib(worker) > 10 for worker in workers)  # the starter's weights: ~93 MiB


async def test_two_workers_answer_as_one_process_does(
    workers: list[RpcWorker], llama_server_binary: Path, starter_path: Path, tmp_path: Path
) -> None:
    endpoints = [w.endpoint for w in workers]
    split, free = await read_split(endpoints)
    assert len(split) == 2 and all(f > 0 for f in free)
    alone = await answer_of(
        llama_server_binary, starter_path, tmp_path / "alone.log", EngineOptions(CONTEXT, threads=1)
    )
    split_options = EngineOptions(
        CONTEXT, threads=1, rpc_servers=tuple(map(str, endpoints)), tensor_split=split
    )
    head_log = tmp_path / "head.log"
    together = await answer_of(llama_server_binary, starter_path, head_log, split_options)

    assert each_holds_a_part(workers), [held_mib(w) for w in workers]
    assert together["tokens"] == alone["tokens"] and len(alone["tokens"]) == 32
    assert together["content"] == alone["content"]


async def test_a_worker_says_its_memory_in_its_own_protocol(workers: list[RpcWorker]) -> None:
    memory = await worker_memory(workers[0].endpoint)
    assert memory.version.startswith(f"{PROTOCOL_MAJOR}.")
    assert memory.devices == 1 and 0 < memory.free_bytes <= memory.total_bytes
    assert workers[0].memory is not None  # what start() waited for


async def test_a_worker_on_a_taken_port_fails_with_the_reason(
    workers: list[RpcWorker], rpc_server_binary: Path, tmp_path: Path
) -> None:
    taken = workers[0].endpoint  # another worker listens there
    second = RpcWorker(rpc_server_binary, taken, tmp_path / "second.log")
    with pytest.raises(EngineError, match=rf"an RPC worker on {taken}: the port is taken"):
        await second.start(timeout=20)
    assert not second.running
    assert (await worker_memory(taken)).free_bytes > 0  # the first one still serves


async def test_a_load_with_workers_runs_on_llama_server_and_needs_no_room_here(
    workers: list[RpcWorker],
    llama_server_binary: Path,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SERVER_ENV, str(llama_server_binary))
    monkeypatch.setenv(ENGINE_ENV, EMBEDDED)  # the embedded engine cannot reach workers
    # A budget the model could never fit in here: its weights go to the workers instead.
    services.runtime.settings = RuntimeSettings(memory_budget_bytes=2**20)
    workers_named = tuple(str(w.endpoint) for w in workers)
    options = ModelLoadOptions(context_length=CONTEXT, rpc_servers=workers_named)
    loaded = await services.runtime.load(STARTER_ID, options)
    assert LLAMA_SERVER in loaded.backend
    assert each_holds_a_part(workers), [held_mib(w) for w in workers]


def test_run_with_workers_prints_the_split_and_answers_as_one_process(
    workers: list[RpcWorker], llama_server_binary: Path, lexitui_home: Path
) -> None:
    env = {**os.environ, SERVER_ENV: str(llama_server_binary)}
    ask = ("run", STARTER_ID, PROMPT, "--temperature", "0", "--seed", "7", "--max-tokens", "24")
    ask += ("--json", "--ctx", str(CONTEXT))
    named = ",".join(str(w.endpoint) for w in workers)
    split = subprocess.run(
        [sys.executable, "-m", "lexitui", *ask, "--rpc", named],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert split.returncode == 0, split.stderr
    assert "RPC split of smollm2" in split.stderr and "no authentication" in split.stderr
    assert each_holds_a_part(workers), [held_mib(w) for w in workers]
    alone = subprocess.run(
        [sys.executable, "-m", "lexitui", *ask, "--engine", LLAMA_SERVER],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert alone.returncode == 0, alone.stderr
    assert json.loads(split.stdout)["text"] == json.loads(alone.stdout)["text"]


def test_rpc_worker_serves_in_the_foreground_until_ctrl_c(rpc_server_binary: Path) -> None:
    port = free_port()
    env = {**os.environ, SERVER_ENV: str(rpc_server_binary.with_name("llama-server"))}
    cli = subprocess.Popen(
        [sys.executable, "-m", "lexitui", "rpc", "worker", "--port", str(port), "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert cli.stdout is not None
        line = cli.stdout.readline()
        assert line.startswith(f"RPC worker on 127.0.0.1:{port}: 1 device(s), "), line
        children = psutil.Process(cli.pid).children()
        assert [c.name() for c in children] == [RPC_BINARY_NAME]
        memory = asyncio.run(worker_memory(RpcEndpoint("127.0.0.1", port)))
        assert memory.free_bytes > 0
        cli.send_signal(signal.SIGINT)
        cli.wait(timeout=15)
        assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
    finally:
        cli.kill()
        cli.wait()


async def test_a_worker_that_exits_while_starting_says_its_last_words(
    rpc_server_binary: Path, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "cache-file"
    not_a_folder.write_text("a file where the tensor cache should go")
    endpoint = RpcEndpoint("127.0.0.1", free_port())
    worker = RpcWorker(rpc_server_binary, endpoint, tmp_path / "w.log", cache_dir=not_a_folder)
    words = rf"{endpoint} exited with code \d+: Failed to create cache directory"
    with pytest.raises(EngineError, match=words):
        await worker.start(timeout=20)
    assert not worker.running
