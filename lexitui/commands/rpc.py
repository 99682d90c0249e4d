"""``lexitui rpc worker``: lend this machine's devices to a model split over several machines.

A worker is llama.cpp's ``ggml-rpc-server`` in the foreground (Ctrl+C stops it); a head loads
the model with ``lexitui run MODEL --rpc HOST:PORT,...`` and places its layers on the workers by
their free memory (``lexitui fit MODEL --rpc ...`` prints that split first). llama.cpp's RPC has
no authentication, so a worker binds loopback or a private address only, never a public one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from lexitui.domain.backends import ModelLoadOptions
from lexitui.engine.rpc_address import DEFAULT_PORT, RpcAddressError, RpcEndpoint, check_private
from lexitui.engine.rpc_probe import RpcProbeError

if TYPE_CHECKING:
    from lexitui.commands.fit import Target


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("rpc", help="run a llama.cpp RPC worker for a split model")
    sub = parser.add_subparsers(dest="rpc_command", metavar="SUBCOMMAND", required=True)
    worker = sub.add_parser("worker", help="lend this machine's devices to a head (foreground)")
    worker.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on: loopback or a private one (default 127.0.0.1)",
    )
    worker.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    worker.add_argument("--threads", type=int, default=0, help="CPU threads (default: llama.cpp)")
    worker.add_argument(
        "--cache", metavar="DIR", help="keep large tensors in DIR, so a reload skips the network"
    )
    worker.set_defaults(func=cmd_worker)


class RpcSplitError(ValueError):
    """The split cannot be planned; the message says which worker, size or model is wrong."""


def add_rpc_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("split over machines (llama.cpp RPC)")
    g.add_argument(
        "--rpc",
        metavar="HOST:PORT,...",
        help="place the layers on these RPC workers (`lexitui rpc worker` on each)",
    )
    g.add_argument(
        "--rpc-free",
        metavar="SIZE,...",
        help="each worker's free memory (e.g. 20G,12G) instead of asking the workers",
    )


async def cmd_worker(args: argparse.Namespace) -> int:
    from lexitui.config import Paths
    from lexitui.engine.errors import EngineError
    from lexitui.engine.rpc_workers import RpcWorker, find_rpc_server

    if not 0 < args.port < 65536:
        return _fail(f"--port must be 1 to 65535, not {args.port}")
    cache = Path(args.cache).expanduser() if args.cache else None
    try:
        check_private(args.host)  # before anything else: a public worker is never started
        binary = find_rpc_server()
        endpoint = RpcEndpoint(args.host, args.port)
        log = Paths.from_env().logs_dir / f"rpc-worker-{args.port}.log"
        worker = RpcWorker(binary, endpoint, log, threads=args.threads, cache_dir=cache)
        memory = await worker.start()
    except (EngineError, RpcAddressError) as exc:
        return _fail(str(exc))
    from lexitui.domain.units import format_bytes

    print(
        f"RPC worker on {endpoint}: {memory.devices} device(s), "
        f"{format_bytes(memory.free_bytes)} free; Ctrl+C stops it",
        flush=True,
    )
    try:
        while worker.running:
            await asyncio.sleep(0.5)
    finally:
        await worker.stop()
    return _fail(f"the worker stopped; see {worker.log_path}")


async def rpc_load_options(
    args: argparse.Namespace, options: ModelLoadOptions, model: str
) -> ModelLoadOptions:
    """The load's options with its RPC workers and their split; the split is printed (stderr)
    before the load starts. Raises ``RpcSplitError`` with the reason."""
    from lexitui.gguf.errors import GgufError

    try:
        return await _with_split(args, options, model)
    except (ValueError, LookupError, RpcProbeError, GgufError) as exc:
        raise RpcSplitError(str(exc)) from None


async def _with_split(
    args: argparse.Namespace, options: ModelLoadOptions, model: str
) -> ModelLoadOptions:
    if not args.rpc and not args.rpc_free:
        return options
    from lexitui.commands.fit import resolve_target
    from lexitui.commands.rpc_plan import plan_split, render_plan
    from lexitui.engine.settings import EMBEDDED, LLAMA_SERVER

    endpoints, free, split = await _read_split(args)
    if options.engine == EMBEDDED:
        raise ValueError("a split over RPC workers runs on llama-server: leave out --engine")
    target = await resolve_target(model)
    for line in render_plan(target.facts, model, plan_split(target.facts, endpoints, free, split)):
        print(line, file=sys.stderr, flush=True)
    return replace(
        options,
        engine=LLAMA_SERVER,
        rpc_servers=tuple(str(e) for e in endpoints),
        tensor_split=split,
    )


async def print_split(args: argparse.Namespace, target: Target) -> int:
    """``fit MODEL --rpc ...``: the split over the workers, printed before anything starts."""
    from lexitui.commands.rpc_plan import plan_json, plan_split, render_plan

    try:
        endpoints, free, split = await _read_split(args)
    except (ValueError, RpcProbeError) as exc:
        print(f"lexitui: {exc}", file=sys.stderr)
        return 1
    rows = plan_split(target.facts, endpoints, free, split)
    if args.json:
        print(json.dumps({"target": target.where, "rpc_split": plan_json(rows)}, indent=2))
    else:
        print("\n".join(render_plan(target.facts, target.variant.filename, rows)))
    return 0 if all(row.fits for row in rows) else 2


async def _read_split(
    args: argparse.Namespace,
) -> tuple[tuple[RpcEndpoint, ...], tuple[int, ...], tuple[float, ...]]:
    from lexitui.downloads.units import parse_size
    from lexitui.engine.rpc_address import parse_endpoints
    from lexitui.engine.rpc_workers import read_split

    if not args.rpc:
        raise ValueError("--rpc-free needs --rpc")
    endpoints = parse_endpoints(args.rpc)
    given = [parse_size(s) for s in args.rpc_free.split(",")] if args.rpc_free else None
    split, free = await read_split(endpoints, given)
    return endpoints, free, split


def _fail(message: str) -> int:
    print(f"lexitui rpc: {message}", file=sys.stderr)
    return 1
