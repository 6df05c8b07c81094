"""The active catalog, served from memory: no database round trip per button."""

from __future__ import annotations

import asyncio
import gc
import hashlib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.search import SearchIndex, normalize
from storage.models import Offer

T = TypeVar("T")
MEMO_LIMIT = 20_000  # things built from one snapshot (keyboards per language and page)
SEARCH_DEPTH = 500  # matches kept of one query: 25 pages of inline results
# A catalog this big is exempted from garbage collection once built: small ones are not
# worth it (tests build many shops in one process, and their garbage would be kept too).
FROZEN_FROM = 2_000


@dataclass(frozen=True)
class Category:
    key: str  # short and stable: fits in callback data whatever the title's length
    title: str
    offers: tuple[Offer, ...]


@dataclass(frozen=True)
class Snapshot:
    """Everything a catalog serves from, built in one go (off the event loop for large
    catalogs: see `Catalog.built`) and swapped in whole."""

    offers: dict[str, Offer]
    categories: dict[str, Category]
    category_list: tuple[Category, ...]
    offer_list: tuple[Offer, ...]
    index: SearchIndex

    @classmethod
    def of(cls, offers: Sequence[Offer]) -> Snapshot:
        by_category: dict[str, list[Offer]] = {}
        for offer in offers:
            by_category.setdefault(offer.category, []).append(offer)
        categories = tuple(
            Category(category_key(title), title, tuple(items))
            for title, items in by_category.items()
        )
        return cls(
            offers={offer.sku: offer for offer in offers},
            categories={category.key: category for category in categories},
            category_list=categories,
            offer_list=tuple(offers),
            index=SearchIndex([normalize(f"{o.title} {o.category}") for o in offers]),
        )


class Catalog:
    """An in-memory snapshot of the active offers: no database round trip per button."""

    def __init__(self, offers: Sequence[Offer]) -> None:
        self.replace(offers)

    def replace(self, offers: Sequence[Offer]) -> None:
        self.install(Snapshot.of(offers))

    @staticmethod
    async def built(offers: Sequence[Offer]) -> Snapshot:
        """A snapshot built in a thread: for 50,000 offers that is a second of work, which
        on the event loop would hold every customer's update up meanwhile."""
        return await asyncio.to_thread(Snapshot.of, offers)

    async def swap(self, snapshot: Snapshot, chunk: int = 2_000) -> None:
        """Serve from `snapshot` from now on; the one it replaces is freed a piece at a time.
        Freed at once, 50,000 offers hold the interpreter ~50 ms (a thread would not help:
        it holds the GIL meanwhile). So the offers and what was built of them are kept
        aside while their containers go, then dropped a chunk per turn of the event loop.
        A big catalog is frozen (see bot.runtime.memory): collections skip it from now on."""
        leaves: list[object] = [*self._offers.values(), *self._memo.values()]
        self.install(snapshot)
        if len(snapshot.offers) >= FROZEN_FROM:
            gc.freeze()
        while leaves:
            del leaves[-chunk:]
            await asyncio.sleep(0)

    def install(self, snapshot: Snapshot) -> None:
        self._offers = snapshot.offers
        self._categories = snapshot.categories
        self._category_list = snapshot.category_list
        self._offer_list = snapshot.offer_list
        self._index = snapshot.index
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
        positions = self._index.find(words)[:SEARCH_DEPTH]
        return tuple(self._offer_list[position] for position in positions)

    def offers(self, limit: int, offset: int = 0) -> list[Offer]:
        """The active offers in catalog order."""
        return list(self._offer_list[offset : offset + limit])

    def category_of(self, offer: Offer) -> Category:
        return self._categories[category_key(offer.category)]


def category_key(title: str) -> str:
    return hashlib.sha256(title.encode()).hexdigest()[:10]
