"""Storage from the command line: ``rm``, ``import``, ``export``, ``verify``, ``storage``,
``cleanup`` and ``library``.

Each prints for people by default and one JSON document with ``--json``. A user error prints
one line (``lexitui: ...``) and exits 1; a failed verification exits 1 too.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lexitui.commands.storage_output import (
    print_info,
    print_library,
    print_shared_sync,
    print_suggestions,
    print_sync,
    print_verify,
)
from lexitui.config import ConfigError
from lexitui.domain.models import InvalidModelId
from lexitui.domain.storage import ImportMode, ModelImportOptions, StorageMoveProgress
from lexitui.domain.units import format_bytes
from lexitui.downloads.units import parse_size
from lexitui.gguf.errors import GgufError
from lexitui.gguf.text import safe_text
from lexitui.services import Services
from lexitui.services.storage import build_storage_manager
from lexitui.storage.errors import StorageError
from lexitui.storage.manager import StorageManager
from lexitui.store import StoreError
from lexitui.store.installed_models import ModelNotFound

STORAGE_ERRORS = (StorageError, ModelNotFound, InvalidModelId, StoreError, ConfigError, GgufError)
Command = Callable[[argparse.Namespace], Awaitable[int]]


def add_parser(sub: Any) -> None:
    rm = sub.add_parser("rm", help="delete an installed model (a shared-library one is forgotten)")
    rm.add_argument("model", help="installed model id (see `lexitui ls`)")
    rm.add_argument("--json", action="store_true")
    rm.set_defaults(func=cmd_rm)

    imp = sub.add_parser("import", help="install a GGUF file you have (checked first)")
    imp.add_argument("path", type=Path)
    how = imp.add_mutually_exclusive_group()
    how.add_argument("--link", dest="mode", action="store_const", const=ImportMode.HARDLINK,
                     help="hard-link instead of copying (same file system)")  # fmt: skip
    how.add_argument("--move", dest="mode", action="store_const", const=ImportMode.MOVE,
                     help="move the file into the store")  # fmt: skip
    how.add_argument("--symlink", dest="mode", action="store_const", const=ImportMode.SYMLINK,
                     help="leave the file where it is and link to it")  # fmt: skip
    imp.add_argument("--id", dest="model_id", help="the id to install it under")
    imp.add_argument("--name", help="the name to show")
    imp.add_argument("--no-verify", action="store_true", help="skip reading the copy back")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(func=cmd_import, mode=ImportMode.COPY)

    exp = sub.add_parser("export", help="copy an installed model's file(s) out")
    exp.add_argument("model")
    # Kept as text: a trailing slash ("DIR/") says "a folder", and Path would drop it.
    exp.add_argument("destination", help="a folder (DIR/), or a new file name")
    exp.add_argument("--json", action="store_true")
    exp.set_defaults(func=cmd_export)

    ver = sub.add_parser("verify", help="check headers and sha256 of installed models")
    ver.add_argument("model", nargs="?", help="one model id; all models without it")
    ver.add_argument("--quick", action="store_true", help="headers only, no re-hash")
    ver.add_argument("--json", action="store_true")
    ver.set_defaults(func=cmd_verify)

    sto = sub.add_parser("storage", help="disk use of the model store; move it elsewhere")
    sto.add_argument("action", nargs="?", choices=["sync"],
                     help="sync: register, checked, the models other hosts put in a "
                     "store they share with this one")  # fmt: skip
    sto.add_argument("--move-to", type=Path, metavar="PATH", help="move the whole store")
    sto.add_argument("--register-ollama", metavar="ID",
                     help="make an installed GGUF an Ollama model (OLLAMA_HOST)")  # fmt: skip
    sto.add_argument("--ollama-name", metavar="NAME", help="its name in Ollama")
    sto.add_argument("--json", action="store_true")
    sto.set_defaults(func=cmd_storage)

    cle = sub.add_parser("cleanup", help="remove stale partials; delete models to free space")
    cle.add_argument("--free", type=_size, metavar="SIZE", help="delete suggested models to "
                     "free this much, e.g. 20G")  # fmt: skip
    cle.add_argument("--dry-run", action="store_true", help="only say what would go")
    cle.add_argument("--json", action="store_true")
    cle.set_defaults(func=cmd_cleanup)

    lib = sub.add_parser("library", help="GGUF models in the HF cache, Ollama and LM Studio")
    lib.add_argument("--scan", action="store_true", help="also register new ones, drop gone ones")
    lib.add_argument("--json", action="store_true")
    lib.set_defaults(func=cmd_library)


@asynccontextmanager
async def opened() -> AsyncIterator[StorageManager]:
    services = Services.build()
    await services.start()
    manager = build_storage_manager(services)
    try:
        await manager.start(reconcile_files=False)
        yield manager
    finally:
        await manager.stop()
        await services.stop()


def user_errors(command: Command) -> Command:
    """One line and exit 1 for what the user can fix, with or without the main CLI."""

    @functools.wraps(command)
    async def run(args: argparse.Namespace) -> int:
        try:
            return await command(args)
        except STORAGE_ERRORS as exc:
            print(f"lexitui: {exc}", file=sys.stderr)
            return 1

    return run


@user_errors
async def cmd_rm(args: argparse.Namespace) -> int:
    async with opened() as manager:
        model = await manager.rows.get(args.model)
        result = await manager.delete_model(args.model)
    if args.json:
        _json(result.to_json_dict())
    elif result.forgot_only:
        print(
            f"forgot {result.model_id}; its file was left in place "
            f"({model.model.source}): {safe_text(model.model.path)}"
        )
    else:
        print(f"deleted {result.model_id}, freed {format_bytes(result.freed_bytes)}")
    return 0


@user_errors
async def cmd_import(args: argparse.Namespace) -> int:
    options = ModelImportOptions(
        custom_name=args.name,
        custom_id=args.model_id,
        mode=args.mode,
        verify_integrity=not args.no_verify,
    )
    async with opened() as manager:
        model = await manager.import_model(args.path, options)
    if args.json:
        _json(model.to_json_dict())
    else:
        quant = f", {model.facts.quantization}" if model.facts.quantization else ""
        print(f"imported {model.id} ({format_bytes(model.size_bytes)}{quant}) by {args.mode.value}")
    return 0


@user_errors
async def cmd_export(args: argparse.Namespace) -> int:
    async with opened() as manager:
        written = await manager.export_model(args.model, args.destination)
    if args.json:
        _json({"model_id": args.model, "files": [str(p) for p in written]})
    else:
        for path in written:
            print(f"wrote {safe_text(str(path))}")
    return 0


@user_errors
async def cmd_verify(args: argparse.Namespace) -> int:
    async with opened() as manager:
        ids = [args.model] if args.model else [m.id for m in await manager.installed_models()]
        reports = [await manager.verify_model(i, rehash=not args.quick) for i in ids]
    if args.json:
        _json([r.to_json_dict() for r in reports])
    else:
        print_verify(reports)
    return 0 if all(r.ok for r in reports) else 1


@user_errors
async def cmd_storage(args: argparse.Namespace) -> int:
    if args.register_ollama is not None:
        return await _register_ollama(args)
    if args.action == "sync":
        async with opened() as manager:
            synced = await manager.sync_shared_store()
        if args.json:
            _json(synced.to_json_dict())
        else:
            print_shared_sync(synced)
        return 1 if synced.refused else 0
    async with opened() as manager:
        if args.move_to is not None:
            moved = await manager.move_storage(args.move_to, _MoveLine(args.json))
            if not args.json:
                print(f"the model store is now at {safe_text(str(moved))}")
        info = await manager.storage_info()
    if args.json:
        _json(info.to_json_dict())
    else:
        print_info(info)
    return 0


async def _register_ollama(args: argparse.Namespace) -> int:
    # Imported here: only this flag needs the backends package.
    from lexitui.backends.errors import BackendError
    from lexitui.backends.ollama import OllamaBackend

    backend = OllamaBackend()
    try:
        async with opened() as manager:
            name = await manager.register_with_ollama(
                args.register_ollama, backend, args.ollama_name
            )
    except BackendError as exc:  # no Ollama running, or it refused: one line, like the rest
        print(f"lexitui: {exc}", file=sys.stderr)
        return 1
    finally:
        await backend.aclose()
    if args.json:
        _json({"model": args.register_ollama, "ollama_name": name})
    else:
        print(f"registered with Ollama as {safe_text(name)} (ollama run {safe_text(name)})")
    return 0


@user_errors
async def cmd_cleanup(args: argparse.Namespace) -> int:
    async with opened() as manager:
        result = None if args.dry_run else await manager.cleanup()
        suggestions = await manager.cleanup_suggestions(args.free or 0)
        deleted = []
        if args.free and not args.dry_run:
            deleted = [await manager.delete_model(s.model.id) for s in suggestions]
    freed = sum(d.freed_bytes for d in deleted)
    if args.json:
        _json(
            {
                "cleanup": result.to_json_dict() if result else None,
                "suggestions": [s.to_json_dict() for s in suggestions],
                "deleted": [d.to_json_dict() for d in deleted],
            }
        )
        return 0
    if result is not None:
        print(
            f"removed {len(result.deleted_files)} stale files, {format_bytes(result.freed_bytes)}"
        )
        if result.in_use:
            print(f"kept {len(result.in_use)} partial downloads in use by another lexitui")
    print_suggestions(suggestions, deleted=bool(deleted), dry_run=args.dry_run)
    if args.free and not args.dry_run:
        print(f"freed {format_bytes(freed)} of the {format_bytes(args.free)} asked for")
    return 0


@user_errors
async def cmd_library(args: argparse.Namespace) -> int:
    async with opened() as manager:
        if args.scan:
            synced = await manager.sync_library()
            scan = synced.scan
        else:
            synced, scan = None, await manager.scan_library()
        registered = {m.id for m in await manager.rows.all()}
    if args.json:
        _json(synced.to_json_dict() if synced else scan.to_json_dict())
    elif synced is not None:
        print_sync(synced)
    else:
        print_library(scan, registered)
    return 0


class _MoveLine:
    """Move progress on stderr: one line, redrawn, or NDJSON with ``--json``."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def __call__(self, step: StorageMoveProgress) -> None:
        if self.as_json:
            print(json.dumps(step.to_json_dict()), file=sys.stderr, flush=True)
            return
        if step.bytes_total:
            line = f"{step.phase.value}: {format_bytes(step.bytes_done)} of "
            line += format_bytes(step.bytes_total)
        else:
            line = step.phase.value.replace("_", " ")
        print(f"\r{line:<60}", end="" if step.bytes_total else "\n", file=sys.stderr, flush=True)


def _json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
