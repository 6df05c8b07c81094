"""Orders of the integration simulator: lines, issued keys, the lazy status, and the seed's
Order Object."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from vendors.simulators.base import Clock
from vendors.simulators.common import iso
from vendors.simulators.kinguin_integration.catalog import KeyType, Outcome, SimProduct

Status = Literal["pending", "processing", "completed", "out_of_stock", "error"]

STATUSES: tuple[Status, ...] = get_args(Status)
FINAL_FAILURES: frozenset[Status] = frozenset({"out_of_stock", "error"})
STORE_ID = 1


@dataclass(frozen=True)
class SimKey:
    """One issued key as the keys endpoint answers it (``serial`` is the secret)."""

    serial: str = field(repr=False)
    type: KeyType
    name: str
    kinguin_id: int


@dataclass
class SimOrderLine:
    kinguin_id: int
    product_id: int
    qty: int
    name: str
    price: float  # per unit, as recorded (current price, or the offer when too low)
    requested_price: float


@dataclass
class SimOrder:
    """An order as the vendor sees it; ``status`` is derived from the clock."""

    order_id: str
    products: list[SimOrderLine]
    total_price: float
    created_at: float
    due_at: float
    final_status: Outcome
    clock: Clock = field(repr=False, compare=False)
    dispatch_id: int | None = None
    dispatched_at: float | None = None
    dispatch_calls: int = 0
    key_items: list[SimKey] = field(default_factory=list, repr=False)
    create_calls: int = 1  # this API has no idempotency key: every request is a new order
    refunded: bool = False
    logged_status: Status = field(default="pending", repr=False)

    @property
    def status(self) -> Status:
        if self.dispatch_id is not None:
            return "completed"
        if self.clock() < self.due_at:
            return "pending"
        return "processing" if self.final_status == "completed" else self.final_status

    @property
    def keys(self) -> list[str]:
        """The serials issued by the dispatch (empty before it)."""
        return [k.serial for k in self.key_items]

    def has_product(self, kinguin_id: int) -> bool:
        return any(line.kinguin_id == kinguin_id for line in self.products)


def order_outcome(products: Iterable[SimProduct], short: bool) -> Outcome:
    """How an order of ``products`` ends (``short``: a price or stock did not suffice)."""
    outcomes = {p.outcome for p in products}
    if "error" in outcomes:
        return "error"
    if short or "out_of_stock" in outcomes:
        return "out_of_stock"
    return "completed"


def _iso(timestamp: float) -> str:
    return iso(math.floor(timestamp))


def order_object(order: SimOrder, *, listed: bool = False) -> dict[str, Any]:
    """The seed's Order Object; in search results an ``error`` order has no ``orderId``
    and every line carries ``product_id``, as in the "Get orders" example."""
    status = order.status
    answer: dict[str, Any] = {"totalPrice": order.total_price}
    if not (listed and status == "error"):
        answer["orderId"] = order.order_id
    answer |= {
        "status": status,
        "storeId": STORE_ID,
        "createdAt": _iso(order.created_at),
        "products": [
            {"kinguinId": line.kinguin_id, "qty": line.qty}
            | ({"product_id": line.product_id} if listed else {})
            | {"name": line.name, "price": line.price}
            for line in order.products
        ],
    }
    if order.dispatch_id is not None and order.dispatched_at is not None:
        answer["dispatch"] = {
            "dispatchId": order.dispatch_id,
            "createdAt": _iso(order.dispatched_at),
        }
    return answer
