"""Admin alerts waiting to be sent: written where they arise, sent in digests by one
sender at a time (a lease, as for orders), marked sent only once Telegram took them.

Each belongs to a topic of the admin group: 'alerts', or 'orders' for the sales feed; a
digest holds one topic's entries."""

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
    topic: str = "alerts"


class AlertRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, text: str, order_id: str | None, topic: str = "alerts") -> None:
        await self._db.execute(
            "INSERT INTO admin_alerts (text, order_id, created_at, topic) VALUES (?, ?, ?, ?)",
            (text, order_id, time.time(), topic),
        )

    async def add_once(self, text: str, order_id: str | None, topic: str) -> None:
        """Add, unless the same text about this order is already there (a repeated step)."""
        await self._db.execute(
            "INSERT INTO admin_alerts (text, order_id, created_at, topic) SELECT ?, ?, ?, ?"
            " WHERE NOT EXISTS (SELECT 1 FROM admin_alerts"
            " WHERE order_id = ? AND topic = ? AND text = ?)",
            (text, order_id, time.time(), topic, order_id, topic, text),
        )

    async def claim(self, owner: str, *, limit: int, lease_seconds: float) -> list[Alert]:
        """The oldest unsent alerts of one topic (the oldest alert's), leased to one sender."""
        now = time.time()
        free = "sent_at IS NULL AND (lease_until IS NULL OR lease_until < ?)"
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE admin_alerts SET lease_owner = ?, lease_until = ? WHERE id IN ("
                f" SELECT id FROM admin_alerts WHERE {free} AND topic = ("
                f"  SELECT topic FROM admin_alerts WHERE {free} ORDER BY id LIMIT 1)"
                f" ORDER BY id LIMIT ?{tx.dialect.skip_locked})"
                " RETURNING id, text, order_id, created_at, topic",
                (owner, now + lease_seconds, now, now, limit),
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
