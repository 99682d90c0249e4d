"""The ``lexitui`` command: the TUI with no arguments, headless subcommands otherwise.

Every area adds its subcommands here, each with ``--json`` for scripts. Subcommands never import
Textual, so they start fast over SSH and work without a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from lexitui.commands.backends import add_parser as add_backends_parser
from lexitui.commands.discovery import add_parser as add_discovery_parser
from lexitui.commands.engine import add_parser as add_engine_parser
from lexitui.commands.fit import add_parser as add_fit_parser
from lexitui.commands.gguf import add_parser as add_gguf_parser
from lexitui.commands.hardware import add_parser as add_hardware_parser
from lexitui.commands.pull import add_parser as add_pull_parser
from lexitui.commands.reports import add_parser as add_reports_parser
from lexitui.commands.routing import add_parser as add_routing_parser
from lexitui.commands.runtime import add_parser as add_runtime_parser
from lexitui.commands.serve import add_parser as add_serve_parser
from lexitui.commands.storage import add_parser as add_storage_parser
from lexitui.config import ConfigError
from lexitui.discovery.errors import RegistryError
from lexitui.domain.inference import InvalidRequest
from lexitui.domain.models import InvalidModelId
from lexitui.domain.units import format_bytes
from lexitui.engine.errors import EngineError
from lexitui.gguf.errors import GgufError
from lexitui.hardware.settings import HardwareSettingsError
from lexitui.routing.errors import ProviderError, RoutingError
from lexitui.runtime.errors import RuntimeErrorBase
from lexitui.services import Services
from lexitui.storage.errors import StorageError
from lexitui.storage.fit import refused_headers
from lexitui.store import StoreError
from lexitui.store.installed_models import ModelNotFound

# Errors a user can cause or fix; they print one line instead of a traceback.
USER_ERRORS = (
    ConfigError,
    StoreError,
    EngineError,
    RuntimeErrorBase,
    InvalidRequest,
    ModelNotFound,
    InvalidModelId,
    HardwareSettingsError,
    GgufError,
    RegistryError,
    StorageError,
    RoutingError,
    ProviderError,
)


def package_version() -> str:
    try:
        return version("lexitui")
    except PackageNotFoundError:
        return "0+unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lexitui", description="Run LLMs on your own hardware, from the terminal."
    )
    parser.add_argument("--version", action="version", version=f"lexitui {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    add_runtime_parser(sub)

    ls = sub.add_parser("ls", help="list installed models")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_ls)

    add_hardware_parser(sub)
    add_engine_parser(sub)
    add_backends_parser(sub)
    add_gguf_parser(sub)
    add_discovery_parser(sub)
    add_fit_parser(sub)
    add_pull_parser(sub)
    add_storage_parser(sub)
    add_routing_parser(sub)
    add_reports_parser(sub)
    add_serve_parser(sub)

    return parser


async def cmd_ls(args: argparse.Namespace) -> int:
    services = Services.build()
    await services.start()
    try:
        models = await services.registry.list()
    finally:
        await services.stop()
    # A malformed or hostile file is listed with the reason, never trusted (bounded reads).
    refused = await asyncio.to_thread(refused_headers, models)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": m.id,
                        "name": m.name,
                        "path": m.path,
                        "format": m.format.value,
                        "size_bytes": m.size_bytes,
                        "source": m.source,
                        "invalid": refused.get(m.id),
                    }
                    for m in models
                ],
                indent=2,
            )
        )
    elif not models:
        print("No models installed. Install the starter model with `make run`.")
    else:
        width = max(len(m.id) for m in models)
        for m in models:
            invalid = f"  invalid GGUF: {refused[m.id]}" if m.id in refused else ""
            print(f"{m.id:<{width}}  {format_bytes(m.size_bytes):>10}  {m.name}{invalid}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a reader that goes away (``| head``) ends it quietly."""
    try:
        try:
            return run_command(argv)
        finally:
            # Flush here, inside the handler: a failed flush at interpreter exit would print
            # "Exception ignored ... BrokenPipeError" after we had already returned.
            sys.stdout.flush()
    except BrokenPipeError:
        stop_writing_to_stdout()
        return 1


def stop_writing_to_stdout() -> None:
    """Point stdout at the null device so the final flush at exit has nowhere to fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def run_command(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from lexitui.ui.app import run_app

            return run_app()
        return int(asyncio.run(args.func(args)))
    except USER_ERRORS as exc:
        print(f"lexitui: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
