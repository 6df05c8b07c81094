"""Shop-wide switches an owner flips from the admin group (e.g. maintenance)."""

from __future__ import annotations

import time

from storage.db import Database

MAINTENANCE = "maintenance"


class FlagRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> str | None:
        row = await self._db.fetchone("SELECT value FROM shop_flags WHERE name = ?", (name,))
        return str(row[0]) if row else None

    async def set(self, name: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO shop_flags (name, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (name, value, time.time()),
        )
