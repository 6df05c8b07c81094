"""Shop credit: Stars a customer spends on a later purchase. A ledger with one row per move;
moves that go with an order's transition are written by `storage.orders` in the same
transaction, so a credit is never granted or spent twice."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from storage.db import Database, Transaction


class _Reader(Protocol):
    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]: ...


@dataclass(frozen=True)
class CreditEntry:
    delta: int
    reason: str
    order_id: str | None
    created_at: float


async def credit_balance(db: _Reader, user_id: int) -> int:
    """The balance, read by the database or inside a transaction about to change it."""
    rows = await db.fetchall(
        "SELECT COALESCE(SUM(delta), 0) FROM credit_entries WHERE user_id = ?", (user_id,)
    )
    return int(rows[0][0])


async def add_credit(
    tx: Transaction, user_id: int, delta: int, reason: str, order_id: str | None, at: float
) -> None:
    await tx.execute(
        "INSERT INTO credit_entries (user_id, delta, reason, order_id, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (user_id, delta, reason, order_id, at),
    )


class CreditRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def balance(self, user_id: int) -> int:
        return await credit_balance(self._db, user_id)

    async def entries(self, user_id: int, *, limit: int = 10) -> list[CreditEntry]:
        rows = await self._db.fetchall(
            "SELECT delta, reason, order_id, created_at FROM credit_entries"
            " WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (user_id, limit),
        )
        return [CreditEntry(row[0], row[1], row[2], row[3]) for row in rows]

    async def grant(self, user_id: int, delta: int, reason: str) -> None:
        """A move not tied to an order's transition (e.g. an admin's goodwill credit)."""
        async with self._db.transaction() as tx:
            await tx.lock(f"credit:{user_id}")
            await add_credit(tx, user_id, delta, reason, None, time.time())
