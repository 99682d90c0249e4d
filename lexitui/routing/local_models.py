"""The installed models the local provider answers to, kept in memory for the router.

The router decides without I/O, so it reads a copy of the registry's list: refreshed when it is
older than ``MAX_AGE_S``, and at once when a request names a model the copy does not have (a
model installed a moment ago is found on its first request, and an unknown name costs one read
before it is refused).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from lexitui.domain.models import InstalledModel
from lexitui.runtime.model_names import find_installed

MAX_AGE_S = 5.0

ListInstalled = Callable[[], Awaitable[list[InstalledModel]]]


class InstalledCatalog:
    def __init__(self, list_installed: ListInstalled) -> None:
        self._list = list_installed
        self._models: list[InstalledModel] = []
        self._read_at: float | None = None

    @property
    def models(self) -> list[InstalledModel]:
        return list(self._models)

    def find(self, name: str) -> InstalledModel | None:
        """The installed model ``name`` means, from the copy (no I/O)."""
        return find_installed(self._models, name)

    async def refresh(self, wanted: str | None = None) -> None:
        """Read the registry again when the copy is old, or when it lacks ``wanted``."""
        stale = self._read_at is None or time.monotonic() - self._read_at > MAX_AGE_S
        if stale or (wanted and self.find(wanted) is None):
            self._models = await self._list()
            self._read_at = time.monotonic()
