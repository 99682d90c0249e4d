"""Reads the few figures we need from a Prometheus text exposition (vLLM's ``/metrics``).

Only sums of plain samples by metric name: labels (one series per model) are added up, comment
lines and malformed lines are skipped, because metrics are a bonus on top of the health check
and must never make it fail.
"""

from __future__ import annotations

import math
from collections.abc import Iterator


def metric_sums(text: str, names: set[str]) -> dict[str, float]:
    sums: dict[str, float] = {}
    for name, value in _samples(text, names):
        sums[name] = sums.get(name, 0.0) + value
    return sums


def metric_max(text: str, names: set[str]) -> dict[str, float]:
    """The largest sample per name: a share (KV-cache use) is not added over engines."""
    largest: dict[str, float] = {}
    for name, value in _samples(text, names):
        largest[name] = max(value, largest.get(name, value))
    return largest


def _samples(text: str, names: set[str]) -> Iterator[tuple[str, float]]:
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name_part, _, rest = line.partition("{") if "{" in line else line.partition(" ")
        name = name_part.strip()
        if name not in names:
            continue
        if "}" in rest:
            rest = rest.rsplit("}", 1)[1]
        fields = rest.split()
        if not fields:
            continue
        try:
            value = float(fields[0])
        except ValueError:
            continue
        if math.isfinite(value):
            yield name, value
