"""Persistence: one aiosqlite connection, migrations, and the tables each area needs."""

from lexitui.store.database import Store, StoreBusy, StoreError

__all__ = ["Store", "StoreBusy", "StoreError"]
