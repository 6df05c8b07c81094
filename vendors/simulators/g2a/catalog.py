"""The G2A simulator's catalogue: products, the default ones, the product document
(``GET /v1/products``) and the PNG of an image product's key."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel

from vendors.simulators.g2a.wire import (
    bad_request,
    bool_param,
    datetime_param,
    float_param,
    format_datetime,
    int_param,
)
from vendors.simulators.images import png

KeyKind = Literal["text", "image"]

PAGE_SIZE = 20
MAX_PAGE = 500

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


class SimProduct(BaseModel):
    """One product of the simulated catalogue (mutable: steer it with the simulator)."""

    product_id: str
    name: str
    min_price: float  # EUR
    qty: int
    key_kind: KeyKind = "text"
    product_type: str = "egoods"
    platform: str = "Steam"
    region: str = "GLOBAL"
    categories: list[dict[str, Any]] = [{"id": 189, "name": "Games"}]
    available_to_buy: bool = True
    price_limit_min: float | None = None
    price_limit_max: float | None = None
    restrictions: dict[str, Any] = {}
    requirements: dict[str, Any] = {}
    videos: list[dict[str, str]] = []
    processing_seconds: float = 1.0
    updated_at: float | None = None  # clock time; None: the simulator's start-up time

    @property
    def in_stock(self) -> bool:
        return self.qty > 0

    @property
    def buyable(self) -> bool:
        return self.available_to_buy and self.qty > 0

    def doc(self) -> dict[str, Any]:
        """The product as ``GET /v1/products`` lists it."""
        pid = self.product_id
        cover = f"https://images.g2a.com/sim/{pid}/cover.jpg"
        return {
            "id": pid,
            "name": self.name,
            "type": self.product_type,
            "slug": "/" + _SLUG_JUNK.sub("-", self.name.lower()).strip("-") + f"-i{pid}",
            "qty": self.qty,
            "minPrice": self.min_price,
            "retail_min_price": round(self.min_price * 1.15, 2),
            "retailMinBasePrice": round(self.min_price * 1.1, 2),
            "availableToBuy": self.buyable,
            "priceLimit": {"min": self.price_limit_min, "max": self.price_limit_max},
            "coverImage": cover,
            "images": [cover, f"https://images.g2a.com/sim/{pid}/1.jpg"],
            "categories": [dict(c) for c in self.categories],
            "platform": self.platform,
            "region": self.region,
            "updated_at": format_datetime(self.updated_at or 0),
            "restrictions": dict(self.restrictions),
            "requirements": dict(self.requirements),
            "videos": [dict(v) for v in self.videos],
        }


DEFAULT_PRODUCTS: tuple[SimProduct, ...] = (
    SimProduct(
        product_id="10000068865001",
        name="Cyberpunk 2077 (PC) - Steam Key - GLOBAL",
        min_price=17.99,
        qty=50,
        categories=[{"id": 189, "name": "Games"}, {"id": 2699, "name": "RPG"}],
        restrictions={"pegi_violence": True, "pegi_profanity": True, "pegi_sex": True},
        requirements={
            "minimal": {"reqprocessor": "Core i7-6700", "reqgraphics": "GTX 1060 6GB"},
            "recommended": {"reqprocessor": "Core i7-12700", "reqgraphics": "RTX 2060"},
        },
        videos=[{"type": "youtube", "url": "https://www.youtube.com/watch?v=8X2kIfS6fb8"}],
    ),
    SimProduct(
        product_id="10000003405002",
        name="Terraria (PC) - Steam Key - GLOBAL",
        min_price=4.25,
        qty=50,
    ),
    SimProduct(
        product_id="10000502001003",
        name="Xbox Game Pass Ultimate 1 Month - Xbox Live Key - GLOBAL",
        min_price=11.49,
        qty=50,
        key_kind="image",
        platform="Xbox Live",
        categories=[{"id": 5020, "name": "Subscriptions"}],
    ),
    SimProduct(
        product_id="10000999999999",
        name="Sandbox: G2A out of stock",
        min_price=1.00,
        qty=0,
    ),
)

# The product the sandbox shop sells on G2A, bought from Kinguin (catalog.toml: cs-source);
# the simulator that stands for G2A's Import API in the sandbox adds it.
LISTED_BY_SANDBOX = SimProduct(
    product_id="10000001949004",
    name="Counter-Strike: Source (PC) - Steam Key - GLOBAL",
    min_price=8.49,
    qty=50,
)


def png_for_key(serial: str, size: int = 8) -> bytes:
    """A tiny valid RGB PNG standing for ``serial``: pixels drawn from its SHA-256 and the
    serial in a tEXt chunk, so different serials give different images."""
    return png(serial, size=size)


def listing_filter(query: Mapping[str, str]) -> tuple[int, Callable[[SimProduct], bool]]:
    """The page of ``GET /v1/products`` and its filters (checked here, up front)."""
    page = int_param(query, "page")
    page = 1 if page is None else page
    if not 1 <= page <= MAX_PAGE:
        raise bad_request(f"page must be between 1 and {MAX_PAGE}")
    product_id = query.get("id")
    min_qty = int_param(query, "minQty")
    price_from = float_param(query, "minPriceFrom")
    price_to = float_param(query, "minPriceTo")
    include_out = bool_param(query, "includeOutOfStock", False)
    updated_from = datetime_param(query, "updatedAtFrom")
    updated_to = datetime_param(query, "updatedAtTo")

    def wanted(product: SimProduct) -> bool:
        updated = int(product.updated_at or 0)
        return (
            (product_id is None or product.product_id == product_id)
            and (include_out or product.in_stock)
            and (min_qty is None or product.qty >= min_qty)
            and (price_from is None or product.min_price >= price_from)
            and (price_to is None or product.min_price <= price_to)
            and (updated_from is None or updated >= updated_from)
            and (updated_to is None or updated <= updated_to)
        )

    return page, wanted
