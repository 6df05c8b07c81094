"""Catalog offers for tests: one shape, changed only where a test cares."""

from __future__ import annotations

from typing import Any

from storage.models import Offer

STEAM_5: dict[str, Any] = {
    "sku": "steam-5",
    "vendor": "codegames",
    "vendor_offer_id": "3001",
    "title": "Steam 5",
    "category": "Gift cards",
    "price_stars": 400,
    "max_vendor_price": 2900.0,
}


def offer(**changes: Any) -> Offer:
    return Offer.model_validate(STEAM_5 | changes)
