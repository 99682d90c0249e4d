"""The roadmap's ``IModelStorageManager``: what is installed and how it is used, what the store
takes on disk, and the actions on it (delete, import, export, verify, clean up, move), plus the
shared library of other tools' models.

Blocking work (walks, hashing, copies, header reads) runs in worker threads; long copies stop
when the awaiting task is cancelled. Models in other tools' folders are only ever listed and
forgotten, never deleted: their files are not lexitui's.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lexitui.domain.enums import ModelFormat
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.domain.storage import (
    LIBRARY_SOURCES,
    CleanupSuggestion,
    DeleteResult,
    ImportMode,
    ModelImportOptions,
    MovePhase,
    ReconcileReport,
    StorageInfo,
    StorageMoveProgress,
    StoredModel,
    VerifyReport,
)
from lexitui.downloads.layout import StoreLayout
from lexitui.downloads.records import CleanupResult
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.tiers import Action
from lexitui.events import EventBus, ModelDeleted, ModelInstalled
from lexitui.files.copying import Progress
from lexitui.files.model_location import Location, read_location, write_location
from lexitui.files.mounts import store_mount
from lexitui.storage import importer, ollama_register, shared_store
from lexitui.storage.disk import DiskUsageReader, read_disk_usage, store_bytes
from lexitui.storage.errors import StorageError
from lexitui.storage.exporter import export_files, export_targets
from lexitui.storage.facts import read_all_facts
from lexitui.storage.fit import incompatible_models
from lexitui.storage.library import LibraryScanner
from lexitui.storage.library_records import LibraryScan, LibrarySync
from lexitui.storage.library_roots import LibraryRoots
from lexitui.storage.library_sync import sync_library
from lexitui.storage.loaded_elsewhere import loaded_elsewhere
from lexitui.storage.move import MoveProgress, check_target, copy_store, mark_live, remove_old
from lexitui.storage.reconcile import GRACE_S, reconcile
from lexitui.storage.store_files import carry_out, freed_by, plan_removal
from lexitui.storage.store_lock import StoreLock
from lexitui.storage.suggestions import SuggestionContext, cleanup_suggestions
from lexitui.storage.temp_files import clean_temp
from lexitui.storage.threads import run_stoppable
from lexitui.storage.usage import UsageTracker
from lexitui.storage.verifier import verify_model
from lexitui.store import Store
from lexitui.store.installed_models import ModelRegistry
from lexitui.store.model_rows import StorageRows

if TYPE_CHECKING:  # only the caller that registers needs the backend
    from lexitui.backends.ollama import OllamaBackend

HardwareProvider = Callable[[], Awaitable[HardwareCapabilities | None]]
MIN_FREE_BYTES = 5_000_000_000  # room for one mid-size model download, whatever is installed
DOWNLOAD_MARGIN = 1.2  # the downloader's own free-space margin (downloads/space.py)
PACKAGE_SOURCE = "package:"


def _now() -> datetime:
    return datetime.now(UTC)


class StorageManager:
    def __init__(
        self,
        data_dir: Path,
        store: Store,
        registry: ModelRegistry,
        bus: EventBus,
        *,
        roots: LibraryRoots | None = None,
        hardware: HardwareProvider | None = None,
        disk_usage: DiskUsageReader = read_disk_usage,
        clock: Callable[[], datetime] = _now,
        grace_s: float = GRACE_S,
        usage: UsageTracker | None = None,
        entitlements: Callable[[], Entitlements] = lambda: OPEN,
    ) -> None:
        """``usage``: a tracker the app started early (it is cheap to import and must see the
        first model load); without one the manager counts usage from its own ``start()``."""
        self._entitlements = entitlements  # the shared library is Enterprise's
        self.data_dir = data_dir
        self.registry = registry
        self.bus = bus
        self.rows = StorageRows(store)
        self.scanner = LibraryScanner(roots or LibraryRoots.from_env())
        self.usage = usage or UsageTracker(self.rows, bus, clock=clock)
        self.lock = StoreLock(data_dir)
        self.layout = StoreLayout(read_location(data_dir).live)
        self._hardware = hardware
        self._disk_usage = disk_usage
        self._clock = clock
        self._grace_s = grace_s
        self._library_lock = asyncio.Lock()
        self._started = False

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, *, reconcile_files: bool = True) -> ReconcileReport | None:
        """Hold the store (shared), finish a move a crash interrupted, count usage from now on,
        and reconcile rows with files (S5)."""
        self.lock.share()
        self._started = True
        location = read_location(self.data_dir)
        if location.previous is not None:
            await self._finish_move(location.previous, location.live, None)
        self.layout = StoreLayout(location.live)
        self.usage.start()
        return await self.reconcile() if reconcile_files else None

    async def stop(self) -> None:
        await self.usage.stop()
        self.lock.release()
        self._started = False

    # --- what is installed, and what it takes -------------------------------------------------

    def now(self) -> datetime:
        """The manager's clock ("last used 3 d ago" reads it; tests fix it)."""
        return self._clock()

    async def installed_models(self) -> list[StoredModel]:
        """Every installed model with usage and header facts (read now for new or changed
        files, then kept in the store)."""
        models = await self.rows.all()
        stale = [m for m in models if not m.facts_current and m.model.format is ModelFormat.GGUF]
        if not stale:
            return models
        read = await asyncio.to_thread(read_all_facts, stale)
        for model_id, (facts, size) in read.items():
            await self.rows.set_facts(model_id, facts, size)
        return await self.rows.all()

    async def installed_model(self, model_id: str) -> StoredModel:
        await self.installed_models()
        return await self.rows.get(model_id)

    async def storage_info(self) -> StorageInfo:
        root = self.layout.root
        disk = await asyncio.to_thread(self._disk_usage, root)
        mount = await asyncio.to_thread(store_mount, root)
        used = await asyncio.to_thread(store_bytes, self.layout)
        models = await self.rows.all()
        pending = await self.rows.pending_downloads()
        shared = [m for m in models if m.shared]
        largest = max((m.size_bytes for m in models), default=0)
        recommended = max(MIN_FREE_BYTES, int(largest * DOWNLOAD_MARGIN))
        return StorageInfo(
            storage_path=str(root),
            total_disk_bytes=disk.total,
            free_disk_bytes=disk.free,
            used_by_models_bytes=used.models,
            used_by_downloads_bytes=used.downloads,
            used_by_temp_bytes=used.temp,
            installed_model_count=len(models),
            pending_download_count=len(pending),
            is_low_on_space=disk.free < recommended,
            recommended_free_bytes=recommended,
            shared_library_bytes=sum(m.size_bytes for m in shared),
            shared_model_count=len(shared),
            store_mount=shared_store.mount_line(mount),
            store_is_shared=mount is not None and mount.is_network,
        )

    # --- the shared library -------------------------------------------------------------------

    async def scan_library(self) -> LibraryScan:
        """What other tools' folders hold, registered or not; reads only."""
        self._entitlements().require(Action.SHARED_LIBRARY)
        return await asyncio.to_thread(self.scanner.scan)

    async def sync_library(self) -> LibrarySync:
        """Scan, then register new models and drop rows whose files went; and reconcile
        lexitui's own store the same way (rows without files, blobs without rows: S5)."""
        self._entitlements().require(Action.SHARED_LIBRARY)
        async with self._library_lock:
            scan = await self.scan_library()
            synced = await sync_library(scan, self.registry, self.rows)
            return replace(synced, reconciled=await self.reconcile())

    async def sync_shared_store(self) -> shared_store.SharedSync:
        """Adopt, checked, the models other hosts put in a store they share with this one."""
        return await shared_store.sync_shared_store(
            self.layout, self.registry, self.rows, entitlements=self._entitlements
        )

    async def reconcile(self) -> ReconcileReport:
        return await reconcile(
            self.layout, self.rows, grace_s=self._grace_s, clock=lambda: self._clock().timestamp()
        )

    # --- actions ------------------------------------------------------------------------------

    async def delete_model(self, model_id: str) -> DeleteResult:
        """Delete a model lexitui owns (blobs other models use stay); a shared-library model is
        only forgotten: its row goes, the other tool's file stays, and a rescan skips it."""
        model = await self.rows.get(model_id)
        if model.id in self.usage.loaded:
            raise StorageError(f"{model.id} is loaded; unload it before deleting it")
        elsewhere = await asyncio.to_thread(loaded_elsewhere, self.data_dir, model.id)
        if elsewhere is not None:
            # Its engine holds the file open: deleting would free nothing until it stops.
            raise StorageError(
                f"{model.id} is loaded by another lexitui process (pid {elsewhere.owner_pid}); "
                f"unload it there first (lexitui unload {model.id})"
            )
        if model.model.source.startswith(PACKAGE_SOURCE):
            package = model.model.source.removeprefix(PACKAGE_SOURCE)
            raise StorageError(
                f"{model.id} ships with the {package} package and is registered at every "
                f"start; uninstall that package to remove it"
            )
        # Refused while another lexitui (here or on a host sharing the store) writes it.
        lock = await asyncio.to_thread(shared_store.hold_for_delete, self.layout, model.id)
        try:
            removal = await asyncio.to_thread(plan_removal, self.layout, model.id, model.model.path)
            if model.shared:  # our links to the file may go; the file itself never does
                removal = replace(removal, files=tuple(f for f in removal.files if f.is_symlink()))
            freed = 0 if model.shared else await asyncio.to_thread(freed_by, removal)
            await self.rows.remove([model.id])
            if model.model.source in LIBRARY_SOURCES:
                await self.rows.forget_library_file(model.model.path, model.model.source)
            removed = await asyncio.to_thread(carry_out, removal)
        finally:
            await asyncio.to_thread(lock.release)
        self.bus.publish(ModelDeleted(model_id=model.id, freed_bytes=freed))
        return DeleteResult(model.id, freed, model.shared, tuple(removed))

    async def freeable_bytes(self, model_id: str) -> int:
        """What deleting the model would give back (0 for a shared-library model)."""
        model = await self.rows.get(model_id)
        if model.shared:
            return 0
        return (await asyncio.to_thread(_freeable, self.layout, [model]))[model.id]

    async def import_model(
        self,
        path: Path,
        options: ModelImportOptions | None = None,
        progress: Progress | None = None,
    ) -> StoredModel:
        options = options or ModelImportOptions()
        plan = await asyncio.to_thread(importer.plan_import, path, options, self.layout)
        if plan.model_id in {m.id for m in await self.rows.all()}:
            raise StorageError(
                f"a model with the id {plan.model_id} is installed already; "
                "choose another id (--id)"
            )
        files = await run_stoppable(
            lambda cancel: importer.bring_in(
                plan, self.layout, options, progress=progress, cancel=cancel
            )
        )
        manifest = importer.manifest_bytes(plan, files, options.mode)
        await asyncio.to_thread(_write_manifest, self.layout, plan.model_id, manifest)
        symlinked = options.mode is ImportMode.SYMLINK
        installed = await self.registry.add(
            plan.model_id,
            plan.name,
            self.layout.install_dir(plan.model_id) / plan.names[0],
            source="import:symlink" if symlinked else "import",
            registered_by_path=symlinked,
        )
        await self.rows.set_facts(plan.model_id, plan.facts, plan.size_bytes)
        if options.mode is ImportMode.MOVE:
            await asyncio.to_thread(importer.remove_originals, plan)
        self.bus.publish(ModelInstalled(installed.id, installed.path, plan.size_bytes))
        return await self.rows.get(plan.model_id)

    async def export_model(
        self, model_id: str, destination: Path | str, progress: Progress | None = None
    ) -> list[Path]:
        """``destination``: a folder (an existing one, or text ending in a slash) or a new file."""
        model = await self.rows.get(model_id)
        pairs = await asyncio.to_thread(export_targets, Path(model.model.path), destination)
        return await run_stoppable(
            lambda cancel: export_files(pairs, progress=progress, cancel=cancel)
        )

    async def register_with_ollama(
        self, model_id: str, ollama_backend: OllamaBackend, name: str | None = None
    ) -> str:
        """Make an installed GGUF an Ollama model (see ``ollama_register``); returns its name
        in Ollama."""
        model = await self.rows.get(model_id)
        return await ollama_register.register_with_ollama(model, ollama_backend, name)

    async def verify_model(
        self, model_id: str, *, rehash: bool = True, progress: Progress | None = None
    ) -> VerifyReport:
        model = await self.rows.get(model_id)
        return await run_stoppable(
            lambda cancel: verify_model(
                model, self.layout, rehash=rehash, progress=progress, cancel=cancel
            )
        )

    async def cleanup(self) -> CleanupResult:
        """Partials of downloads nobody will resume (never one another process is writing,
        D13), old scratch files, and leftovers of interrupted installs."""
        keep = await self.rows.pending_downloads()
        partials = await asyncio.to_thread(shared_store.cleanup_partials_here, self.layout, keep)
        temp, temp_bytes = await asyncio.to_thread(clean_temp, self.layout, time.time())
        report = await self.reconcile()
        return CleanupResult(
            deleted_files=(*partials.deleted_files, *temp, *report.removed_blobs),
            freed_bytes=partials.freed_bytes + temp_bytes + report.freed_bytes,
            in_use=partials.in_use,
        )

    async def cleanup_suggestions(self, target_free_bytes: int = 0) -> list[CleanupSuggestion]:
        models = await self.installed_models()
        owned = [m for m in models if not m.shared]
        freeable = await asyncio.to_thread(_freeable, self.layout, owned)
        hardware = await self._hardware() if self._hardware is not None else None
        incompatible = (
            await asyncio.to_thread(incompatible_models, owned, hardware) if hardware else {}
        )
        disk = await asyncio.to_thread(self._disk_usage, self.layout.root)
        context = SuggestionContext(
            now=self._clock(),
            freeable=freeable,
            incompatible=incompatible,
            loaded=self.usage.loaded,
            disk_total=disk.total,
        )
        return cleanup_suggestions(models, context, target_free_bytes)

    async def move_storage(self, new_path: Path, progress: MoveProgress | None = None) -> Path:
        """Copy the store to ``new_path``, make it live, delete the old copy. Interrupted
        before the switch, the old store stays live and whole."""
        if await self.rows.pending_downloads():
            raise StorageError("downloads are queued or paused; finish or cancel them first")
        self.lock.exclusive()
        try:
            old = self.layout.root
            new = await asyncio.to_thread(check_target, old, new_path)
            await run_stoppable(
                lambda cancel: copy_store(old, new, progress=progress, cancel=cancel)
            )
            _say(progress, MovePhase.SWITCHING)
            write_location(self.data_dir, Location(new, previous=old))
            self.layout = StoreLayout(new)
            await self._finish_move(old, new, progress)
            return new
        finally:
            if self._started:
                self.lock.share()
            else:
                self.lock.release()

    async def _finish_move(self, old: Path, new: Path, progress: MoveProgress | None) -> None:
        """Re-point rows, delete the old copy, mark the new one live, clear ``previous``; safe
        to run again."""
        await self.rows.reroot(str(old), str(new))
        real_old = os.path.realpath(old)
        if real_old != str(old):
            await self.rows.reroot(real_old, str(new))
        _say(progress, MovePhase.REMOVING_OLD)
        await asyncio.to_thread(remove_old, old)
        await asyncio.to_thread(mark_live, new)
        write_location(self.data_dir, Location(new))
        _say(progress, MovePhase.DONE)


def _say(progress: MoveProgress | None, phase: MovePhase) -> None:
    if progress is not None:
        progress(StorageMoveProgress(phase, 0, 0))


def _freeable(layout: StoreLayout, models: list[StoredModel]) -> dict[str, int]:
    return {m.id: freed_by(plan_removal(layout, m.id, m.model.path)) for m in models}


def _write_manifest(layout: StoreLayout, model_id: str, data: bytes) -> None:
    from lexitui.files.atomic import write_atomic

    write_atomic(layout.manifest_path(model_id), data, shared=True)
