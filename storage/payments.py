"""Stray payments: Stars Telegram took for no open order. Kept until they are refunded."""

from __future__ import annotations

import time
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class StrayPayment:
    charge_id: str
    user_id: int
    amount: int
    invoice_payload: str
    attempts: int


class StrayPaymentRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, charge_id: str, user_id: int, amount: int, payload: str) -> bool:
        """Remember a charge to refund; False if it was already known (a repeated update)."""
        now = time.time()
        return (
            await self._db.execute(
                "INSERT INTO stray_payments (charge_id, user_id, amount, invoice_payload,"
                " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (charge_id) DO NOTHING",
                (charge_id, user_id, amount, payload, now, now),
            )
            == 1
        )

    async def due(self, limit: int, lease_seconds: float = 60.0) -> list[StrayPayment]:
        """Charges due for a refund attempt, leased to the caller: they are due again only
        after `lease_seconds` (another worker takes them if this one dies meanwhile)."""
        now = time.time()
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE stray_payments SET next_attempt_at = ? WHERE charge_id IN ("
                " SELECT charge_id FROM stray_payments WHERE next_attempt_at <= ?"
                f" ORDER BY next_attempt_at LIMIT ?{tx.dialect.skip_locked})"
                " RETURNING charge_id, user_id, amount, invoice_payload, attempts",
                (now + lease_seconds, now, limit),
            )
        return [StrayPayment(*row) for row in rows]

    async def settle(self, charge_id: str, outcome: str) -> None:
        await self._db.execute(
            "UPDATE stray_payments SET next_attempt_at = NULL, outcome = ? WHERE charge_id = ?",
            (outcome, charge_id),
        )

    async def retry_later(self, charge_id: str, delay: float) -> None:
        await self._db.execute(
            "UPDATE stray_payments SET attempts = attempts + 1, next_attempt_at = ?"
            " WHERE charge_id = ?",
            (time.time() + delay, charge_id),
        )
