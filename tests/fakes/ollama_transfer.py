"""``/api/pull``, ``/api/blobs/:digest`` and ``/api/create``, as the published API describes them.

Pull simulates a registry download of a catalogued model: real bytes, real sha256 digests,
per-layer ``total``/``completed`` progress, a partial file per layer so an interrupted pull
resumes where it stopped (as the docs promise), then "verifying sha256 digest", "writing
manifest", "removing any unused layers", "success". Blobs live on disk as ``sha256-<hex>``.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path, PurePosixPath
from typing import Any

from tests.fakes.ollama_gguf import gguf_details
from tests.fakes.ollama_http import Request, Response, error_response
from tests.fakes.ollama_models import (
    MEDIA_LICENSE,
    MEDIA_PARAMS,
    MEDIA_SYSTEM,
    MEDIA_TEMPLATE,
    FakeModel,
    Layer,
    install_from_layers,
    normalize_name,
)
from tests.fakes.ollama_state import FakeState, ProgressError, progress_response

Events = AsyncGenerator[dict[str, Any], None]


class TransferRoutes(FakeState):
    async def pull(self, body: dict[str, Any]) -> Response:
        raw = body.get("model") or body.get("name")
        if not raw:
            return error_response(400, "model is required")
        name = normalize_name(raw)
        if name is None:
            return error_response(400, "invalid model name")
        return await progress_response(self._pull(name), body.get("stream", True) is not False)

    async def _pull(self, name: str) -> Events:
        yield {"status": "pulling manifest"}
        entry = self.registry.get(name)
        if entry is None:
            raise ProgressError(500, "pull model manifest: file does not exist")
        model = copy.deepcopy(entry)
        layers = model.pull_layers(name)
        for layer in [*layers, model.config_layer()]:
            async with aclosing(self._download(layer)) as progress:
                async for event in progress:
                    yield event
        yield {"status": "verifying sha256 digest"}
        for layer in [*layers, model.config_layer()]:
            self._verify(layer.digest)
        yield {"status": "writing manifest"}
        self.models[name] = install_from_layers(model, layers)
        yield {"status": "removing any unused layers"}
        yield {"status": "success"}

    async def _download(self, layer: Layer) -> Events:
        final = self.blob_path(layer.digest)
        assert final is not None
        total = len(layer.data)
        line: dict[str, Any] = {
            "status": f"pulling {layer.digest[7:19]}",
            "digest": layer.digest,
            "total": total,
        }
        if final.exists():
            yield {**line, "completed": total}
            return
        # One download per blob at a time: a second pull waits, then resumes from the partial.
        async with self.pull_locks.setdefault(layer.digest, asyncio.Lock()):
            partial = partial_path(final)
            done = partial.stat().st_size if partial.exists() else 0
            if done > total:
                partial.unlink()
                done = 0
            # Until some bytes are down, Ollama leaves "completed" out.
            yield {**line, "completed": done} if done else line
            with partial.open("ab") as out:
                while done < total:
                    if self.pull_delay_s:
                        await asyncio.sleep(self.pull_delay_s)
                    piece = layer.data[done : done + self.pull_chunk_bytes]
                    if self.pull_corrupt:
                        self.pull_corrupt = False
                        piece = bytes([piece[0] ^ 0xFF]) + piece[1:]
                    out.write(piece)
                    out.flush()
                    done += len(piece)
                    yield {**line, "completed": done}

    def _verify(self, digest: str) -> None:
        final = self.blob_path(digest)
        assert final is not None
        if final.exists():
            return
        partial = partial_path(final)
        actual = "sha256:" + hashlib.sha256(partial.read_bytes()).hexdigest()
        if actual != digest:
            partial.unlink()
            raise ProgressError(
                500, f"digest mismatch, file must be downloaded again: want {digest}, got {actual}"
            )
        partial.replace(final)

    # -- blobs --------------------------------------------------------------------------------

    async def head_blob(self, digest: str) -> Response:
        path = self.blob_path(digest)
        if path is None:
            return error_response(400, "invalid digest format")
        if not path.exists():
            return error_response(404, f'blob "{digest}" not found')
        return Response(200, content_type=None)

    async def post_blob(self, request: Request, digest: str) -> Response:
        path = self.blob_path(digest)
        if path is None:
            return error_response(400, "invalid digest format")
        if path.exists():
            return Response(200, content_type=None)
        upload = path.with_name(f"{path.name}-upload-{uuid.uuid4().hex}")
        hasher = hashlib.sha256()
        try:
            with upload.open("wb") as out:
                async for piece in request.iter_body():
                    hasher.update(piece)
                    out.write(piece)
            actual = "sha256:" + hasher.hexdigest()
            if actual != "sha256:" + path.name[7:]:
                return error_response(400, f'digest mismatch, expected "{digest}", got "{actual}"')
            upload.replace(path)
        finally:
            upload.unlink(missing_ok=True)
        return Response(201, content_type=None)

    # -- create -------------------------------------------------------------------------------

    async def create(self, body: dict[str, Any]) -> Response:
        files = body.get("files") or {}
        if not isinstance(files, dict):
            return error_response(400, "files must be an object of file name to digest")
        for filename, digest in files.items():
            path = PurePosixPath(filename)
            if path.is_absolute() or ".." in path.parts or not filename:
                return error_response(400, "file path must be relative")
            if not isinstance(digest, str) or self.blob_path(digest) is None:
                return error_response(400, "invalid digest format")
        name = normalize_name(body.get("model") or body.get("name"))
        if name is None:
            return error_response(400, "invalid model name")
        stream = body.get("stream", True) is not False
        return await progress_response(self._create(name, body, files), stream)

    async def _create(self, name: str, body: dict[str, Any], files: dict[str, str]) -> Events:
        layers: list[Layer] = []
        if body.get("from"):
            yield {"status": "reading model metadata"}
            found = self.find(body["from"])  # no auto-pull of a missing base (see report)
            if found is None:
                raise ProgressError(500, "pull model manifest: file does not exist")
            model = copy.deepcopy(found[1])
            model.parent_model = found[0]
            extra_bytes = model.size
        elif files:
            model, extra_bytes = FakeModel(), 0
            async with aclosing(self._read_files(files, model)) as reading:
                async for event in reading:
                    yield event
            extra_bytes = sum(self._blob(d).stat().st_size for d in files.values())
        else:
            raise ProgressError(400, "neither 'from' or 'files' was specified")
        if body.get("quantize"):
            if model.quantization_level not in ("F16", "F32"):
                raise ProgressError(400, "quantization is only supported for F16 and F32 models")
            # Relabel only: the bytes stay as uploaded (the fake has no quantizer).
            target = str(body["quantize"]).upper()
            line = {
                "status": f"quantizing {model.quantization_level} model to {target}",
                "digest": "0",
                "total": extra_bytes,
                "completed": extra_bytes,
            }
            model.quantization_level = target
            yield line
        for key, media in [
            ("template", MEDIA_TEMPLATE),
            ("system", MEDIA_SYSTEM),
            ("parameters", MEDIA_PARAMS),
            ("license", MEDIA_LICENSE),
        ]:
            if body.get(key):
                setattr(model, key, body[key])
                layer = Layer(media, str(body[key]).encode())
                path = self._blob(layer.digest)
                verb = "using already created" if path.exists() else "creating new"
                path.write_bytes(layer.data)
                layers.append(layer)
                yield {"status": f"{verb} layer {layer.digest}"}
        yield {"status": "writing manifest"}
        install_from_layers(model, layers)
        model.size += extra_bytes
        self.models[name] = model
        yield {"status": "success"}

    async def _read_files(self, files: dict[str, str], model: FakeModel) -> Events:
        names = sorted(files)
        if any(n.endswith(".safetensors") for n in names):
            yield {"status": "converting model"}
            raise ProgressError(500, "the fake Ollama cannot convert safetensors models")
        if not any(n.endswith(".gguf") for n in names) and not all(
            has_gguf_magic(self._blob(files[n])) for n in names
        ):
            raise ProgressError(400, "unknown type")
        for filename in names:
            yield {"status": "parsing GGUF"}
            path = self._blob(files[filename])
            if not path.exists():
                raise ProgressError(500, f"open {path}: no such file or directory")
            try:
                details = await asyncio.to_thread(gguf_details, path)
            except ValueError:
                raise ProgressError(400, "supplied file was not in GGUF format") from None
            for key, value in details.items():
                setattr(model, key, value)
            yield {"status": f"using existing layer {files[filename]}"}

    def _blob(self, digest: str) -> Path:
        path = self.blob_path(digest)
        assert path is not None, "digests are validated before use"
        return path


def partial_path(final: Path) -> Path:
    return final.with_name(final.name + "-partial")


def has_gguf_magic(path: Path) -> bool:
    """How Ollama spots a GGUF blob whose file name has no ``.gguf`` suffix."""
    if not path.exists():
        return False
    with path.open("rb") as f:
        return f.read(4) == b"GGUF"
