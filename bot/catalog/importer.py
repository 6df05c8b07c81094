"""New offers from the vendors' own product lists: search, a suggested price, an Offer.

Shared by the admin group's /import and by `python -m bot.catalog`; what happens to the
new offer (the database, or a TOML entry) is up to the caller.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from bot.catalog.pricing import suggested_price
from bot.config import CatalogSettings
from storage.models import Offer
from vendors import REGISTRY, VendorPool
from vendors.base import OfferNotFound, Vendor, VendorOffer
from vendors.settings import MissingCredentials

TITLE_MAX, CATEGORY_MAX, SKU_MAX = 100, 60, 40
DEFAULT_CATEGORY = "Other"


class Refusal(StrEnum):
    UNKNOWN_VENDOR = "unknown_vendor"
    NO_CREDENTIALS = "no_credentials"  # only its simulator answers, outside the sandbox
    NOT_FOUND = "not_found"
    NO_RATE = "no_rate"  # no STARS_PER_CURRENCY rate for the product's currency
    UNPRICED = "unpriced"  # the vendor gives no price now


class ImportRefused(Exception):
    def __init__(self, refusal: Refusal, detail: str = "") -> None:
        super().__init__(f"{refusal}: {detail}" if detail else str(refusal))
        self.refusal = refusal
        self.detail = detail


@dataclass(frozen=True)
class Candidate:
    """A vendor product as the shop would sell it."""

    vendor: str
    product: VendorOffer
    price_stars: int | None  # suggested: vendor price in Stars × PRICE_MARKUP (None: no rate)
    max_vendor_price: float  # today's price plus IMPORT_COST_HEADROOM

    @property
    def title(self) -> str:
        return self.product.name.strip()[:TITLE_MAX] or self.product.offer_id

    @property
    def category(self) -> str:
        return (self.product.category or "").strip()[:CATEGORY_MAX] or DEFAULT_CATEGORY


class Importer:
    def __init__(self, vendors: VendorPool, settings: CatalogSettings) -> None:
        self._vendors = vendors
        self._settings = settings

    async def search(self, vendor: str, query: str, limit: int = 8) -> list[Candidate]:
        found = await (await self._vendor(vendor)).find_products(query, limit)
        return [self._candidate(vendor, product) for product in found[:limit]]

    async def candidate(self, vendor: str, offer_id: str) -> Candidate:
        """One product, fresh from the vendor."""
        source = await self._vendor(vendor)
        if source.check_offer_id(offer_id) is not None:
            raise ImportRefused(Refusal.NOT_FOUND, offer_id)
        try:
            return self._candidate(vendor, await source.get_offer(offer_id))
        except OfferNotFound:
            raise ImportRefused(Refusal.NOT_FOUND, offer_id) from None

    def offer(self, candidate: Candidate, taken: Collection[str]) -> Offer:
        """The catalog entry for `candidate`, under a sku not in `taken`."""
        product = candidate.product
        if candidate.price_stars is None:
            raise ImportRefused(Refusal.NO_RATE, product.currency)
        if product.price <= 0:
            raise ImportRefused(Refusal.UNPRICED, product.offer_id)
        return Offer(
            sku=free_sku(candidate.title, taken),
            vendor=candidate.vendor,
            vendor_offer_id=product.offer_id,
            title=candidate.title,
            category=candidate.category,
            price_stars=candidate.price_stars,
            max_vendor_price=candidate.max_vendor_price,
        )

    async def _vendor(self, name: str) -> Vendor:
        if name not in REGISTRY:
            raise ImportRefused(Refusal.UNKNOWN_VENDOR, name)
        try:
            return await self._vendors.get(name)
        except MissingCredentials:
            raise ImportRefused(Refusal.NO_CREDENTIALS, name) from None

    def _candidate(self, vendor: str, product: VendorOffer) -> Candidate:
        price_stars = suggested_price(self._settings, product.price, product.currency)
        headroom = 1 + self._settings.import_cost_headroom
        return Candidate(vendor, product, price_stars, round(product.price * headroom, 2))


def free_sku(title: str, taken: Collection[str]) -> str:
    """A readable sku from the title ("Elden Ring Steam Key" → "elden-ring-steam-key"),
    with a number added when it is taken."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    base = slug[: SKU_MAX - 4].rstrip("-") or "offer"
    sku, number = base, 2
    while sku in taken:
        sku, number = f"{base}-{number}", number + 1
    return sku
