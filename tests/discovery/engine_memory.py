"""What the embedded engine really uses: start it on a model, fill most of its context with one
prompt, then read the child process's memory.

Which number: resident set size (RSS). llama.cpp memory-maps the weights, and mapped file pages
count in RSS once touched; loading touches them all (it prefetches the mapping), so RSS is the
weights plus every buffer plus the process itself, which is what a user sees in top and what
competes with other programs for RAM. USS (pages only this process maps) and PSS (shared pages
split between the processes mapping them) are read too: they differ from RSS only by the shared
libraries (~2 MiB here) while no other process maps the same model file; with two engines on
one file, USS would drop the shared weights from both and understate each one's need.
RssAnon/RssFile (from /proc) split heap buffers from mapped files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from lexitui.engine.options import EngineOptions
from lexitui.engine.process import EngineProcess

PROMPT_TEXT = " ".join(f"word{i % 97} item{i % 89}" for i in range(600))


@dataclass(frozen=True)
class EngineMemory:
    rss_bytes: int
    uss_bytes: int
    pss_bytes: int
    rss_anon_bytes: int
    rss_file_bytes: int
    prompt_tokens: int
    decode_tokens_per_second: float | None = None


def read_memory(pid: int) -> tuple[int, int, int, int, int]:
    """(rss, uss, pss, anon, file) in bytes of a live process."""
    info = psutil.Process(pid).memory_full_info()
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile"):
            status[key] = int(value.split()[0]) * 1024
    return info.rss, info.uss, info.pss, status.get("RssAnon", 0), status.get("RssFile", 0)


async def prompt_of(client: httpx.AsyncClient, n_tokens: int) -> list[int]:
    """Exactly ``n_tokens`` token ids of ordinary text (tokenized once, repeated)."""
    reply = await client.post("/tokenize", json={"content": PROMPT_TEXT})
    reply.raise_for_status()
    tokens: list[int] = reply.json()["tokens"]
    return (tokens * (n_tokens // len(tokens) + 1))[:n_tokens]


async def measure_engine_memory(
    model: Path,
    context: int,
    log_dir: Path,
    *,
    fill: float = 0.9,
    threads: int = 2,
    decode_tokens: int = 0,
) -> EngineMemory:
    """Load ``model`` at ``context``, process a prompt of ``fill`` x context tokens, and read the
    engine's memory; with ``decode_tokens``, also time that many decoded tokens first (from an
    almost empty context, the speed the performance estimate predicts)."""
    options = EngineOptions(context_length=context, threads=threads)
    engine = EngineProcess(model, log_dir / f"{model.stem}-{context}.log", options)
    await engine.start()
    try:
        assert engine.pid is not None
        async with httpx.AsyncClient(
            base_url=engine.base_url, timeout=900, headers=engine.auth_headers
        ) as client:
            speed = None
            if decode_tokens:
                reply = await client.post(
                    "/completion",
                    json={
                        "prompt": "Once upon a time",
                        "n_predict": decode_tokens,
                        "ignore_eos": True,
                        "cache_prompt": False,
                    },
                )
                reply.raise_for_status()
                speed = float(reply.json()["timings"]["predicted_per_second"])
            tokens = await prompt_of(client, int(context * fill))
            reply = await client.post(
                "/completion", json={"prompt": tokens, "n_predict": 4, "cache_prompt": False}
            )
            reply.raise_for_status()
            evaluated = int(reply.json().get("tokens_evaluated", len(tokens)))
        rss, uss, pss, anon, file = read_memory(engine.pid)
        return EngineMemory(rss, uss, pss, anon, file, evaluated, speed)
    finally:
        await engine.stop()
