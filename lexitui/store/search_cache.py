"""Registry answers kept in the app's SQLite store, so a repeated search is instant and an
offline or rate-limited registry can still be browsed.

Rows are keyed by a stable hash of what was asked (``cache_key``: canonical JSON -> sha256) and
hold the answer as JSON with the time it was fetched. ``get`` with ``max_age`` returns only a
fresh answer; with ``max_age=None`` any answer, however old, which is what the offline and 429
paths want. Rows older than ``KEEP_S`` are pruned on each write so the table stays small.
Nothing secret is stored: keys and payloads come from queries and public answers, never a token.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from lexitui.store.database import Store

SEARCH_TTL_S = 3600.0  # the roadmap: 1 h for model lists ...
DETAILS_TTL_S = 86400.0  # ... and 24 h for details and file lists
KEEP_S = 30 * 86400.0


class CacheHit(NamedTuple):
    payload: Any
    age_seconds: float


def cache_key(kind: str, params: Any) -> str:
    """sha256 of the canonical JSON of (kind, params): same question, same key, any run."""
    canonical = json.dumps([kind, params], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def utc_now() -> datetime:
    return datetime.now(UTC)


class RegistryCache:
    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def get(
        self, key: str, max_age: float | None, *, now: datetime | None = None
    ) -> CacheHit | None:
        rows = await self._store.fetch_all(
            "SELECT fetched_at, payload FROM registry_cache WHERE key = ?", (key,)
        )
        if not rows:
            return None
        fetched = datetime.fromisoformat(rows[0]["fetched_at"])
        age = max(0.0, ((now or self._clock()) - fetched).total_seconds())
        if max_age is not None and age > max_age:
            return None
        return CacheHit(json.loads(rows[0]["payload"]), age)

    async def put(self, key: str, kind: str, payload: str, *, now: datetime | None = None) -> None:
        """Store ``payload`` (JSON text) under ``key``, replacing an older answer."""
        when = (now or self._clock()).astimezone(UTC)
        async with self._store.write() as conn:
            await conn.execute(
                "INSERT INTO registry_cache (key, kind, fetched_at, payload) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET kind = excluded.kind, "
                "fetched_at = excluded.fetched_at, payload = excluded.payload",
                (key, kind, when.isoformat(timespec="microseconds"), payload),
            )
            await conn.execute(
                "DELETE FROM registry_cache WHERE fetched_at < ?",
                ((when - timedelta(seconds=KEEP_S)).isoformat(timespec="microseconds"),),
            )
