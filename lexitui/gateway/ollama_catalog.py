"""``OllamaCatalog``: what the Ollama routes know about models, from the registry and runtime.

``/api/tags`` lists every installed model, ``/api/ps`` the loaded ones and ``/api/show`` one
model's details; each reads the GGUF header (bounded, validated, in a thread, cached while the
file keeps its size and time) for the family, size in parameters and quantisation. A model is
named as everywhere else (``find_installed``): its id, that id with Ollama's ``:latest``, its
file name, or the ``name:tag`` of a shared Ollama model.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lexitui.domain.inference import LoadedModel
from lexitui.domain.models import InstalledModel
from lexitui.gguf.errors import GgufError
from lexitui.gguf.local import read_local_header
from lexitui.gguf.records import GgufArray, GgufHeader
from lexitui.routing.local_models import InstalledCatalog
from lexitui.runtime.errors import NoModelLoaded
from lexitui.runtime.manager import InferenceManager
from lexitui.store.installed_models import ModelRegistry

MAX_INFO_ARRAY = 64  # longer arrays (vocabularies, merges) show as null, as Ollama shows them
# Loads a model by id with a client's raw keep_alive (``LocalLlmProvider.preload``: the one
# on-demand load requests share, and the keep-alive every on-demand load gets).
Loader = Callable[[str, object], Awaitable[object]]


@dataclass(frozen=True)
class CatalogModel:
    """An installed model with what its file header says (``header`` None: unreadable)."""

    model: InstalledModel
    header: GgufHeader | None

    @property
    def name(self) -> str:
        return self.model.id

    @property
    def digest(self) -> str:
        # No file hash is stored for every model and hashing gigabytes per listing is too slow:
        # a hash of the path and size is stable while the file is, and changes when it does.
        raw = f"{self.model.path}\0{self.model.size_bytes}".encode()
        return hashlib.sha256(raw).hexdigest()

    def details(self) -> dict[str, Any]:
        header = self.header
        family = (header.architecture if header else None) or ""
        return {
            "parent_model": "",
            "format": self.model.format.value,
            "family": family,
            "families": [family] if family else None,
            "parameter_size": parameter_size(header.parameter_count) if header else "",
            "quantization_level": (header.file_type_name if header else None) or "",
        }

    def model_info(self) -> dict[str, Any]:
        if self.header is None:
            return {}
        info: dict[str, Any] = {}
        for key, value in self.header.metadata.items():
            if isinstance(value, GgufArray):
                short = value.values is not None and value.length <= MAX_INFO_ARRAY
                info[key] = list(value.values or ()) if short else None
            else:
                info[key] = value
        info["general.parameter_count"] = self.header.parameter_count
        return info

    def template(self) -> str:
        value = self.header.metadata.get("tokenizer.chat_template") if self.header else None
        return value if isinstance(value, str) else ""


def parameter_size(count: int) -> str:
    """Ollama's style: "7.6B", "134.52M"."""
    if count >= 1_000_000_000:
        return f"{count / 1e9:.1f}B"
    if count >= 1_000_000:
        return f"{count / 1e6:.2f}M"
    if count >= 1_000:
        return f"{count / 1e3:.2f}K"
    return str(count)


class OllamaCatalog:
    def __init__(
        self, runtime: InferenceManager, registry: ModelRegistry, load: Loader | None = None
    ) -> None:
        self._runtime = runtime
        self._registry = registry
        # Names are looked up on every generation: from a copy of the installed list, read
        # again when it is old or lacks the name (as the router does), not once per request.
        self._names = InstalledCatalog(registry.list)
        self._load = load or (lambda model_id, _keep_alive: runtime.load(model_id))
        self._headers: dict[tuple[str, int, int], GgufHeader | None] = {}

    async def installed(self) -> list[CatalogModel]:
        return [CatalogModel(m, await self._header(m)) for m in await self._registry.list()]

    async def find(self, name: str) -> CatalogModel | None:
        """The installed model ``name`` means (see ``find_installed``)."""
        await self._names.refresh(name)
        model = self._names.find(name)
        return None if model is None else CatalogModel(model, await self._header(model))

    async def resolve(self, name: str) -> str:
        """The id to ask the router for: the installed id when ``name`` names one."""
        found = await self.find(name)
        return found.model.id if found else name

    async def loaded(self) -> list[tuple[LoadedModel, CatalogModel]]:
        out = []
        for loaded in self._runtime.loaded_models():
            out.append((loaded, CatalogModel(loaded.model, await self._header(loaded.model))))
        return out

    def is_loaded(self, model_id: str) -> bool:
        try:
            self._runtime.engine(model_id)
        except NoModelLoaded:
            return False
        return True

    async def load(self, model: CatalogModel, keep_alive: object = None) -> None:
        """Load ``model`` unless it is loaded (then its keep-alive counts from now)."""
        await self._load(model.model.id, keep_alive)

    async def unload(self, model: CatalogModel) -> None:
        """Unload every load of ``model``; nothing to do when none is loaded."""
        for loaded in self._runtime.loaded_models():
            if loaded.model.id == model.model.id:
                with contextlib.suppress(NoModelLoaded):  # gone meanwhile
                    await self._runtime.unload(loaded.id, reason="unloaded by an Ollama client")

    async def _header(self, model: InstalledModel) -> GgufHeader | None:
        try:
            info = os.stat(model.path)
        except OSError:
            return None  # the file is gone: listed from its row, without header facts
        key = (model.path, info.st_size, info.st_mtime_ns)
        if key not in self._headers:
            try:
                self._headers[key] = await asyncio.to_thread(read_local_header, model.path)
            except GgufError:
                self._headers[key] = None  # a file that does not parse shows without facts
        return self._headers[key]
