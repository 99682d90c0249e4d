"""Hardware detection and monitor sampling costs on this machine. Prints a table.

- full detection: ``HardwareDetector.detect()`` with the real probes (procfs/sysfs, NVML, psutil,
  disk), median wall time of N runs; goal < 100 ms. "cold" builds a new detector each run (NVML
  initialised or refused again), "warm" reuses one (how the app re-detects).
- the recommendation alone (102 size x quant cells rated).
- one monitor sample: CPU time (``time.process_time``, all threads of this process) and wall
  time around ``sample_once()``, on this machine and on a recorded 8x H100 reading.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.monitor import HardwareMonitor
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.recommend import recommend

RUNS = 21
SAMPLES = 300
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hardware"


async def timed(call: Callable[[], Awaitable[object]], runs: int) -> tuple[float, float]:
    """(median wall ms, median CPU ms) of ``runs`` awaited calls after one warm-up."""
    await call()
    walls, cpus = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        await call()
        cpus.append((time.process_time() - c0) * 1000)
        walls.append((time.perf_counter() - w0) * 1000)
    return statistics.median(walls), statistics.median(cpus)


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lexitui-bench-") as home:
        await run({"LEXITUI_HOME": home})


async def run(env: dict[str, str]) -> None:
    async def cold() -> None:
        detector = HardwareDetector(environ=env)
        await detector.detect()
        detector.close()

    warm_detector = HardwareDetector(environ=env)
    caps = await warm_detector.detect()

    async def rec() -> None:
        recommend(caps.cpu, caps.total_ram_bytes, caps.gpus)

    monitor = HardwareMonitor(warm_detector)
    h100 = HardwareDetector(
        environ=env, nvml=RecordedNvml.from_file(FIXTURES / "nvml_8x_h100.json")
    )
    h100_monitor = HardwareMonitor(h100)

    rows = [
        (f"detect(), cold detector, median of {RUNS}", await timed(cold, RUNS)),
        (f"detect(), warm detector, median of {RUNS}", await timed(warm_detector.detect, RUNS)),
        (f"recommend() alone, median of {RUNS}", await timed(rec, RUNS)),
        (
            f"monitor sample_once(), this machine, median of {SAMPLES}",
            await timed(monitor.sample_once, SAMPLES),
        ),
        (
            f"monitor sample_once(), recorded 8x H100, median of {SAMPLES}",
            await timed(h100_monitor.sample_once, SAMPLES),
        ),
    ]
    gpus = ", ".join(g.name for g in caps.gpus) or "no GPU"
    print(
        f"machine: {caps.cpu.name}, {caps.cpu.logical_cores} logical CPUs, {gpus}; "
        f"Python {sys.version.split()[0]}"
    )
    print("| figure | wall ms | CPU ms |")
    print("|---|---|---|")
    for label, (wall, cpu) in rows:
        print(f"| {label} | {wall:.2f} | {cpu:.2f} |")
    warm_detector.close()


if __name__ == "__main__":
    asyncio.run(main())
