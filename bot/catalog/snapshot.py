"""The active catalog, served from memory: no database round trip per button."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.search import matches, normalize
from storage.models import Offer

T = TypeVar("T")
MEMO_LIMIT = 20_000  # things built from one snapshot (keyboards per language and page)
SEARCH_DEPTH = 500  # matches kept of one query: 25 pages of inline results


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
        self._category_list = tuple(categories)
        self._index = [(normalize(f"{o.title} {o.category}"), o) for o in offers]
        self._memo: dict[Hashable, Any] = {}

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """What `build` makes of this snapshot (a keyboard in one language), built once:
        forgotten when the catalog changes."""
        try:
            return self._memo[key]
        except KeyError:
            pass
        if len(self._memo) >= MEMO_LIMIT:
            self._memo.clear()
        value = self._memo[key] = build()
        return value

    @property
    def categories(self) -> tuple[Category, ...]:
        return self._category_list

    def category(self, key: str) -> Category | None:
        return self._categories.get(key)

    def offer(self, sku: str) -> Offer | None:
        return self._offers.get(sku)

    def search(self, query: str, limit: int = 8, offset: int = 0) -> tuple[Offer, ...]:
        """Offers whose title or category holds every word of `query` (see bot.search);
        a query asked again (a popular one, the next page) is answered from memory."""
        words = tuple(normalize(query).split())
        if not words:
            return ()
        found = self.memo(("search", words), lambda: self._find(words))
        return found[offset : offset + limit]

    def _find(self, words: tuple[str, ...]) -> tuple[Offer, ...]:
        found = (offer for text, offer in self._index if matches(words, text))
        return tuple(itertools.islice(found, SEARCH_DEPTH))

    def offers(self, limit: int, offset: int = 0) -> list[Offer]:
        """The active offers in catalog order."""
        return [offer for _text, offer in self._index[offset : offset + limit]]

    def category_of(self, offer: Offer) -> Category:
        return self._categories[category_key(offer.category)]


def category_key(title: str) -> str:
    return hashlib.sha256(title.encode()).hexdigest()[:10]
