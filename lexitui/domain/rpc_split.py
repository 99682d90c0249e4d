"""How a model's layers are shared among llama.cpp RPC workers.

llama.cpp places whole layers: with every layer offloaded, the repeating layers and the output
layer (``n_layers + 1`` in all) are cut into consecutive runs, one per device, in proportion to
``--tensor-split``; the head keeps only the input embedding. ``layers_per_device`` follows the
same rule (a layer ``i`` goes to the first device whose cumulative share exceeds
``i / (n_layers + 1)``), so the plan printed before a load is the placement the engine makes.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from itertools import accumulate


def split_by_memory(free_bytes: Sequence[int]) -> tuple[float, ...]:
    """``--tensor-split`` proportions from each worker's free memory, in MiB (short numbers on a
    command line; only their ratio matters)."""
    if not free_bytes:
        raise ValueError("a split needs at least one worker")
    if any(free <= 0 for free in free_bytes):
        raise ValueError("a worker reports no free memory: it cannot take any layer")
    return tuple(round(free / 2**20, 1) or 0.1 for free in free_bytes)


def layers_per_device(n_layers: int, split: Sequence[float]) -> tuple[int, ...]:
    """How many of the ``n_layers`` repeating layers plus the output layer each device gets."""
    total = sum(split)
    if not split or total <= 0 or any(share < 0 for share in split):
        raise ValueError("the split needs positive shares")
    points = [part / total for part in accumulate(split)]
    counts = [0] * len(split)
    placed = n_layers + 1  # the output layer is placed like one more layer
    for layer in range(placed):
        device = bisect.bisect_right(points, layer / placed)
        counts[min(device, len(split) - 1)] += 1
    return tuple(counts)
