"""The catalog file: read from TOML and checked against the vendors.

A mistake in the file is reported with the file, line and field, e.g.
`catalog.toml:14: offers[2].price_stars: Input should be greater than or equal to 1`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

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
