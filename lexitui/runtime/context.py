"""The context manager (roadmap ``IContextManager``): how full a loaded model's context is, and
clearing, truncating, saving and restoring its KV cache through llama.cpp's slot API.

Snapshots are llama.cpp slot files written by the engine into the snapshots folder (its
``slot_save_path``) under a name we choose — a random hex id, so no user text ever becomes a path
(checklist P1/P2) — and listed in the store. A snapshot restores only into the model that made it:
a KV cache is meaningless to another model. Truncation keeps the first N tokens of what the
context holds: the slot is erased and those tokens are evaluated again (``n_predict`` 0), so
what the engine holds and what we report agree.

A stopped answer leaves its prompt and the text so far in the slot: ``sync`` counts them, so the
gauge never shows the context as it was before. ``preserved`` keeps the chat's context across
work that needs the slot (the benchmark) by saving it to a scratch file and restoring it after.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lexitui.domain.inference import ContextSnapshot, ContextStatus, LocalGenerationRequest
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.tiers import Action
from lexitui.runtime.errors import GenerationError, NoModelLoaded, SnapshotError
from lexitui.runtime.generation import error_text
from lexitui.runtime.request_body import with_system_prompt
from lexitui.store.snapshots import SnapshotRows

if TYPE_CHECKING:
    from lexitui.runtime.loaded_engine import LoadedEngine
    from lexitui.runtime.manager import InferenceManager

SNAPSHOT_FILE = re.compile(r"^[0-9a-f]{32}\.bin$")
SLOT = 0  # the chat's slot; with one slot per engine (the default) it is the only one


class ContextManager:
    def __init__(
        self,
        manager: InferenceManager,
        rows: SnapshotRows,
        entitlements: Callable[[], Entitlements] = lambda: OPEN,
    ) -> None:
        """``entitlements``: clearing and truncating are context management (Teams), saving
        and restoring snapshots are Enterprise's; status, sync and ``preserved`` (which the
        benchmark uses) are not gated."""
        self._manager = manager
        self._rows = rows
        self._entitlements = entitlements

    @property
    def folder(self) -> Path:
        return self._manager.snapshots_dir

    def status(self, loaded_id: str | None = None) -> ContextStatus:
        engine = self._manager.engine(loaded_id)
        per_token = engine.footprint.kv_bytes_per_token if engine.footprint else 0
        return ContextStatus(
            engine.context_size, engine.context_used, per_token * engine.context_used
        )

    async def sync(self, loaded_id: str | None = None) -> ContextStatus:
        """The status, once a stopped answer's prompt and text so far are counted."""
        engine = self._manager.engine(loaded_id)
        exchange = engine.last_exchange
        if engine.context_pending and exchange is not None:
            tokens = await self._context_tokens(engine)
            if tokens is not None and engine.last_exchange is exchange:  # no newer answer
                engine.context_used = min(engine.context_size, len(tokens))
                engine.context_pending = False
        return self.status(engine.id)

    @contextlib.asynccontextmanager
    async def preserved(self, loaded_id: str | None = None) -> AsyncIterator[None]:
        """Run the body (which may use the slot) and put the context back as it was before:
        restored from a scratch save, or erased again when it was empty."""
        engine = self._manager.engine(loaded_id)
        if engine.instance is not None:  # another backend: no slot to save, nothing to keep
            yield
            return
        kept = (engine.context_used, engine.last_exchange, engine.known_tokens)
        pending = engine.context_pending
        scratch = f"{uuid.uuid4().hex}.bin" if engine.context_used or pending else None
        if scratch:
            await _slot_action(engine, "save", scratch)
        try:
            yield
        finally:
            try:
                self._manager.engine(engine.id)  # unloaded or dead: nothing to put back
            except NoModelLoaded:
                pass
            else:
                await _slot_action(engine, "restore" if scratch else "erase", scratch)
                engine.context_used, engine.last_exchange, engine.known_tokens = kept
                engine.context_pending = pending
            finally:
                if scratch:
                    (self.folder / scratch).unlink(missing_ok=True)

    async def messages_within(
        self, request: LocalGenerationRequest, tokens: int, loaded_id: str | None = None
    ) -> int:
        """How many of the request's messages, from the first, fit whole in ``tokens`` tokens as
        the chat template renders them: after a truncation, the others are out of the context."""
        engine = self._manager.engine(loaded_id)
        messages = request.messages or ()
        low, high = 0, len(messages)
        while low < high:  # rendered prefixes only grow: a binary search
            middle = (low + high + 1) // 2
            prefix = replace(request, messages=messages[:middle], prompt=None)
            body = {"content": await _rendered(engine, prefix), "add_special": True}
            if len((await _post(engine, "/tokenize", body))["tokens"]) <= tokens:
                low = middle
            else:
                high = middle - 1
        return low

    async def clear(self, loaded_id: str | None = None) -> None:
        self._entitlements().require(Action.CONTEXT_MANAGEMENT)
        engine = self._manager.engine(loaded_id)
        await _slot_action(engine, "erase", None)
        engine.context_used = 0
        engine.last_exchange = None
        engine.known_tokens = []
        engine.context_pending = False

    async def truncate(self, keep_tokens: int, loaded_id: str | None = None) -> ContextStatus:
        self._entitlements().require(Action.CONTEXT_MANAGEMENT)
        if keep_tokens < 0:
            raise GenerationError("keep at least 0 tokens")
        engine = self._manager.engine(loaded_id)
        if keep_tokens >= engine.context_used:
            return self.status(engine.id)  # nothing to drop
        tokens = await self._context_tokens(engine)
        if tokens is None:
            raise GenerationError(
                "this context's tokens are unknown (restored from a snapshot saved without "
                "them): clear it, or send a message first"
            )
        kept = tokens[:keep_tokens]
        await _slot_action(engine, "erase", None)
        engine.context_used = 0
        if kept:
            body = {"prompt": kept, "n_predict": 0, "cache_prompt": True, "id_slot": SLOT}
            await _post(engine, "/completion", body)
            engine.context_used = len(kept)
        engine.known_tokens = kept
        engine.context_pending = False
        return self.status(engine.id)

    async def _context_tokens(self, engine: LoadedEngine) -> list[int] | None:
        """The tokens the slot holds: known ones, else the last exchange's rendered prompt and
        answer; None when neither is known."""
        if engine.known_tokens is not None:
            return engine.known_tokens
        if engine.last_exchange is None:
            return None
        request, answer = engine.last_exchange
        body = {"content": await _rendered(engine, request) + answer, "add_special": True}
        return [int(t) for t in (await _post(engine, "/tokenize", body))["tokens"]]

    async def save_snapshot(self, loaded_id: str | None = None, label: str = "") -> ContextSnapshot:
        self._entitlements().require(Action.SNAPSHOTS)
        engine = self._manager.engine(loaded_id)
        snapshot_id = uuid.uuid4().hex
        file_name = f"{snapshot_id}.bin"
        answer = await _slot_action(engine, "save", file_name)
        tokens = await self._context_tokens(engine)
        if tokens is not None:  # beside the engine's file, so a restored context can be truncated
            sidecar = self.folder / f"{snapshot_id}.tokens.json"
            await asyncio.to_thread(sidecar.write_text, json.dumps(tokens), "utf-8")
        snapshot = ContextSnapshot(
            id=snapshot_id,
            model_id=engine.model.id,
            token_count=int(answer.get("n_saved", 0)),
            size_bytes=int(answer.get("n_written", 0)),
            file_name=file_name,
            label=label.strip()[:200],
        )
        await self._rows.add(snapshot)
        return snapshot

    async def restore_snapshot(
        self, snapshot: ContextSnapshot, loaded_id: str | None = None
    ) -> ContextStatus:
        self._entitlements().require(Action.SNAPSHOTS)
        engine = self._manager.engine(loaded_id)
        if snapshot.model_id != engine.model.id:
            raise SnapshotError(
                f"snapshot was saved from {snapshot.model_id}; {engine.model.id} cannot use it"
            )
        path = self._file(snapshot)
        if not path.is_file():
            raise SnapshotError(f"snapshot file {snapshot.file_name} is missing")
        answer = await _slot_action(engine, "restore", snapshot.file_name)
        engine.context_used = int(answer.get("n_restored", snapshot.token_count))
        engine.last_exchange = None  # the restored tokens are not the last exchange's
        engine.known_tokens = await asyncio.to_thread(self._saved_tokens, snapshot)
        engine.context_pending = False
        return self.status(engine.id)

    def _saved_tokens(self, snapshot: ContextSnapshot) -> list[int] | None:
        try:
            tokens = json.loads(self._sidecar(snapshot).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        ok = isinstance(tokens, list) and all(isinstance(t, int) for t in tokens)
        return tokens if ok else None

    async def list_snapshots(self, model_id: str | None = None) -> list[ContextSnapshot]:
        return await self._rows.list(model_id)

    async def get_snapshot(self, snapshot_id: str) -> ContextSnapshot:
        snapshot = await self._rows.get(snapshot_id)
        if snapshot is None:
            raise SnapshotError(f"no snapshot {snapshot_id!r}")
        return snapshot

    async def delete_snapshot(self, snapshot: ContextSnapshot) -> None:
        self._file(snapshot).unlink(missing_ok=True)
        self._sidecar(snapshot).unlink(missing_ok=True)
        await self._rows.delete(snapshot.id)

    def _sidecar(self, snapshot: ContextSnapshot) -> Path:
        return self._file(snapshot).with_suffix(".tokens.json")

    def _file(self, snapshot: ContextSnapshot) -> Path:
        if not SNAPSHOT_FILE.match(snapshot.file_name):
            raise SnapshotError(f"refusing snapshot file name {snapshot.file_name!r}")
        return self.folder / snapshot.file_name


async def _rendered(engine: LoadedEngine, request: LocalGenerationRequest) -> str:
    """The prompt text the engine evaluates for ``request`` (its chat template applied)."""
    if not request.messages:
        return request.prompt or ""
    messages = [m.as_json() for m in with_system_prompt(request)]
    return str((await _post(engine, "/apply-template", {"messages": messages}))["prompt"])


async def _slot_action(engine: LoadedEngine, action: str, file_name: str | None) -> dict[str, Any]:
    body = {"filename": file_name} if file_name else {}
    answer = await _post(engine, f"/slots/{SLOT}?action={action}", body)
    return answer if isinstance(answer, dict) else {}


async def _post(engine: LoadedEngine, path: str, body: dict[str, Any]) -> Any:
    import httpx

    if engine.instance is not None:
        raise GenerationError(
            f"{engine.model.id} is served by {engine.backend}: only the embedded engine lets "
            "lexitui clear, truncate or snapshot its context"
        )
    if engine.client is None:
        raise GenerationError(f"{engine.model.id} is not running")
    try:
        resp = await engine.client.post(path, json=body, timeout=120.0)
    except httpx.TransportError as exc:
        raise GenerationError(f"could not reach the engine: {exc!r}") from exc
    if resp.status_code != 200:
        message = error_text(resp.status_code, resp.text)
        raise SnapshotError(message) if "/slots/" in path else GenerationError(message)
    return resp.json()
