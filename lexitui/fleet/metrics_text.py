"""Reading an engine's load from its Prometheus ``/metrics`` page.

llama-server (with ``--metrics``) publishes ``llamacpp:requests_processing``,
``llamacpp:requests_deferred`` and ``llamacpp:kv_cache_usage_ratio``; vLLM publishes
``vllm:num_requests_running``, ``vllm:num_requests_waiting`` and its KV-cache use, named
``vllm:gpu_cache_usage_perc`` before 0.10 and ``vllm:kv_cache_usage_perc`` after (both 0..1).
"""

from __future__ import annotations

from lexitui.backends.prometheus import metric_max, metric_sums

LLAMA = ("llamacpp:requests_processing", "llamacpp:requests_deferred")
LLAMA_KV = ("llamacpp:kv_cache_usage_ratio",)
VLLM = ("vllm:num_requests_running", "vllm:num_requests_waiting")
VLLM_KV = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")


def engine_load(text: str, *, llama: bool) -> tuple[int, int, float | None]:
    """Requests running, waiting, and the KV cache in use (None when not published)."""
    running, waiting = LLAMA if llama else VLLM
    counts = metric_sums(text, {running, waiting})  # added up over engines (models)
    kv_names = LLAMA_KV if llama else VLLM_KV
    shares = metric_max(text, set(kv_names))  # a share: the fullest cache, never a sum
    kv = next((shares[name] for name in kv_names if name in shares), None)
    return int(counts.get(running, 0)), int(counts.get(waiting, 0)), kv
