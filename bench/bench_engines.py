"""The engines side by side in one run, on one model and the same load options:

1. Decode tokens/s of each installed engine kind (embedded, llama-server), interleaved. On a GPU
   machine with a GPU build this is the GPU engine against the CPU one (goal >= 10x).
2. A llama-server through lexitui (``InferenceManager.stream``) versus the same binary started
   by hand with the same flags and asked over plain HTTP (goal >= 0.97x).
3. On an NVIDIA GPU: the VRAM the engine process holds by NVML versus what ``lexitui fit``
   planned for the load (goal within 5%).

Every figure is llama.cpp's own decode rate (``timings.predicted_per_second``), median of the
rounds. Run with ``.venv/bin/python bench/bench_engines.py [--model PATH] [--gpu-layers N]``;
the model defaults to the starter model, the llama-server to the one lexitui finds (or the test
suite's CPU build in the cache).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import httpx

from lexitui.config import Paths
from lexitui.domain.backends import ModelLoadOptions
from lexitui.engine.build import BuildPlan, cached_binary
from lexitui.engine.kinds import find_llama_server
from lexitui.engine.llama_server import server_args
from lexitui.engine.process import free_port
from lexitui.engine.settings import EMBEDDED, LLAMA_SERVER, SERVER_ENV
from lexitui.engine.supervisor import engine_options
from lexitui.services import Services
from lexitui.storage.starter import starter_model_path

PROMPT = [{"role": "user", "content": "Write three sentences about the sea."}]
MODEL_ID = "bench-model"


def ask_body(tokens: int) -> dict[str, object]:
    return {"messages": PROMPT, "max_tokens": tokens, "temperature": 0, "seed": 7}


async def decode_rate(client: httpx.AsyncClient, tokens: int) -> float:
    reply = await client.post("/v1/chat/completions", json=ask_body(tokens))
    reply.raise_for_status()
    return float(reply.json()["timings"]["predicted_per_second"])


async def through_lexitui(services: Services, tokens: int) -> float:
    engine = services.runtime.engine()
    assert engine.client is not None
    return await decode_rate(engine.client, tokens)


class ByHand:
    """The llama-server binary started the way a user would, without lexitui."""

    def __init__(self, binary: Path, model: Path, options: ModelLoadOptions) -> None:
        self.port = free_port()
        args = server_args(model, self.port, engine_options(options))
        self.proc = subprocess.Popen(
            [str(binary), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.url) as client:
            for _ in range(1200):
                try:
                    if (await client.get("/health")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("llama-server started by hand never became healthy")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


def nvml_vram(pid: int) -> int | None:
    """VRAM the process holds on any NVIDIA GPU, by NVML; None without a GPU."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        return None
    used = 0
    for index in range(pynvml.nvmlDeviceGetCount()):
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        for proc in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
            if proc.pid == pid and proc.usedGpuMemory:
                used += int(proc.usedGpuMemory)
    return used


async def main(args: argparse.Namespace) -> None:
    model = Path(args.model) if args.model else starter_model_path()
    assert model is not None, "no model: give --model or install the starter model"
    binary = find_llama_server() or cached_binary(BuildPlan("cpu"))
    assert binary is not None, "no llama-server: run `lexitui engine build` first"
    os.environ[SERVER_ENV] = str(binary)
    options = ModelLoadOptions(
        context_length=2048, gpu_layers=args.gpu_layers, threads=args.threads or None
    )
    rates: dict[str, list[float]] = {EMBEDDED: [], LLAMA_SERVER: [], "by hand": []}
    vram: dict[str, tuple[int | None, int]] = {}
    with tempfile.TemporaryDirectory() as home:
        os.environ["LEXITUI_HOME"] = home
        services = Services.build(Paths.from_env())
        await services.start()
        hand = ByHand(binary, model, options)
        try:
            await services.registry.add(
                MODEL_ID, model.stem, model, source="bench", registered_by_path=True
            )
            await hand.ready()
            async with httpx.AsyncClient(base_url=hand.url, timeout=None) as direct:
                await decode_rate(direct, 8)  # warm-up
                for i in range(args.rounds):
                    kinds = [EMBEDDED, LLAMA_SERVER] if i % 2 else [LLAMA_SERVER, EMBEDDED]
                    for kind in kinds:
                        loaded = await services.runtime.load(
                            MODEL_ID, replace(options, engine=kind)
                        )
                        await through_lexitui(services, 8)  # warm-up
                        rates[kind].append(await through_lexitui(services, args.tokens))
                        footprint = services.runtime.engine().footprint
                        if loaded.pid is not None and footprint is not None:
                            vram[kind] = (nvml_vram(loaded.pid), footprint.vram_bytes)
                        if kind == LLAMA_SERVER:
                            rates["by hand"].append(await decode_rate(direct, args.tokens))
                        await services.runtime.unload_all()
        finally:
            hand.stop()
            await services.stop()
    print(report(rates, vram, model, binary, args))


def report(
    rates: dict[str, list[float]],
    vram: dict[str, tuple[int | None, int]],
    model: Path,
    binary: Path,
    args: argparse.Namespace,
) -> str:
    med = {k: statistics.median(v) for k, v in rates.items()}
    lines = [
        f"Model {model.name}, gpu layers {args.gpu_layers}, {args.tokens} tokens, "
        f"median of {args.rounds} interleaved rounds; llama-server {binary.name}",
        "",
        "| engine | decode tokens/s | ratio |",
        "|---|---|---|",
        f"| embedded (xllamacpp) | {med[EMBEDDED]:.1f} | 1.00 |",
        f"| llama-server through lexitui | {med[LLAMA_SERVER]:.1f} | "
        f"{med[LLAMA_SERVER] / med[EMBEDDED]:.2f} |",
        f"| llama-server by hand | {med['by hand']:.1f} | "
        f"through lexitui / by hand = {med[LLAMA_SERVER] / med['by hand']:.3f} |",
    ]
    for kind, (measured, planned) in vram.items():
        if measured is None:
            lines.append(f"\n{kind}: no NVIDIA GPU, VRAM by NVML not measured")
        elif planned:
            lines.append(
                f"\n{kind}: VRAM by NVML {measured / 2**20:.0f} MiB, planned "
                f"{planned / 2**20:.0f} MiB (`lexitui fit`), ratio {measured / planned:.3f}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="a GGUF file (default: the starter model)")
    parser.add_argument("--gpu-layers", type=int, default=-1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=6)
    asyncio.run(main(parser.parse_args()))
