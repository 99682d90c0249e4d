"""The errors of the backend layer, and the text cleaning every message goes through.

A backend's error text comes from another program (or a hostile server), and ends up in a
terminal: control characters are escaped so it can never move the cursor, recolour the screen or
hide what came before it, and it is kept to one bounded line.
"""

from __future__ import annotations

import unicodedata

MAX_DETAIL = 300


def clean_text(text: str, limit: int = MAX_DETAIL) -> str:
    """One printable line: control and format characters shown as escapes, length bounded."""
    out: list[str] = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    cleaned = "".join(out).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


class BackendError(RuntimeError):
    """A backend refused, failed or could not be reached.

    ``str()`` names the backend and its endpoint first, then the reason in the backend's own
    words, e.g. ``ollama (http://127.0.0.1:11434): model 'x' not found``.
    """

    def __init__(
        self,
        backend: str,
        endpoint: str,
        detail: str,
        *,
        status_code: int | None = None,
    ) -> None:
        self.backend = backend
        self.endpoint = endpoint
        self.detail = clean_text(detail)
        self.status_code = status_code
        where = f"{backend} ({endpoint})" if backend else endpoint
        super().__init__(f"{where}: {self.detail}")


class BackendUnavailable(BackendError):
    """Nothing answers at the endpoint (connection refused, unknown host)."""


class BackendTimeout(BackendError):
    """The backend accepted the connection but did not answer in time."""


class BackendProtocolError(BackendError):
    """The backend answered something that is not the protocol (bad JSON, cut stream)."""


class NotSupported(BackendError):
    """The backend has no such operation (e.g. pulling models into LM Studio)."""


class InvalidBackendConfig(ValueError):
    """A backend name, URL, type or env var name given by the user is not acceptable."""


class UnknownBackend(InvalidBackendConfig):
    """No backend is registered under that name."""
