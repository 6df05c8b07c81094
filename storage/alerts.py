"""Admin alerts waiting to be sent: written where they arise, sent in digests by one
sender at a time (a lease, as for orders), marked sent only once Telegram took them."""

from __future__ import annotations

import time
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class Alert:
    id: int
    text: str
    order_id: str | None
    created_at: float


class AlertRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, text: str, order_id: str | None) -> None:
        await self._db.execute(
            "INSERT INTO admin_alerts (text, order_id, created_at) VALUES (?, ?, ?)",
            (text, order_id, time.time()),
        )

    async def claim(self, owner: str, *, limit: int, lease_seconds: float) -> list[Alert]:
        """The oldest unsent alerts, leased to one sender."""
        now = time.time()
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE admin_alerts SET lease_owner = ?, lease_until = ? WHERE id IN ("
                " SELECT id FROM admin_alerts WHERE sent_at IS NULL"
                " AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT ?)"
                " RETURNING id, text, order_id, created_at",
                (owner, now + lease_seconds, now, limit),
            )
        return sorted((Alert(*row) for row in rows), key=lambda alert: alert.id)

    async def sent(self, ids: list[int]) -> None:
        if ids:
            marks = ",".join("?" * len(ids))
            await self._db.execute(
                f"UPDATE admin_alerts SET sent_at = ? WHERE id IN ({marks})", (time.time(), *ids)
            )

    async def release(self, ids: list[int]) -> None:
        if ids:
            marks = ",".join("?" * len(ids))
            await self._db.execute(
                f"UPDATE admin_alerts SET lease_owner = NULL, lease_until = NULL"
                f" WHERE id IN ({marks})",
                tuple(ids),
            )

    async def pending(self) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) FROM admin_alerts WHERE sent_at IS NULL")
        return int(row[0]) if row else 0
