"""What admins do to the catalog: list it with live vendor figures, edit offers, import
offers from the vendors. Edits and imports live in the database, are written to the audit
log, and reach customers at once, in this process and (through a signal) in the others."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aiogram.utils.i18n import gettext as _
from pydantic import ValidationError

from bot.catalog.importer import Candidate, Importer
from bot.catalog.pricing import Margin, margin
from bot.catalog.snapshot import Catalog
from bot.config import CatalogSettings
from bot.offers import LiveOffer, OfferService
from bot.runtime.memory import collector_paused
from storage.admin_log import AdminLog
from storage.models import Offer
from storage.offers import OfferRepo
from vendors.base import Vendor


@dataclass(frozen=True)
class Listed:
    offer: Offer
    enabled: bool
    live: LiveOffer
    margin: Margin | None  # per unit, at the vendor's price now


class CatalogDesk:
    def __init__(
        self,
        offers: OfferRepo,
        catalog: Catalog,
        audit: AdminLog,
        live: OfferService,
        importer: Importer,
        vendors: Mapping[str, Vendor],
        settings: CatalogSettings,
        announce: Callable[[], None] = lambda: None,
    ) -> None:
        self._offers = offers
        self._catalog = catalog
        self._version: tuple[object, ...] = ()  # of the catalog last loaded (refresh)
        self._audit = audit
        self._live = live
        self._importer = importer
        self._vendors = vendors
        self._settings = settings
        self._announce = announce  # tells the shop's other processes to reload

    async def listing(self) -> list[tuple[Offer, bool]]:
        return await self._offers.listing()

    async def with_figures(self, listing: Sequence[tuple[Offer, bool]]) -> list[Listed]:
        """Each offer with the vendor's price and stock now (cached briefly, asked at once)."""
        lives = await asyncio.gather(*(self._live.live(offer) for offer, _on in listing))
        return [
            Listed(offer, enabled, live, self._margin(offer, live))
            for (offer, enabled), live in zip(listing, lives, strict=True)
        ]

    def _margin(self, offer: Offer, live: LiveOffer) -> Margin | None:
        product = live.vendor
        if product is None:
            return None
        return margin(self._settings, offer.price_stars, product.price, product.currency)

    async def edit_offer(
        self,
        sku: str,
        admin_id: int,
        *,
        active: bool | None = None,
        price_stars: int | None = None,
        max_vendor_price: float | None = None,
        max_quantity: int | None = None,
    ) -> Offer | str:
        """Change an offer (kept over catalog.toml); the edited offer, or why not."""
        current = {offer.sku: offer for offer, _on in await self._offers.listing()}.get(sku)
        if current is None:
            return _("no such offer")
        changes = {
            "price_stars": price_stars,
            "max_vendor_price": max_vendor_price,
            "max_quantity": max_quantity,
        }
        try:  # the catalog's own rules (price range, quantities...)
            edited = Offer.model_validate(
                current.model_dump() | {k: v for k, v in changes.items() if v is not None}
            )
        except ValidationError as exc:
            return str(exc.errors()[0]["msg"])
        vendor = self._vendors.get(current.vendor)
        if vendor is not None and edited.max_quantity > vendor.max_quantity:
            return _("{vendor} sells at most {count} per order").format(
                vendor=current.vendor, count=vendor.max_quantity
            )
        await self._offers.edit(
            sku,
            admin_id,
            active=active,
            price_stars=price_stars,
            max_vendor_price=max_vendor_price,
            max_quantity=max_quantity,
        )
        await self._audit.record(admin_id, "offer", sku, json.dumps(changes | {"active": active}))
        await self.reload()
        self._announce()
        return edited

    async def search(self, vendor: str, query: str) -> list[Candidate]:
        return await self._importer.search(vendor, query)

    async def import_offer(self, vendor: str, offer_id: str, admin_id: int) -> tuple[Offer, bool]:
        """Add a vendor's product as an offer at the suggested price: (the offer, True), or
        (the offer already selling it, False). Raises ImportRefused."""
        for offer, _on in await self._offers.listing():
            if offer.vendor == vendor and offer.vendor_offer_id == offer_id:
                return offer, False
        candidate = await self._importer.candidate(vendor, offer_id)
        while True:  # another admin may take the sku meanwhile: pick the next one
            offer = self._importer.offer(candidate, await self._offers.taken_skus())
            if await self._offers.add_imported(offer, admin_id):
                break
        details = {"vendor": vendor, "id": offer_id, "price_stars": offer.price_stars}
        await self._audit.record(admin_id, "import", offer.sku, json.dumps(details))
        await self.reload()
        self._announce()
        return offer, True

    async def reload(self, version: tuple[object, ...] | None = None) -> None:
        """The snapshot rebuilt from the database (`version`: read just before, if known)."""
        version = version if version is not None else await self._offers.version()
        with collector_paused():  # it builds tens of thousands of objects in one go
            await self._catalog.swap(await Catalog.built(await self._offers.active()))
        self._version = version

    async def refresh(self) -> None:
        """Reload if the catalog changed since (another replica's edit, when no signal
        reached this process): every housekeeping round, so it must cost next to nothing."""
        version = await self._offers.version()
        if version != self._version:
            await self.reload(version)
