"""The layer split of a model over llama.cpp RPC workers, as ``fit --rpc`` and ``run --rpc``
print it before anything loads: each worker's free memory, share, layers and weight bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lexitui.discovery.model_facts import ModelFacts
from lexitui.domain.rpc_split import layers_per_device
from lexitui.domain.units import format_bytes
from lexitui.engine.rpc_address import RpcEndpoint

INSECURE_NOTE = (
    "llama.cpp's RPC has no authentication or encryption: keep workers on loopback or a "
    "private network"
)


@dataclass(frozen=True)
class WorkerShare:
    endpoint: str
    free_bytes: int
    share: float  # 0..1
    layers: int  # repeating layers, plus the output layer for the last worker that has one
    weight_bytes: int

    @property
    def fits(self) -> bool:
        return self.weight_bytes <= self.free_bytes


def plan_split(
    facts: ModelFacts,
    endpoints: Sequence[RpcEndpoint],
    free_bytes: Sequence[int],
    split: Sequence[float],
) -> list[WorkerShare]:
    counts = layers_per_device(facts.n_layers, split)
    per_layer = [*facts.layer_weight_bytes, facts.output_layer_bytes]
    rows, first = [], 0
    total = sum(split)
    for endpoint, free, share, count in zip(endpoints, free_bytes, split, counts, strict=True):
        weights = sum(per_layer[first : first + count])
        rows.append(WorkerShare(str(endpoint), free, share / total, count, weights))
        first += count
    return rows


def render_plan(facts: ModelFacts, name: str, rows: Sequence[WorkerShare]) -> list[str]:
    lines = [
        f"RPC split of {name} ({facts.n_layers} layers + output) over {len(rows)} workers, "
        "by free memory:",
        f"  {'worker':<24} {'free':>10} {'share':>6} {'layers':>6} {'weights':>10}",
    ]
    for row in rows:
        mark = "" if row.fits else "  does not fit"
        lines.append(
            f"  {row.endpoint:<24} {format_bytes(row.free_bytes):>10} {row.share:>6.0%} "
            f"{row.layers:>6} {format_bytes(row.weight_bytes):>10}{mark}"
        )
    lines.append(
        f"  {'head (this machine)':<24} {'':>10} {'':>6} {'':>6} "
        f"{format_bytes(facts.input_embedding_bytes):>10}  input embedding"
    )
    lines.append("  each worker also holds the KV cache of its layers")
    lines.append(f"WARNING  {INSECURE_NOTE}")
    return lines


def plan_json(rows: Sequence[WorkerShare]) -> list[dict[str, object]]:
    return [
        {
            "endpoint": r.endpoint,
            "free_bytes": r.free_bytes,
            "share": round(r.share, 4),
            "layers": r.layers,
            "weight_bytes": r.weight_bytes,
            "fits": r.fits,
        }
        for r in rows
    ]
