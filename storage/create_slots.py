"""Create slots: at a vendor without idempotency keys, one create per product whose outcome
is unknown (migration 0017).

A slot needs no release and no expiry: it is free again as soon as its holder's vendor
order id is stored or the holder left placement (delivered, refunded, failed), whichever
process moved it and however it crashed on the way.
"""

from __future__ import annotations

from storage.db import Database
from storage.models import OrderState

# the holder's outcome is unknown while it is about to create, or created without an answer
_UNKNOWN = f"state IN ('{OrderState.PAID}', '{OrderState.PLACING}') AND vendor_order_id IS NULL"


class CreateSlotRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def take(self, vendor: str, product: str, order_id: str) -> str | None:
        """Hold the slot of `product` for `order_id`: None when held now (or already),
        else the id of the order whose create is still unknown."""
        rows = await self._db.returning(
            "INSERT INTO create_slots (vendor, product, order_id) VALUES (?, ?, ?)"
            " ON CONFLICT (vendor, product) DO UPDATE SET order_id = excluded.order_id"
            " WHERE create_slots.order_id = excluded.order_id OR NOT EXISTS ("
            f" SELECT 1 FROM orders WHERE orders.id = create_slots.order_id AND {_UNKNOWN})"
            " RETURNING order_id",
            (vendor, product, order_id),
        )
        if rows:
            return None
        holder = await self._db.fetchone(
            "SELECT order_id FROM create_slots WHERE vendor = ? AND product = ?",
            (vendor, product),
        )
        return str(holder[0]) if holder else None
