"""``lexitui hw``: what this machine has and what it can run, headless.

``lexitui/cli.py`` mounts it with ``add_parser``; ``python -m lexitui.commands.hardware`` runs
it alone (bench/ and GPU checks use that, so they need no UI packages). Plain text only: this
output goes to logs, pipes and bug reports.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from lexitui.config import ConfigError, Paths
from lexitui.domain.enums import CompatibilityLevel, InferenceBackendType
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.domain.units import format_bytes
from lexitui.engine.devices import EngineInfo, available_engines
from lexitui.hardware.backend_support import backend_support
from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.recommend import TABLE_QUANTS
from lexitui.hardware.settings import load_hardware_settings
from lexitui.hardware.unused_gpu import unused_gpu_note

_MARK = {
    CompatibilityLevel.OPTIMAL: "++",
    CompatibilityLevel.COMFORTABLE: "+",
    CompatibilityLevel.CONSTRAINED: "~",
    CompatibilityLevel.MARGINAL: "?",
    CompatibilityLevel.INCOMPATIBLE: "-",
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("hw", help="show CPUs, GPUs, memory and what models fit")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.set_defaults(func=run_hw)


def _opt(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.0f}{unit}"


def render_text(caps: HardwareCapabilities, engines: tuple[EngineInfo, ...] = ()) -> str:
    cpu = caps.cpu
    simd = [
        n
        for n, ok in (
            ("AVX", cpu.supports_avx),
            ("AVX2", cpu.supports_avx2),
            ("AVX-512", cpu.supports_avx512),
        )
        if ok
    ]
    lines = [
        f"System   {caps.operating_system} {caps.architecture}",
        f"CPU      {cpu.name}: {cpu.physical_cores} cores / {cpu.logical_cores} threads, "
        f"L3 {f'{cpu.l3_cache_bytes // 1024**2} MiB' if cpu.l3_cache_bytes else '?'}, "
        f"SIMD {' '.join(simd) or 'none'}",
        f"RAM      {format_bytes(caps.available_ram_bytes)} available of "
        f"{format_bytes(caps.total_ram_bytes)}",
        f"Disk     {format_bytes(caps.available_disk_bytes)} free at {caps.model_storage_path}",
        "",
    ]
    if caps.gpus:
        lines.append(
            f"{'GPU':<16} {'Name':<28} {'VRAM free/total':>20} {'Util':>5} {'Temp':>5} "
            f"{'Power':>6}  Backend"
        )
        for g in caps.gpus:
            mem = f"{format_bytes(g.available_vram_bytes)}/{format_bytes(g.vram_bytes)}"
            cc = f" cc {g.compute_capability}" if g.compute_capability else ""
            lines.append(
                f"{g.id:<16} {g.name[:28]:<28} {mem:>20} "
                f"{_opt(g.utilization_percent, '%'):>5} {_opt(g.temperature_c, 'C'):>5} "
                f"{_opt(g.power_watts, 'W'):>6}  {g.supported_backend.value}{cc}"
            )
    else:
        lines.append("GPU      none usable")
    lines += [f"Engine   {e.summary()}" for e in engines] or ["Engine   no llama.cpp engine"]
    note = unused_gpu_note(caps.gpus)
    if note:
        lines.append(f"WARNING  {note}")
    rec = caps.recommendation
    lines += [
        "",
        f"Recommended: {rec.max_recommended_size.value} models at "
        f"{rec.recommended_quantization.value}, {rec.recommended_context_length} context, "
        f"{rec.recommended_mode.value} ({rec.estimated_gpu_layers} GPU layers)",
        rec.explanation or "",
        "",
        "Fit (++ optimal, + comfortable, ~ constrained, ? marginal, - no; est. tokens/s):",
        f"{'size':<9}" + "".join(f"{q.value:>12}" for q in TABLE_QUANTS),
    ]
    for size in dict.fromkeys(o.size for o in rec.available_options):
        cells = []
        for quant in TABLE_QUANTS:
            option = rec.option(size, quant)
            if option is None:
                cells.append(f"{'':>12}")
                continue
            tps = option.estimated_tokens_per_second
            speed = (
                f" {tps:.0f}"
                if tps is not None and option.compatibility is not (CompatibilityLevel.INCOMPATIBLE)
                else ""
            )
            cells.append(f"{_MARK[option.compatibility] + speed:>12}")
        lines.append(f"{size.value:<9}" + "".join(cells))
    lines += ["", "Backends (as built for this hardware; the Engine line says what is installed):"]
    for backend in InferenceBackendType:
        support = backend_support(backend, caps)
        lines.append(
            f"  {backend.value:<16} {'yes' if support.supported else 'no ':<4}{support.reason}"
        )
    if caps.probe_notes:
        lines += ["", "Notes:"] + [f"  - {note}" for note in caps.probe_notes]
    return "\n".join(lines)


def report_json(
    caps: HardwareCapabilities, engines: tuple[EngineInfo, ...] = ()
) -> dict[str, object]:
    data = caps.to_json_dict()
    data["engines"] = [e.to_json_dict() for e in engines]
    data["backend_support"] = [
        backend_support(b, caps).to_json_dict() for b in InferenceBackendType
    ]
    return data


async def run_hw(args: argparse.Namespace) -> int:
    try:
        settings = load_hardware_settings(Paths.from_env())
    except (ConfigError, ValueError) as exc:
        print(f"lexitui hw: {exc}", file=sys.stderr)
        return 2
    detector = HardwareDetector(settings=settings)
    try:
        caps = await detector.detect()
    finally:
        detector.close()
    engines = await asyncio.to_thread(available_engines)
    if getattr(args, "json", False):
        print(json.dumps(report_json(caps, engines), indent=2))
    else:
        print(render_text(caps, engines))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lexitui")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["hw", *(argv if argv is not None else sys.argv[1:])])
    return int(asyncio.run(args.func(args)))


if __name__ == "__main__":
    raise SystemExit(main())
