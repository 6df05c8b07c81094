"""The shop's catalog: read from a TOML file, checked, and served from memory.

A mistake in the file is reported with the file, line and field, e.g.
`catalog.toml:14: offers[2].price_stars: Input should be greater than or equal to 1`.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.search import matches, normalize
from storage.models import Offer


class CatalogError(Exception):
    pass


def load_catalog_file(path: Path, vendors: Iterable[str]) -> list[Offer]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the catalog: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: {exc}") from None  # the message carries line and column
    entries = data.get("offers")
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{path}: no [[offers]] found")
    known_vendors = set(vendors)
    offers: list[Offer] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        try:
            offer = Offer.model_validate(entry)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"])
            where = _line_of(text, index, str(error["loc"][0]) if error["loc"] else None)
            raise CatalogError(f"{path}:{where}: offers[{index}].{field}: {error['msg']}") from None
        if offer.vendor not in known_vendors:
            where = _line_of(text, index, "vendor")
            raise CatalogError(
                f"{path}:{where}: offers[{index}].vendor: unknown vendor {offer.vendor!r}"
                f" (known: {', '.join(sorted(known_vendors))})"
            )
        if offer.sku in seen:
            where = _line_of(text, index, "sku")
            raise CatalogError(f"{path}:{where}: offers[{index}].sku: duplicate sku {offer.sku!r}")
        seen.add(offer.sku)
        offers.append(offer)
    return offers


def check_against_vendors(path: Path, offers: Sequence[Offer], vendors: Mapping[str, Any]) -> None:
    """What only the vendor knows: its id format, how many units one order may hold, and
    which options it has (e.g. `catalog.toml:30: offers[7].max_quantity: kinguin sells at
    most 9 per order`)."""
    text = path.read_text(encoding="utf-8")
    for index, offer in enumerate(offers):
        vendor = vendors[offer.vendor]
        problem: tuple[str, str] | None = None
        if (why := vendor.check_offer_id(offer.vendor_offer_id)) is not None:
            problem = ("vendor_offer_id", why)
        elif offer.max_quantity > vendor.max_quantity:
            problem = (
                "max_quantity",
                f"{offer.vendor} sells at most {vendor.max_quantity} per order",
            )
        elif offer.kinguin_offer_id and offer.vendor != "kinguin":
            problem = ("kinguin_offer_id", "only for offers of vendor 'kinguin'")
        elif offer.key_type and offer.vendor != "kinguin":
            problem = ("key_type", f"{offer.vendor} has no key types")
        if problem:
            field, message = problem
            where = _line_of(text, index, field)
            raise CatalogError(f"{path}:{where}: offers[{index}].{field}: {message}")


def _line_of(text: str, index: int, field: str | None) -> int:
    """Line of `field` inside the index-th [[offers]] table (or of its header)."""
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines) if re.match(r"\s*\[\[\s*offers\s*\]\]", line)]
    if index >= len(headers):
        return 1
    start = headers[index]
    end = headers[index + 1] if index + 1 < len(headers) else len(lines)
    if field:
        key = re.compile(rf"\s*\"?{re.escape(field)}\"?\s*=|\s*\[\s*offers\.{re.escape(field)}\b")
        for number in range(start, end):
            if key.match(lines[number]):
                return number + 1
    return start + 1


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

    def search(self, query: str, limit: int = 8) -> list[Offer]:
        """Offers whose title or category holds every word of `query` (see bot.search)."""
        words = normalize(query).split()
        if not words:
            return []
        return [offer for text, offer in self._index if matches(words, text)][:limit]

    def category_of(self, offer: Offer) -> Category:
        return self._categories[category_key(offer.category)]


def category_key(title: str) -> str:
    return hashlib.sha256(title.encode()).hexdigest()[:10]
