"""``lexitui ls``: the installed models, for people or with ``--json``.

It opens only what it reads (the config, the store and its installed-model rows), not the whole
``Services``: listing models never loads the backends, the Hub client, the price tables or numpy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from lexitui.config import Paths
from lexitui.config_check import checked_config
from lexitui.domain.models import InstalledModel
from lexitui.domain.units import format_bytes
from lexitui.storage.fit import refused_headers
from lexitui.storage.starter import register_starter
from lexitui.store import Store, StoreError
from lexitui.store.installed_models import ModelRegistry


def add_parser(sub: Any) -> None:
    ls = sub.add_parser("ls", help="list installed models")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_ls)


async def installed_models(paths: Paths) -> list[InstalledModel]:
    """The registry's rows, the starter model registered first, as every start does."""
    checked_config(paths)  # a bad value is one error line, as in every command
    try:
        paths.ensure()
    except OSError as exc:
        where = exc.filename or paths.data_dir
        raise StoreError(f"cannot create {where}: {exc.strerror or exc}") from exc
    store = Store(paths.database)
    try:
        await store.open()
        registry = ModelRegistry(store)
        await register_starter(registry)
        return await registry.list()
    finally:
        await store.close()


async def cmd_ls(args: argparse.Namespace) -> int:
    models = await installed_models(Paths.from_env())
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
