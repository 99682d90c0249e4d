"""The one error type a storage action ends with when the user can fix the cause."""

from __future__ import annotations

from lexitui.gguf.text import safe_text


class StorageError(ValueError):
    """A storage action was refused or failed; ``str()`` is one line fit for a terminal
    (paths and file names in it went through ``safe_text``)."""

    def __init__(self, message: str) -> None:
        super().__init__(safe_text(message, 2000))
