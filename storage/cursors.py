"""Cursors: how far a background job has read an append-only log outside our database."""

from __future__ import annotations

from storage.db import Database


class CursorRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> int:
        row = await self._db.fetchone("SELECT value FROM cursors WHERE name = ?", (name,))
        return int(row[0]) if row else 0

    async def advance(self, name: str, value: int) -> None:
        """Move forward only: two workers reading the same log never move it back."""
        larger = self._db.dialect.greatest("cursors.value", "excluded.value")
        await self._db.execute(
            "INSERT INTO cursors (name, value) VALUES (?, ?)"
            f" ON CONFLICT (name) DO UPDATE SET value = {larger}",
            (name, value),
        )
