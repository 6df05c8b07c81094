"""Shop-wide switches an owner flips from the admin group (e.g. maintenance)."""

from __future__ import annotations

import time

from storage.db import Database

MAINTENANCE = "maintenance"
KEYS_FINGERPRINT = "keys_fingerprint"  # which key encrypts the shop's keys (a hash of it)


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

    async def set_once(self, name: str, value: str) -> str:
        """Set `name` unless it is set; returns the value it has now (this one or the
        earlier one, when another process set it first)."""
        await self._db.execute(
            "INSERT INTO shop_flags (name, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO NOTHING",
            (name, value, time.time()),
        )
        return await self.get(name) or value
