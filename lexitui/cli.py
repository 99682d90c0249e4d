"""The ``lexitui`` command: the TUI with no arguments, headless subcommands otherwise.

Every area adds its subcommands here, each with ``--json`` for scripts. Subcommands never import
Textual, so they start fast over SSH and work without a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from lexitui.backends.cli import add_parser as add_backends_parser
from lexitui.config import ConfigError
from lexitui.discovery.cli import add_parser as add_discovery_parser
from lexitui.discovery.errors import RegistryError
from lexitui.discovery.fit_cli import add_parser as add_fit_parser
from lexitui.domain.enums import ChatRole
from lexitui.domain.models import InvalidModelId
from lexitui.downloads.cli import add_parser as add_pull_parser
from lexitui.gguf.cli import add_parser as add_gguf_parser
from lexitui.gguf.errors import GgufError
from lexitui.hardware.cli import add_parser as add_hardware_parser
from lexitui.hardware.settings import HardwareSettingsError
from lexitui.runtime.chat import ChatError, ChatFinished, ChatMessage, GenerationParams, TokenDelta
from lexitui.runtime.engine import EngineError
from lexitui.services import Services
from lexitui.storage.cli import add_parser as add_storage_parser
from lexitui.storage.errors import StorageError
from lexitui.storage.registry import ModelNotFound
from lexitui.store import StoreError

# Errors a user can cause or fix; they print one line instead of a traceback.
USER_ERRORS = (
    ConfigError,
    StoreError,
    EngineError,
    ChatError,
    ModelNotFound,
    InvalidModelId,
    HardwareSettingsError,
    GgufError,
    RegistryError,
    StorageError,
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

    run = sub.add_parser("run", help="load a model and stream its answer to a prompt")
    run.add_argument("model", help="installed model id (see `lexitui ls`)")
    run.add_argument("prompt", help="the prompt")
    run.add_argument("--max-tokens", type=int, default=256)
    run.add_argument("--temperature", type=float, default=0.7)
    run.add_argument("--seed", type=int, default=None)
    run.add_argument("--json", action="store_true", help="print one JSON object at the end")
    run.set_defaults(func=cmd_run)

    ls = sub.add_parser("ls", help="list installed models")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_ls)

    add_hardware_parser(sub)
    add_backends_parser(sub)
    add_gguf_parser(sub)
    add_discovery_parser(sub)
    add_fit_parser(sub)
    add_pull_parser(sub)
    add_storage_parser(sub)

    return parser


async def cmd_ls(args: argparse.Namespace) -> int:
    services = Services.build()
    await services.start()
    try:
        models = await services.registry.list()
    finally:
        await services.stop()
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
            print(f"{m.id:<{width}}  {m.size_bytes / 1e6:8.1f} MB  {m.name}")
    return 0


async def cmd_run(args: argparse.Namespace) -> int:
    services = Services.build()
    await services.start()
    try:
        await services.runtime.load(args.model)
        params = GenerationParams(
            max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed
        )
        messages = [ChatMessage(role=ChatRole.USER, content=args.prompt)]
        async for piece in services.runtime.chat(messages, params):
            if isinstance(piece, TokenDelta) and not args.json:
                sys.stdout.write(piece.text)
                sys.stdout.flush()
            elif isinstance(piece, ChatFinished):
                _report(piece, args.json)
    finally:
        await services.stop()
    return 0


def _report(done: ChatFinished, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "text": done.text,
                    "completion_tokens": done.completion_tokens,
                    "prompt_tokens": done.prompt_tokens,
                    "ttft_ms": round(done.ttft_ms, 1),
                    "tokens_per_second": round(done.tokens_per_second, 1),
                    "finish_reason": done.finish_reason,
                }
            )
        )
    else:
        sys.stdout.write("\n")
        print(
            f"[{done.completion_tokens} tokens, {done.tokens_per_second:.1f} tok/s, "
            f"TTFT {done.ttft_ms:.0f} ms]",
            file=sys.stderr,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from lexitui.app import run_app

            return run_app()
        return int(asyncio.run(args.func(args)))
    except USER_ERRORS as exc:
        print(f"lexitui: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
