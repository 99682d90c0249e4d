"""What ``lexitui pull`` does once its arguments are parsed (``pull.py`` holds the parser).

Kept apart from the parser so that ``lexitui --help`` and the TUI never import the HTTP client,
the Hub library and the downloader for a command they do not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from dataclasses import replace
from typing import Any

from lexitui.config import ConfigError
from lexitui.discovery.errors import RegistryError
from lexitui.discovery.huggingface import HuggingFaceRegistry
from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.downloads import DownloadOptions, ModelDownload
from lexitui.domain.enums import DownloadStatus
from lexitui.domain.models import InvalidModelId
from lexitui.domain.units import format_bytes
from lexitui.downloads.errors import DownloadError
from lexitui.downloads.install import install_id
from lexitui.downloads.manager import DownloadManager
from lexitui.downloads.records import DownloadProgressEvent
from lexitui.downloads.target import parse_target, resolve_hub_target, url_target
from lexitui.editions.refusals import EditionRefusal
from lexitui.gguf.text import safe_text
from lexitui.services import Services
from lexitui.services.downloads import (
    build_download_manager,
    hub_config_token,
    settings_from_config,
)
from lexitui.store import StoreError
from lexitui.store.download_queue import DownloadRequestError
from lexitui.store.search_cache import RegistryCache

PULL_ERRORS = (
    DownloadError,
    DownloadRequestError,
    RegistryError,
    ConfigError,
    StoreError,
    InvalidModelId,
    EditionRefusal,
)
INTERRUPTED = 130
HUMAN_EVERY_S = 1.0


async def run_pull(args: argparse.Namespace) -> int:
    printer = Printer(args.json)
    try:
        target = parse_target(args.target)
        services = Services.build()
        await services.start()
    except PULL_ERRORS as exc:
        printer.failure(str(exc))
        return 1
    settings = replace(
        settings_from_config(services.config),
        max_concurrent_downloads=1,
        rate_limit_bytes_per_s=args.limit_rate,
    )
    manager = build_download_manager(services, settings)
    subscription = manager.progress.subscribe(printer.progress)
    try:
        if target.url is not None:
            model, variant = url_target(target.url)
        else:
            hub = HuggingFaceRegistry(
                RegistryCache(services.store), token=hub_config_token(services.config)
            )
            model, variant = await resolve_hub_target(target, hub)
        options = DownloadOptions(
            max_concurrent_connections=args.connections, chunk_size_bytes=args.chunk_size
        )
        final = await _run(manager, model, variant, options, printer)
    except PULL_ERRORS as exc:
        printer.failure(str(exc))
        return 1
    finally:
        subscription.dispose()
        await manager.close()
        await services.stop()
    printer.summary(final, manager)
    if final.status is DownloadStatus.COMPLETED:
        return 0
    return INTERRUPTED if final.status is DownloadStatus.PAUSED else 1


async def _run(
    manager: DownloadManager,
    model: RemoteModel,
    variant: ModelVariant,
    options: DownloadOptions,
    printer: Printer,
) -> ModelDownload:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        download = await manager.start_download(
            model, variant, options, require_size=variant.size_bytes > 0
        )
        printer.started(download)
        waiter = asyncio.ensure_future(manager.wait(download.id))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not waiter.done():
            await manager.pause_download(download.id)
        return await waiter
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


class Printer:
    """Progress and the final line, as NDJSON or for people (progress on stderr)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self._tty = sys.stderr.isatty()
        self._shown_at = 0.0
        self._fetched: int | None = None

    def started(self, download: ModelDownload) -> None:
        self._emit({"event": "started", "download_id": download.id})

    def progress(self, event: DownloadProgressEvent) -> None:
        if self.as_json:
            self._emit({"event": "progress", **event.to_json_dict()})
            return
        now = time.monotonic()
        if not self._tty and now - self._shown_at < HUMAN_EVERY_S and not event.message:
            return
        self._shown_at = now
        total = format_bytes(event.total_bytes) if event.total_bytes else "?"
        line = f"{event.status.value}: {format_bytes(event.downloaded_bytes)} of {total}"
        if event.bytes_per_second:
            line += f" at {format_bytes(event.bytes_per_second)}/s"
        if event.eta_seconds:
            line += f", {event.eta_seconds:.0f} s left"
        if event.message and event.message != event.status.value:
            line += f" ({safe_text(event.message)})"
        end = "\r" if self._tty and not event.message else "\n"
        sys.stderr.write(f"{line:<79}{end}")
        sys.stderr.flush()

    def failure(self, message: str) -> None:
        if self.as_json:
            self._emit({"event": "summary", "status": "failed", "error": message})
        else:
            print(f"lexitui: {message}", file=sys.stderr)

    def summary(self, download: ModelDownload, manager: DownloadManager) -> None:
        job = manager.job(download.id)
        status = download.status
        record: dict[str, Any] = {
            "event": "summary",
            "status": status.value,
            "download_id": download.id,
            "model_id": install_id(download),
            "path": download.destination_path,
            "total_bytes": download.total_bytes,
            "downloaded_bytes": download.downloaded_bytes,
            "fetched_bytes": job.fetched_bytes if job is not None else 0,
            "error": download.error,
        }
        if self.as_json:
            self._emit(record)
            return
        if self._tty:
            sys.stderr.write("\n")
        if status is DownloadStatus.COMPLETED:
            print(f"installed {record['model_id']} at {download.destination_path}")
        elif status is DownloadStatus.PAUSED:
            print("paused; run the same command again to resume", file=sys.stderr)
        else:
            print(f"lexitui: download {status.value}: {download.error}", file=sys.stderr)

    def _emit(self, record: dict[str, Any]) -> None:
        if self.as_json:
            print(json.dumps(record, default=str), flush=True)
