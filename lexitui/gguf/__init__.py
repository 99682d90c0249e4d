"""The one bounded GGUF header parser: local files, remote files over HTTP Range, integrity
checks. Never imports textual or rich (an import-linter contract)."""

from lexitui.gguf.cursor import ByteSource
from lexitui.gguf.errors import GgufError, GgufFetchError
from lexitui.gguf.header import parse_header
from lexitui.gguf.limits import DEFAULT_LIMITS, GgufLimits
from lexitui.gguf.local import read_local_header
from lexitui.gguf.records import GgufArray, GgufHeader, GgufTensor
from lexitui.gguf.remote import RemoteHeader, read_remote_header
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
    "RemoteHeader",
    "parse_header",
    "read_local_header",
    "read_remote_header",
    "safe_text",
]
