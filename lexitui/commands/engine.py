"""``lexitui engine``: the installed llama.cpp engines, and building a llama-server for a GPU.

``lexitui engine`` (or ``engine list``) lists each engine with what it can use;
``lexitui engine build [--cuda|--rocm|--vulkan]`` builds llama-server from source, caches it,
and installs it beside this environment's Python, where loads find it. ``--no-install`` only
fills the cache (the test suite's CPU build uses that); ``--print-path`` prints the binary.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable

from lexitui.domain.hardware import GpuInfo
from lexitui.editions.service import user_entitlements
from lexitui.engine.build import BuildError, BuildPlan, build, install
from lexitui.engine.options import FLASH_ATTENTION, KV_CACHE_TYPES
from lexitui.engine.settings import ENGINE_NAMES


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("engine", help="list llama.cpp engines, build a GPU one")
    parser.set_defaults(func=run_list)
    sub = parser.add_subparsers(dest="engine_command", metavar="SUBCOMMAND")
    listing = sub.add_parser("list", help="each installed engine and the devices it can use")
    listing.set_defaults(func=run_list)
    make = sub.add_parser("build", help="build llama-server from source (CPU, CUDA, ROCm, Vulkan)")
    kind = make.add_mutually_exclusive_group()
    for backend in ("cuda", "rocm", "vulkan"):
        kind.add_argument(
            f"--{backend}", dest="backend", action="store_const", const=backend, default="cpu"
        )
    kind.add_argument("--cpu", dest="backend", action="store_const", const="cpu")
    make.add_argument(
        "--cuda-arch",
        action="append",
        metavar="SM",
        help="CUDA architecture to compile for, e.g. 90 (default: those of the GPUs found here)",
    )
    make.add_argument("--jobs", type=int, default=0, help="parallel compile jobs (default: cores)")
    make.add_argument("--no-install", action="store_true", help="only build into the cache")
    make.add_argument("--print-path", action="store_true", help="print the binary's path last")
    make.set_defaults(func=run_build)


def add_engine_options(g: argparse._ArgumentGroup) -> None:
    """The engine and its attention/KV cache choices, shared with ``backend start``."""
    g.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        help="llama.cpp engine to load on (default: [runtime] engine, or auto: GPU-capable first)",
    )
    g.add_argument("--flash-attn", choices=FLASH_ATTENTION, help="flash attention")
    g.add_argument("--kv-cache-type", choices=KV_CACHE_TYPES, help="K and V cache type")


async def run_list(args: argparse.Namespace) -> int:
    from lexitui.engine.devices import available_engines

    engines = await asyncio.to_thread(available_engines)
    if not engines:
        print("no llama.cpp engine is installed")
    for engine in engines:
        print(engine.summary())
    return 0


async def run_build(args: argparse.Namespace) -> int:
    backend: str = args.backend
    archs = tuple(args.cuda_arch or ())
    if backend == "cuda" and not archs:
        archs = await asyncio.to_thread(detected_cuda_archs)
        if not archs:
            return _fail(
                "no NVIDIA GPU found to build for: name the architecture with --cuda-arch "
                "(e.g. 90 for H100, 89 for RTX 40xx, 86 for RTX 30xx, 80 for A100)"
            )
    plan = BuildPlan(backend, archs, max(0, args.jobs))
    entitlements = user_entitlements()
    try:
        binary = await asyncio.to_thread(build, plan, _say, entitlements=entitlements)
        if not args.no_install:
            binary = await asyncio.to_thread(install, binary, entitlements=entitlements)
            _say(f"installed {binary}; loads now find it (see `lexitui engine list`)")
    except (BuildError, OSError) as exc:
        return _fail(str(exc))
    if args.print_path:
        print(binary)
    return 0


def cuda_archs(gpus: Iterable[GpuInfo]) -> tuple[str, ...]:
    """The CUDA architectures ("80", "90") of these GPUs, once each, oldest first."""
    found = {g.compute_capability_int for g in gpus}
    return tuple(str(cc) for cc in sorted(c for c in found if c))


def detected_cuda_archs() -> tuple[str, ...]:
    """The CUDA architectures of the NVIDIA GPUs found on this machine."""
    from lexitui.hardware.detector import HardwareDetector

    async def detect() -> tuple[str, ...]:
        detector = HardwareDetector()
        try:
            return cuda_archs((await detector.detect()).gpus)
        finally:
            detector.close()

    return asyncio.run(detect())


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _fail(message: str) -> int:
    print(f"lexitui engine: {message}", file=sys.stderr)
    return 1
