"""The active catalog, served from memory: no database round trip per button."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.search import matches, normalize
from storage.models import Offer


@dataclass(frozen=True)
class Category:
    key: str  # short and stable: fits in callback data whatever the title's length
    title: str
    offers: tuple[Offer, ...]


class Catalog:
    """An in-memory snapshot of the active offers: no database round trip per button."""

    def __init__(self, offers: Sequence[Offer]) -> None:
        self.replace(offers)

    def replace(self, offers: Sequence[Offer]) -> None:
        by_category: dict[str, list[Offer]] = {}
        for offer in offers:
            by_category.setdefault(offer.category, []).append(offer)
        categories = [
            Category(category_key(title), title, tuple(items))
            for title, items in by_category.items()
        ]
        self._offers = {offer.sku: offer for offer in offers}
        self._categories = {category.key: category for category in categories}
        self._index = [(normalize(f"{o.title} {o.category}"), o) for o in offers]

    @property
    def categories(self) -> list[Category]:
        return list(self._categories.values())

    def category(self, key: str) -> Category | None:
        return self._categories.get(key)

    def offer(self, sku: str) -> Offer | None:
        return self._offers.get(sku)

    def search(self, query: str, limit: int = 8, offset: int = 0) -> list[Offer]:
        """Offers whose title or category holds every word of `query` (see bot.search)."""
        words = normalize(query).split()
        if not words:
            return []
        found = [offer for text, offer in self._index if matches(words, text)]
        return found[offset : offset + limit]

    def offers(self, limit: int, offset: int = 0) -> list[Offer]:
        """The active offers in catalog order."""
        return [offer for _text, offer in self._index[offset : offset + limit]]

    def category_of(self, offer: Offer) -> Category:
        return self._categories[category_key(offer.category)]


def category_key(title: str) -> str:
    return hashlib.sha256(title.encode()).hexdigest()[:10]
