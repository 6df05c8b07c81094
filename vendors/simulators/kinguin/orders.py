"""Orders of the Kinguin simulator: lines of keys whose statuses follow the clock, the order
object, order search and the key images.

Every key of an order has a delivery (or cancellation) time fixed when the order is placed;
keys are delivered one by one over the product's ``processing_seconds`` and the order's
status is derived from its keys. A pre-order's keys wait (PENDING) until the product is
released. Keys are secrets: never log them.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from vendors.simulators.base import Clock
from vendors.simulators.common import iso, unique_code
from vendors.simulators.images import b64, gif, jpeg, png
from vendors.simulators.kinguin import params
from vendors.simulators.kinguin.catalog import Outcome, SimProduct, money

OrderStatus = Literal["processing", "completed", "canceled", "refunded"]
KeyStatus = Literal["PENDING", "PROCESSING", "DELIVERED", "CANCELED", "REFUNDED"]

_IMAGE_MAKERS: dict[str, Callable[[str], bytes]] = {
    "image/png": lambda text: png(text, pixels="solid", keyword="Comment"),
    "image/gif": gif,
    "image/jpeg": jpeg,
}


def key_image(mime: str, text: str) -> bytes:
    """The image of a key of type ``mime`` showing ``text`` (in its metadata)."""
    return _IMAGE_MAKERS[mime](text)


@dataclass
class SimKey:
    """One unit of an order line; its status is derived from the clock."""

    key_id: str
    mime: str
    serial: str = field(repr=False)  # plain text, or base64 of the image
    deliver_at: float = math.inf
    cancel_at: float = math.inf
    refund_at: float = math.inf
    wait_until: float = 0.0  # PENDING before (pre-orders), PROCESSING after

    @classmethod
    def issue(cls, mime: str, issued: set[str]) -> SimKey:
        """A new key of type ``mime`` whose text is none of ``issued`` (and is added to it)."""
        text = unique_code(issued)
        serial = text if mime == "text/plain" else b64(key_image(mime, text))
        return cls(key_id=secrets.token_hex(12), mime=mime, serial=serial)

    def status(self, now: float) -> KeyStatus:
        if now >= self.refund_at:
            return "REFUNDED"
        if now >= self.deliver_at:
            return "DELIVERED"
        if now >= self.cancel_at:
            return "CANCELED"
        return "PENDING" if now < self.wait_until else "PROCESSING"

    @property
    def final_at(self) -> float:
        """When the key reached its final state (inf: not scheduled to)."""
        return min(self.refund_at, self.deliver_at, self.cancel_at)

    def force(self, status: OrderStatus, now: float) -> None:
        """Make the key fit an order forced to ``status`` at ``now`` (see ``force_status``)."""
        delivered = self.deliver_at <= now
        if status == "refunded":
            self.refund_at = min(self.refund_at, now)
        elif delivered:
            return
        elif status == "completed":
            self.deliver_at, self.cancel_at = now, math.inf
        elif status == "canceled":
            self.deliver_at, self.cancel_at = math.inf, now
        else:
            self.deliver_at, self.cancel_at = math.inf, math.inf


@dataclass
class SimOrderLine:
    kinguin_id: int
    product_id: str
    offer_id: str
    name: str
    qty: int
    price: float  # sell price of one unit
    request_price: float
    key_type: str  # "text" or "image"
    is_preorder: bool
    release_date: str
    processing_seconds: float
    outcome: Outcome
    keys: list[SimKey] = field(default_factory=list, repr=False)

    @classmethod
    def take(cls, product: SimProduct, req: Any, now: float, issued: set[str]) -> SimOrderLine:
        """A line of a new order for the request line ``req``: its keys issued and
        scheduled, the product's stock taken."""
        mime = "text/plain" if req.key_type == "text" else product.mime
        preorder = product.is_preorder_at(now)
        line = cls(
            kinguin_id=product.kinguin_id,
            product_id=product.product_id,
            offer_id=product.offer_id,
            name=product.name,
            qty=req.qty,
            price=product.price,
            request_price=req.price,
            key_type="text" if mime == "text/plain" else "image",
            is_preorder=preorder,
            release_date=product.shown_release_date,
            processing_seconds=product.processing_seconds,
            outcome=product.outcome,
            keys=[SimKey.issue(mime, issued) for _ in range(req.qty)],
        )
        line.schedule(max(now, product.release_at or now) if preorder else now)
        product.qty -= req.qty
        if mime == "text/plain":
            product.text_qty = (product.text_qty or 0) - req.qty
        product.text_qty = max(0, min(product.text_qty or 0, product.qty))
        product.updated_at = now
        return line

    def schedule(self, start: float) -> None:
        """Fix the keys' delivery/cancellation times for processing starting at ``start``."""
        n, p = self.qty, self.processing_seconds
        for i, key in enumerate(self.keys):
            key.wait_until = start
            delivered = self.outcome == "completed" or (self.outcome == "partial" and i < n - 1)
            if delivered:
                key.deliver_at, key.cancel_at = start + p * (i + 1) / n, math.inf
            else:
                key.deliver_at, key.cancel_at = math.inf, start + p

    def json(self, now: float, *, with_keys: bool) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kinguinId": self.kinguin_id,
            "offerId": self.offer_id,
            "productId": self.product_id,
            "qty": self.qty,
            "name": self.name,
            "price": self.price,
            "totalPrice": money(self.price * self.qty),
            "requestPrice": self.request_price,
            "isPreorder": self.is_preorder,
            "releaseDate": self.release_date,
            "keyType": self.key_type,
        }
        if with_keys:
            item["keys"] = [{"id": k.key_id, "status": k.status(now)} for k in self.keys]
        return item

    def key_json(self, key: SimKey) -> dict[str, Any]:
        """A delivered key as ``GET /v2/order/{orderId}/keys`` lists it (with its serial)."""
        return {
            "id": key.key_id,
            "serial": key.serial,
            "type": key.mime,
            "name": self.name,
            "kinguinId": self.kinguin_id,
            "offerId": self.offer_id,
            "productId": self.product_id,
        }


@dataclass
class SimOrder:
    """An order as Kinguin sees it; ``status`` and ``keys`` are derived from the clock."""

    order_id: str
    external_id: str | None
    coupon_code: str | None
    created_at: float
    lines: list[SimOrderLine]
    total_price: float
    request_total_price: float
    payment_price: float
    clock: Clock = field(repr=False, compare=False)
    create_calls: int = 1
    forced: OrderStatus | None = None
    forced_at: float = 0.0
    refunded_amount: float = 0.0
    logged_status: OrderStatus = field(default="processing", repr=False)
    notified_status: OrderStatus = field(default="processing", repr=False)

    def all_keys(self) -> list[SimKey]:
        return [key for line in self.lines for key in line.keys]

    @property
    def status(self) -> OrderStatus:
        if self.forced is not None:
            return self.forced
        now = self.clock()
        statuses = {key.status(now) for key in self.all_keys()}
        if "REFUNDED" in statuses:
            return "refunded"
        if statuses <= {"DELIVERED", "CANCELED"}:
            return "canceled" if "CANCELED" in statuses else "completed"
        return "processing"

    @property
    def updated_at(self) -> float:
        """When the order reached its current status."""
        if self.forced is not None:
            return self.forced_at
        if self.status == "processing":
            return self.created_at
        return max(k.final_at for k in self.all_keys() if k.final_at != math.inf)

    @property
    def keys(self) -> list[str]:
        """Serials of the keys delivered so far (base64 for images). Never log them."""
        now = self.clock()
        return [k.serial for k in self.all_keys() if k.status(now) == "DELIVERED"]

    @property
    def qty(self) -> int:
        return sum(line.qty for line in self.lines)

    @property
    def price(self) -> float:
        return self.total_price

    @property
    def is_preorder(self) -> bool:
        return any(line.is_preorder for line in self.lines)

    def force(self, status: OrderStatus, now: float) -> None:
        for key in self.all_keys():
            key.force(status, now)
        self.forced, self.forced_at = status, now

    def release(self, kinguin_id: int, release_date: str, now: float) -> None:
        """The pre-order ``kinguin_id`` is released at ``now``: its waiting keys start."""
        if self.forced is not None:
            return
        for line in self.lines:
            if line.kinguin_id == kinguin_id and line.keys and line.keys[0].wait_until > now:
                line.release_date = release_date
                line.schedule(now)

    def owed(self, status: OrderStatus, now: float) -> float:
        """What Kinguin gives back for an order in ``status``: the payment of a refunded
        order, the share of the payment of a canceled order's canceled keys."""
        if status == "refunded":
            return self.payment_price
        if status != "canceled":
            return 0.0
        lost = sum(
            line.price for line in self.lines for key in line.keys if key.status(now) == "CANCELED"
        )
        share = self.payment_price / self.total_price if self.total_price else 0.0
        return money(lost * share)

    def json(self, user_email: str, store_id: int, *, with_keys: bool = True) -> dict[str, Any]:
        """The order object (``GET /v1/order/{orderId}``; the place answer has no keys)."""
        now = self.clock()
        products = [line.json(now, with_keys=with_keys) for line in self.lines]
        preorder = next((line for line in self.lines if line.is_preorder), None)
        answer: dict[str, Any] = {
            "totalPrice": self.total_price,
            "requestTotalPrice": self.request_total_price,
            "status": self.status,
            "userEmail": user_email,
            "storeId": store_id,
            "createdAt": iso(self.created_at),
            "orderId": self.order_id,
            "orderExternalId": self.external_id,
        }
        if self.coupon_code is not None:
            answer["couponCode"] = self.coupon_code
        answer |= {
            "paymentPrice": self.payment_price,
            "products": products,
            "totalQty": self.qty,
            "isPreorder": preorder is not None,
            "preorderReleaseDate": preorder.release_date if preorder is not None else None,
        }
        return answer


def order_filter(query: Any, now: float) -> Callable[[SimOrder], bool]:
    """The filters of ``GET /v1/order`` (checked here, before any order is looked at)."""
    since = params.date(query, "createdAtFrom", now)
    until = params.date(query, "createdAtTo", now, end_of_day=True)
    preorder = params.yes_no(query, "isPreorder", now)
    kinguin_id = query.get("kinguinId")
    product_id = query.get("productId")

    def wanted(order: SimOrder) -> bool:
        if query.get("orderExternalId") and order.external_id != query["orderExternalId"]:
            return False
        if query.get("orderId") and order.order_id != query["orderId"]:
            return False
        if query.get("status") and order.status != query["status"]:
            return False
        if kinguin_id and all(str(ln.kinguin_id) != kinguin_id for ln in order.lines):
            return False
        if product_id and all(ln.product_id != product_id for ln in order.lines):
            return False
        if preorder is not None and order.is_preorder != preorder:
            return False
        return not (
            (since is not None and order.created_at < since)
            or (until is not None and order.created_at > until)
        )

    return wanted
