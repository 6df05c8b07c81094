"""Kinguin's older integration API (seed 002, ``https://api2.kinguin.net/integration``).

`vendor_offer_id` is a `kinguinId` (a number). An order is placed with ``POST /v1/order``,
its keys are issued by ``POST /v1/order/dispatch`` and read with
``GET /v1/order/dispatch/keys?dispatchId=N`` (text, or a base64 image). Authentication is
the ``api-ecommerce-auth`` header.

This API has **no idempotency key**: repeating ``POST /v1/order`` buys again. So the
workers never have two creates of one product in flight whose outcome is unknown
(`idempotent_creates = False`, storage/create_slots.py), and a resumed order (an earlier
attempt's answer may have been lost) first searches ``GET /v1/order`` for the product's
orders since the first attempt (minus a minute of clock skew), leaves out those another
order of ours holds, and

* adopts the one order that looks like ours (same product and quantity, a unit price not
  above ours; an ``error`` order is listed without ``orderId`` and cannot be ours);
* places again when there is none (the vendor has no order: safe);
* raises `OrderUncertain` when there are several: the worker refunds and alerts, and we
  never buy twice.

To tell the shop's own orders apart, each order line carries the optional ``name`` (free
text in seed 002) set to ``storefront order [<our reference>]``. Where the API echoes it
in the search, an order tagged with our reference is ours and one tagged with another
reference is not; an untagged order (the API replaced the name, or someone ordered by
hand) falls back to the rule above. We never filter by ``name`` on the server: an API
that does not keep our name would then hide our own order.

Statuses: ``pending`` is still processing; ``processing`` ("awaits dispatch") and
``completed`` are complete for us (keys come by dispatching); ``out_of_stock`` and
``error`` are cancelled (the money goes back at Kinguin; the worker refunds).

``GET /v1/products/{kinguinId}`` is *not* in seed 002: it is the product read of
Kinguin's products API v1, which the simulator serves so the shop can quote prices.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import field_validator

from storage.models import Key
from vendors.base import (
    InsufficientFunds,
    OfferNotFound,
    OrderRejected,
    OrderUncertain,
    OutOfStock,
    PlaceOrder,
    Vendor,
    VendorAuthError,
    VendorError,
    VendorOffer,
    VendorOrder,
    VendorOrderStatus,
    VendorUnavailable,
)
from vendors.http import VendorHttp, error_message
from vendors.kinguin import Product, decode_key
from vendors.pace import Pace
from vendors.payload import Payload, TextId
from vendors.settings import VendorSettings, real_api

if TYPE_CHECKING:
    from vendors import VendorContext

NAME = "kinguin-integration"
MAX_QTY = 9  # per product line (the simulator's and Kinguin's limit)
AUTH_HEADER = "api-ecommerce-auth"
CLOCK_SKEW = 60.0  # seconds searched before the first attempt started
SEARCH_LIMIT = 100  # the API's maximum page size
SEARCH_PAGES = 5  # more matching orders than this many pages: we cannot tell
PRICE_EPSILON = 0.005  # prices travel as floats rounded to cents
TAG = re.compile(r"storefront order \[(.+)\]")  # see tag(): an order line's name


class Placed(Payload):
    orderId: TextId


class Dispatch(Payload):
    dispatchId: TextId


class OrderLine(Payload):
    kinguinId: int | None = None
    qty: int = 1
    name: str | None = None
    price: float | None = None


class Order(Payload):
    orderId: TextId | None = None  # absent from listed `error` orders
    status: str
    totalPrice: float | None = None
    createdAt: str | None = None
    products: list[OrderLine] = []
    dispatch: Dispatch | None = None

    @field_validator("dispatch", mode="before")
    @classmethod
    def _no_dispatch(cls, value: Any) -> Any:
        # the Order Object table types `dispatch` as an array: a PHP API sends `[]` for none
        if isinstance(value, list):
            return value[0] if value else None
        return value


class OrderSearch(Payload):
    results: list[Order] = []
    item_count: int = 0


class KeyItem(Payload):
    serial: str
    type: str = "text/plain"
    kinguinId: int | None = None


class KinguinIntegrationSettings(VendorSettings):
    """KINGUIN_INTEGRATION_API_URL, KINGUIN_INTEGRATION_API_KEY,
    KINGUIN_INTEGRATION_RATE_PER_SECOND."""

    model_config = VendorSettings.prefixed("KINGUIN_INTEGRATION_")

    api_url: str | None = "https://api2.kinguin.net/integration"
    required: ClassVar[tuple[str, ...]] = ("api_key",)


async def open_vendor(ctx: VendorContext) -> KinguinIntegrationVendor:
    """The real API when a key is set, else (or with SANDBOX=1) the simulator."""
    settings = KinguinIntegrationSettings()
    url, key = settings.api_url, settings.secret("api_key")
    if not real_api(NAME, settings, ctx.sandbox):
        from vendors.simulators.kinguin_integration import KinguinIntegrationSimulator

        key = key or secrets.token_hex(16)
        simulator = KinguinIntegrationSimulator(api_key=key)
        url = await ctx.start_simulator(simulator, "Kinguin integration")
    assert url is not None
    vendor = KinguinIntegrationVendor(
        url, key, timeout=ctx.timeout, rate_per_second=ctx.rate(settings), pace=ctx.pace
    )
    ctx.stack.push_async_callback(vendor.aclose)
    return vendor


class KinguinIntegrationVendor(Vendor):
    name = NAME
    max_quantity = MAX_QTY
    idempotent_creates = False

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = 10.0,
        rate_per_second: float = 10.0,
        pace: Pace | None = None,
        attempts: int = 3,
    ) -> None:
        self._http = VendorHttp(
            NAME,
            base_url,
            classify=_classify,
            headers={AUTH_HEADER: api_key} if api_key else {},
            timeout=timeout,
            rate_per_second=rate_per_second,
            pace=pace,
            attempts=attempts,
        )
        self.health = self._http.health

    async def aclose(self) -> None:
        await self._http.aclose()

    def check_offer_id(self, offer_id: str) -> str | None:
        if offer_id.isdigit():
            return None
        return "a Kinguin integration offer is a kinguinId (a number)"

    async def get_offer(self, offer_id: str) -> VendorOffer:
        """`GET /v1/products/{kinguinId}`: not in seed 002 (Kinguin's products API v1,
        served by the simulator), read for the price, stock and cover."""
        if not offer_id.isdigit():
            raise OfferNotFound(f"{NAME}: {offer_id!r} is not a kinguinId")
        product = await self._http.get(f"/v1/products/{offer_id}", Product)
        return product.offer(offer_id)

    async def place_order(self, order: PlaceOrder) -> VendorOrder:
        """Buy once. No idempotency key here: a resumed order searches first (see the
        module docstring) and adopts, places again, or raises `OrderUncertain`."""
        if order.quantity > MAX_QTY or order.quantity < 1:
            raise OrderRejected(f"{NAME}: 1 to {MAX_QTY} units per order", "qty")
        if not order.offer_id.isdigit():
            raise OrderRejected(f"{NAME}: {order.offer_id!r} is not a kinguinId", "offer")
        if order.resumed:
            found = await self._find(order)
            if found is not None:
                return found
        line = {
            "kinguinId": int(order.offer_id),
            "qty": order.quantity,
            "price": order.price,
            "name": tag(order.reference),
        }
        # spends money: never retried here; a lost answer is searched for on resume
        placed = await self._http.send("POST", "/v1/order", Placed, json_body={"products": [line]})
        return VendorOrder(placed.orderId, VendorOrderStatus.PROCESSING, currency="EUR")

    async def _find(self, order: PlaceOrder) -> VendorOrder | None:
        """An earlier attempt's order, None when there is none, OrderUncertain when we
        cannot tell which."""
        if order.vendor_order_id:  # an earlier attempt remembered it
            return await self.order_status(order.vendor_order_id)
        if order.placed_at <= 0:
            raise OrderUncertain(f"{NAME}: resumed without the first attempt's time")
        since = datetime.fromtimestamp(order.placed_at - CLOCK_SKEW, UTC)
        params: dict[str, Any] = {
            "kinguinId": order.offer_id,
            "createdAtFrom": since.strftime("%Y-%m-%d %H:%M:%S"),
            "limit": SEARCH_LIMIT,
            "sortBy": "createdAt",
        }
        listed: list[Order] = []
        for page in range(1, SEARCH_PAGES + 1):
            found = await self._http.get("/v1/order", OrderSearch, params=params | {"page": page})
            listed += found.results
            if len(found.results) < SEARCH_LIMIT or len(listed) >= found.item_count:
                break
        else:
            raise OrderUncertain(f"{NAME}: too many recent orders of {order.offer_id} to tell")
        if order.taken is not None:  # another customer's order of the same product
            others = await order.taken([str(o.orderId) for o in listed if o.orderId])
            listed = [o for o in listed if str(o.orderId) not in others]
        mine, similar = _candidates(listed, order)
        chosen = mine or similar
        if len(chosen) > 1:
            ids = ", ".join(str(o.orderId) for o in chosen)
            raise OrderUncertain(f"{NAME}: several orders could be ours ({ids})", "ambiguous")
        return _vendor_order(chosen[0]) if chosen else None

    async def order_status(self, vendor_order_id: str) -> VendorOrder:
        return _vendor_order(await self._order(vendor_order_id))

    async def fetch_keys(self, vendor_order_id: str) -> tuple[Key, ...]:
        order = await self._order(vendor_order_id)
        dispatch = order.dispatch
        if dispatch is None:
            status = order.status.lower()
            if status in ("out_of_stock", "error"):
                raise OrderRejected(f"{NAME}: order {vendor_order_id} is {status}", status)
            if status not in ("processing", "completed"):
                raise VendorUnavailable(f"{NAME}: order {vendor_order_id} is {status}")
            # the API answers the same dispatch for an order already dispatched: safe
            dispatch = await self._http.send(
                "POST",
                "/v1/order/dispatch",
                Dispatch,
                json_body={"orderId": vendor_order_id},
                safe=True,
            )
        items = await self._http.get(
            "/v1/order/dispatch/keys", list[KeyItem], params={"dispatchId": dispatch.dispatchId}
        )
        wanted = sum(line.qty for line in order.products)
        if not items or len(items) < wanted:
            raise VendorUnavailable(
                f"{NAME}: dispatch {dispatch.dispatchId} holds {len(items)} of {wanted} keys"
            )
        return tuple(decode_key(item.serial, item.type) for item in items)

    async def _order(self, vendor_order_id: str) -> Order:
        order = await self._http.get(f"/v1/order/{vendor_order_id}", Order)
        if order.orderId is None:
            order = order.model_copy(update={"orderId": vendor_order_id})
        return order


def tag(reference: str) -> str:
    """The order line's `name`: our reference, bracketed so a cut-off name reads as none."""
    return f"storefront order [{reference}]"


def _tagged(order: Order) -> str | None:
    """The reference an order's lines were tagged with, where the API kept our name."""
    found = {m[1] for line in order.products if line.name and (m := TAG.fullmatch(line.name))}
    return found.pop() if len(found) == 1 else None


def _candidates(listed: list[Order], order: PlaceOrder) -> tuple[list[Order], list[Order]]:
    """(orders tagged with our reference, untagged orders that look like ours)."""
    kinguin_id = int(order.offer_id)
    mine: list[Order] = []
    similar: list[Order] = []
    for candidate in listed:
        if not candidate.orderId:  # a listed `error` order: never ours to adopt
            continue
        reference = _tagged(candidate)
        if reference == order.reference:
            mine.append(candidate)
        elif reference is None and _looks_like(candidate, kinguin_id, order):
            similar.append(candidate)
    return mine, similar


def _looks_like(candidate: Order, kinguin_id: int, order: PlaceOrder) -> bool:
    lines = candidate.products
    return (
        bool(lines)
        and all(line.kinguinId == kinguin_id for line in lines)
        and sum(line.qty for line in lines) == order.quantity
        and all(line.price is None or line.price <= order.price + PRICE_EPSILON for line in lines)
    )


_STATUSES = {
    "pending": VendorOrderStatus.PROCESSING,
    "processing": VendorOrderStatus.COMPLETED,  # awaits dispatch: fetch_keys dispatches
    "completed": VendorOrderStatus.COMPLETED,
    "out_of_stock": VendorOrderStatus.CANCELED,
    "error": VendorOrderStatus.CANCELED,
}


def _vendor_order(order: Order) -> VendorOrder:
    status = _STATUSES.get(order.status.lower())
    if status is None or order.orderId is None:
        raise VendorUnavailable(f"{NAME}: unexpected order status {order.status!r}")
    return VendorOrder(order.orderId, status, price=order.totalPrice, currency="EUR")


# Error kinds (ErrorsCodes.md) that are temporary wherever they come from.
_TEMPORARY = {"Error", "HttpClient", "Http", "ResourceLock"}


def _classify(status: int, body: Any, where: str) -> VendorError | None:
    """`{"code", "message"}` (seed 002) or `{"kind", "detail"}` (as the ESA answers)."""
    kind: str | None = None
    if isinstance(body, dict):
        raw = body.get("code") or body.get("kind")
        kind = str(raw) if raw is not None else None
    text = f"{where}: HTTP {status} {kind or ''} {error_message(body)}".strip()
    if status == 429 or status >= 500:
        return None  # the shared mapping: rate limited, temporary
    if status in (401, 403) or kind in ("Authorization", "401", "403"):
        return VendorAuthError(text, kind)
    if status == 404 and "/v1/products/" in where:
        return OfferNotFound(text, kind)
    if kind in _TEMPORARY:
        return VendorUnavailable(text, kind)
    if where.endswith("POST /v1/order"):  # nothing was created
        if kind == "InsufficientBalance":
            return InsufficientFunds(text, kind)
        if kind == "ProductUnavailable":
            return OutOfStock(text, kind)
        return OrderRejected(text, kind)  # ConstraintViolation, OrderFailed, Preorder...
    if where.endswith("POST /v1/order/dispatch") and kind == "OrderFailed":
        return OrderRejected(text, kind)  # out_of_stock / error: no keys, ever
    return VendorUnavailable(text, kind)  # OrderNotFound, a pending dispatch...
