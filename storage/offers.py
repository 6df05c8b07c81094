"""The catalog table: synchronised from the catalog file at start, read as a snapshot."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from storage.db import Database
from storage.models import Offer


class OfferRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace_catalog(self, offers: Sequence[Offer]) -> None:
        """Make the file's offers the active catalog; offers no longer listed are deactivated
        (kept, so that their old orders still show a title)."""
        now = time.time()
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE offers SET active = 0, updated_at = ?", (now,))
            await tx.executemany(
                "INSERT INTO offers (sku, vendor, vendor_offer_id, title, category, price_stars,"
                " max_vendor_price, field_patterns, description, max_quantity, key_type,"
                " kinguin_offer_id, position, active, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"
                " ON CONFLICT (sku) DO UPDATE SET vendor = excluded.vendor,"
                " vendor_offer_id = excluded.vendor_offer_id, title = excluded.title,"
                " category = excluded.category, price_stars = excluded.price_stars,"
                " max_vendor_price = excluded.max_vendor_price,"
                " field_patterns = excluded.field_patterns, description = excluded.description,"
                " max_quantity = excluded.max_quantity, key_type = excluded.key_type,"
                " kinguin_offer_id = excluded.kinguin_offer_id,"
                " position = excluded.position,"
                " active = 1, updated_at = excluded.updated_at",
                (
                    (
                        o.sku,
                        o.vendor,
                        o.vendor_offer_id,
                        o.title,
                        o.category,
                        o.price_stars,
                        o.max_vendor_price,
                        json.dumps(o.patterns),
                        o.description,
                        o.max_quantity,
                        o.key_type,
                        o.kinguin_offer_id,
                        position,
                        now,
                    )
                    for position, o in enumerate(offers)
                ),
            )

    async def active(self) -> list[Offer]:
        rows = await self._db.fetchall(
            "SELECT sku, vendor, vendor_offer_id, title, category, price_stars,"
            " max_vendor_price, field_patterns AS patterns, description, max_quantity,"
            " key_type, kinguin_offer_id"
            " FROM offers WHERE active = 1 ORDER BY position"
        )
        return [
            Offer.model_validate(
                {
                    name: value
                    for name, value in {
                        **dict(row),
                        "patterns": json.loads(row["patterns"]),
                    }.items()
                    if value is not None
                }
            )
            for row in rows
        ]
