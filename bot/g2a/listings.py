"""The shop's offers on G2A's marketplace (seed 004, Import API).

A listing ties a catalog offer (its `g2a_product_id`) to a G2A dropshipping offer at a
price in EUR. Listing one starts G2A's job and follows it to the offer id; a crash in
between leaves the listing `creating` with its job id, and a chore finishes following it.
Prices then stay above the source's cost: see bot.g2a.guard.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from bot.catalog import Catalog
from bot.config import Settings
from bot.g2a.guard import MarginGuard, covers, payout_needed
from bot.offers import OfferService
from bot.orders.notify import Notifier
from storage.admin_log import AdminLog
from storage.g2a import G2ARepo, Listing, ListingState
from storage.leases import LeaseRepo
from storage.models import Offer
from vendors.base import VendorError, VendorOffer
from vendors.g2a_import import Bestseller, G2AImport, G2AOffer, JobFailed

log = logging.getLogger(__name__)
EUR = "EUR"


class Problem(Enum):
    NO_OFFER = "no_offer"  # no such catalog offer
    NOT_ON_G2A = "not_on_g2a"  # the offer names no g2a_product_id
    LISTED = "listed"  # already listed (not failed)
    NO_LISTING = "no_listing"
    LOW_MARGIN = "low_margin"
    G2A = "g2a"  # G2A refused or failed: the message says why


class ListingRefused(Exception):
    def __init__(self, problem: Problem, detail: str = "") -> None:
        super().__init__(detail or problem.value)
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class Quote:
    """Selling `offer` on G2A at `price` EUR: G2A's payout per unit and the source's cost."""

    offer: Offer
    price: float
    income: float | None  # the lowest of G2A's country groups
    cost: float | None  # EUR; None when the source did not answer or its rate is unknown
    source: VendorOffer | None

    @property
    def margin(self) -> float | None:
        if self.income is None or self.cost is None:
            return None
        return self.income - self.cost

    @property
    def margin_percent(self) -> float | None:
        margin = self.margin
        return None if margin is None or not self.cost else margin / self.cost * 100

    def earns(self, min_margin: float) -> bool:
        """Whether the payout covers the cost plus `min_margin` percent (unknown: no)."""
        return self.cost is not None and covers(self.income, payout_needed(self.cost, min_margin))


@dataclass(frozen=True)
class Overview:
    listing: Listing
    g2a: G2AOffer | None  # what G2A says now (None: not created yet, or no answer)


class G2AListings:
    def __init__(
        self,
        client: G2AImport,
        repo: G2ARepo,
        catalog: Catalog,
        offers: OfferService,
        settings: Settings,
        admin_log: AdminLog,
        notifier: Notifier,
        *,
        job_wait: float = 120.0,
        job_poll: float = 1.0,
        leases: LeaseRepo | None = None,
    ) -> None:
        self._client = client
        self._repo = repo
        self._catalog = catalog
        self._offers = offers
        self._settings = settings
        self._log = admin_log
        self._notifier = notifier
        self._job_wait = job_wait
        self._job_poll = job_poll
        self.guard = MarginGuard(self, repo, catalog, offers, notifier, leases)

    @property
    def min_margin(self) -> float:
        return self._settings.g2a_min_margin

    # ------------------------------------------------------------------ reading

    async def quote(self, sku: str, price: float) -> Quote:
        offer = self._sellable(sku)
        assert offer.g2a_product_id is not None
        live = await self._offers.live(offer, fresh=True)
        try:
            income = await self.income(offer.g2a_product_id, price)
        except VendorError as exc:
            raise ListingRefused(Problem.G2A, str(exc)) from exc
        return Quote(offer, price, income, self.cost_in_eur(live.vendor), live.vendor)

    async def overview(self) -> list[Overview]:
        listings = await self._repo.listings()
        known: dict[str, G2AOffer] = {}
        try:
            page = await self._client.offers(offerType="dropshipping", per_page=100)
            known = {offer.id: offer for offer in page.data}
        except VendorError as exc:
            log.warning("g2a offers: %s", exc)
        return [Overview(item, known.get(item.offer_id or "")) for item in listings]

    async def bestsellers(self) -> list[tuple[Bestseller, Offer | None]]:
        ours = {o.g2a_product_id: o for o in self._catalog.offers(10**6) if o.g2a_product_id}
        found = await self._client.bestsellers(per_page=10)
        return [(item, ours.get(item.productId)) for item in found]

    async def find(self, ref: str) -> Listing:
        """A listing by our sku or G2A's offer id."""
        listing = await self._repo.listing(ref) or await self._repo.listing_by_offer(ref)
        if listing is None:
            raise ListingRefused(Problem.NO_LISTING, ref)
        return listing

    # ------------------------------------------------------------------ changing

    async def create(self, sku: str, price: float, admin_id: int) -> Listing:
        """Create the G2A offer and follow its job to the offer id."""
        offer = self._sellable(sku)
        assert offer.g2a_product_id is not None
        existing = await self._repo.listing(sku)
        if existing is not None and existing.state is not ListingState.FAILED:
            raise ListingRefused(Problem.LISTED, existing.offer_id or existing.state)
        try:
            job_id = await self._client.create_offer(offer.g2a_product_id, price)
        except VendorError as exc:
            raise ListingRefused(Problem.G2A, str(exc)) from exc
        await self._repo.save_listing(
            sku, offer.g2a_product_id, price, ListingState.CREATING, job_id=job_id,
            admin_id=admin_id,
        )  # fmt: skip
        await self._log.record(admin_id, "g2a_list", sku, f"{price:.2f} EUR, job {job_id}")
        listing = await self._follow(sku, offer.g2a_product_id, price, job_id)
        live = await self._offers.live(offer)  # watched from now on (see the guard)
        await self.guard.check(offer, live.vendor)  # a price under the margin is raised now
        return await self._repo.listing(sku) or listing

    async def follow_pending(self) -> None:
        """Chore: a listing whose job a restart interrupted gets one look at its job."""
        for listing in await self._repo.listings():
            job = listing.job_id
            if listing.state is ListingState.CREATING and job:
                try:
                    await self._follow(
                        listing.sku, listing.product_id, listing.price, job, within=0.0
                    )
                except ListingRefused as exc:
                    log.warning("g2a listing %s: %s", listing.sku, exc)

    async def set_price(self, ref: str, price: float, admin_id: int) -> tuple[Listing, Quote]:
        listing = await self.find(ref)
        quote = await self.quote(listing.sku, price)
        if not quote.earns(self.min_margin):
            raise ListingRefused(Problem.LOW_MARGIN)
        listing = await self.change(listing, price=price)
        await self._log.record(admin_id, "g2a_price", listing.sku, f"{price:.2f} EUR")
        return listing, quote

    async def set_active(self, ref: str, active: bool, admin_id: int) -> Listing:
        listing = await self.find(ref)
        state = ListingState.ACTIVE if active else ListingState.PAUSED
        listing = await self.change(listing, state=state)
        await self._log.record(admin_id, "g2a_resume" if active else "g2a_pause", listing.sku)
        return listing

    # ------------------------------------------------------------------ helpers

    def _sellable(self, sku: str) -> Offer:
        offer = self._catalog.offer(sku)
        if offer is None:
            raise ListingRefused(Problem.NO_OFFER, sku)
        if not offer.g2a_product_id:
            raise ListingRefused(Problem.NOT_ON_G2A, sku)
        return offer

    async def _follow(
        self, sku: str, product_id: str, price: float, job_id: str, within: float | None = None
    ) -> Listing:
        """The job's end recorded; with `within` 0, one look (the chore's)."""
        try:
            offer_id = await self._client.follow_job(
                job_id, every=self._job_poll, within=self._job_wait if within is None else within
            )
        except JobFailed as exc:
            await self._repo.save_listing(
                sku, product_id, price, ListingState.FAILED, job_id=job_id, last_error=str(exc)
            )
            raise ListingRefused(Problem.G2A, str(exc)) from exc
        except VendorError as exc:  # not done yet, or no answer: the chore follows it on
            raise ListingRefused(Problem.G2A, str(exc)) from exc
        return await self._repo.save_listing(
            sku, product_id, price, ListingState.ACTIVE, offer_id=offer_id, job_id=job_id
        )

    async def change(
        self,
        listing: Listing,
        *,
        price: float | None = None,
        state: ListingState | None = None,
        last_error: str | None = None,
    ) -> Listing:
        """Tell G2A first, then record: a crash in between is repaired by repeating it."""
        if listing.offer_id is None:
            raise ListingRefused(Problem.NO_LISTING, listing.sku)
        active = None if state is None else state is ListingState.ACTIVE
        try:
            await self._client.update_offer(listing.offer_id, price=price, active=active)
        except VendorError as exc:
            raise ListingRefused(Problem.G2A, str(exc)) from exc
        return await self._repo.save_listing(
            listing.sku,
            listing.product_id,
            listing.price if price is None else price,
            listing.state if state is None else state,
            last_error=last_error,
        )

    async def income(self, product_id: str, price: float) -> float | None:
        simulation = await self._client.price_simulation(product_id, price)
        return min(simulation.income.values()) if simulation.income else None

    def cost_in_eur(self, source: VendorOffer | None) -> float | None:
        """The source's unit price in EUR, at the owner's STARS_PER_CURRENCY rates."""
        if source is None:
            return None
        if source.currency.upper() == EUR:
            return source.price
        stars = self._settings.in_stars(source.price, source.currency)
        per_euro = self._settings.in_stars(1.0, EUR)
        return None if stars is None or not per_euro else stars / per_euro
