"""The errors a download can end with: one printable line each, and whether a retry can help.

``retryable`` drives the manager's automatic retry: a dropped connection or a corrupted copy
may succeed next time; a full disk, a refused token or a missing file will not. Messages are
built from file names, sizes and URLs without their query strings: a signed CDN URL carries its
credentials there (checklist K2).
"""

from __future__ import annotations

from lexitui.domain.text import safe_text


class DownloadError(RuntimeError):
    """Base of every download failure; ``str()`` is one line fit for a terminal."""

    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(safe_text(message, 2000))


class TransientError(DownloadError):
    """A reset, a stall, a 5xx, a 429: the same request may work a moment later."""

    retryable = True


class RangeIgnoredError(TransientError):
    """A Range request got 200 and the whole file: those bytes must never be appended (D1)."""


class RangeMismatchError(TransientError):
    """A 206 for other bytes than the ones asked for (D2)."""


class UrlExpiredError(TransientError):
    """The signed CDN URL answered 403: ask the origin for a fresh redirect (D10)."""


class RemoteChangedError(TransientError):
    """The file on the server is not the one the partial download holds (D3)."""


class IntegrityError(DownloadError):
    """The finished file's sha256 or size is not the expected one (D8); its bytes are deleted.

    Retryable: the roadmap re-downloads on a mismatch (a flipped bit on the way)."""

    retryable = True


class InvalidModelFileError(DownloadError):
    """The bytes match the registry's hash but are no loadable model (a broken GGUF header)."""


class DiskFullError(DownloadError):
    """ENOSPC while writing: stop at once and keep the partial for later (D11)."""


class InsufficientSpaceError(DownloadError):
    """The pre-check found less free space than the download needs (D11, checked first)."""


class AccessDeniedError(DownloadError):
    """401/403 from the origin: a gated model or a missing/refused token."""


class RemoteNotFoundError(DownloadError):
    """404 from the server."""


class ProtocolError(DownloadError):
    """The server answers in a way no retry fixes (a compressed byte range, bad redirects)."""


class UnsafePathError(DownloadError):
    """A remote name or a local path that would leave the model store (P1-P4)."""


class DownloadNotFoundError(DownloadError):
    """No download with that id."""


class DownloadStateError(DownloadError):
    """The action does not apply to the download's current status (resume a completed one)."""
