"""``lexitui backends`` and ``lexitui backend add|remove|prefer|start|stop``, headless.

``lexitui/cli.py`` mounts them with ``add_parser``. Plain text or ``--json``; a user error
(bad name, bad URL, unknown backend, engine that will not start) is one line on stderr and
exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

import psutil

from lexitui.backends.errors import BackendError, InvalidBackendConfig
from lexitui.backends.factory import MANAGED_NAME
from lexitui.backends.manager import BackendManager
from lexitui.commands.engine import add_engine_options
from lexitui.config import ConfigError, Paths
from lexitui.domain.backends import BackendReport, ModelLoadOptions
from lexitui.domain.enums import BackendStatus, InferenceBackendType
from lexitui.editions.service import user_entitlements
from lexitui.engine.state import read_live_state, run_dir, state_path
from lexitui.events import BackendStatusChanged

USER_ERRORS = (InvalidBackendConfig, ConfigError, BackendError, LookupError)
START_HELP = (
    "Start a llama.cpp engine (the embedded one, or a llama-server with --engine) with a model "
    "and keep it running in the foreground until Ctrl+C. The engine belongs to this command: "
    "it stops when this process ends. Other lexitui commands see it (`lexitui backends`, "
    "`lexitui ps`) and can stop it "
    "(`lexitui backend stop llamacpp`)."
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = subparsers.add_parser("backends", help="list inference backends and their status")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(func=run_backends)

    backend = subparsers.add_parser("backend", help="add, remove, prefer, start or stop backends")
    actions = backend.add_subparsers(dest="backend_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="register an endpoint (OpenAI-compatible by default)")
    add.add_argument("name", help="1-32 of a-z 0-9 - _")
    add.add_argument("url", help="http(s)://host:port, with or without /v1")
    add.add_argument(
        "--type",
        default=InferenceBackendType.CUSTOM.value,
        choices=[t.value for t in InferenceBackendType],
        help="server kind (default: custom OpenAI-compatible)",
    )
    add.add_argument("--api-key-env", metavar="VAR", help="env var holding the API key")
    add.set_defaults(func=run_add)

    remove = actions.add_parser("remove", help="forget a custom backend")
    remove.add_argument("name")
    remove.set_defaults(func=run_remove)

    prefer = actions.add_parser("prefer", help="use this backend first when it is running")
    prefer.add_argument("name", help="a backend name, or 'none' to clear")
    prefer.set_defaults(func=run_prefer)

    start = actions.add_parser(
        "start", help="run a llama.cpp engine (foreground)", description=START_HELP
    )
    start.add_argument("backend", choices=[MANAGED_NAME])
    start.add_argument("--model", required=True, help="installed model id or .gguf path")
    start.add_argument("--ctx", type=int, default=None, help="context length (default 4096)")
    start.add_argument("--gpu-layers", type=int, default=None, help="-1 all (default), 0 none")
    start.add_argument("--threads", type=int, default=None)
    start.add_argument("--embedding", action="store_true", help="also serve /v1/embeddings")
    add_engine_options(start.add_argument_group("engine"))
    start.set_defaults(func=run_start)

    stop = actions.add_parser("stop", help="stop the engine a `backend start` is running")
    stop.add_argument("backend", choices=[MANAGED_NAME])
    stop.set_defaults(func=run_stop)


def _fail(message: object) -> int:
    print(f"lexitui: {message}", file=sys.stderr)
    return 1


def report_json(report: BackendReport) -> dict[str, Any]:
    health = report.health
    return {
        "name": report.name,
        "type": report.type.value,
        "status": health.status.value,
        "endpoint": report.endpoint,
        "version": report.version,
        "latency_ms": None if health.latency_ms is None else round(health.latency_ms, 1),
        "model_count": report.model_count,
        "reason": health.message,
        "running_requests": health.running_requests,
        "waiting_requests": health.waiting_requests,
        "kv_cache_usage": health.kv_cache_usage,
        "managed": report.managed,
        "preferred": report.preferred,
    }


def render_table(reports: Sequence[BackendReport]) -> str:
    head = ("NAME", "TYPE", "STATUS", "ENDPOINT", "VERSION", "LATENCY", "MODELS", "REASON")
    rows = [head]
    for r in reports:
        latency = r.health.latency_ms
        rows.append(
            (
                r.name + (" *" if r.preferred else ""),
                r.type.value,
                r.health.status.value,
                r.endpoint or "-",
                r.version or "-",
                "-" if latency is None else f"{latency:.1f} ms",
                "-" if r.model_count is None else str(r.model_count),
                r.health.message,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
        + "  "
        + row[-1]
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


async def run_backends(args: argparse.Namespace) -> int:
    try:
        manager = BackendManager(Paths.from_env())
    except USER_ERRORS as exc:
        return _fail(exc)
    async with manager:
        reports = await manager.reports()
    if args.json:
        print(json.dumps([report_json(r) for r in reports], indent=2))
    else:
        print(render_table(reports))
    return 0


async def run_add(args: argparse.Namespace) -> int:
    try:
        paths = Paths.from_env()
        entitlements = user_entitlements(paths)
        async with BackendManager(paths, entitlements=lambda: entitlements) as manager:
            backend = manager.add_custom(args.name, args.url, args.type, args.api_key_env)
    except USER_ERRORS as exc:
        return _fail(exc)
    print(f"added {backend.name} ({backend.type.value}) at {backend.endpoint}")
    return 0


async def run_remove(args: argparse.Namespace) -> int:
    try:
        async with BackendManager(Paths.from_env()) as manager:
            await manager.remove_custom(args.name)
    except USER_ERRORS as exc:
        return _fail(exc)
    print(f"removed {args.name}")
    return 0


async def run_prefer(args: argparse.Namespace) -> int:
    name = None if args.name == "none" else args.name
    try:
        async with BackendManager(Paths.from_env()) as manager:
            manager.set_preferred(name)
    except USER_ERRORS as exc:
        return _fail(exc)
    print(f"preferred backend: {name or 'none (system Ollama first)'}")
    return 0


async def run_start(args: argparse.Namespace) -> int:
    from lexitui.services import Services  # the store resolves installed model ids

    paths = Paths.from_env()
    running = read_live_state(state_path(run_dir(paths), MANAGED_NAME))
    if running is not None:
        return _fail(
            f"{MANAGED_NAME} already runs at {running.endpoint} (lexitui process "
            f"{running.owner_pid}); stop it first"
        )
    services = Services.build(paths)
    await services.start()
    try:
        # The services' own manager: its managed engine resolves ids through the registry.
        manager = services.backends
        manager.managed.owner = "cli"
        return await _serve(manager, args)
    except USER_ERRORS as exc:
        return _fail(exc)
    finally:
        await services.stop()  # stops the engine with everything else


async def _serve(manager: BackendManager, args: argparse.Namespace) -> int:
    options = ModelLoadOptions(
        context_length=args.ctx,
        gpu_layers=args.gpu_layers,
        threads=args.threads,
        embedding=args.embedding,
        flash_attention=args.flash_attn,
        kv_cache_type=args.kv_cache_type,
        engine=args.engine,
    )
    result = await manager.start_managed(args.model, options)
    if not result.success:
        return _fail(f"{MANAGED_NAME}: {result.error}")
    print(f"{MANAGED_NAME} serving {args.model} at {result.endpoint} (pid {result.pid})")
    print("Press Ctrl+C to stop; the engine stops with this command.", flush=True)
    done: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def finish(reason: str) -> None:
        if not done.done():
            done.set_result(reason)

    def on_status(event: BackendStatusChanged) -> None:
        if event.name == MANAGED_NAME and event.new is BackendStatus.ERROR:
            finish(event.message)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, finish, "")
    subscription = manager.status_changes.subscribe(on_status)
    try:
        crash = await done
    finally:
        subscription.dispose()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if crash:
        return _fail(f"{MANAGED_NAME}: {crash}")
    print(f"{MANAGED_NAME} stopped")
    return 0


async def run_stop(args: argparse.Namespace) -> int:
    state = read_live_state(state_path(run_dir(Paths.from_env()), args.backend))
    if state is None:
        return _fail(f"{args.backend} is not running (no `lexitui backend start` owns it)")
    if state.owner != "cli":
        return _fail(
            f"{args.backend} belongs to the lexitui app (process {state.owner_pid}): stop it there"
        )
    # Ask the owning command to stop, so it shuts the engine down cleanly and says so.
    os.kill(state.owner_pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while psutil.pid_exists(state.engine_pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    if psutil.pid_exists(state.engine_pid):
        return _fail(f"{args.backend} (pid {state.engine_pid}) did not stop within 15 s")
    print(f"stopped {args.backend} (was pid {state.engine_pid} at {state.endpoint})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lexitui")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(asyncio.run(args.func(args)))


if __name__ == "__main__":
    raise SystemExit(main())
