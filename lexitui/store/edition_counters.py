"""How much of a daily edition limit each user has used (``edition_counters``).

Keyed by the operating-system user, so two people sharing one lexitui home still count apart,
and by UTC day, so a count starts again at midnight UTC without anything being reset.
"""

from __future__ import annotations

import datetime as dt
import getpass

from lexitui.store.database import Store

_KEEP_DAYS = 31  # older days are never read again; pruned on write to keep the table small


class EditionCounters:
    def __init__(self, store: Store, user: str | None = None) -> None:
        self._store = store
        self.user = user or getpass.getuser()

    async def used(self, counter: str, day: dt.date) -> int:
        rows = await self._store.fetch_all(
            "SELECT used FROM edition_counters WHERE user = ? AND counter = ? AND day = ?",
            (self.user, counter, day.isoformat()),
        )
        return int(rows[0][0]) if rows else 0

    async def add(self, counter: str, day: dt.date) -> int:
        """Count one more use on ``day``; the count after it."""
        async with self._store.write() as conn:
            await conn.execute(
                "INSERT INTO edition_counters (user, counter, day, used) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (user, counter, day) DO UPDATE SET used = used + 1",
                (self.user, counter, day.isoformat()),
            )
            oldest = (day - dt.timedelta(days=_KEEP_DAYS)).isoformat()
            await conn.execute("DELETE FROM edition_counters WHERE day < ?", (oldest,))
            cursor = await conn.execute(
                "SELECT used FROM edition_counters WHERE user = ? AND counter = ? AND day = ?",
                (self.user, counter, day.isoformat()),
            )
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
