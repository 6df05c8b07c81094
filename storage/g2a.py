"""Selling on G2A: the shop's listings on G2A's marketplace, and G2A's reservations."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from storage.db import Database, Row


class ListingState(StrEnum):
    CREATING = "creating"  # G2A's job runs
    ACTIVE = "active"
    PAUSED = "paused"  # by an admin, or by the margin guard
    FAILED = "failed"  # the job failed: last_error says why


class ReservationState(StrEnum):
    RESERVED = "reserved"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Listing:
    sku: str
    product_id: str
    offer_id: str | None
    job_id: str | None
    price: float  # EUR
    state: ListingState
    last_error: str | None
    updated_at: float


@dataclass(frozen=True)
class Reservation:
    id: str
    g2a_order_id: str
    product_id: str
    sku: str
    quantity: int
    unit_cost: float
    currency: str
    price: float
    state: ReservationState
    order_id: str | None
    expires_at: float
    created_at: float
    payout: float | None = None  # EUR per unit G2A pays us, once known (confirmed sales)

    def lapsed(self, now: float) -> bool:
        """Expired unconfirmed, or past its time."""
        return self.state is ReservationState.EXPIRED or self.expires_at < now


@dataclass(frozen=True)
class Takings:
    units: int
    amount: float  # EUR at our listing prices: what G2A buyers paid
    payout: float  # EUR G2A pays us for the units whose payout is known
    payout_unknown: int  # units whose payout G2A has not told yet


class G2ARepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ------------------------------------------------------------------ listings

    async def save_listing(
        self,
        sku: str,
        product_id: str,
        price: float,
        state: ListingState,
        *,
        offer_id: str | None = None,
        job_id: str | None = None,
        last_error: str | None = None,
        admin_id: int | None = None,
    ) -> Listing:
        rows = await self._db.returning(
            "INSERT INTO g2a_listings (sku, product_id, offer_id, job_id, price, state,"
            " last_error, created_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (sku) DO UPDATE SET product_id = excluded.product_id,"
            " offer_id = COALESCE(excluded.offer_id, g2a_listings.offer_id),"
            " job_id = COALESCE(excluded.job_id, g2a_listings.job_id),"
            " price = excluded.price, state = excluded.state, last_error = excluded.last_error,"
            " updated_at = excluded.updated_at RETURNING *",
            (sku, product_id, offer_id, job_id, price, state, last_error, admin_id, time.time()),
        )
        return _listing(rows[0])

    async def update_listing(
        self, sku: str, *, price: float | None = None, state: ListingState | None = None
    ) -> Listing | None:
        rows = await self._db.returning(
            "UPDATE g2a_listings SET price = COALESCE(?, price), state = COALESCE(?, state),"
            " updated_at = ? WHERE sku = ? RETURNING *",
            (price, state, time.time(), sku),
        )
        return _listing(rows[0]) if rows else None

    async def listing(self, sku: str) -> Listing | None:
        row = await self._db.fetchone("SELECT * FROM g2a_listings WHERE sku = ?", (sku,))
        return _listing(row) if row else None

    async def listing_by_offer(self, offer_id: str) -> Listing | None:
        row = await self._db.fetchone("SELECT * FROM g2a_listings WHERE offer_id = ?", (offer_id,))
        return _listing(row) if row else None

    async def listings(self) -> list[Listing]:
        rows = await self._db.fetchall("SELECT * FROM g2a_listings ORDER BY sku")
        return [_listing(row) for row in rows]

    async def active_listing_for(self, product_id: str) -> Listing | None:
        row = await self._db.fetchone(
            "SELECT * FROM g2a_listings WHERE product_id = ? AND state = ?",
            (product_id, ListingState.ACTIVE),
        )
        return _listing(row) if row else None

    # -------------------------------------------------------------- reservations

    async def reserve(
        self,
        reservation_id: str,
        g2a_order_id: str,
        product_id: str,
        sku: str,
        quantity: int,
        unit_cost: float,
        currency: str,
        price: float,
        ttl: float,
    ) -> Reservation:
        """A new reservation for a G2A order; G2A asking again for the same order gets the
        one it has (renewed, if it had expired unconfirmed)."""
        now = time.time()
        rows = await self._db.returning(
            "INSERT INTO g2a_reservations (id, g2a_order_id, product_id, sku, quantity,"
            " unit_cost, currency, price, state, expires_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (g2a_order_id) DO UPDATE SET"
            " state = CASE WHEN g2a_reservations.state = ? THEN ? ELSE g2a_reservations.state END,"
            " expires_at = CASE WHEN g2a_reservations.state = ? THEN excluded.expires_at"
            " ELSE g2a_reservations.expires_at END RETURNING *",
            (
                reservation_id,
                g2a_order_id,
                product_id,
                sku,
                quantity,
                unit_cost,
                currency,
                price,
                ReservationState.RESERVED,
                now + ttl,
                now,
                ReservationState.EXPIRED,
                ReservationState.RESERVED,
                ReservationState.EXPIRED,
            ),
        )
        return _reservation(rows[0])

    async def reservation(self, reservation_id: str) -> Reservation | None:
        row = await self._db.fetchone(
            "SELECT * FROM g2a_reservations WHERE id = ?", (reservation_id,)
        )
        return _reservation(row) if row else None

    async def confirmed(self, reservation_id: str, order_id: str) -> Reservation | None:
        """Mark the reservation confirmed by `order_id`, its G2A order's one order (also
        one that expired after that order was made; repeating it changes nothing); None
        when unknown or confirmed by another order."""
        rows = await self._db.returning(
            "UPDATE g2a_reservations SET state = ?, order_id = ?"
            " WHERE id = ? AND (order_id IS NULL OR order_id = ?) RETURNING *",
            (ReservationState.CONFIRMED, order_id, reservation_id, order_id),
        )
        return _reservation(rows[0]) if rows else None

    async def expire_due(self, now: float | None = None) -> int:
        """Release reservations whose time ran out unconfirmed; returns how many."""
        rows = await self._db.returning(
            "UPDATE g2a_reservations SET state = ? WHERE state = ? AND expires_at < ? RETURNING id",
            (ReservationState.EXPIRED, ReservationState.RESERVED, now or time.time()),
        )
        return len(rows)

    async def record_payout(self, reservation_id: str, payout: float) -> None:
        """G2A's payout per unit of a confirmed sale, once (the first answer stands)."""
        await self._db.execute(
            "UPDATE g2a_reservations SET payout = ? WHERE id = ? AND payout IS NULL",
            (payout, reservation_id),
        )

    async def without_payout(self, limit: int = 20) -> list[Reservation]:
        """Confirmed sales whose payout is not known yet (G2A did not answer in time)."""
        rows = await self._db.fetchall(
            "SELECT * FROM g2a_reservations WHERE state = ? AND payout IS NULL"
            " ORDER BY created_at LIMIT ?",
            (ReservationState.CONFIRMED, limit),
        )
        return [_reservation(row) for row in rows]

    async def takings(self, since: float, delivered: tuple[str, ...]) -> Takings:
        """Units G2A buyers received since `since` (orders in a `delivered` state), what
        they paid at our listing prices, and what G2A pays us for them (EUR)."""
        marks = ", ".join("?" * len(delivered))
        row = await self._db.fetchone(
            "SELECT COALESCE(SUM(r.quantity), 0), COALESCE(SUM(r.quantity * r.price), 0),"
            " COALESCE(SUM(r.quantity * r.payout), 0),"
            " COALESCE(SUM(CASE WHEN r.payout IS NULL THEN r.quantity ELSE 0 END), 0)"
            " FROM g2a_reservations r JOIN orders o ON o.id = r.order_id"
            f" WHERE r.state = ? AND o.created_at >= ? AND o.state IN ({marks})",
            (ReservationState.CONFIRMED, since, *delivered),
        )
        if row is None:
            return Takings(0, 0.0, 0.0, 0)
        return Takings(int(row[0]), float(row[1]), float(row[2]), int(row[3]))


def _listing(row: Row) -> Listing:
    return Listing(
        sku=row["sku"],
        product_id=row["product_id"],
        offer_id=row["offer_id"],
        job_id=row["job_id"],
        price=row["price"],
        state=ListingState(row["state"]),
        last_error=row["last_error"],
        updated_at=row["updated_at"],
    )


def _reservation(row: Row) -> Reservation:
    data = {name: row[name] for name in Reservation.__dataclass_fields__}
    return Reservation(**data | {"state": ReservationState(row["state"])})
