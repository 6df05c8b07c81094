"""G2A simulator, buying half: the Export API (products, orders, payment, keys).

The real Export API lives at ``https://api.g2a.com/v1/...``; this server serves the same
``/v1/...`` paths at its root. With SANDBOX=1 the bot runs it in-process; tests run it
too and steer it through plain methods and the base class's ``fail_next``.

Purchase flow: ``POST /v1/order`` creates an unpaid order (nothing is charged), ``PUT
/v1/order/pay/{id}`` (empty body) charges the balance, ``GET /v1/order/details/{id}``
says ``pending`` until ``paid_at + processing_seconds`` and ``complete`` afterwards, and
``GET /v1/order/key/{id}`` hands the key out exactly once. Order state is computed lazily
from one injectable clock. Keys are secrets and are never logged.

Authentication (checked only when both ``api_hash`` and ``api_key`` are given); any of
three schemes is accepted:

* ``hash`` (the contract's): ``X-API-HASH``, ``X-API-KEY``, ``X-G2A-Timestamp`` (unix
  seconds, at most 300 s off the simulator's clock) and ``X-G2A-Hash`` = hex
  SHA-256(hash + key + timestamp);
* ``sandbox``: ``Authorization: "{hash}, {key}"``;
* ``production``: ``Authorization: "{key}, {sha256hex(key + email + hash)}"`` (only when
  the simulator was given an ``email``).

Errors are ``{"status": "ERROR", "code": ..., "message": ...}``. Codes from the contract:
AUTH01 400 (neither ``Authorization`` nor any ``X-API-*``/``X-G2A-*`` header), AUTH02 401
(credentials, signature or timestamp do not match), AUTH03 401 (``set_ip_blocked``),
AUTH04 401 (``set_method_forbidden``), BR03 429 with ``Retry-After`` (``set_rate_limited``),
ORD02 404, ORD004 400, ORD05 402, ORD03/ORD112/ORD114/ORD121 403, ORD122 502.

Codes the contract leaves open, chosen here (module constants of the same names):

* ``PRODUCT_NOT_FOUND`` = PRD01, 404: unknown product (``GET /v1/products/{id}``, and
  ``POST /v1/order`` for an unknown ``product_id``);
* ``OUT_OF_STOCK`` = ORD01, 400: ordering a product with ``qty`` 0 or ``availableToBuy``
  false;
* ``PRICE_ABOVE_MAX`` = ORD06, 400: the product's ``minPrice`` is above ``max_price``;
* ``ALREADY_PAID`` = ORD07, 400: paying an order whose payment is complete (while the
  payment is still processing the answer is ORD05, 402);
* ``BAD_REQUEST`` = BR01, 400: malformed body or query parameter, unsupported currency,
  or a non-empty body on ``PUT /v1/order/pay/{id}``;
* ``ROUTE_NOT_FOUND`` = NF01, 404: any path the Export API does not have, notably
  ``GET /v1/products/{id}/stock`` and ``POST /v1/products/prices``.

Fault-injection suffixes: besides the base class's "path ends with" rule, a suffix ending in
``/`` also matches the path up to its last segment, so ``fail_next("/v1/order/key/", ...)``
or ``fail_next("/pay/", ...)`` hit ``/v1/order/key/{id}`` and ``/v1/order/pay/{id}``
(the same rule serves ``calls()`` and ``set_method_forbidden``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import struct
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from vendors.simulators.base import ApiError, SimulatorServer, matches_suffix, parse

logger = logging.getLogger("vendors.simulators.g2a")

Clock = Callable[[], float]
KeyKind = Literal["text", "image"]
OrderStatus = Literal["pending", "complete"]
PayErrorCode = Literal["ORD112", "ORD114", "ORD03", "ORD05", "ORD121", "ORD122"]

EXPORT_PREFIX = "/v1"
PAGE_SIZE = 20
MAX_PAGE = 500
TIMESTAMP_TOLERANCE = 300  # seconds X-G2A-Timestamp may be off the simulator's clock
DEFAULT_BALANCE = 10_000.0  # EUR
DEFAULT_PAY_DEADLINE = 600.0  # seconds after creation an order can still be paid
FIRST_ORDER_ID = 20_000_000_001
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # updated_at and the updatedAt* filters (UTC)

PRODUCT_NOT_FOUND = "PRD01"
OUT_OF_STOCK = "ORD01"
PRICE_ABOVE_MAX = "ORD06"
ALREADY_PAID = "ORD07"
BAD_REQUEST = "BR01"
ROUTE_NOT_FOUND = "NF01"
RATE_LIMITED = "BR03"

# The contract's pay errors: code -> (HTTP status, message).
PAY_ERRORS: dict[str, tuple[int, str]] = {
    "ORD112": (403, "Not enough funds to pay for order"),
    "ORD114": (403, "Payment is too late. Try with another order"),
    "ORD03": (403, "Payment is not ready yet. Try again later"),
    "ORD05": (402, "Payment required or in progress"),
    "ORD121": (403, "G2A PAY limit reached"),
    "ORD122": (502, "Bad Gateway"),
}

_KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_AUTH_HEADERS = ("X-API-HASH", "X-API-KEY", "X-G2A-Timestamp", "X-G2A-Hash")


# --------------------------------------------------------------------------- catalogue


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


# --------------------------------------------------------------------------- orders


@dataclass
class SimOrder:
    """An order as G2A sees it; ``status`` is derived from the clock."""

    order_id: str
    product_id: str
    price: float
    currency: str
    is_file: bool
    created_at: float
    processing_seconds: float
    clock: Clock = field(repr=False, compare=False)
    key: str = field(default="", repr=False)  # the serial (an image product: drawn as PNG)
    paid: bool = False
    paid_at: float | None = None
    transaction_id: str | None = None
    pay_calls: int = 0
    key_downloads: int = 0  # successful key answers (0 or 1)
    key_calls: int = 0  # every key request for this order
    logged_status: OrderStatus = field(default="pending", repr=False)

    @property
    def status(self) -> OrderStatus:
        if self.paid_at is None or self.clock() < self.paid_at + self.processing_seconds:
            return "pending"
        return "complete"

    @property
    def completed_at(self) -> float | None:
        """Clock time at which the order became complete (None while pending)."""
        if self.status != "complete" or self.paid_at is None:
            return None
        return self.paid_at + self.processing_seconds


# --------------------------------------------------------------------------- wire models


class CreateOrderRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    product_id: str
    currency: str = "EUR"
    max_price: float | None = None


def _error(status: int, code: str, message: str) -> ApiError:
    """G2A answers errors as ``{"status": "ERROR", "code": ..., "message": ...}``."""
    return ApiError(status, {"status": "ERROR", "code": code, "message": message})


def _bad_request(message: str) -> ApiError:
    return _error(400, BAD_REQUEST, message)


_M = TypeVar("_M", bound=BaseModel)


def _parse(model: type[_M], body: Any) -> _M:
    return parse(model, body, _bad_request)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison that tolerates any header text."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def format_datetime(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime(DATETIME_FORMAT)


# --------------------------------------------------------------------------- PNG keys


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_for_key(serial: str, size: int = 8) -> bytes:
    """A tiny valid RGB PNG standing for ``serial``: pixels drawn from its SHA-256 and the
    serial in a tEXt chunk, so different serials give different images."""
    digest = hashlib.sha256(serial.encode()).digest()
    rows = b"".join(
        b"\x00" + bytes(digest[(y * size + x) * 3 % 30 + c] for x in range(size) for c in range(3))
        for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"tEXt", b"Serial\x00" + serial.encode()),
            _png_chunk(b"IDAT", zlib.compress(rows)),
            _png_chunk(b"IEND", b""),
        )
    )


# --------------------------------------------------------------------------- simulator


class G2ASimulator(SimulatorServer):
    """HTTP server implementing G2A's Export API (an Import API can be added beside it)."""

    name = "g2a"

    def __init__(
        self,
        products: Sequence[SimProduct] = DEFAULT_PRODUCTS,
        *,
        api_hash: str | None = None,
        api_key: str | None = None,
        email: str | None = None,
        clock: Clock = time.time,
        balance: float = DEFAULT_BALANCE,
        pay_deadline_seconds: float = DEFAULT_PAY_DEADLINE,
        hang_seconds: float = 30.0,
    ) -> None:
        if (api_hash is None) != (api_key is None):
            raise ValueError("give both api_hash and api_key, or neither")
        super().__init__(hang_seconds=hang_seconds)
        self.api_hash = api_hash
        self.api_key = api_key
        self.email = email
        self.clock = clock
        self.balance = balance
        self.pay_deadline_seconds = pay_deadline_seconds
        now = clock()
        self.products: dict[str, SimProduct] = {}
        for product in products:
            copy = product.model_copy(deep=True)
            if copy.updated_at is None:
                copy.updated_at = now
            self.products[copy.product_id] = copy
        self.orders: dict[str, SimOrder] = {}
        self._next_order_id = FIRST_ORDER_ID
        self._issued_keys: set[str] = set()
        self._pay_errors: list[str] = []
        self._rate_limited = 0
        self._ip_blocked = False
        self._forbidden: set[str] = set()

    # ----------------------------------------------------------------- wiring

    def routes(self, app: web.Application) -> None:
        self.export_routes(app)
        # An Import API simulator would register its routes here, before the catch-all.
        app.router.add_route("*", "/{tail:.*}", self.endpoint(self._route_not_found))

    def export_routes(self, app: web.Application) -> None:
        """The Export API (buying): products, orders, payment, keys."""
        add, p = app.router, EXPORT_PREFIX
        add.add_get(p + "/products", self.endpoint(self._list_products))
        add.add_get(p + "/products/{product_id}", self.endpoint(self._get_product))
        add.add_post(p + "/order", self.endpoint(self._create_order))
        add.add_put(p + "/order/pay/{order_id}", self.endpoint(self._pay_order))
        add.add_get(p + "/order/details/{order_id}", self.endpoint(self._order_details))
        add.add_get(p + "/order/key/{order_id}", self.endpoint(self._order_key))

    def auth_error(self, request: web.Request) -> ApiError | None:
        if self._rate_limited > 0:
            self._rate_limited -= 1
            return _error(429, RATE_LIMITED, "Too many requests to the API")
        refused = self._export_auth_error(request)
        if refused is not None:
            return refused
        if self._ip_blocked:
            return _error(401, "AUTH03", "Unallowed IP address")
        if any(matches_suffix(request.path, suffix) for suffix in self._forbidden):
            return _error(401, "AUTH04", "No privileges to this method")
        return None

    def error_answer(self, error: ApiError) -> web.Response:
        headers = {"Retry-After": str(self.retry_after)} if error.status == 429 else None
        return web.json_response(error.body, status=error.status, headers=headers)

    def bad_json(self) -> ApiError:
        return _bad_request("Request body must be empty or JSON")

    def _export_auth_error(self, request: web.Request) -> ApiError | None:
        if self.api_hash is None or self.api_key is None:
            return None
        headers = request.headers
        authorization = headers.get("Authorization")
        if authorization is None and not any(h in headers for h in _AUTH_HEADERS):
            return _error(400, "AUTH01", "No Authorization header")
        if self._hash_headers_ok(request) or (
            authorization is not None and self._authorization_ok(authorization)
        ):
            return None
        return _error(401, "AUTH02", "Merchant with this authorization not found")

    def _hash_headers_ok(self, request: web.Request) -> bool:
        assert self.api_hash is not None and self.api_key is not None
        headers = request.headers
        timestamp = headers.get("X-G2A-Timestamp", "")
        if not (timestamp.isascii() and timestamp.isdigit()):
            return False
        if abs(int(timestamp) - self.clock()) > TIMESTAMP_TOLERANCE:
            return False
        expected = sha256_hex(self.api_hash + self.api_key + timestamp)
        return (
            _same(headers.get("X-API-HASH", ""), self.api_hash)
            and _same(headers.get("X-API-KEY", ""), self.api_key)
            and _same(headers.get("X-G2A-Hash", "").lower(), expected)
        )

    def _authorization_ok(self, authorization: str) -> bool:
        assert self.api_hash is not None and self.api_key is not None
        parts = [part.strip() for part in authorization.split(",")]
        if len(parts) != 2:
            return False
        first, second = parts
        if _same(first, self.api_hash) and _same(second, self.api_key):  # sandbox
            return True
        if self.email is None:
            return False
        signature = sha256_hex(self.api_key + self.email + self.api_hash)  # production
        return _same(first, self.api_key) and _same(second.lower(), signature)

    # ----------------------------------------------------------------- steering

    @property
    def orders_created(self) -> int:
        return len(self.orders)

    @property
    def paid_orders(self) -> int:
        return sum(order.paid for order in self.orders.values())

    def order(self, order_id: str) -> SimOrder:
        return self.orders[order_id]

    def set_price(self, product_id: str, price: float) -> None:
        product = self.products[product_id]
        product.min_price = price
        product.updated_at = self.clock()

    def set_stock(self, product_id: str, qty: int) -> None:
        product = self.products[product_id]
        product.qty = qty
        product.updated_at = self.clock()

    def set_available(self, product_id: str, available: bool) -> None:
        """Set ``availableToBuy`` (an in-stock product G2A will still not sell)."""
        product = self.products[product_id]
        product.available_to_buy = available
        product.updated_at = self.clock()

    def set_processing_seconds(self, product_id: str, seconds: float) -> None:
        """How long orders paid from now on stay ``pending`` after payment."""
        self.products[product_id].processing_seconds = seconds

    def set_pay_error(self, code: PayErrorCode, times: int = 1) -> None:
        """Make the next ``times`` payments of an existing order answer ``code`` (with the
        contract's HTTP status) without charging anything."""
        if code not in PAY_ERRORS:
            raise ValueError(f"not a pay error code: {code}")
        self._pay_errors.extend([code] * times)

    def set_rate_limited(self, n: int) -> None:
        """Answer the next ``n`` requests (any path) 429 BR03 with ``Retry-After``."""
        self._rate_limited = n

    def set_ip_blocked(self, blocked: bool) -> None:
        """Refuse every request with 401 AUTH03 (after the credentials check)."""
        self._ip_blocked = blocked

    def set_method_forbidden(self, path_suffix: str | None) -> None:
        """Refuse requests to matching paths with 401 AUTH04; None lifts every ban."""
        if path_suffix is None:
            self._forbidden.clear()
        else:
            self._forbidden.add(path_suffix)

    # ----------------------------------------------------------------- products

    async def _list_products(self, request: web.Request, body: Any) -> dict[str, Any]:
        query = request.query
        page = _int_param(query, "page")
        page = 1 if page is None else page
        if not 1 <= page <= MAX_PAGE:
            raise _bad_request(f"page must be between 1 and {MAX_PAGE}")
        product_id = query.get("id")
        min_qty = _int_param(query, "minQty")
        price_from = _float_param(query, "minPriceFrom")
        price_to = _float_param(query, "minPriceTo")
        include_out = _bool_param(query, "includeOutOfStock", False)
        updated_from = _datetime_param(query, "updatedAtFrom")
        updated_to = _datetime_param(query, "updatedAtTo")

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

        found = [p for p in self.products.values() if wanted(p)]
        docs = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return {"total": len(found), "page": page, "docs": [self._product_doc(p) for p in docs]}

    async def _get_product(self, request: web.Request, body: Any) -> dict[str, Any]:
        return self._product_doc(self._product(request.match_info["product_id"]))

    def _product(self, product_id: str) -> SimProduct:
        product = self.products.get(product_id)
        if product is None:
            raise _error(404, PRODUCT_NOT_FOUND, "Product not found")
        return product

    def _product_doc(self, product: SimProduct) -> dict[str, Any]:
        pid = product.product_id
        cover = f"https://images.g2a.com/sim/{pid}/cover.jpg"
        return {
            "id": pid,
            "name": product.name,
            "type": product.product_type,
            "slug": "/" + _SLUG_JUNK.sub("-", product.name.lower()).strip("-") + f"-i{pid}",
            "qty": product.qty,
            "minPrice": product.min_price,
            "retail_min_price": round(product.min_price * 1.15, 2),
            "retailMinBasePrice": round(product.min_price * 1.1, 2),
            "availableToBuy": product.buyable,
            "priceLimit": {"min": product.price_limit_min, "max": product.price_limit_max},
            "coverImage": cover,
            "images": [cover, f"https://images.g2a.com/sim/{pid}/1.jpg"],
            "categories": [dict(c) for c in product.categories],
            "platform": product.platform,
            "region": product.region,
            "updated_at": format_datetime(product.updated_at or 0),
            "restrictions": dict(product.restrictions),
            "requirements": dict(product.requirements),
            "videos": [dict(v) for v in product.videos],
        }

    # ----------------------------------------------------------------- orders

    async def _create_order(self, request: web.Request, body: Any) -> dict[str, Any]:
        req = _parse(CreateOrderRequest, body)
        if req.currency.upper() != "EUR":
            raise _bad_request(f"Unsupported currency: {req.currency}")
        product = self._product(req.product_id)
        if not product.buyable:
            raise _error(400, OUT_OF_STOCK, "Product is out of stock")
        if req.max_price is not None and round(product.min_price, 2) > round(req.max_price, 2):
            raise _error(
                400,
                PRICE_ABOVE_MAX,
                f"Product price {product.min_price:.2f} EUR is above max_price",
            )
        order = SimOrder(
            order_id=str(self._next_order_id),
            product_id=product.product_id,
            price=product.min_price,
            currency="EUR",
            is_file=product.key_kind == "image",
            created_at=self.clock(),
            processing_seconds=product.processing_seconds,
            clock=self.clock,
            key=self._new_key(),
        )
        self._next_order_id += 1
        self.orders[order.order_id] = order
        logger.info(
            "order %s created: product %s, price %.2f %s (not paid)",
            order.order_id,
            order.product_id,
            order.price,
            order.currency,
        )
        return {"order_id": order.order_id, "price": order.price, "currency": order.currency}

    async def _pay_order(self, request: web.Request, body: Any) -> dict[str, Any]:
        if body is not None:
            raise _bad_request("Request body must be empty")
        order = self._order(request.match_info["order_id"])
        order.pay_calls += 1
        if self._pay_errors:
            code = self._pay_errors.pop(0)
            status, message = PAY_ERRORS[code]
            logger.info("order %s: injected pay error %s", order.order_id, code)
            raise _error(status, code, message)
        if order.paid:
            if order.status == "pending":
                raise _error(402, "ORD05", PAY_ERRORS["ORD05"][1])
            raise _error(400, ALREADY_PAID, "Order has been paid already")
        now = self.clock()
        if now - order.created_at > self.pay_deadline_seconds:
            raise _error(403, "ORD114", PAY_ERRORS["ORD114"][1])
        if order.price > self.balance:
            raise _error(403, "ORD112", PAY_ERRORS["ORD112"][1])
        self.balance -= order.price
        order.paid = True
        order.paid_at = now
        order.transaction_id = secrets.token_hex(12)
        product = self.products.get(order.product_id)
        if product is not None:
            product.qty = max(0, product.qty - 1)
            product.updated_at = now
        logger.info(
            "order %s paid: %.2f %s, balance left %.2f",
            order.order_id,
            order.price,
            order.currency,
            self.balance,
        )
        self._observe(order)
        return {"status": True, "transaction_id": order.transaction_id}

    async def _order_details(self, request: web.Request, body: Any) -> dict[str, Any]:
        order = self._order(request.match_info["order_id"])
        return {"status": order.status, "price": order.price, "currency": order.currency}

    async def _order_key(self, request: web.Request, body: Any) -> dict[str, Any]:
        order = self._order(request.match_info["order_id"])
        order.key_calls += 1
        if order.key_downloads > 0:
            raise _error(400, "ORD004", "Order key has been downloaded already")
        if order.status != "complete":
            raise _error(402, "ORD05", PAY_ERRORS["ORD05"][1])
        order.key_downloads += 1
        logger.info("order %s: key handed out", order.order_id)
        if order.is_file:
            return {"key": base64.b64encode(png_for_key(order.key)).decode(), "isFile": True}
        return {"key": order.key, "isFile": False}

    async def _route_not_found(self, request: web.Request, body: Any) -> dict[str, Any]:
        raise _error(404, ROUTE_NOT_FOUND, f"No route for {request.method} {request.path}")

    # ----------------------------------------------------------------- helpers

    def _order(self, order_id: str) -> SimOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise _error(404, "ORD02", "Order not found")
        self._observe(order)
        return order

    def _observe(self, order: SimOrder) -> None:
        """Log the order's state change the first time it is noticed (never the key)."""
        status = order.status
        if status != order.logged_status:
            logger.info("order %s: %s -> %s", order.order_id, order.logged_status, status)
            order.logged_status = status

    def _new_key(self) -> str:
        while True:
            groups = ("".join(secrets.choice(_KEY_ALPHABET) for _ in range(5)) for _ in range(3))
            key = "-".join(groups)
            if key not in self._issued_keys:
                self._issued_keys.add(key)
                return key


# --------------------------------------------------------------------------- query params


def _int_param(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise _bad_request(f"{name} must be an integer") from None


def _float_param(query: Mapping[str, str], name: str) -> float | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise _bad_request(f"{name} must be a number") from None


def _bool_param(query: Mapping[str, str], name: str, default: bool) -> bool:
    raw = query.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise _bad_request(f"{name} must be true or false")


def _datetime_param(query: Mapping[str, str], name: str) -> int | None:
    """A ``yyyy-mm-dd hh:mm:ss`` (UTC) filter as unix seconds."""
    raw = query.get(name)
    if raw is None:
        return None
    try:
        parsed = datetime.strptime(raw, DATETIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise _bad_request(f"{name} must look like yyyy-mm-dd hh:mm:ss") from None
    return int(parsed.timestamp())
