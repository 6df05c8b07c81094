"""G2A's dropshipping calls, as the shop answers them (seed 004, "Reservations").

A reservation checks the source vendor's live price and stock against the catalog's cost
limit and holds the sale for RESERVATION_TTL. A confirmation makes it an order of channel
G2A: the same pipeline as a Telegram order (one purchase at the source per order, keys
encrypted and committed before anyone sees them, crash-safe); the workers deliver it by
keeping its keys for G2A's inventory calls. G2A asks for each within 9 seconds.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from bot.catalog import Catalog
from bot.offers import Availability, OfferService
from storage.g2a import G2ARepo, Reservation, ReservationState, Takings
from storage.models import G2A, Key, Order, OrderState
from storage.orders import OrderRepo

log = logging.getLogger(__name__)
S = OrderState
READY = frozenset({S.FULFILLED, S.DELIVERED})


class Refusal(Enum):
    """Why a call is refused: (G2A-style error code, HTTP status)."""

    NOT_LISTED = ("RSV01", 404)  # no active listing for that G2A product
    OUT_OF_STOCK = ("RSV02", 409)
    ABOVE_COST = ("RSV03", 409)  # the source's price is above our cost limit
    SOURCE_DOWN = ("RSV04", 503)  # the source vendor did not answer in time
    TOO_MANY = ("RSV05", 400)  # more units than one order may hold
    NO_RESERVATION = ("RSV06", 404)
    EXPIRED = ("RSV07", 410)
    NO_ORDER = ("INV01", 404)

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def status(self) -> int:
        return self.value[1]


class SaleRefused(Exception):
    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


@dataclass(frozen=True)
class Stock:
    ready: bool
    keys: list[str]


class G2ASales:
    def __init__(
        self,
        g2a: G2ARepo,
        orders: OrderRepo,
        catalog: Catalog,
        offers: OfferService,
        wake_worker: Callable[[], None],
        *,
        payout: Callable[[str, float], Awaitable[float | None]] | None = None,
        reservation_ttl: float = 1800.0,
        source_wait: float = 6.0,
        confirm_wait: float = 5.0,
    ) -> None:
        self._g2a = g2a
        self._orders = orders
        self._catalog = catalog
        self._offers = offers
        self._wake_worker = wake_worker
        self._payout = payout  # G2A's payout per unit at a price (its price simulation)
        self._ttl = reservation_ttl
        self._source_wait = source_wait  # of G2A's 9 seconds, for asking the source vendor
        self._confirm_wait = confirm_wait  # how long a confirmation waits for the keys

    async def reserve(self, g2a_order_id: str, product_id: str, quantity: int) -> Reservation:
        listing = await self._g2a.active_listing_for(product_id)
        offer = self._catalog.offer(listing.sku) if listing else None
        if listing is None or offer is None:
            raise SaleRefused(Refusal.NOT_LISTED, f"product {product_id} is not sold here")
        if quantity > offer.max_quantity:
            raise SaleRefused(
                Refusal.TOO_MANY, f"at most {offer.max_quantity} per order, not {quantity}"
            )
        live = await self._offers.live(offer, fresh=True, wait_at_most=self._source_wait)
        source = live.vendor
        if live.availability is Availability.UNKNOWN:
            raise SaleRefused(Refusal.SOURCE_DOWN, "the source did not answer; try again")
        if source is None:  # the source does not sell it (any more)
            raise SaleRefused(Refusal.OUT_OF_STOCK, "out of stock")
        if source.price > offer.max_vendor_price:
            raise SaleRefused(Refusal.ABOVE_COST, "not available at this price now")
        enough = source.stock is None or source.stock >= quantity
        if live.availability is Availability.SOLD_OUT or not enough or not source.delivers_key:
            raise SaleRefused(Refusal.OUT_OF_STOCK, "out of stock")
        reservation = await self._g2a.reserve(
            str(uuid.uuid4()),
            g2a_order_id,
            product_id,
            offer.sku,
            quantity,
            source.price,
            source.currency,
            listing.price,
            self._ttl,
        )
        log.info("g2a order %s: reservation %s", g2a_order_id, reservation.id)
        return reservation

    async def confirm(self, reservation_id: str) -> tuple[Reservation, bool]:
        """The reservation as an order of ours; whether its keys are in our database.
        G2A may ask again (an answer lost, or a crash of ours after the order was made):
        the G2A order's one order stands, even if the reservation has expired since."""
        reservation = await self._g2a.reservation(reservation_id)
        if reservation is None:
            raise SaleRefused(Refusal.NO_RESERVATION, "no such reservation")
        order = await self._orders.by_external_ref(G2A, reservation.g2a_order_id)
        wait = 0.0
        if order is None:
            if (
                reservation.state is ReservationState.EXPIRED
                or reservation.expires_at < time.time()
            ):
                raise SaleRefused(Refusal.EXPIRED, "the reservation expired")
            order = await self._order_for(reservation)
            self._wake_worker()
            log.info("g2a order %s: confirmed as order %s", reservation.g2a_order_id, order.id)
            wait = self._confirm_wait
        confirmed = await self._g2a.confirmed(reservation.id, order.id) or reservation
        if confirmed.payout is not None or not wait:
            return confirmed, await self._wait_ready(order.id, wait)
        ready, _payout = await asyncio.gather(  # within the wait G2A's deadline allows
            self._wait_ready(order.id, wait), self._record_payout(confirmed, wait)
        )
        return confirmed, ready

    async def _order_for(self, reservation: Reservation) -> Order:
        offer = self._catalog.offer(reservation.sku)
        if offer is None:
            raise SaleRefused(Refusal.NOT_LISTED, "this product is not sold here any more")
        return await self._orders.create(  # one per G2A order, even if two confirms race
            order_id=secrets.token_hex(8),
            user_id=0,
            chat_id=0,
            sku=offer.sku,
            title=offer.title,
            vendor=offer.vendor,
            vendor_offer_id=offer.vendor_offer_id,
            price_stars=0,
            vendor_price=reservation.unit_cost,
            max_vendor_price=offer.max_vendor_price,
            vendor_currency=reservation.currency,
            delivers_key=True,
            customer_fields={},
            quantity=reservation.quantity,
            key_type=offer.key_type,
            variant=offer.kinguin_offer_id,
            channel=G2A,
            external_ref=reservation.g2a_order_id,
        )

    async def inventory(self, g2a_order_id: str) -> Stock:
        order = await self._orders.by_external_ref(G2A, g2a_order_id)
        if order is None:
            raise SaleRefused(Refusal.NO_ORDER, f"no order {g2a_order_id}")
        if order.state not in READY:
            return Stock(False, [])
        return Stock(True, [_as_text(key) for key in await self._orders.keys(order.id)])

    async def takings(self, since: float) -> Takings:
        """Units sold on G2A since `since`, their value at our listing prices and G2A's
        payout for them (EUR)."""
        return await self._g2a.takings(since, tuple(READY))

    async def fill_payouts(self) -> None:
        """The payouts G2A did not tell in time at confirmation (a chore)."""
        for reservation in await self._g2a.without_payout():
            await self._record_payout(reservation, self._source_wait)

    async def _record_payout(self, reservation: Reservation, within: float) -> None:
        """What G2A pays us per unit of this sale: its price simulation's income at our
        price, the lowest of its country groups (the buyer's country is not told)."""
        if self._payout is None:
            return
        try:
            payout = await asyncio.wait_for(
                self._payout(reservation.product_id, reservation.price), within
            )
        except Exception as exc:  # a chore fills it in later; the sale goes on
            log.warning("g2a order %s: payout unknown for now (%r)", reservation.g2a_order_id, exc)
            return
        if payout is not None:
            await self._g2a.record_payout(reservation.id, payout)

    async def expire_reservations(self) -> None:
        expired = await self._g2a.expire_due()
        if expired:
            log.info("g2a: %d reservations expired unconfirmed", expired)

    async def _wait_ready(self, order_id: str, within: float) -> bool:
        """Whether the order's keys are stored, asking the database (a worker of another
        replica may be the one buying) less often as the wait grows."""
        deadline = time.monotonic() + within
        pause = 0.05
        while True:
            order = await self._orders.get(order_id)
            if order is not None and order.state in READY:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 1.5, 0.5)


def _as_text(key: Key) -> str:
    """G2A takes keys as strings: an image key goes as a data URL."""
    if isinstance(key.value, bytes):
        return f"data:{key.mime};base64,{base64.b64encode(key.value).decode()}"
    return key.value
