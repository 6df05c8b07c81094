"""The audit log of admin actions: one row per change made from the admin group."""

from __future__ import annotations

import time
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class AdminAction:
    admin_id: int
    action: str
    target: str | None
    details: str | None
    at: float


class AdminLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, admin_id: int, action: str, target: str | None, details: str | None = None
    ) -> None:
        await self._db.execute(
            "INSERT INTO admin_actions (admin_id, action, target, details, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (admin_id, action, target, details, time.time()),
        )

    async def for_target(self, target: str, *, limit: int = 20) -> list[AdminAction]:
        rows = await self._db.fetchall(
            "SELECT admin_id, action, target, details, at FROM admin_actions"
            " WHERE target = ? ORDER BY id DESC LIMIT ?",
            (target, limit),
        )
        return [AdminAction(*row) for row in rows]
