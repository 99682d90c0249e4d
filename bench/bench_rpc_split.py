"""Decode tokens/s of a model split over two llama.cpp RPC workers on loopback, against the same
llama-server with the whole model in one process, in one run (a ratio; expect below 1x: every
token crosses to each worker and back, and loopback is the best network there is).

Both servers run the same binary, model, context, threads and greedy request; the split is by
the workers' free memory, as ``lexitui run --rpc`` makes it. Each round asks both servers in
turn; the figure is llama.cpp's own decode rate (``timings.predicted_per_second``), median of the
rounds. Run with ``.venv/bin/python bench/bench_rpc_split.py [--rounds N] [--tokens N]``; the
binaries are the test suite's CPU build in the cache (``make engine-cache``).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
from pathlib import Path

import httpx
import psutil

from lexitui.engine.build import BuildPlan, cached_binary
from lexitui.engine.kinds import RPC_BINARY_NAME, EngineKind
from lexitui.engine.options import EngineOptions
from lexitui.engine.process import EngineProcess
from lexitui.engine.rpc_address import RpcEndpoint
from lexitui.engine.rpc_workers import RpcWorker, free_port, read_split
from lexitui.engine.settings import LLAMA_SERVER
from lexitui.storage.starter import starter_model_path

PROMPT = "Write three sentences about the sea."


async def decode_rate(engine: EngineProcess, tokens: int) -> float:
    body = {"prompt": PROMPT, "n_predict": tokens, "temperature": 0, "seed": 7}
    async with httpx.AsyncClient(
        base_url=engine.base_url, headers=engine.auth_headers, timeout=600
    ) as client:
        reply = await client.post("/completion", json=body)
        reply.raise_for_status()
        return float(reply.json()["timings"]["predicted_per_second"])


async def main(rounds: int, tokens: int, threads: int) -> None:
    plan = BuildPlan("cpu")
    server = cached_binary(plan)
    model = starter_model_path()
    if server is None or model is None:
        raise SystemExit("no cached CPU build or starter model: run `make engine-cache` first")
    kind = EngineKind(LLAMA_SERVER, server)
    with tempfile.TemporaryDirectory() as tmp:
        workers = [
            RpcWorker(
                server.with_name(RPC_BINARY_NAME),
                RpcEndpoint("127.0.0.1", free_port()),
                Path(tmp) / f"worker{n}.log",
                threads=threads,
            )
            for n in range(2)
        ]
        for worker in workers:
            await worker.start()
        split, _ = await read_split([w.endpoint for w in workers])
        workers_list = tuple(str(w.endpoint) for w in workers)
        alone = EngineProcess(
            model, Path(tmp) / "alone.log", EngineOptions(1024, threads=threads), kind
        )
        split_options = EngineOptions(
            1024, threads=threads, rpc_servers=workers_list, tensor_split=split
        )
        head = EngineProcess(model, Path(tmp) / "head.log", split_options, kind)
        try:
            await alone.start()
            await head.start()
            await decode_rate(alone, 8)  # warm both before measuring
            await decode_rate(head, 8)
            one, two = [], []
            for _ in range(rounds):
                one.append(await decode_rate(alone, tokens))
                two.append(await decode_rate(head, tokens))
        finally:
            await head.stop()
            await alone.stop()
            for worker in workers:
                await worker.stop()
    cpu = platform.processor() or platform.machine()
    print(f"machine: {psutil.cpu_count()} cores ({cpu}), {threads} thread(s) per process")
    print(f"model: {model.name}, {tokens} tokens greedy, {rounds} rounds, median")
    print(f"{'setup':<36} {'decode tok/s':>12}")
    print(f"{'one llama-server':<36} {statistics.median(one):>12.1f}")
    print(f"{'head + 2 RPC workers (loopback)':<36} {statistics.median(two):>12.1f}")
    print(f"ratio split / one: {statistics.median(two) / statistics.median(one):.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    options = parser.parse_args()
    asyncio.run(main(options.rounds, options.tokens, options.threads))
