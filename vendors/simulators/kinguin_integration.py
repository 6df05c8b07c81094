"""Kinguin's older integration API (``https://api2.kinguin.net/integration``) as a simulator.

An aiohttp server speaking the wire protocol of seed 002 (order API ``v1``): place an
order, dispatch it, download the keys of a dispatch, get one order, search orders. The
sim serves the routes at its root (``/v1/order``, ...), where the real API has them under
``/integration``. The bot runs it in-process in sandbox mode; tests steer it through plain
methods (prices, stock, outcomes, balance) and the base class's fault injection.

Interpretations of the seed (it leaves these open):

* Authentication: header ``api-ecommerce-auth`` (``X-Api-Key`` is accepted as an alias,
  as on Kinguin's newer gateway). Errors are a non-2xx status with ``{"code", "message"}``;
  ``code`` is the HTTP status for authentication (401) and otherwise a kind from Kinguin's
  error table: ``ConstraintViolation``, ``ProductUnavailable``, ``InsufficientBalance``,
  ``OrderNotFound``, ``OrderFailed``, and ``ProductNotFound`` (product endpoint).
* ``POST /v1/order``: every ``qty`` 1..9, 1..10 product lines, ``price`` > 0 (the most
  the buyer pays per unit). An unknown ``kinguinId`` is 400 ``ProductUnavailable`` and
  nothing is created. A price below the current price or a stock below the quantity does
  *not* fail the request: the order is created and, after its pending time, ends in
  ``out_of_stock`` ("Out of requested quantity with given price"). A total above the
  balance is 400 ``InsufficientBalance`` and nothing is created. There is no idempotency
  key: repeating a request buys again.
* Money: each line is recorded at the current price when the offered price covers it
  (else at the offered price); the total is charged on creation and given back when the
  order ends ``out_of_stock`` or ``error``. Stock is taken on creation by orders that will
  complete.
* Statuses are lazy, from one injectable clock: ``pending`` for the products' (longest)
  ``pending_seconds``, then ``processing`` (awaits dispatch), ``completed`` once
  dispatched; or ``out_of_stock`` / ``error`` (the product's steerable ``outcome``).
* ``POST /v1/order/dispatch`` (201 ``{"dispatchId": int}``) works on a ``processing``
  order and issues its keys (one per unit); on an already dispatched order it answers the
  same ``dispatchId`` and issues nothing. ``pending`` is 400 ``ConstraintViolation``;
  ``out_of_stock`` / ``error`` is 400 ``OrderFailed``.
* Keys: ``text/plain`` serials look like Steam keys; ``image/*`` serials are base64 images
  (a tiny PNG or GIF built here, or the seed's own JPEG) carrying a distinct code, so every
  key is distinct. ``name`` is the order line's name (the request's ``name``, else the
  catalogue name).
* ``GET /v1/order`` (search): the "Get orders" example lists an ``error`` order without
  ``orderId`` and with an extra ``product_id`` per line, and the Order Object table marks
  ``orderId`` optional; the search answers exactly that shape (``error`` orders without
  ``orderId``, ``product_id`` on every line). ``GET /v1/order/{orderId}`` answers the
  shape of its own example (always with ``orderId``, no ``product_id``). Filters are
  inclusive; ``createdAtFrom/To`` accept ``Y-m-d``, ``Y-m-d H:i:s``, ``Y-m-dTH:i:s``, with
  or without an offset (naive means UTC); a bare date as ``createdAtTo`` means the end of
  that day. ``name`` is a case-insensitive substring of a line name; ``kinguinId`` and
  ``status`` take comma lists. Bad values are 400 ``ConstraintViolation``; ``limit`` must
  be 1..100 (default 10), ``page`` >= 1. Ties in sorting are broken by order id.
* ``GET /v1/products/{kinguinId}`` is *not* in seed 002: it is a subset of the Product
  Object of Kinguin's products API v1 (kinguinId, productId, name, originalName, platform,
  releaseDate, qty, textQty, price, isPreorder, images.cover), so the shop can read the
  current price and stock.

Keys (serials) are secrets and are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import re
import secrets
import struct
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar, get_args

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from vendors.simulators.base import ApiError, SimulatorServer, parse

logger = logging.getLogger("vendors.simulators.kinguin_integration")

Outcome = Literal["completed", "out_of_stock", "error"]
Status = Literal["pending", "processing", "completed", "out_of_stock", "error"]
KeyType = Literal["text/plain", "image/jpeg", "image/png", "image/gif"]
Clock = Callable[[], float]

STATUSES: tuple[Status, ...] = get_args(Status)
FINAL_FAILURES: frozenset[Status] = frozenset({"out_of_stock", "error"})
FIRST_ORDER_ID = 20549751
FIRST_DISPATCH_ID = 14169762
STORE_ID = 1
DEFAULT_BALANCE = 10_000.0
DEFAULT_STOCK = 100
DEFAULT_PENDING_SECONDS = 1.0
MAX_QTY = 9
MAX_PRODUCTS = 10
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
SORT_FIELDS = ("createdAt", "totalPrice", "status")

# The seed's own example of an image key (a 16x18 greyscale JPEG), reused for image/jpeg.
SEED_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEAYABgAAD//gATQ3JlYXRlZCB3aXRoIEdJTVD/2wBDAFA3PEY8MlBGQUZaVVBfeMiCeG5u"
    "ePWvuZHI////////////////////////////////////////////////////wAALCAASABABAREA/8QAHwAAAQUB"
    "AQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKB"
    "kaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4"
    "eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx"
    "8vP09fb3+Pn6/9oACAEBAAA/AJo0iEMZZFywH8PU4pWjjV1Hlptbj7o60sWfIjAGcqM89OKGUBkUEnndyc06H/UR"
    "/wC6P5U6v//Z"
)
_KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# --------------------------------------------------------------------------- catalogue


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


# --------------------------------------------------------------------------- orders


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


# --------------------------------------------------------------------------- wire models


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class OrderLineRequest(_Body):
    kinguin_id: int = Field(alias="kinguinId")
    qty: int = Field(ge=1, le=MAX_QTY)
    price: float = Field(gt=0)
    name: str | None = None


class PlaceOrderRequest(_Body):
    products: list[OrderLineRequest] = Field(min_length=1, max_length=MAX_PRODUCTS)


class DispatchRequest(_Body):
    order_id: str = Field(alias="orderId", min_length=1)


def _error(status: int, code: str | int, message: str) -> ApiError:
    return ApiError(status, {"code": code, "message": message})


def _invalid(message: str) -> ApiError:
    return _error(400, "ConstraintViolation", message)


_M = TypeVar("_M", bound=BaseModel)


def _parse(model: type[_M], body: Any) -> _M:
    return parse(model, body, _invalid)


# --------------------------------------------------------------------------- simulator


class KinguinIntegrationSimulator(SimulatorServer):
    """HTTP server implementing Kinguin's integration order API v1 (and a product read)."""

    name = "kinguin_integration"

    def __init__(
        self,
        products: Sequence[SimProduct] = DEFAULT_PRODUCTS,
        api_key: str | None = None,
        *,
        clock: Clock = time.time,
        balance: float = DEFAULT_BALANCE,
        hang_seconds: float = 30.0,
    ) -> None:
        super().__init__(hang_seconds=hang_seconds)
        self.products: dict[int, SimProduct] = {p.kinguin_id: p.model_copy() for p in products}
        self.api_key = api_key
        self.clock = clock
        self._balance = balance
        self.orders: dict[str, SimOrder] = {}
        self._dispatches: dict[int, str] = {}
        self._issued_codes: set[str] = set()
        self._next_order_id = FIRST_ORDER_ID
        self._next_dispatch_id = FIRST_DISPATCH_ID

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/order/dispatch/keys", self.endpoint(self._keys))
        app.router.add_post("/v1/order/dispatch", self.endpoint(self._dispatch))
        app.router.add_post("/v1/order", self.endpoint(self._place_order))
        app.router.add_get("/v1/order", self.endpoint(self._search_orders))
        app.router.add_get("/v1/order/{orderId}", self.endpoint(self._get_order))
        app.router.add_get("/v1/products/{kinguinId}", self.endpoint(self._get_product))

    def auth_error(self, request: web.Request) -> ApiError | None:
        if self.api_key is None:
            return None
        given = {request.headers.get("api-ecommerce-auth"), request.headers.get("X-Api-Key")}
        if self.api_key in given:
            return None
        return _error(401, 401, "Invalid authentication data.")

    def bad_json(self) -> ApiError:
        return _invalid("Request body must be JSON")

    # ----------------------------------------------------------------- steering

    @property
    def balance(self) -> float:
        """What is left to spend (refunds of orders that failed meanwhile included)."""
        for order in self.orders.values():
            self._observe(order)
        return self._balance

    @balance.setter
    def balance(self, value: float) -> None:
        self._balance = value

    @property
    def orders_created(self) -> int:
        return len(self.orders)

    def set_price(self, kinguin_id: int, price: float) -> None:
        self.products[kinguin_id].price = price

    def set_stock(self, kinguin_id: int, qty: int) -> None:
        self.products[kinguin_id].qty = qty

    def set_key_type(self, kinguin_id: int, key_type: KeyType) -> None:
        self.products[kinguin_id].key_type = key_type

    def set_outcome(
        self, kinguin_id: int, outcome: Outcome, pending_seconds: float | None = None
    ) -> None:
        """Change the outcome (and optionally the pending time) of orders created from now."""
        product = self.products[kinguin_id]
        product.outcome = outcome
        if pending_seconds is not None:
            product.pending_seconds = pending_seconds

    def order(self, order_id: str | int) -> SimOrder:
        order = self.orders[str(order_id)]
        self._observe(order)
        return order

    def orders_for(self, kinguin_id: int) -> list[SimOrder]:
        """Orders with a line of ``kinguin_id``, oldest first."""
        found = [o for o in self.orders.values() if o.has_product(kinguin_id)]
        for order in found:
            self._observe(order)
        return found

    # ----------------------------------------------------------------- endpoints

    async def _place_order(self, request: web.Request, body: Any) -> web.Response:
        req = _parse(PlaceOrderRequest, body)
        lines: list[SimOrderLine] = []
        wanted: dict[int, int] = {}
        short = False
        for item in req.products:
            product = self.products.get(item.kinguin_id)
            if product is None:
                raise _error(
                    400,
                    "ProductUnavailable",
                    f"Unable to find any offer matching order request criteria "
                    f"(kinguinId {item.kinguin_id}).",
                )
            too_cheap = round(item.price, 2) < round(product.price, 2)
            short = short or too_cheap
            wanted[product.kinguin_id] = wanted.get(product.kinguin_id, 0) + item.qty
            lines.append(
                SimOrderLine(
                    kinguin_id=product.kinguin_id,
                    product_id=product.product_id,
                    qty=item.qty,
                    name=item.name or product.name,
                    price=round(item.price if too_cheap else product.price, 2),
                    requested_price=item.price,
                )
            )
        used = [self.products[kinguin_id] for kinguin_id in wanted]
        short = short or any(wanted[p.kinguin_id] > p.qty for p in used)
        total = round(sum(line.price * line.qty for line in lines), 2)
        if total > round(self._balance, 2):
            raise _error(
                400,
                "InsufficientBalance",
                "There are not enough funds to place an order "
                f"(total {total:.2f} EUR, balance {self._balance:.2f} EUR).",
            )
        outcome = _outcome(used, short)
        order = self._commit(lines, total, outcome, max(p.pending_seconds for p in used))
        if outcome == "completed":
            for product in used:
                product.qty -= wanted[product.kinguin_id]
        return web.json_response({"orderId": order.order_id}, status=201)

    def _commit(
        self, lines: list[SimOrderLine], total: float, outcome: Outcome, pending: float
    ) -> SimOrder:
        now = self.clock()
        order = SimOrder(
            order_id=str(self._next_order_id),
            products=lines,
            total_price=total,
            created_at=now,
            due_at=now + pending,
            final_status=outcome,
            clock=self.clock,
        )
        self._next_order_id += 1
        self._balance -= total
        self.orders[order.order_id] = order
        logger.info(
            "order %s created: %s, total %.2f EUR, balance left %.2f EUR",
            order.order_id,
            ", ".join(f"{line.qty} x {line.kinguin_id}" for line in lines),
            total,
            self._balance,
        )
        self._observe(order)
        return order

    async def _get_order(self, request: web.Request, body: Any) -> dict[str, Any]:
        return _order_object(self._order(request.match_info["orderId"]))

    async def _dispatch(self, request: web.Request, body: Any) -> web.Response:
        order = self._order(_parse(DispatchRequest, body).order_id)
        order.dispatch_calls += 1
        if order.dispatch_id is not None:
            logger.info(
                "order %s: dispatched again (call %s), same dispatch %s",
                order.order_id,
                order.dispatch_calls,
                order.dispatch_id,
            )
            return web.json_response({"dispatchId": order.dispatch_id}, status=201)
        status = order.status
        if status == "pending":
            raise _invalid(f"Order {order.order_id} is pending and cannot be dispatched yet.")
        if status != "processing":
            raise _error(400, "OrderFailed", f"Order {order.order_id} is {status} and has no keys.")
        order.dispatch_id = self._next_dispatch_id
        order.dispatched_at = self.clock()
        self._next_dispatch_id += 1
        self._dispatches[order.dispatch_id] = order.order_id
        for line in order.products:
            key_type = self.products[line.kinguin_id].key_type
            for _ in range(line.qty):
                serial = self._new_serial(key_type)
                order.key_items.append(SimKey(serial, key_type, line.name, line.kinguin_id))
        logger.info(
            "order %s dispatched: dispatch %s, %s keys",
            order.order_id,
            order.dispatch_id,
            len(order.key_items),
        )
        self._observe(order)
        return web.json_response({"dispatchId": order.dispatch_id}, status=201)

    async def _keys(self, request: web.Request, body: Any) -> list[dict[str, Any]]:
        raw = request.query.get("dispatchId", "")
        if not raw.strip().isdigit():
            raise _invalid("Query parameter dispatchId must be an integer.")
        order_id = self._dispatches.get(int(raw))
        if order_id is None:
            raise _error(404, "OrderNotFound", f"Dispatch {int(raw)} not found.")
        return [
            {"serial": k.serial, "type": k.type, "name": k.name, "kinguinId": k.kinguin_id}
            for k in self.orders[order_id].key_items
        ]

    async def _search_orders(self, request: web.Request, body: Any) -> dict[str, Any]:
        query = request.query
        page = _int_param(query, "page", 1, minimum=1)
        limit = _int_param(query, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        sort_by = query.get("sortBy") or "createdAt"
        if sort_by not in SORT_FIELDS:
            raise _invalid(f"Invalid sortBy {sort_by!r}: use one of {', '.join(SORT_FIELDS)}.")
        sort_type = (query.get("sortType") or "desc").lower()
        if sort_type not in ("asc", "desc"):
            raise _invalid(f"Invalid sortType {sort_type!r}: use asc or desc.")
        filters = _filters(query)
        found = [o for o in self.orders.values() if _matches(o, filters)]
        for order in found:
            self._observe(order)

        def sort_key(order: SimOrder) -> tuple[Any, int]:
            value: Any = {
                "createdAt": math.floor(order.created_at),
                "totalPrice": order.total_price,
                "status": order.status,
            }[sort_by]
            return value, int(order.order_id)

        found.sort(key=sort_key, reverse=sort_type == "desc")
        start = (page - 1) * limit
        return {
            "results": [_order_object(o, listed=True) for o in found[start : start + limit]],
            "item_count": len(found),
        }

    async def _get_product(self, request: web.Request, body: Any) -> dict[str, Any]:
        raw = request.match_info["kinguinId"]
        product = self.products.get(int(raw)) if raw.isdigit() else None
        if product is None:
            raise _error(404, "ProductNotFound", f"Product {raw} not found.")
        return {
            "kinguinId": product.kinguin_id,
            "productId": str(product.product_id),
            "name": product.name,
            "originalName": product.name,
            "platform": product.platform,
            "releaseDate": product.release_date,
            "qty": product.qty,
            "textQty": product.qty if product.key_type == "text/plain" else 0,
            "price": product.price,
            "isPreorder": product.is_preorder,
            "images": {"cover": {"url": product.cover_url, "thumbnail": product.cover_url}},
        }

    # ----------------------------------------------------------------- helpers

    def _order(self, order_id: str) -> SimOrder:
        order = self.orders.get(order_id.strip())
        if order is None:
            raise _error(404, "OrderNotFound", f"Order {order_id} not found.")
        self._observe(order)
        return order

    def _observe(self, order: SimOrder) -> None:
        """Log a status change the first time it is noticed and give back the money of a
        failed order (never logs a key)."""
        status = order.status
        if status != order.logged_status:
            logger.info("order %s: %s -> %s", order.order_id, order.logged_status, status)
            order.logged_status = status
        if status in FINAL_FAILURES and not order.refunded:
            order.refunded = True
            self._balance += order.total_price
            logger.info(
                "order %s: %.2f EUR given back, balance %.2f EUR",
                order.order_id,
                order.total_price,
                self._balance,
            )

    def _new_code(self) -> str:
        while True:
            code = "-".join(
                "".join(secrets.choice(_KEY_ALPHABET) for _ in range(5)) for _ in range(3)
            )
            if code not in self._issued_codes:
                self._issued_codes.add(code)
                return code

    def _new_serial(self, key_type: KeyType) -> str:
        code = self._new_code()
        if key_type == "text/plain":
            return code
        image = {"image/png": png_image, "image/gif": gif_image, "image/jpeg": jpeg_image}
        return base64.b64encode(image[key_type](code)).decode("ascii")


def _outcome(products: Iterable[SimProduct], short: bool) -> Outcome:
    outcomes = {p.outcome for p in products}
    if "error" in outcomes:
        return "error"
    if short or "out_of_stock" in outcomes:
        return "out_of_stock"
    return "completed"


# --------------------------------------------------------------------------- wire shapes


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(math.floor(timestamp), UTC).isoformat(timespec="seconds")


def _order_object(order: SimOrder, *, listed: bool = False) -> dict[str, Any]:
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


# --------------------------------------------------------------------------- search


@dataclass(frozen=True)
class _Filters:
    price_from: float | None
    price_to: float | None
    created_from: float | None
    created_to: float | None
    kinguin_ids: frozenset[int] | None
    name: str | None
    statuses: frozenset[str] | None


def _filters(query: Any) -> _Filters:
    kinguin_ids = _csv(query.get("kinguinId"))
    statuses = _csv(query.get("status"))
    if kinguin_ids is not None and not all(v.isdigit() for v in kinguin_ids):
        raise _invalid("Query parameter kinguinId must be an integer (or a comma list).")
    if statuses is not None and not statuses <= set(STATUSES):
        unknown = ", ".join(sorted(statuses - set(STATUSES)))
        raise _invalid(f"Unknown status {unknown}: use {', '.join(STATUSES)}.")
    name = (query.get("name") or "").strip().casefold()
    return _Filters(
        price_from=_float_param(query, "totalPriceFrom"),
        price_to=_float_param(query, "totalPriceTo"),
        created_from=_date_param(query, "createdAtFrom", end_of_day=False),
        created_to=_date_param(query, "createdAtTo", end_of_day=True),
        kinguin_ids=None if kinguin_ids is None else frozenset(int(v) for v in kinguin_ids),
        name=name or None,
        statuses=None if statuses is None else frozenset(statuses),
    )


def _matches(order: SimOrder, f: _Filters) -> bool:
    created = math.floor(order.created_at)
    return (
        (f.price_from is None or order.total_price >= f.price_from)
        and (f.price_to is None or order.total_price <= f.price_to)
        and (f.created_from is None or created >= f.created_from)
        and (f.created_to is None or created <= f.created_to)
        and (f.kinguin_ids is None or any(map(order.has_product, f.kinguin_ids)))
        and (f.name is None or any(f.name in line.name.casefold() for line in order.products))
        and (f.statuses is None or order.status in f.statuses)
    )


def _csv(raw: str | None) -> set[str] | None:
    if raw is None or not raw.strip():
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def _int_param(
    query: Any, name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    raw = (query.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum or (maximum is not None and int(raw) > maximum):
        bounds = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise _invalid(f"Query parameter {name} must be an integer {bounds}.")
    return int(raw)


def _float_param(query: Any, name: str) -> float | None:
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _invalid(f"Query parameter {name} must be a number.") from None
    if not math.isfinite(value):
        raise _invalid(f"Query parameter {name} must be a number.")
    return value


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
# A "+" left unencoded in a query string arrives as a space: "2024-01-01T10:00:00 02:00".
_SPACED_OFFSET = re.compile(r"(.*\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})")


def parse_utc(raw: str, *, end_of_day: bool = False) -> datetime:
    """A date of the API's query strings as an aware datetime (naive means UTC).

    Accepts ``Y-m-d``, ``Y-m-d H:i:s``, ``Y-m-dTH:i:s``, optionally with an offset
    (``Z``, ``+00:00``, ``+0000``). A bare date is its midnight, or with ``end_of_day`` its
    last second. Raises ``ValueError`` for anything else.
    """
    text = raw.strip()
    spaced = _SPACED_OFFSET.fullmatch(text)
    if spaced:
        text = f"{spaced[1]}+{spaced[2]}"
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if end_of_day and _DATE_ONLY.fullmatch(text):
        value += timedelta(days=1, seconds=-1)
    return value


def _date_param(query: Any, name: str, *, end_of_day: bool) -> float | None:
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    try:
        return parse_utc(raw, end_of_day=end_of_day).timestamp()
    except ValueError:
        raise _invalid(
            f"Query parameter {name} must be a UTC date (Y-m-d, Y-m-d H:i:s or Y-m-dTH:i:s)."
        ) from None


# --------------------------------------------------------------------------- key images


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_image(code: str, size: int = 8) -> bytes:
    """A tiny valid greyscale PNG whose pixels and ``tEXt`` chunk carry ``code``."""
    digest = hashlib.sha256(code.encode()).digest()
    pixels = bytes(digest[(x + y * size) % len(digest)] for y in range(size) for x in range(size))
    rows = b"".join(b"\x00" + pixels[y * size : (y + 1) * size] for y in range(size))
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)),
            _png_chunk(b"tEXt", b"Serial\x00" + code.encode("ascii")),
            _png_chunk(b"IDAT", zlib.compress(rows)),
            _png_chunk(b"IEND", b""),
        )
    )


def gif_image(code: str) -> bytes:
    """A valid 1x1 GIF89a carrying ``code`` in a comment extension."""
    comment = code.encode("ascii")[:255]
    return b"".join(
        (
            b"GIF89a",
            struct.pack("<HHBBB", 1, 1, 0x80, 0, 0),  # 1x1, global colour table of 2
            b"\xff\xff\xff\x00\x00\x00",
            b"\x21\xfe" + bytes([len(comment)]) + comment + b"\x00",
            b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0),
            b"\x02\x02\x44\x01\x00",  # LZW: minimum code size 2, one pixel of colour 0
            b"\x3b",
        )
    )


def jpeg_image(code: str) -> bytes:
    """The seed's example JPEG with ``code`` in a COM segment right after SOI."""
    comment = code.encode("ascii")
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return SEED_JPEG[:2] + segment + SEED_JPEG[2:]
