"""The Kinguin simulator's catalogue: products, the default ones, and how they are shown
and searched (products v1/v2, ``GET /v1/products``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vendors.simulators.common import iso, utc
from vendors.simulators.kinguin import params
from vendors.simulators.kinguin.errors import constraint

KeyKind = Literal["text", "image", "image/png", "image/jpeg", "image/gif"]
Outcome = Literal["completed", "canceled", "partial"]

DEFAULT_PROCESSING_SECONDS = 2.0
DEFAULT_STOCK = 100
DAY = 86_400.0


class SimProduct(BaseModel):
    """One product of the simulated catalogue (mutable: steer it with the simulator).

    ``key_kind`` is the kind of key delivered when the order does not ask for ``text``:
    ``text`` or an image type (``image`` means ``image/png``). A pre-order is released
    ``release_in_days`` after the simulator was created (or by ``release_preorder``).
    """

    model_config = ConfigDict(validate_assignment=True)

    kinguin_id: int
    product_id: str
    name: str
    price: float
    qty: int = DEFAULT_STOCK
    text_qty: int | None = None  # None: qty for text products, 0 for image products
    key_kind: KeyKind = "text"
    processing_seconds: float = DEFAULT_PROCESSING_SECONDS
    outcome: Outcome = "completed"
    is_preorder: bool = False
    release_in_days: float | None = None
    release_at: float | None = None  # clock time of the release (set by the simulator)
    release_date: str = "2020-01-01"  # for products already released
    platform: str = "Steam"
    genres: list[str] = Field(default_factory=lambda: ["Action"])
    merchant_name: str = "KinguinHK"
    offer_id: str = ""  # "": derived from the product id
    product_id_aliases: tuple[str, ...] = ()  # other product ids the docs use for it
    updated_at: float | None = None  # clock time of the last change (set by the simulator)

    @property
    def mime(self) -> str:
        if self.key_kind == "text":
            return "text/plain"
        return "image/png" if self.key_kind == "image" else self.key_kind

    def default_text_qty(self, qty: int) -> int:
        """Text keys in stock when not said: all of them for a text product, else none."""
        return qty if self.key_kind == "text" else 0

    def is_preorder_at(self, now: float) -> bool:
        """Still a pre-order at ``now`` (not released yet)."""
        return self.is_preorder and (self.release_at is None or now < self.release_at)

    @property
    def shown_release_date(self) -> str:
        if self.is_preorder and self.release_at is not None:
            return day(self.release_at)
        return self.release_date

    def known_as(self, product_id: str) -> bool:
        return product_id == self.product_id or product_id in self.product_id_aliases


def _product(kinguin_id: int, product_id: str, name: str, price: float, **extra: Any) -> SimProduct:
    return SimProduct(kinguin_id=kinguin_id, product_id=product_id, name=name, price=price, **extra)


DEFAULT_PRODUCTS: tuple[SimProduct, ...] = (
    _product(
        1949,
        "5c9b5f6b2539a4e8f172916a",
        "Counter-Strike: Source Steam CD Key",
        5.79,
        release_date="2004-11-01",
        # The docs' order examples name this product "5c9b68662539a4e8f17ae2fe".
        product_id_aliases=("5c9b68662539a4e8f17ae2fe",),
        offer_id="5f7efe3b369b4a0001c5b46f",
    ),
    _product(
        2001,
        "64b7f0c2a1e4d5f6a7b8c9d0",
        "Elden Ring Steam CD Key",
        39.99,
        release_date="2022-02-25",
        genres=["Action", "RPG"],
    ),
    _product(
        2002,
        "64b7f0c2a1e4d5f6a7b8c9d1",
        "Minecraft Java & Bedrock Edition Key",
        19.50,
        key_kind="image/png",
        release_date="2011-11-18",
        platform="Minecraft",
        genres=["Adventure"],
    ),
    _product(
        2003,
        "64b7f0c2a1e4d5f6a7b8c9d2",
        "Hades II Steam CD Key (pre-order)",
        24.99,
        is_preorder=True,
        release_in_days=30,
        genres=["Action", "Indie"],
    ),
    _product(
        2004,
        "64b7f0c2a1e4d5f6a7b8c9d3",
        "Stardew Valley Steam CD Key",
        9.49,
        outcome="partial",
        release_date="2016-02-26",
        genres=["Simulation", "Indie"],
    ),
    _product(
        2099,
        "64b7f0c2a1e4d5f6a7b8c9ff",
        "Sandbox: always out of stock",
        1.00,
        outcome="canceled",
        genres=["Other"],
    ),
)


def money(x: float) -> float:
    """An amount of EUR, in cents."""
    return round(x + 0.0, 2)


def day(t: float) -> str:
    return utc(t).date().isoformat()


def stocked(template: SimProduct, now: float) -> SimProduct:
    """A copy of ``template`` for a new simulator: offer id, text stock, release time and
    last change filled in."""
    product = template.model_copy(deep=True)
    if not product.offer_id:
        product.offer_id = "5f7e" + hashlib.sha1(product.product_id.encode()).hexdigest()[:20]
    if product.text_qty is None:
        product.text_qty = product.default_text_qty(product.qty)
    if product.is_preorder and product.release_at is None:
        product.release_at = now + (product.release_in_days or 0.0) * DAY
    if product.updated_at is None:
        product.updated_at = now
    return product


def product_json(product: SimProduct, now: float, media: str) -> dict[str, Any]:
    """The product object of products v1/v2; its images are served under ``media``."""
    release_date = product.shown_release_date
    is_preorder = product.is_preorder_at(now)
    text_qty = product.text_qty or 0
    offer = {
        "name": product.name,
        "offerId": product.offer_id,
        "price": product.price,
        "qty": product.qty,
        "textQty": text_qty,
        "availableQty": product.qty,
        "availableTextQty": text_qty,
        "merchantName": product.merchant_name,
        "isPreorder": is_preorder,
        "releaseDate": release_date,
    }
    original = product.name.removesuffix(" (pre-order)")
    for suffix in (" Steam CD Key", " Key"):
        original = original.removesuffix(suffix)
    return {
        "name": product.name,
        "description": f"{original}: a product of the Kinguin simulator.",
        "developers": ["Sandbox Studio"],
        "publishers": ["Sandbox Publishing"],
        "genres": list(product.genres),
        "platform": product.platform,
        "releaseDate": release_date,
        "qty": product.qty,
        "textQty": text_qty,
        "price": product.price,
        "cheapestOfferId": [product.offer_id],
        "isPreorder": is_preorder,
        "regionalLimitations": "Region free",
        "countryLimitation": [],
        "regionId": 3,
        "activationDetails": "Activate the key in the platform's client.",
        "kinguinId": product.kinguin_id,
        "productId": product.product_id,
        "originalName": original,
        "videos": [],
        "languages": ["English"],
        "systemRequirements": [],
        "tags": ["base"],
        "offers": [offer],
        "offersCount": 1,
        "totalQty": product.qty,
        "merchantName": [product.merchant_name],
        "images": {
            "screenshots": [
                {"url": f"{media}/screenshot.png", "thumbnail": f"{media}/screenshot-t.png"}
            ],
            "cover": {"url": f"{media}/cover.png", "thumbnail": f"{media}/cover-t.png"},
        },
        "updatedAt": iso(product.updated_at or now),
    }


def search(products: Iterable[SimProduct], query: Any, now: float) -> tuple[list[SimProduct], int]:
    """``GET /v1/products``: the page of products asked for, and how many match in all."""
    page, limit = params.paging(query, now)
    name = query.get("name")
    if name is not None and len(name.strip()) < 3:
        raise constraint(
            "name", "This value is too short. It should have 3 characters or more.", now, name
        )
    kinguin_ids = params.csv(query, "kinguinId")
    product_ids = params.csv(query, "productId")
    platforms = {p.lower() for p in params.csv(query, "platform")}
    genres = {g.lower() for g in params.csv(query, "genre")}
    preorder = params.yes_no(query, "isPreorder", now)
    with_text = query.get("withText") == "yes"
    since = params.date(query, "updatedSince", now)
    until = params.date(query, "updatedTo", now, end_of_day=True)
    found = []
    for p in products:
        if p.qty <= 0:
            continue
        if name is not None and name.strip().lower() not in p.name.lower():
            continue
        if kinguin_ids and str(p.kinguin_id) not in kinguin_ids:
            continue
        if product_ids and not ({p.product_id, *p.product_id_aliases} & set(product_ids)):
            continue
        if platforms and p.platform.lower() not in platforms:
            continue
        if genres and not genres & {g.lower() for g in p.genres}:
            continue
        if preorder is not None and p.is_preorder_at(now) != preorder:
            continue
        if with_text and not p.text_qty:
            continue
        updated = p.updated_at or now
        if (since is not None and updated < since) or (until is not None and updated > until):
            continue
        found.append(p)
    if query.get("sortBy", "kinguinId") == "updatedAt":
        found.sort(key=lambda p: (p.updated_at or now, p.kinguin_id))
    else:
        found.sort(key=lambda p: p.kinguin_id)
    if query.get("sortType") == "desc":
        found.reverse()
    return found[(page - 1) * limit : page * limit], len(found)
