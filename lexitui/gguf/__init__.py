"""The one bounded GGUF header parser: local files, remote files over HTTP Range, integrity
checks. Never imports textual or rich (an import-linter contract).

The remote reader is imported from ``lexitui.gguf.remote``, not re-exported here: it loads httpx
(~0.15 s), which reading a local header (``lexitui ls``) does not need."""

from lexitui.gguf.cursor import ByteSource
from lexitui.gguf.errors import GgufError, GgufFetchError
from lexitui.gguf.header import parse_header
from lexitui.gguf.limits import DEFAULT_LIMITS, GgufLimits
from lexitui.gguf.local import read_local_header
from lexitui.gguf.records import GgufArray, GgufHeader, GgufTensor
from lexitui.gguf.text import safe_text

__all__ = [
    "DEFAULT_LIMITS",
    "ByteSource",
    "GgufArray",
    "GgufError",
    "GgufFetchError",
    "GgufHeader",
    "GgufLimits",
    "GgufTensor",
    "parse_header",
    "read_local_header",
    "safe_text",
]
