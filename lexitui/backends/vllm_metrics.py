"""What a vLLM server's ``/metrics`` page says about its load: requests running and waiting, and
how full its KV cache is.

vLLM renamed its KV-cache gauge when its V1 engine arrived: ``vllm:gpu_cache_usage_perc`` (V0)
became ``vllm:kv_cache_usage_perc``. Both are a share from 0 to 1 despite the ``perc`` suffix.
Servers of either generation are in use, so both names are read; the new one wins when a page
carries both. Several engines on one server (one series per engine or model) add up their
requests, while the KV figure is the fullest cache, since that is the one that refuses work first.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexitui.backends.prometheus import metric_max, metric_sums

RUNNING = "vllm:num_requests_running"
WAITING = "vllm:num_requests_waiting"
KV_USAGE = "vllm:kv_cache_usage_perc"
KV_USAGE_V0 = "vllm:gpu_cache_usage_perc"


@dataclass(frozen=True)
class VllmLoad:
    running: int | None = None
    waiting: int | None = None
    kv_cache_usage: float | None = None  # 0..1

    def summary(self) -> str:
        """One short phrase for a status line; empty when the page said nothing we read."""
        parts = []
        if self.running is not None:
            parts.append(f"{self.running} running, {self.waiting or 0} waiting")
        if self.kv_cache_usage is not None:
            parts.append(f"KV cache {self.kv_cache_usage:.0%}")
        return ", ".join(parts)


def parse_vllm_metrics(text: str) -> VllmLoad:
    sums = metric_sums(text, {RUNNING, WAITING})
    shares = metric_max(text, {KV_USAGE, KV_USAGE_V0})
    kv = shares.get(KV_USAGE, shares.get(KV_USAGE_V0))
    if kv is not None:
        kv = min(max(kv, 0.0), 1.0)  # a gauge out of range is clamped, never shown as 250 %
    running = sums.get(RUNNING)
    return VllmLoad(
        running=None if running is None else int(running),
        waiting=None if running is None else int(sums.get(WAITING, 0)),
        kv_cache_usage=kv,
    )
