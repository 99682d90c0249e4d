"""``lexitui fit A B ...``, ``--from-file LIST``, ``--search QUERY``: many models, one table.

A repo id (``owner/name``) is opened as ``lexitui show`` opens it and its recommended variant
reported; a file target (a path, an installed id, ``REPO/FILE.gguf``) is planned as a single
``lexitui fit`` plans it, with the same --ctx/--gpu-layers/--kv-type/--parallel. The services
(registries, cache) are started only when a repo or a search needs them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from lexitui.commands.fit_bulk_output import render_table
from lexitui.discovery.bulk_fit import (
    FitRow,
    analyse_all,
    is_repo_id,
    read_target_list,
    row_from_fit,
    row_from_model,
)
from lexitui.discovery.compatibility import CompatibilityAnalyzer
from lexitui.discovery.fit_rules import check_fit
from lexitui.discovery.service import DiscoveryService
from lexitui.domain.discovery import InferenceConfig, ModelSearchQuery, RemoteModel
from lexitui.domain.enums import ModelSortOrder
from lexitui.editions.service import user_entitlements
from lexitui.gguf.text import safe_text
from lexitui.services import Services


class BulkTargetsError(ValueError):
    """The list of targets could not be read; the message says why."""


def is_bulk(args: argparse.Namespace) -> bool:
    """Anything but one file target; a lone repo id is a one-row table (it has no one file)."""
    if len(args.target) != 1 or args.from_file is not None or args.search is not None:
        return True
    return _names_a_repo(args.target[0])


def _names_a_repo(target: str) -> bool:
    return is_repo_id(target) and not Path(target).expanduser().exists()


def _list_file(name: str) -> list[str]:
    if name == "-":
        return read_target_list(sys.stdin)
    try:
        return read_target_list(Path(name).expanduser().read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError) as exc:
        raise BulkTargetsError(f"cannot read the list {name}: {exc.__class__.__name__}") from None


class _Discovery:
    """The discovery service, started on first use and stopped once at the end."""

    def __init__(self) -> None:
        self._services: Services | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> DiscoveryService:
        async with self._lock:
            if self._services is None:
                services = Services.build()
                await services.start()
                self._services = services
            return self._services.discovery

    async def stop(self) -> None:
        if self._services is not None:
            await self._services.stop()


async def cmd_fit_bulk(
    args: argparse.Namespace,
    analyzer: CompatibilityAnalyzer,
    config: InferenceConfig | None,
) -> int:
    if args.limit is not None and (args.limit <= 0 or args.search is None):
        print("lexitui: --limit must be positive and goes with --search", file=sys.stderr)
        return 1
    try:
        targets = list(args.target)
        if args.from_file is not None:
            targets += _list_file(args.from_file)
    except BulkTargetsError as exc:
        print(f"lexitui: {exc}", file=sys.stderr)
        return 1
    listed = args.from_file is not None or args.search is not None
    entitlements = user_entitlements()
    check_fit(entitlements, len(targets), listed=listed)  # before a search is spent on it
    discovery = _Discovery()
    # A search's results by their row's name: "NAME:owner/repo" for a configured registry's, so
    # each is opened on the registry it came from (two may hold one repo id).
    searched: dict[str, RemoteModel] = {}
    try:
        if args.search is not None:
            query = ModelSearchQuery(
                query=args.search,
                only_gguf=True,
                sort=ModelSortOrder.TRENDING,
                take=args.limit or 10,
            )
            found = await discovery.get()
            result = await found.search(query)
            for model in result.models:
                custom = model.registry_name in found.custom
                searched[f"{model.registry_name}:{model.id}" if custom else model.id] = model
            for gone in result.unavailable:
                said = f"{safe_text(gone.registry, 40)} unavailable: {safe_text(gone.reason, 300)}"
                print(f"lexitui: {said}", file=sys.stderr)
            targets += list(searched)
        if not targets:
            print("lexitui: no models to analyse", file=sys.stderr)
            return 1

        async def analyse(target: str) -> FitRow:
            from lexitui.commands.fit import resolve_target

            if target in searched:
                model = searched[target]
                details = await (await discovery.get()).details(
                    model.id, model.registry, registry_name=model.registry_name
                )
                return row_from_model(target, details.compatibility)
            if _names_a_repo(target):
                details = await (await discovery.get()).details(target)
                return row_from_model(target, details.compatibility)
            found = await resolve_target(target)
            fit = await analyzer.analyze_variant(
                found.variant, found.facts, config, choose_gpu_layers=args.gpu_layers is None
            )
            return row_from_fit(target, fit)

        rows = await analyse_all(targets, analyse, entitlements=entitlements, listed=listed)
    finally:
        await discovery.stop()
    if args.json:
        print(json.dumps([r.to_json_dict() for r in rows], indent=2))
    else:
        print(render_table(rows))
    return 0 if any(r.analysed for r in rows) else 1
