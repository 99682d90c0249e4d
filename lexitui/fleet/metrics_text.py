"""Reading an engine's load from its Prometheus ``/metrics`` page.

llama-server (with ``--metrics``) publishes ``llamacpp:requests_processing``,
``llamacpp:requests_deferred`` and ``llamacpp:kv_cache_usage_ratio``; vLLM publishes
``vllm:num_requests_running``, ``vllm:num_requests_waiting`` and its KV-cache use, named
``vllm:gpu_cache_usage_perc`` before 0.10 and ``vllm:kv_cache_usage_perc`` after (both 0..1).
"""

from __future__ import annotations

LLAMA = ("llamacpp:requests_processing", "llamacpp:requests_deferred")
LLAMA_KV = ("llamacpp:kv_cache_usage_ratio",)
VLLM = ("vllm:num_requests_running", "vllm:num_requests_waiting")
VLLM_KV = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")


def samples(text: str) -> dict[str, float]:
    """Each metric's value, summed over its label sets (several models on one vLLM)."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name_part, _, rest = line.partition(" ") if "{" not in line else line.partition("}")
        name = name_part.split("{", 1)[0]
        fields = rest.split()
        if not fields:
            continue
        try:
            value = float(fields[0])
        except ValueError:
            continue
        values[name] = values.get(name, 0.0) + value
    return values


def engine_load(text: str, *, llama: bool) -> tuple[int, int, float | None]:
    """Requests running, waiting, and the KV cache in use (None when not published)."""
    values = samples(text)
    running, waiting = LLAMA if llama else VLLM
    kv = next((values[name] for name in (LLAMA_KV if llama else VLLM_KV) if name in values), None)
    return int(values.get(running, 0)), int(values.get(waiting, 0)), kv
