"""How the Kinguin simulator checks a new order (``POST /v1/order``, ``POST /v2/order``):
the body models and Kinguin's rules, in the order Kinguin applies them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field, ValidationError

from vendors.simulators.base import RequestBody
from vendors.simulators.kinguin.catalog import SimProduct, money
from vendors.simulators.kinguin.errors import error, unavailable, violation

MAX_QTY_PER_PRODUCT = 9
MAX_PRODUCTS_PER_ORDER = 10

# A product line as asked for: the catalogue's product (None: unknown) and the request line.
Asked = tuple[SimProduct | None, Any]


class _LineV1(RequestBody):
    kinguin_id: int = Field(alias="kinguinId")
    qty: int
    price: float
    key_type: str | None = Field(default=None, alias="keyType")
    offer_id: str | None = Field(default=None, alias="offerId")
    name: str | None = None


class _LineV2(RequestBody):
    product_id: str = Field(alias="productId")
    qty: int
    price: float
    key_type: str | None = Field(default=None, alias="keyType")
    offer_id: str | None = Field(default=None, alias="offerId")
    name: str | None = None


class OrderV1(RequestBody):
    products: list[_LineV1]
    order_external_id: str | None = Field(default=None, alias="orderExternalId")
    coupon_code: str | None = Field(default=None, alias="couponCode")


class OrderV2(RequestBody):
    products: list[_LineV2]
    order_external_id: str | None = Field(default=None, alias="orderExternalId")
    coupon_code: str | None = Field(default=None, alias="couponCode")


def validate(model: type[OrderV1] | type[OrderV2], body: Any, now: float) -> Any:
    """The body as ``model``; the first mistake is a ``ConstraintViolation``."""
    if not isinstance(body, dict):
        raise error(
            400,
            "ConstraintViolation",
            "Invalid request body. This value should be of type object.",
            property_path="body",
            now=now,
        )
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = _loc(err["loc"])
        value = err.get("input")
        raise violation(
            path, f"{err['msg']}.", now, value if not isinstance(value, dict | list) else None
        ) from None


def _loc(loc: Iterable[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def check_shape(lines: list[Asked], now: float) -> dict[int, int]:
    """The payload's constraints; returns the quantity wanted of each known product."""
    if not lines:
        raise violation("products", "This collection should contain 1 element or more.", now, 0)
    if len(lines) > MAX_PRODUCTS_PER_ORDER:
        raise violation(
            "products",
            f"This collection should contain {MAX_PRODUCTS_PER_ORDER} elements or less.",
            now,
            len(lines),
        )
    wanted: dict[int, int] = {}
    for i, (product, line) in enumerate(lines):
        if line.qty < 1:
            raise violation(f"products[{i}].qty", "This value should be 1 or more.", now, line.qty)
        if line.qty > MAX_QTY_PER_PRODUCT:
            raise violation(
                f"products[{i}].qty",
                f"This value should be {MAX_QTY_PER_PRODUCT} or less.",
                now,
                line.qty,
            )
        if line.key_type is not None and line.key_type != "text":
            raise violation(
                f"products[{i}].keyType",
                "The value you selected is not a valid choice.",
                now,
                line.key_type,
            )
        if line.price <= 0:
            raise violation(
                f"products[{i}].price", "This value should be positive.", now, line.price
            )
        if product is not None:
            total = wanted.get(product.kinguin_id, 0) + line.qty
            wanted[product.kinguin_id] = total
            if total > MAX_QTY_PER_PRODUCT:
                raise violation(
                    "products",
                    f'Sum of "qty" of one product must be lower than or equal '
                    f"{MAX_QTY_PER_PRODUCT}.",
                    now,
                    total,
                )
    return wanted


def resolve(lines: list[Asked], now: float) -> list[SimProduct]:
    """The products (and offers) asked for; an unknown one is ProductUnavailable."""
    products: list[SimProduct] = []
    for i, (product, line) in enumerate(lines):
        if product is None:
            raise unavailable(i, "product not found.", now)
        if line.offer_id is not None and line.offer_id != product.offer_id:
            raise unavailable(i, f"offer {line.offer_id} not found.", now)
        products.append(product)
    return products


def check_preorders(products: list[SimProduct], lines: list[Asked], now: float) -> None:
    """A pre-order comes alone, once, and without a key type."""
    preorders = [i for i, p in enumerate(products) if p.is_preorder_at(now)]
    if not preorders:
        return
    first = preorders[0]
    if len(preorders) > 1:
        detail = "Only one pre-order product is allowed per order."
    elif len(products) > 1:
        detail = "A pre-order cannot be mixed with other products."
    elif lines[first][1].key_type is not None:
        detail = "The key type cannot be selected for a pre-order."
    else:
        return
    raise error(400, "Preorder", detail, property_path=f"products[{first}]", now=now)


def check_offers(
    products: list[SimProduct], requested: list[Any], wanted: dict[int, int], now: float
) -> None:
    """Each line offers at least the current price, and the stock covers what is wanted."""
    for i, (product, line) in enumerate(zip(products, requested, strict=True)):
        if money(line.price) < money(product.price):
            raise unavailable(
                i, f"requested price {line.price:.2f} is lower than {product.price:.2f}.", now
            )
        stock = (product.text_qty or 0) if line.key_type == "text" else product.qty
        if wanted[product.kinguin_id] > stock:
            raise unavailable(i, f"not enough quantity ({stock} available).", now)
