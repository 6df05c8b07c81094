"""Vendor money in Stars: margins for the admins and suggested prices for imports, at the
owner's STARS_PER_CURRENCY rates and PRICE_MARKUP."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.config import CatalogSettings

MAX_PRICE_STARS = 100_000  # the catalog's limit (storage.models.Offer)


@dataclass(frozen=True)
class Margin:
    stars: float  # what the shop keeps: the price minus the vendor's cost in Stars
    percent: float  # of the price

    def __str__(self) -> str:
        return f"{self.stars:+.0f} ⭐ ({self.percent:+.0f}%)"


def margin(
    settings: CatalogSettings, price_stars: int, cost: float | None, currency: str | None
) -> Margin | None:
    """None when the cost or its currency's rate is unknown."""
    cost_stars = None if cost is None else settings.in_stars(cost, currency)
    if cost_stars is None or price_stars <= 0:
        return None
    kept = price_stars - cost_stars
    return Margin(kept, 100 * kept / price_stars)


def suggested_price(settings: CatalogSettings, cost: float, currency: str | None) -> int | None:
    """Stars for a product costing `cost`: its worth in Stars × PRICE_MARKUP, rounded up."""
    in_stars = settings.in_stars(cost, currency)
    if in_stars is None:
        return None
    return min(MAX_PRICE_STARS, max(1, math.ceil(in_stars * settings.price_markup)))
