"""The margin guard: G2A listings never sell below their source's cost plus G2A_MIN_MARGIN.

Whenever a source's price or availability changes (a vendor webhook, a price seen at a
purchase or a reservation, or the periodic look of `watch_sources`), each listing sold
from that source is repriced so that G2A's payout covers the cost plus the minimum
margin, or paused when the source is above the catalog's cost limit, has no stock, or no
price earns enough. A listing the guard paused is resumed when the source is back in
range; one an admin paused stays theirs. Every change is an admin alert (merged into
digests by bot.admin.alerts).
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING

from aiogram.utils.i18n import lazy_gettext as __
from babel.support import LazyProxy

from bot.catalog import Catalog
from bot.offers import OfferService
from bot.orders.notify import Notifier
from bot.runtime import process_name
from storage.g2a import G2ARepo, Listing, ListingState
from storage.leases import LeaseRepo
from storage.models import Offer
from vendors.base import VendorError, VendorOffer

if TYPE_CHECKING:
    from bot.g2a.listings import G2AListings

log = logging.getLogger(__name__)
GUARD = "margin guard"  # last_error of a listing the guard paused (it may resume it)
HALF_CENT = 0.005  # G2A rounds its payouts to the cent
GUARD_LEASE = 60.0  # a check of a process that died is free again after this


def payout_needed(cost: float, min_margin: float) -> float:
    """What G2A must pay us per unit: the source's cost plus `min_margin` percent."""
    return cost * (1 + min_margin / 100)


def covers(income: float | None, needed: float) -> bool:
    return income is not None and income >= needed - HALF_CENT


class MarginGuard:
    def __init__(
        self,
        listings: G2AListings,
        repo: G2ARepo,
        catalog: Catalog,
        offers: OfferService,
        notifier: Notifier,
        leases: LeaseRepo | None = None,
    ) -> None:
        self._listings = listings
        self._leases = leases  # one process guards a listing at a time (None: one process)
        self._owner = process_name("guard")
        self._repo = repo
        self._catalog = catalog
        self._offers = offers
        self._notifier = notifier
        self._running: dict[str, asyncio.Lock] = {}  # one check per listing at a time

    async def check(self, offer: Offer, source: VendorOffer | None) -> None:
        """Guard `offer`'s listing against what its source says now, unless another
        process of the shop is at it (it reprices or pauses, and alerts, once)."""
        async with self._running.setdefault(offer.sku, asyncio.Lock()):
            lease = f"guard:{offer.sku}"
            if self._leases is not None and not await self._leases.take(
                lease, self._owner, GUARD_LEASE
            ):
                return
            try:
                await self._check(offer, source)
            finally:
                if self._leases is not None:
                    await self._leases.release(lease, self._owner)

    async def watch_sources(self) -> None:
        """Chore: the sources of listings stay in the offer cache, so a vendor's price
        webhook reaches the guard, and a source asked again when its cache entry expires
        is a polling safety net for vendors without webhooks."""
        for listing in await self._repo.listings():
            offer = self._catalog.offer(listing.sku)
            guarded = listing.state is ListingState.ACTIVE or listing.last_error == GUARD
            if offer is not None and guarded:
                await self._offers.live(offer)

    async def source_changed(self, vendor: str, offer_id: str, source: VendorOffer | None) -> None:
        """A source's price or availability changed: guard each listing sold from it."""
        for offer in self._catalog.offers(10**6):
            if offer.g2a_product_id and (offer.vendor, offer.vendor_offer_id) == (vendor, offer_id):
                await self.check(offer, source)

    async def _check(self, offer: Offer, source: VendorOffer | None) -> None:
        listing = await self._repo.listing(offer.sku)
        if listing is None or listing.state not in (ListingState.ACTIVE, ListingState.PAUSED):
            return
        if listing.state is ListingState.PAUSED and listing.last_error != GUARD:
            return  # an admin paused it: theirs to resume
        cost = self._listings.cost_in_eur(source)
        if source is None or not source.available or source.price > offer.max_vendor_price:
            await self._pause(
                listing,
                offer,
                __(
                    "G2A listing {sku} paused: {vendor} sells it at {cost} now, above our"
                    " limit of {limit}, or not at all."
                ),
                cost=_money(source.price, source.currency) if source else "-",
                limit=f"{offer.max_vendor_price:g}",
            )
            return
        if cost is None:
            log.warning("g2a guard: no %s rate for %s", source.currency, offer.sku)
            return
        needed = payout_needed(cost, self._listings.min_margin)
        assert offer.g2a_product_id is not None
        try:
            price = await self._price_for(offer.g2a_product_id, needed, listing.price)
        except VendorError as exc:  # the next price change, or a purchase, tries again
            log.warning("g2a guard on %s: %s", offer.sku, exc)
            return
        if price is None:
            await self._pause(
                listing,
                offer,
                __("G2A listing {sku} paused: no price earns {cost} EUR plus {margin}%."),
                cost=f"{cost:.2f}",
                margin=f"{self._listings.min_margin:g}",
            )
            return
        resume = listing.state is ListingState.PAUSED
        if price == listing.price and not resume:
            return
        await self._listings.change(
            listing, price=price, state=ListingState.ACTIVE, last_error=None
        )
        if price != listing.price:
            await self._alert(
                __(
                    "G2A listing {sku} repriced from {old} to {new} EUR: {vendor} costs"
                    " {cost} EUR now (payout at least {margin}% above it)."
                ),
                offer,
                old=f"{listing.price:.2f}",
                new=f"{price:.2f}",
                cost=f"{cost:.2f}",
                margin=f"{self._listings.min_margin:g}",
            )
        if resume:
            await self._alert(
                __("G2A listing {sku} resumed at {price} EUR: {vendor} is back in range."),
                offer,
                price=f"{price:.2f}",
            )

    async def _pause(
        self, listing: Listing, offer: Offer, why: LazyProxy, **values: object
    ) -> None:
        """Take an active listing off sale (once: a paused one stays as it is)."""
        if listing.state is ListingState.ACTIVE:
            await self._listings.change(listing, state=ListingState.PAUSED, last_error=GUARD)
            await self._alert(why, offer, **values)

    async def _price_for(self, product_id: str, needed: float, start: float) -> float | None:
        """`start` if its payout covers `needed`, else the lowest price that does (to the
        cent, found in a few simulations), or None."""
        price = start
        for _attempt in range(5):
            income = await self._listings.income(product_id, price)
            if covers(income, needed):
                return round(price, 2)
            if not income or income <= 0:
                return None
            price = math.ceil(price * needed / income * 100) / 100 + 0.01 * _attempt
        return None

    async def _alert(self, template: LazyProxy, offer: Offer, **values: object) -> None:
        await self._notifier.alert_admins(
            template, order_id=None, sku=offer.sku, vendor=offer.vendor, **values
        )


def _money(amount: float, currency: str) -> str:
    return f"{amount:.2f} {currency}"
