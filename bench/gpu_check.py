"""Check lexitui's NVIDIA detection against nvidia-smi on a real GPU machine.

Runs ``HardwareDetector`` and ``nvidia-smi --query-gpu=name,memory.total,driver_version,
compute_cap --format=csv,noheader,nounits``, prints both side by side with MATCH/MISMATCH per
field (memory in MiB) and exits 0 only when every field of every GPU matches.
Exit codes: 0 all match, 1 a mismatch, 2 nvidia-smi could not be run.

Needs only pynvml, psutil, platformdirs, reactivex and lexitui itself (no UI packages):
    PYTHONPATH=. python bench/gpu_check.py [--record nvml.json] [--nvml-recording FILE]
``--record`` saves the raw NVML reading in the test-fixture format; ``--nvml-recording`` replays
one instead of the driver (how the tests run this script without a GPU).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from lexitui.domain.hardware import GpuInfo
from lexitui.hardware.detector import HardwareDetector, summarize
from lexitui.hardware.nvml_adapter import PynvmlReader
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.nvml_snapshot import NvmlReader, NvmlUnavailable, snapshot_to_dict

FIELDS = ("name", "memory.total", "driver_version", "compute_cap")
QUERY = [
    "nvidia-smi",
    f"--query-gpu={','.join(FIELDS)}",
    "--format=csv,noheader,nounits",
]
MIB = 1024**2


def parse_smi(text: str) -> list[dict[str, str]]:
    rows = csv.reader((line for line in text.splitlines() if line.strip()), skipinitialspace=True)
    return [dict(zip(FIELDS, (cell.strip() for cell in row), strict=False)) for row in rows]


def ours(gpu: GpuInfo) -> dict[str, str]:
    return {
        "name": gpu.name,
        "memory.total": str(gpu.vram_bytes // MIB),
        "driver_version": gpu.driver_version or "",
        "compute_cap": gpu.compute_capability or "",
    }


def compare(
    gpus: list[GpuInfo], smi: list[dict[str, str]], mig_parents: set[int]
) -> tuple[list[str], int]:
    """Report lines and the number of mismatches; GPUs pair up by NVML index (= nvidia-smi's).
    A board in MIG mode is listed by lexitui as its instances (or not at all), so it is skipped."""
    by_index = {int(g.id.split(":")[1]): g for g in gpus if g.id.startswith("nvidia:")}
    lines, bad = [], 0
    if len(smi) != len({*by_index, *mig_parents}):
        lines.append(f"GPU count: lexitui {len(by_index)} vs nvidia-smi {len(smi)}  MISMATCH")
        bad += 1
    for index, theirs in enumerate(smi):
        lines.append(f"GPU {index}")
        if index in mig_parents:
            lines.append("  in MIG mode: lexitui lists its instances, not the board; SKIP")
            continue
        mine = ours(by_index[index]) if index in by_index else dict.fromkeys(FIELDS, "(missing)")
        lines.append(f"  {'field':<16} {'lexitui':<28} {'nvidia-smi':<28} result")
        for field in FIELDS:
            ok = mine[field] == theirs.get(field, "")
            bad += not ok
            lines.append(
                f"  {field:<16} {mine[field]:<28} {theirs.get(field, ''):<28} "
                f"{'MATCH' if ok else 'MISMATCH'}"
            )
    return lines, bad


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path, help="save the raw NVML reading as JSON")
    parser.add_argument("--nvml-recording", type=Path, help="replay a recording instead")
    args = parser.parse_args()
    reader: NvmlReader = (
        RecordedNvml.from_file(args.nvml_recording) if args.nvml_recording else PynvmlReader()
    )
    mig_parents: set[int] = set()
    try:
        snapshot = reader.read()
        mig_parents = {d.index for d in snapshot.devices if d.mig_enabled}
        data: dict[str, object] = {"snapshots": [snapshot_to_dict(snapshot)]}
    except NvmlUnavailable as exc:
        data = {"error": {"code": exc.code, "reason": exc.reason}}
    if args.record:
        args.record.write_text(json.dumps(data, indent=2) + "\n")
    # nvidia-smi ignores CUDA_VISIBLE_DEVICES, so the comparison must too.
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    detector = HardwareDetector(nvml=reader, environ=env)
    caps = await detector.detect()
    detector.close()
    try:
        done = subprocess.run(QUERY, capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"cannot run nvidia-smi: {exc}", file=sys.stderr)
        return 2
    print(f"lexitui: {summarize(caps)}")
    for note in caps.probe_notes:
        print(f"  note: {note}")
    lines, bad = compare(list(caps.gpus), parse_smi(done.stdout), mig_parents)
    print("\n".join(lines))
    print("ALL MATCH" if bad == 0 else f"{bad} MISMATCH(ES)")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
