"""``decimal_sum(column)``: an exact SQL sum of amounts stored as decimal strings.

Money is stored as decimal text so that sums are exact; SQLite's own ``SUM`` would add them as
binary floats. Summing in SQL (rather than fetching every row's amount into Python) keeps a
period's figures one small query however many requests it holds. NULL amounts are skipped, as
``SUM`` skips them; the result is NULL when there was no amount at all.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import aiosqlite


class DecimalSum:
    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: object) -> None:
        if value is None:
            return
        try:
            amount = Decimal(str(value))
        except InvalidOperation:  # not an amount: left out, as SUM leaves out text
            return
        self.total = amount if self.total is None else self.total + amount

    def finalize(self) -> str | None:
        return None if self.total is None else str(self.total)


async def register(conn: aiosqlite.Connection) -> None:
    """Make ``decimal_sum`` known to ``conn``. aiosqlite has no ``create_aggregate``: the
    registration runs on the connection's own thread, as every call to it does."""
    handle: Any = conn
    await handle._execute(handle._conn.create_aggregate, "decimal_sum", 1, DecimalSum)
