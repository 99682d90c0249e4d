"""The roadmap's ``IModelIntegrityVerifier``: sha256 of a file, and whether a GGUF is sound.

Hashing streams the file in a worker thread (low memory, never blocking the loop) and reports
progress. GGUF validation is the one bounded header parser (``lexitui.gguf``): a hostile header
fails fast with one error type instead of eating memory.

An empty file never verifies as a model (D8): its sha256 (``e3b0c442...``) could be "expected" by
a broken listing, and a zero-byte download is what a failed transfer looks like.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from lexitui.domain.enums import QuantizationType
from lexitui.downloads.layout import EMPTY_SHA256
from lexitui.downloads.records import GgufMetadata, GgufValidation, IntegrityResult
from lexitui.files.copying import hash_file
from lexitui.gguf.errors import GgufError
from lexitui.gguf.local import read_local_header
from lexitui.gguf.records import GgufHeader


class IntegrityVerifier:
    async def verify(self, path: Path, expected_sha256: str | None = None) -> IntegrityResult:
        try:
            computed = await self.compute_hash(path)
        except OSError as exc:
            return IntegrityResult(False, None, expected_sha256, f"cannot read {path}: {exc}")
        return check_digest(computed, expected_sha256, path.name)

    async def compute_hash(self, path: Path, progress: Callable[[int], None] | None = None) -> str:
        """The hex sha256; ``progress(bytes_hashed)`` is called from the worker thread."""
        return await asyncio.to_thread(hash_file, path, progress)

    async def validate_gguf(self, path: Path) -> GgufValidation:
        try:
            header = await asyncio.to_thread(read_local_header, path)
        except GgufError as exc:
            return GgufValidation(False, str(exc))
        return GgufValidation(True, None, metadata_of(header))


def check_digest(computed: str, expected: str | None, name: str) -> IntegrityResult:
    if computed == EMPTY_SHA256:
        return IntegrityResult(False, computed, expected, f"{name} is empty")
    if expected is not None and computed != expected.lower():
        return IntegrityResult(
            False,
            computed,
            expected,
            f"{name}: sha256 {computed[:12]}... does not match the expected {expected[:12]}...",
        )
    return IntegrityResult(True, computed, expected)


def metadata_of(header: GgufHeader) -> GgufMetadata:
    quant = _quantization(header.file_type_name)
    split = header.metadata.get("split.count")
    return GgufMetadata(
        architecture=header.architecture,
        parameter_count=header.parameter_count,
        context_length=header.context_length,
        embedding_length=header.embedding_length,
        head_count=header.head_count,
        layer_count=header.block_count,
        quantization=quant,
        split_count=split if isinstance(split, int) and not isinstance(split, bool) else None,
    )


def _quantization(label: str | None) -> QuantizationType | None:
    try:
        return QuantizationType(label) if label else None
    except ValueError:
        return None
