"""The integration simulator's catalogue: products, the default ones, the product object
(``GET /v1/products/{kinguinId}``) and the images of image keys."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel

from vendors.simulators.images import gif, jpeg, png

Outcome = Literal["completed", "out_of_stock", "error"]
KeyType = Literal["text/plain", "image/jpeg", "image/png", "image/gif"]

DEFAULT_STOCK = 100
DEFAULT_PENDING_SECONDS = 1.0

# The seed's own example of an image key (a 16x18 greyscale JPEG), reused for image/jpeg.
SEED_JPEG_BASE64 = (
    "/9j/4AAQSkZJRgABAQEAYABgAAD//gATQ3JlYXRlZCB3aXRoIEdJTVD/2wBDAFA3PEY8MlBGQUZaVVBfeMiCeG5u"
    "ePWvuZHI////////////////////////////////////////////////////wAALCAASABABAREA/8QAHwAAAQUB"
    "AQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKB"
    "kaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4"
    "eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx"
    "8vP09fb3+Pn6/9oACAEBAAA/AJo0iEMZZFywH8PU4pWjjV1Hlptbj7o60sWfIjAGcqM89OKGUBkUEnndyc06H/UR"
    "/wC6P5U6v//Z"
)
SEED_JPEG = base64.b64decode(SEED_JPEG_BASE64)

# Image keys: a greyscale PNG, a white GIF, or the seed's JPEG, each carrying the key's code.
_IMAGES: dict[str, Callable[[str], bytes]] = {
    "image/png": functools.partial(png, pixels="grey"),
    "image/gif": functools.partial(gif, colour=b"\xff\xff\xff"),
    "image/jpeg": functools.partial(jpeg, base=SEED_JPEG),
}


def key_image(key_type: str, code: str) -> bytes:
    """The image of a key of type ``key_type`` (an ``image/*`` type) carrying ``code``."""
    return _IMAGES[key_type](code)


class SimProduct(BaseModel):
    """One product of the simulated catalogue (mutable: steer it with the simulator)."""

    kinguin_id: int
    product_id: int
    name: str
    price: float  # EUR
    qty: int = DEFAULT_STOCK
    key_type: KeyType = "text/plain"
    outcome: Outcome = "completed"
    pending_seconds: float = DEFAULT_PENDING_SECONDS
    platform: str = "Steam"
    release_date: str | None = None
    is_preorder: bool = False

    @property
    def cover_url(self) -> str:
        return f"https://sandbox.invalid/kinguin/{self.kinguin_id}/cover.jpg"

    def product_object(self) -> dict[str, Any]:
        """A subset of the Product Object of Kinguin's products API v1 (not in seed 002)."""
        return {
            "kinguinId": self.kinguin_id,
            "productId": str(self.product_id),
            "name": self.name,
            "originalName": self.name,
            "platform": self.platform,
            "releaseDate": self.release_date,
            "qty": self.qty,
            "textQty": self.qty if self.key_type == "text/plain" else 0,
            "price": self.price,
            "isPreorder": self.is_preorder,
            "images": {"cover": {"url": self.cover_url, "thumbnail": self.cover_url}},
        }


DEFAULT_PRODUCTS: tuple[SimProduct, ...] = (
    SimProduct(
        kinguin_id=5,
        product_id=112,
        name="Anno 1602 History Edition",
        price=3.59,
        platform="Uplay",
        release_date="2019-06-25",
    ),
    SimProduct(
        kinguin_id=8,
        product_id=215,
        name="Aliens: Colonial Marines",
        price=4.99,
        key_type="image/jpeg",
        release_date="2013-02-12",
    ),
    SimProduct(
        kinguin_id=18,
        product_id=367,
        name="Battlefield 3 Close Quarters Expansion Pack DLC",
        price=13.50,
        platform="Origin",
        release_date="2012-06-12",
    ),
    SimProduct(
        kinguin_id=99,
        product_id=9901,
        name="Sandbox: always out of stock",
        price=1.00,
        outcome="out_of_stock",
    ),
)
