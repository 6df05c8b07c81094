"""The catalog table: offers the catalog file seeds at start, plus offers owners imported
from the vendors' product lists; read as a snapshot, with admins' edits applied."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from typing import Any

from storage.db import Database, Row
from storage.models import Offer

BIG_LISTING = 2_000  # a catalog read this many offers at a time, into models in a thread


class OfferRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace_catalog(self, offers: Sequence[Offer]) -> None:
        """Make the file's offers the active catalog; offers no longer listed are deactivated
        (kept, so that their old orders still show a title). Imported offers stay, unless
        the file now lists the same sku: then the file's entry wins."""
        now = time.time()
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE offers SET active = 0, updated_at = ? WHERE imported_by IS NULL", (now,)
            )
            await tx.executemany(
                "INSERT INTO offers (sku, vendor, vendor_offer_id, title, category, price_stars,"
                " max_vendor_price, field_patterns, description, max_quantity, key_type,"
                " kinguin_offer_id, g2a_product_id, position, active, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"
                " ON CONFLICT (sku) DO UPDATE SET vendor = excluded.vendor,"
                " vendor_offer_id = excluded.vendor_offer_id, title = excluded.title,"
                " category = excluded.category, price_stars = excluded.price_stars,"
                " max_vendor_price = excluded.max_vendor_price,"
                " field_patterns = excluded.field_patterns, description = excluded.description,"
                " max_quantity = excluded.max_quantity, key_type = excluded.key_type,"
                " kinguin_offer_id = excluded.kinguin_offer_id,"
                " g2a_product_id = excluded.g2a_product_id,"
                " position = excluded.position, imported_by = NULL, imported_at = NULL,"
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
                        o.g2a_product_id,
                        position,
                        now,
                    )
                    for position, o in enumerate(offers)
                ),
            )

    async def active(self) -> list[Offer]:
        """The catalog customers see: the file's active offers with admins' edits applied."""
        return [offer for offer, enabled in await self.listing() if enabled]

    async def version(self) -> tuple[Any, ...]:
        """Changes whenever what `listing` returns may have: a cheap look, so that a process
        rebuilds its snapshot of a large catalog only when something changed."""
        row = await self._db.fetchone(
            "SELECT (SELECT COUNT(*) FROM offers), (SELECT MAX(updated_at) FROM offers),"
            " (SELECT COUNT(*) FROM offer_edits), (SELECT MAX(edited_at) FROM offer_edits)"
        )
        return tuple(row) if row is not None else ()

    async def listing(self) -> list[tuple[Offer, bool]]:
        """Every offer the file lists, with admins' edits applied, and whether it is on."""
        chunks = self._db.fetch_chunks(
            "SELECT o.sku, o.vendor, o.vendor_offer_id, o.title, o.category,"
            " COALESCE(e.price_stars, o.price_stars) AS price_stars,"
            " COALESCE(e.max_vendor_price, o.max_vendor_price) AS max_vendor_price,"
            " o.field_patterns AS patterns, o.description,"
            " COALESCE(e.max_quantity, o.max_quantity) AS max_quantity,"
            " o.key_type, o.kinguin_offer_id, o.g2a_product_id,"
            " COALESCE(e.active, 1) AS enabled"
            " FROM offers o LEFT JOIN offer_edits e ON e.sku = o.sku"
            " WHERE o.active = 1 ORDER BY COALESCE(o.imported_at, 0), o.position",
            size=BIG_LISTING,
        )
        listing: list[tuple[Offer, bool]] = []
        async for rows in chunks:
            if len(rows) < BIG_LISTING and not listing:  # the whole catalog, and small
                listing = _listing(rows)
            else:
                listing += await asyncio.to_thread(_listing, rows)  # updates go on meanwhile
        return listing

    async def add_imported(self, offer: Offer, admin_id: int) -> bool:
        """Add an offer imported from a vendor; False if its sku is taken."""
        now = time.time()
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "INSERT INTO offers (sku, vendor, vendor_offer_id, title, category, price_stars,"
                " max_vendor_price, field_patterns, description, max_quantity, position, active,"
                " updated_at, imported_by, imported_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?, ?)"
                " ON CONFLICT (sku) DO NOTHING RETURNING sku",
                (
                    offer.sku,
                    offer.vendor,
                    offer.vendor_offer_id,
                    offer.title,
                    offer.category,
                    offer.price_stars,
                    offer.max_vendor_price,
                    json.dumps(offer.patterns),
                    offer.description,
                    offer.max_quantity,
                    now,
                    admin_id,
                    now,
                ),
            )
        return bool(rows)

    async def taken_skus(self) -> set[str]:
        """Every sku ever used (inactive ones too: their old orders still name them)."""
        return {row["sku"] for row in await self._db.fetchall("SELECT sku FROM offers")}

    async def imported_vendors(self) -> set[str]:
        rows = await self._db.fetchall(
            "SELECT DISTINCT vendor FROM offers WHERE active = 1 AND imported_by IS NOT NULL"
        )
        return {row["vendor"] for row in rows}

    async def edit(
        self,
        sku: str,
        admin_id: int,
        *,
        active: bool | None = None,
        price_stars: int | None = None,
        max_vendor_price: float | None = None,
        max_quantity: int | None = None,
    ) -> None:
        """Record an admin's change (only the fields given; earlier edits stay)."""
        changes = {
            "active": None if active is None else int(active),
            "price_stars": price_stars,
            "max_vendor_price": max_vendor_price,
            "max_quantity": max_quantity,
        }
        given = {name: value for name, value in changes.items() if value is not None}
        columns = ["sku", *given, "edited_by", "edited_at"]
        updates = ", ".join(
            f"{name} = excluded.{name}" for name in [*given, "edited_by", "edited_at"]
        )
        await self._db.execute(
            f"INSERT INTO offer_edits ({', '.join(columns)})"
            f" VALUES ({', '.join('?' * len(columns))})"
            f" ON CONFLICT (sku) DO UPDATE SET {updates}",
            (sku, *given.values(), admin_id, time.time()),
        )


def _listing(rows: Sequence[Row]) -> list[tuple[Offer, bool]]:
    listing = []
    for row in rows:
        data = {name: value for name, value in dict(row).items() if value is not None}
        enabled = bool(data.pop("enabled"))
        offer = Offer.model_validate(data | {"patterns": json.loads(row["patterns"])})
        listing.append((offer, enabled))
    return listing
