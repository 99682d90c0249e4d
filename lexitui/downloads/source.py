"""Where one file's bytes come from right now, and getting a fresh link when that one expires.

Several workers may hit the expired link at once; the first one to ask goes back to the origin
(D10), the others find the link already replaced and simply retry. A fresh link must lead to the
same file: a different hash, ETag or size is a changed file (D3), not a new link. The token stays
on the origin: every hop goes through ``resolve``, which sends it nowhere else (K3).
"""

from __future__ import annotations

import asyncio

import httpx

from lexitui.downloads.errors import RemoteChangedError, TransientError
from lexitui.downloads.http_status import shown_url
from lexitui.downloads.meta import Identity
from lexitui.downloads.resolve import Auth, RemoteFile, resolve

MAX_REFRESHES = 8


class Source:
    def __init__(
        self,
        client: httpx.AsyncClient,
        remote: RemoteFile,
        auth: Auth | None,
        max_refreshes: int = MAX_REFRESHES,
    ) -> None:
        self._client = client
        self.current = remote
        self.auth = auth
        self._lock = asyncio.Lock()
        self._max = max_refreshes
        self.refreshes = 0

    @property
    def identity(self) -> Identity:
        return self.current.identity

    async def refresh(self, stale_url: str) -> None:
        async with self._lock:
            if self.current.data_url != stale_url:
                return  # another worker already fetched a fresh link
            self.refreshes += 1
            if self.refreshes > self._max:
                raise TransientError(
                    f"{shown_url(self.current.origin_url)}: the download link kept expiring"
                )
            fresh = await resolve(self._client, self.current.origin_url, self.auth)
            old = self.current.identity
            if not _same(old, fresh.identity):
                raise RemoteChangedError(
                    f"{shown_url(self.current.origin_url)} changed during the download"
                )
            # Keep what we knew (the registry's hash) where the fresh answer is silent.
            identity = Identity(
                fresh.identity.size or old.size,
                fresh.identity.sha256 or old.sha256,
                fresh.identity.etag or old.etag,
            )
            self.current = RemoteFile(
                fresh.origin_url, fresh.data_url, identity, fresh.accepts_ranges
            )


def _same(old: Identity, new: Identity) -> bool:
    if old.size is not None and new.size is not None and old.size != new.size:
        return False
    if old.sha256 and new.sha256:
        return old.sha256 == new.sha256
    if old.etag and new.etag:
        return old.etag == new.etag
    return True  # nothing to compare: the size matched, the origin is the same
