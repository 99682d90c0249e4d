"""The errors of the backend layer; every message goes through the one text cleaner.

A backend's error text comes from another program (or a hostile server), and ends up in a
terminal: control characters are escaped so it can never move the cursor, recolour the screen or
hide what came before it, and it is kept to one bounded line.
"""

from __future__ import annotations

from lexitui.domain.text import clean_text

__all__ = [
    "BackendError",
    "BackendProtocolError",
    "BackendTimeout",
    "BackendUnavailable",
    "InvalidBackendConfig",
    "NotSupported",
    "UnknownBackend",
    "clean_text",
]


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
