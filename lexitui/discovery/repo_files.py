"""What a single file name in a model repository says: is it safe, is it a shard, what format.

Everything here looks at names only (the Hub's tree listing), so it runs before any byte is
downloaded. Names come from a remote registry and are untrusted (checklist P1/P4).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lexitui.discovery.quant_names import parse_quantization
from lexitui.domain.enums import ModelFormat

MAX_PATH_CHARS = 1024
MAX_SEGMENT_BYTES = 255  # the usual file-name limit of local file systems
MAX_PARTS = 9999  # bounds the work a hostile "part1of99999999" could cause


class UnsafeNameError(ValueError):
    """A remote file name that must not be joined to a local path or trusted as a shard."""


def check_repo_path(path: str) -> str:
    """Return ``path`` if it is a plain repo-relative path; raise UnsafeNameError otherwise.

    Sub-folders are fine (``Q4_K_M/model-Q4_K_M-00001-of-00002.gguf`` is common on the Hub);
    ``.``/``..``/empty segments, absolute paths, backslashes, drive letters (and any ``:``, which
    on Windows also opens alternate data streams) and control characters are not.
    """
    if not path or len(path) > MAX_PATH_CHARS:
        raise UnsafeNameError(f"{path[:80]!r}: empty or over {MAX_PATH_CHARS} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise UnsafeNameError(f"{path!r}: control characters in a file name")
    if "\\" in path:
        raise UnsafeNameError(f"{path!r}: backslash in a file name")
    if ":" in path:
        raise UnsafeNameError(f"{path!r}: drive letter or ':' in a file name")
    if path.startswith("/"):
        raise UnsafeNameError(f"{path!r}: absolute path")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise UnsafeNameError(f"{path!r}: empty, '.' or '..' path segment")
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            raise UnsafeNameError(f"{path[:80]!r}: a name over {MAX_SEGMENT_BYTES} bytes")
    return path


# gguf-split and transformers both write five-digit "-00001-of-00003" before the extension.
_NUMBERED = re.compile(
    r"^(?P<stem>.+)-(?P<i>\d{5})-of-(?P<n>\d{5})(?P<ext>\.(?:gguf|safetensors|bin|pt|pth))$",
    re.IGNORECASE,
)
# Older GGUF splits cut with `split` and joined with `cat` (mradermacher): "x.gguf.part1of3".
_PARTS = re.compile(r"^(?P<base>.+\.gguf)\.part(?P<i>\d{1,6})of(?P<n>\d{1,6})$", re.IGNORECASE)
# TheBloke's lettered parts ("x.gguf-split-a") name no part count, so completeness is unknowable.
_LETTERED = re.compile(r"\.gguf-(?:split|part)-[a-z]{1,2}$", re.IGNORECASE)


def split_part(filename: str) -> tuple[str, int, int] | None:
    """``(base, index, count)`` for one part of a split file, None for a whole file.

    ``base`` is the whole file's name, folder kept: ``Q8_0/m-Q8_0-00002-of-00003.gguf`` ->
    ``("Q8_0/m-Q8_0.gguf", 2, 3)``, ``m.Q8_0.gguf.part1of2`` -> ``("m.Q8_0.gguf", 1, 2)``.
    Raises UnsafeNameError for an unsafe path or impossible numbers (part 0, part 4 of 3).
    """
    check_repo_path(filename)
    folder, _, name = filename.rpartition("/")
    prefix = f"{folder}/" if folder else ""
    if match := _NUMBERED.match(name):
        base = prefix + match["stem"] + match["ext"]
    elif match := _PARTS.match(name):
        base = prefix + match["base"]
    else:
        return None
    index, count = int(match["i"]), int(match["n"])
    if not 1 <= index <= count <= MAX_PARTS:
        raise UnsafeNameError(f"{filename!r}: impossible shard numbers {index} of {count}")
    return base, index, count


def is_lettered_split(filename: str) -> bool:
    return bool(_LETTERED.search(filename))


_PROJECTOR = re.compile(r"(?<![a-z0-9])mmproj(?![a-z0-9])", re.IGNORECASE)


def is_projector(filename: str) -> bool:
    """A multimodal projector (``mmproj-*.gguf``): loaded beside a model, never on its own."""
    return bool(_PROJECTOR.search(filename.rsplit("/", 1)[-1]))


# Checkpoint leftovers that share weight extensions but hold no model.
_NOT_WEIGHTS = re.compile(
    r"^(?:training_args\.bin|optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state(?:_\d+)?\.pth)$"
)
_WORD = re.compile(r"[a-z0-9]+")


def _hints(filename: str, repo_tags: Sequence[str], repo_id: str | None) -> set[str]:
    """Lower-case tags plus the words of the repo id and path ("Llama-2-7B-GPTQ" -> "gptq")."""
    words = set(_WORD.findall(filename.lower())) | set(_WORD.findall((repo_id or "").lower()))
    return words | {t.lower() for t in repo_tags}


def detect_format(
    filename: str, *, repo_tags: Sequence[str] = (), repo_id: str | None = None
) -> ModelFormat | None:
    """The weight format a repo file belongs to; None for anything that is not model weights.

    Projectors (``mmproj``), imatrix data, configs, tokenizers, docs and images are None.
    ``.safetensors`` is MLX when the repo is tagged ``mlx`` (or lives in ``mlx-community``),
    GPTQ/AWQ when tags, repo id or file name say so, else plain SafeTensors.
    """
    name = filename.rsplit("/", 1)[-1].lower()
    if is_projector(name):
        return None
    if name.endswith(".gguf") or _PARTS.match(name):
        # llama-imatrix now saves its calibration data as GGUF too; it names no quant type.
        if "imatrix" in name and parse_quantization(name) is None:
            return None
        return ModelFormat.GGUF
    if name.endswith(".ggml") or (name.endswith(".bin") and "ggml" in name):
        return ModelFormat.GGML
    if name.endswith(".safetensors"):
        hints = _hints(filename, repo_tags, repo_id)
        for word, fmt in (
            ("mlx", ModelFormat.MLX),
            ("gptq", ModelFormat.GPTQ),
            ("awq", ModelFormat.AWQ),
        ):
            if word in hints:
                return fmt
        return ModelFormat.SAFE_TENSORS
    if _NOT_WEIGHTS.match(name):
        return None
    if name.endswith((".pt", ".pth")) or (
        name.startswith("pytorch_model") and name.endswith(".bin")
    ):
        return ModelFormat.PY_TORCH
    if name.endswith((".onnx", ".onnx_data", ".onnx.data")):
        return ModelFormat.ONNX
    return None
