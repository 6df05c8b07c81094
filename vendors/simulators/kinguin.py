"""Kinguin eCommerce API (ESA) simulator: an aiohttp server speaking the vendor's wire protocol.

The real API lives at ``https://gateway.kinguin.net/esa/api``; the simulator serves the same
routes (``/v1/...``, ``/v2/...``) at its root, so a client configured with the simulator's
``base_url`` appends ``/v1/order`` etc. exactly as it would for the gateway.

Served: products (get v1/v2, search), orders (place v1/v2, get, search), keys (v2, paged),
the deprecated dispatch, and the balance. Errors use Kinguin's error object
(``kind``, ``status``, ``title``, ``detail``, ``path``, ``method``, ``trace``, ``timestamp``,
``propertyPath``, ``invalidValue``); a bad API key gets the documented 401 body.

Time is lazy, read from one injectable clock (like the CodeGames simulator): every key of an
order has a delivery (or cancellation) time fixed when the order is placed, keys are
delivered one by one over the product's ``processing_seconds``, and the order's status is
derived from its keys. A pre-order's keys wait (PENDING) until the product is released:
``release_preorder`` or its release time passing.

Like Kinguin, the simulator pushes ``order.status`` webhooks when an order's status changes
(a background task started by ``start``) and ``product.update`` webhooks on request.

Keys are secrets: they are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import hashlib
import json
import math
import secrets
import struct
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vendors.simulators.base import ApiError, SimulatorServer

Clock = Callable[[], float]
KeyKind = Literal["text", "image", "image/png", "image/jpeg", "image/gif"]
Outcome = Literal["completed", "canceled", "partial"]
OrderStatus = Literal["processing", "completed", "canceled", "refunded"]
KeyStatus = Literal["PENDING", "PROCESSING", "DELIVERED", "CANCELED", "REFUNDED"]

DEFAULT_BALANCE = 10_000.0
DEFAULT_PROCESSING_SECONDS = 2.0
DEFAULT_STOCK = 100
MAX_QTY_PER_PRODUCT = 9
MAX_PRODUCTS_PER_ORDER = 10
DEFAULT_PAGE_LIMIT = 25
MAX_PAGE_LIMIT = 100
DAY = 86_400.0
API_KEY_HEADERS = ("X-Api-Key", "Api-Ecommerce-Auth")
UNAUTHORIZED_BODY: dict[str, Any] = {
    "kind": "Authorization",
    "status": 401,
    "detail": "Invalid authentication data.",
    "type": "Unauthorized",
}
WEBHOOK_ORDER_STATUS = "order.status"
WEBHOOK_PRODUCT_UPDATE = "product.update"

_TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict"}
_ORDER_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_MISSING: Any = object()
# The request being served: set first thing for every request (in ``auth_error``), read by
# the error builder so that every error object names its path and method.
_CURRENT_REQUEST: contextvars.ContextVar[web.Request | None] = contextvars.ContextVar(
    "kinguin_sim_request", default=None
)


# --------------------------------------------------------------------------- catalogue


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


# --------------------------------------------------------------------------- orders


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


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to deliver a webhook (``status`` None: no HTTP answer)."""

    event: str
    url: str
    body: dict[str, Any]
    attempt: int
    status: int | None
    error: str | None = None
    secret: str | None = field(default=None, repr=False)


# --------------------------------------------------------------------------- wire models


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class _LineV1(_Body):
    kinguin_id: int = Field(alias="kinguinId")
    qty: int
    price: float
    key_type: str | None = Field(default=None, alias="keyType")
    offer_id: str | None = Field(default=None, alias="offerId")
    name: str | None = None


class _LineV2(_Body):
    product_id: str = Field(alias="productId")
    qty: int
    price: float
    key_type: str | None = Field(default=None, alias="keyType")
    offer_id: str | None = Field(default=None, alias="offerId")
    name: str | None = None


class _OrderV1(_Body):
    products: list[_LineV1]
    order_external_id: str | None = Field(default=None, alias="orderExternalId")
    coupon_code: str | None = Field(default=None, alias="couponCode")


class _OrderV2(_Body):
    products: list[_LineV2]
    order_external_id: str | None = Field(default=None, alias="orderExternalId")
    coupon_code: str | None = Field(default=None, alias="couponCode")


# --------------------------------------------------------------------------- helpers


def _iso(t: float) -> str:
    """``2020-10-28T08:40:44+00:00``"""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _iso_ms(t: float) -> str:
    """``Y-m-d\\TH:i:s.vP``, e.g. ``2020-10-16T11:24:08.025+00:00`` (webhooks)."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


def _day(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def _money(x: float) -> float:
    return round(x + 0.0, 2)


def _error(
    status: int,
    kind: str,
    detail: str,
    *,
    property_path: str | None = None,
    invalid_value: Any = _MISSING,
    now: float | None = None,
) -> ApiError:
    """Kinguin's error object (see ErrorsCodes.md)."""
    request = _CURRENT_REQUEST.get()
    body: dict[str, Any] = {
        "kind": kind,
        "status": status,
        "title": _TITLES.get(status, "Error"),
        "detail": detail,
        # The gateway reports paths under /api (the simulator serves at its root).
        "path": "/api" + request.path if request is not None else None,
        "method": request.method if request is not None else None,
        "trace": secrets.token_hex(5),
        "timestamp": _iso(time.time() if now is None else now),
    }
    if property_path is not None:
        body["propertyPath"] = property_path
    if invalid_value is not _MISSING:
        body["invalidValue"] = invalid_value
    return ApiError(status, body)


def _loc(loc: Iterable[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def _page(query: Any, name: str, default: int, maximum: int | None, now: float) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" and lower than or equal {maximum}" if maximum is not None else ""
        raise _error(
            400,
            "ConstraintViolation",
            f'Invalid "{name}" parameter. Value must be greater than or equal 1{limit}.',
            property_path=name,
            invalid_value=raw,
            now=now,
        )
    return value


def _parse_date(raw: str, name: str, now: float, *, end_of_day: bool = False) -> float:
    """Dates as the docs allow: ``Y-m-d``, ``Y-m-d H:i:s``, ``Y-m-dTH:i:s``,
    ``Y-m-dTH:i:s.uZ``, ``Y-m-dTH:i:sP`` (naive dates are UTC)."""
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise _error(
            400,
            "ConstraintViolation",
            f'Invalid "{name}" parameter. This value is not a valid date.',
            property_path=name,
            invalid_value=raw,
            now=now,
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if end_of_day and len(raw.strip()) == 10:  # a bare date as upper bound: the whole day
        parsed += timedelta(days=1) - timedelta(microseconds=1)
    return parsed.timestamp()


def _yes_no(query: Any, name: str, now: float) -> bool | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in ("yes", "no"):
        raise _error(
            400,
            "ConstraintViolation",
            f'Invalid "{name}" parameter. Allowed values: yes, no.',
            property_path=name,
            invalid_value=raw,
            now=now,
        )
    return raw == "yes"


def _csv(query: Any, name: str) -> list[str]:
    raw = query.get(name) or ""
    return [part.strip() for part in raw.split(",") if part.strip()]


def _violation(path: str, detail: str, now: float, value: Any = _MISSING) -> ApiError:
    return _error(
        400,
        "ConstraintViolation",
        f'Invalid "{path}" property. {detail}',
        property_path=path,
        invalid_value=value,
        now=now,
    )


def _unavailable(i: int, detail: str, now: float) -> ApiError:
    return _error(
        400,
        "ProductUnavailable",
        f"Unable to find any offer matching order request criteria: {detail}",
        property_path=f"products[{i}]",
        now=now,
    )


def _check_shape(lines: list[tuple[SimProduct | None, Any]], now: float) -> dict[int, int]:
    """The payload's constraints; returns the quantity wanted of each known product."""
    if not lines:
        raise _violation("products", "This collection should contain 1 element or more.", now, 0)
    if len(lines) > MAX_PRODUCTS_PER_ORDER:
        raise _violation(
            "products",
            f"This collection should contain {MAX_PRODUCTS_PER_ORDER} elements or less.",
            now,
            len(lines),
        )
    wanted: dict[int, int] = {}
    for i, (product, line) in enumerate(lines):
        if line.qty < 1:
            raise _violation(f"products[{i}].qty", "This value should be 1 or more.", now, line.qty)
        if line.qty > MAX_QTY_PER_PRODUCT:
            raise _violation(
                f"products[{i}].qty",
                f"This value should be {MAX_QTY_PER_PRODUCT} or less.",
                now,
                line.qty,
            )
        if line.key_type is not None and line.key_type != "text":
            raise _violation(
                f"products[{i}].keyType",
                "The value you selected is not a valid choice.",
                now,
                line.key_type,
            )
        if line.price <= 0:
            raise _violation(
                f"products[{i}].price", "This value should be positive.", now, line.price
            )
        if product is not None:
            total = wanted.get(product.kinguin_id, 0) + line.qty
            wanted[product.kinguin_id] = total
            if total > MAX_QTY_PER_PRODUCT:
                raise _violation(
                    "products",
                    f'Sum of "qty" of one product must be lower than or equal '
                    f"{MAX_QTY_PER_PRODUCT}.",
                    now,
                    total,
                )
    return wanted


def _resolve(lines: list[tuple[SimProduct | None, Any]], now: float) -> list[SimProduct]:
    """The products (and offers) asked for; an unknown one is ProductUnavailable."""
    products: list[SimProduct] = []
    for i, (product, line) in enumerate(lines):
        if product is None:
            raise _unavailable(i, "product not found.", now)
        if line.offer_id is not None and line.offer_id != product.offer_id:
            raise _unavailable(i, f"offer {line.offer_id} not found.", now)
        products.append(product)
    return products


# --------------------------------------------------------------------------- key images


def _png(text: str) -> bytes:
    """A small valid PNG (8x8 RGB) whose colour and tEXt chunk depend on ``text``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    r, g, b = hashlib.sha256(text.encode()).digest()[:3]
    row = b"\x00" + bytes((r, g, b)) * 8
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\x00" + text.encode("latin-1"))
        + chunk(b"IDAT", zlib.compress(row * 8))
        + chunk(b"IEND", b"")
    )


def _gif(text: str) -> bytes:
    """A valid 1x1 GIF89a carrying ``text`` in a comment extension."""
    r, g, b = hashlib.sha256(text.encode()).digest()[:3]
    comment = text.encode("latin-1")[:255]
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0)  # 1x1, global colour table of 2 entries
        + bytes((r, g, b, 0, 0, 0))
        + b"\x21\xfe"
        + bytes((len(comment),))
        + comment
        + b"\x00"
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        + b"\x02\x02\x44\x01\x00"  # LZW min code size 2; clear, index 0, end
        + b"\x3b"
    )


def _jpeg(text: str) -> bytes:
    """A valid 8x8 grey baseline JPEG carrying ``text`` in a COM segment."""
    comment = text.encode("latin-1")
    quant = bytes([1] * 64)
    return (
        b"\xff\xd8"
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
        + b"\xff\xdb"
        + struct.pack(">HB", 67, 0)
        + quant
        + b"\xff\xc0"
        + struct.pack(">HBHHB", 11, 8, 8, 8, 1)
        + bytes((1, 0x11, 0))
        # DC table 0: one code of length 1 for category 0; AC table 0: one code for EOB.
        + b"\xff\xc4"
        + struct.pack(">HB", 20, 0x00)
        + bytes([1] + [0] * 15)
        + b"\x00"
        + b"\xff\xc4"
        + struct.pack(">HB", 20, 0x10)
        + bytes([1] + [0] * 15)
        + b"\x00"
        + b"\xff\xda"
        + struct.pack(">HB", 8, 1)
        + bytes((1, 0x00, 0, 63, 0))
        + b"\x3f"  # DC "0" (diff 0), AC "0" (EOB), padded with ones
        + b"\xff\xd9"
    )


_IMAGE_MAKERS: dict[str, Callable[[str], bytes]] = {
    "image/png": _png,
    "image/gif": _gif,
    "image/jpeg": _jpeg,
}


def key_image(mime: str, text: str) -> bytes:
    """The image of a key of type ``mime`` showing ``text`` (in its metadata)."""
    return _IMAGE_MAKERS[mime](text)


# --------------------------------------------------------------------------- simulator


class KinguinSimulator(SimulatorServer):
    """HTTP server implementing Kinguin's ESA products, orders, keys and balance.

    Steering (plain methods, for tests): ``set_price``, ``set_stock``, ``set_outcome``,
    ``set_balance`` (or the ``balance`` attribute), ``release_preorder``, ``force_status``,
    ``order_by_external_id``, ``orders``/``orders_created``, ``products``, ``coupons`` and the
    base class's ``fail_next``. A canceled key gives its price back to the balance.

    Webhooks: with ``webhook_url`` set, every status change of an order (noticed within
    ``webhook_poll_seconds``) is POSTed as ``order.status``; a change noticed while no URL is
    set is not sent later. Failed deliveries are retried ``webhook_attempts`` times in all;
    every attempt is recorded in ``webhooks_sent``; ``duplicate_webhooks`` sends each event
    twice. ``send_order_status`` / ``send_product_update`` send one event on demand.
    """

    name = "kinguin"

    def __init__(
        self,
        products: Sequence[SimProduct] = DEFAULT_PRODUCTS,
        api_key: str | None = None,
        *,
        clock: Clock = time.time,
        balance: float = DEFAULT_BALANCE,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        user_email: str = "sandbox@kinguin.io",
        store_id: int = 1,
        hang_seconds: float = 30.0,
    ) -> None:
        super().__init__(hang_seconds=hang_seconds)
        self.api_key = api_key
        self.clock = clock
        self._balance = _money(balance)
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.duplicate_webhooks = False
        self.webhook_attempts = 4  # one delivery, then retries with a doubling backoff
        self.webhook_backoff = 0.05
        self.webhook_poll_seconds = 0.05
        self.webhooks_sent: list[WebhookDelivery] = []
        self.user_email = user_email
        self.store_id = store_id
        self.coupons: dict[str, float] = {}  # code -> discount (0.1 = 10 % off)
        now = clock()
        self.products: dict[int, SimProduct] = {}
        for template in products:
            product = template.model_copy(deep=True)
            if not product.offer_id:
                product.offer_id = (
                    "5f7e" + hashlib.sha1(product.product_id.encode()).hexdigest()[:20]
                )
            if product.text_qty is None:
                product.text_qty = product.qty if product.key_kind == "text" else 0
            if product.is_preorder and product.release_at is None:
                product.release_at = now + (product.release_in_days or 0.0) * DAY
            if product.updated_at is None:
                product.updated_at = now
            self.products[product.kinguin_id] = product
        self.orders: dict[str, SimOrder] = {}
        self._by_external_id: dict[str, str] = {}
        self._issued: set[str] = set()
        self._next_dispatch_id = 1
        self._webhook_task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None

    # ----------------------------------------------------------------- server

    def routes(self, app: web.Application) -> None:
        e = self.endpoint
        app.router.add_get("/v1/products", e(self._search_products))
        app.router.add_get("/v1/products/{kinguinId}", e(self._get_product_v1))
        app.router.add_get("/v2/products/{productId}", e(self._get_product_v2))
        app.router.add_post("/v1/order", e(self._place_v1))
        app.router.add_get("/v1/order", e(self._search_orders))
        app.router.add_get("/v1/order/{orderId}", e(self._get_order))
        app.router.add_post("/v2/order", e(self._place_v2))
        app.router.add_get("/v2/order/{orderId}/keys", e(self._get_keys))
        app.router.add_post("/v2/order/{orderId}/dispatch", e(self._dispatch))
        app.router.add_get("/v1/balance", e(self._get_balance))
        app.router.add_get("/media/{productId}/{image}", self._media)  # public, like a CDN
        app.router.add_route("*", "/{tail:.*}", e(self._no_route))

    def auth_error(self, request: web.Request) -> ApiError | None:
        _CURRENT_REQUEST.set(request)
        if self.api_key is None:
            return None
        if any(request.headers.get(h) == self.api_key for h in API_KEY_HEADERS):
            return None
        return ApiError(401, dict(UNAUTHORIZED_BODY))

    def bad_json(self) -> ApiError:
        return _error(400, "Http", "Invalid JSON: Syntax error", now=self.clock())

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        url = await super().start(host, port)
        self._webhook_task = asyncio.create_task(self._webhook_loop())
        return url

    async def stop(self) -> None:
        tasks = [t for t in (self._webhook_task, *self._deliveries) if t is not None]
        self._webhook_task = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None
        await super().stop()

    # ----------------------------------------------------------------- steering

    @property
    def balance(self) -> float:
        for order in self.orders.values():
            self._observe(order)
        return self._balance

    @balance.setter
    def balance(self, value: float) -> None:
        self._balance = _money(value)

    def set_balance(self, value: float) -> None:
        self.balance = value

    @property
    def orders_created(self) -> int:
        return len(self.orders)

    def set_price(self, kinguin_id: int, price: float) -> None:
        product = self.products[kinguin_id]
        product.price = price
        product.updated_at = self.clock()

    def set_stock(self, kinguin_id: int, qty: int, text_qty: int | None = None) -> None:
        """Set the stock; ``text_qty`` defaults to ``qty`` for text products, 0 for images."""
        product = self.products[kinguin_id]
        product.qty = qty
        if text_qty is None:
            text_qty = qty if product.key_kind == "text" else 0
        product.text_qty = min(text_qty, qty)
        product.updated_at = self.clock()

    def set_outcome(
        self, kinguin_id: int, outcome: Outcome, processing_seconds: float | None = None
    ) -> None:
        """Change the outcome (and optionally the delay) of orders placed from now on."""
        product = self.products[kinguin_id]
        product.outcome = outcome
        if processing_seconds is not None:
            product.processing_seconds = processing_seconds

    def release_preorder(self, kinguin_id: int) -> None:
        """Release a pre-order now: its waiting orders start delivering their keys."""
        now = self.clock()
        product = self.products[kinguin_id]
        product.is_preorder = False
        product.release_at = now
        product.release_date = _day(now)
        product.updated_at = now
        for order in self.orders.values():
            if order.forced is not None:
                continue
            for line in order.lines:
                if line.kinguin_id == kinguin_id and line.keys and line.keys[0].wait_until > now:
                    line.release_date = product.release_date
                    line.schedule(now)
        self._logger.info("pre-order %s released", kinguin_id)

    def force_status(self, order_id: str, status: OrderStatus) -> None:
        """Make the order ``status`` now. ``completed`` delivers the missing keys,
        ``canceled`` cancels them, ``refunded`` refunds every key and the payment,
        ``processing`` keeps the undelivered keys waiting forever."""
        order = self.orders[order_id]
        now = self.clock()
        for key in order.all_keys():
            delivered = key.deliver_at <= now
            if status == "refunded":
                key.refund_at = min(key.refund_at, now)
            elif delivered:
                continue
            elif status == "completed":
                key.deliver_at, key.cancel_at = now, math.inf
            elif status == "canceled":
                key.deliver_at, key.cancel_at = math.inf, now
            else:
                key.deliver_at, key.cancel_at = math.inf, math.inf
        order.forced, order.forced_at = status, now
        self._observe(order)

    def order_by_external_id(self, external_id: str) -> SimOrder | None:
        order_id = self._by_external_id.get(external_id)
        return None if order_id is None else self.orders[order_id]

    # ----------------------------------------------------------------- products

    def _is_preorder(self, product: SimProduct) -> bool:
        return product.is_preorder and (
            product.release_at is None or self.clock() < product.release_at
        )

    def _release_date(self, product: SimProduct) -> str:
        if product.is_preorder and product.release_at is not None:
            return _day(product.release_at)
        return product.release_date

    def _by_product_id(self, product_id: str) -> SimProduct | None:
        for product in self.products.values():
            if product_id == product.product_id or product_id in product.product_id_aliases:
                return product
        return None

    def _visible(self, product: SimProduct | None) -> SimProduct:
        """A product that can be shown (Kinguin answers 404 when it is out of stock)."""
        if product is None or product.qty <= 0:
            raise _error(404, "Http", "Product not found", now=self.clock())
        return product

    def _product_json(self, product: SimProduct) -> dict[str, Any]:
        release_date = self._release_date(product)
        is_preorder = self._is_preorder(product)
        text_qty = product.text_qty or 0
        media = f"{self.base_url or 'https://cdns.kinguin.net'}/media/{product.product_id}"
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
            "updatedAt": _iso(product.updated_at or self.clock()),
        }

    async def _get_product_v1(self, request: web.Request, body: Any) -> dict[str, Any]:
        raw = request.match_info["kinguinId"]
        product = self.products.get(int(raw)) if raw.isdigit() else None
        return self._product_json(self._visible(product))

    async def _get_product_v2(self, request: web.Request, body: Any) -> dict[str, Any]:
        product = self._by_product_id(request.match_info["productId"])
        return self._product_json(self._visible(product))

    async def _search_products(self, request: web.Request, body: Any) -> dict[str, Any]:
        q, now = request.query, self.clock()
        page = _page(q, "page", 1, None, now)
        limit = _page(q, "limit", DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, now)
        name = q.get("name")
        if name is not None and len(name.strip()) < 3:
            raise _error(
                400,
                "ConstraintViolation",
                'Invalid "name" parameter. This value is too short. '
                "It should have 3 characters or more.",
                property_path="name",
                invalid_value=name,
                now=now,
            )
        kinguin_ids = _csv(q, "kinguinId")
        product_ids = _csv(q, "productId")
        platforms = {p.lower() for p in _csv(q, "platform")}
        genres = {g.lower() for g in _csv(q, "genre")}
        preorder = _yes_no(q, "isPreorder", now)
        with_text = q.get("withText") == "yes"
        since = (
            _parse_date(q["updatedSince"], "updatedSince", now) if q.get("updatedSince") else None
        )
        until = (
            _parse_date(q["updatedTo"], "updatedTo", now, end_of_day=True)
            if q.get("updatedTo")
            else None
        )
        found = []
        for p in self.products.values():
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
            if preorder is not None and self._is_preorder(p) != preorder:
                continue
            if with_text and not p.text_qty:
                continue
            updated = p.updated_at or now
            if (since is not None and updated < since) or (until is not None and updated > until):
                continue
            found.append(p)
        sort_by = q.get("sortBy", "kinguinId")
        if sort_by == "updatedAt":
            found.sort(key=lambda p: (p.updated_at or now, p.kinguin_id))
        else:
            found.sort(key=lambda p: p.kinguin_id)
        if q.get("sortType") == "desc":
            found.reverse()
        chunk = found[(page - 1) * limit : page * limit]
        return {"results": [self._product_json(p) for p in chunk], "item_count": len(found)}

    async def _media(self, request: web.Request) -> web.Response:
        label = f"{request.match_info['productId']}/{request.match_info['image']}"
        return web.Response(body=_png(label), content_type="image/png")

    async def _no_route(self, request: web.Request, body: Any) -> dict[str, Any]:
        raise _error(
            404, "Http", f'No route found for "{request.method} {request.path}"', now=self.clock()
        )

    # ----------------------------------------------------------------- orders

    async def _place_v1(self, request: web.Request, body: Any) -> web.Response:
        req = self._validate(_OrderV1, body)
        lines: list[tuple[SimProduct | None, Any]] = [
            (self.products.get(line.kinguin_id), line) for line in req.products
        ]
        return self._place(req.order_external_id, req.coupon_code, lines)

    async def _place_v2(self, request: web.Request, body: Any) -> web.Response:
        req = self._validate(_OrderV2, body)
        lines: list[tuple[SimProduct | None, Any]] = [
            (self._by_product_id(line.product_id), line) for line in req.products
        ]
        return self._place(req.order_external_id, req.coupon_code, lines)

    def _validate(self, model: type[_OrderV1] | type[_OrderV2], body: Any) -> Any:
        now = self.clock()
        if not isinstance(body, dict):
            raise _error(
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
            raise _error(
                400,
                "ConstraintViolation",
                f'Invalid "{path}" property. {err["msg"]}.',
                property_path=path,
                invalid_value=value if not isinstance(value, dict | list) else None,
                now=now,
            ) from None

    def _place(
        self,
        external_id: str | None,
        coupon_code: str | None,
        lines: list[tuple[SimProduct | None, Any]],
    ) -> web.Response:
        """Validate an order the way Kinguin does (shape, external id, products,
        pre-order rules, price and stock, balance), then create and charge it."""
        now = self.clock()
        wanted = _check_shape(lines, now)
        if external_id is not None:
            self._check_external_id(external_id, now)
        products = _resolve(lines, now)
        self._check_preorders(products, lines, now)
        requested = [line for _, line in lines]
        for i, (product, line) in enumerate(zip(products, requested, strict=True)):
            if _money(line.price) < _money(product.price):
                raise _unavailable(
                    i, f"requested price {line.price:.2f} is lower than {product.price:.2f}.", now
                )
            stock = (product.text_qty or 0) if line.key_type == "text" else product.qty
            if wanted[product.kinguin_id] > stock:
                raise _unavailable(i, f"not enough quantity ({stock} available).", now)
        total = _money(sum(p.price * ln.qty for p, ln in zip(products, requested, strict=True)))
        discount = self.coupons.get(coupon_code, 0.0) if coupon_code else 0.0
        payment = _money(total * (1 - discount))
        balance = self.balance
        if payment > balance:
            raise _error(
                400,
                "InsufficientBalance",
                f"There are not enough funds to place an order "
                f"(balance {balance:.2f} EUR, required {payment:.2f} EUR).",
                now=now,
            )
        order = SimOrder(
            order_id=self._new_order_id(),
            external_id=external_id,
            coupon_code=coupon_code,
            created_at=now,
            lines=[self._order_line(p, ln, now) for p, ln in zip(products, requested, strict=True)],
            total_price=total,
            request_total_price=_money(sum(ln.price * ln.qty for ln in requested)),
            payment_price=payment,
            clock=self.clock,
        )
        self.orders[order.order_id] = order
        if external_id is not None:
            self._by_external_id[external_id] = order.order_id
        self._balance = _money(self._balance - payment)
        self._logger.info(
            "order %s created: external id %s, %s unit(s), %.2f EUR charged, balance left %.2f",
            order.order_id,
            external_id,
            order.qty,
            payment,
            self._balance,
        )
        self._observe(order)
        return web.json_response(self._order_json(order, with_keys=False), status=201)

    def _check_external_id(self, external_id: str, now: float) -> None:
        existing = self.order_by_external_id(external_id)
        if existing is None:
            return
        existing.create_calls += 1
        self._logger.info(
            "order %s: refused a repeated order for external id %s (call %s)",
            existing.order_id,
            external_id,
            existing.create_calls,
        )
        raise _violation("orderExternalId", "orderExternalId must be unique.", now, external_id)

    def _check_preorders(
        self, products: list[SimProduct], lines: list[tuple[SimProduct | None, Any]], now: float
    ) -> None:
        preorders = [i for i, p in enumerate(products) if self._is_preorder(p)]
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
        raise _error(400, "Preorder", detail, property_path=f"products[{first}]", now=now)

    def _order_line(self, product: SimProduct, req: Any, now: float) -> SimOrderLine:
        """One line of a new order: its keys scheduled, the product's stock taken."""
        mime = "text/plain" if req.key_type == "text" else product.mime
        preorder = self._is_preorder(product)
        line = SimOrderLine(
            kinguin_id=product.kinguin_id,
            product_id=product.product_id,
            offer_id=product.offer_id,
            name=product.name,
            qty=req.qty,
            price=product.price,
            request_price=req.price,
            key_type="text" if mime == "text/plain" else "image",
            is_preorder=preorder,
            release_date=self._release_date(product),
            processing_seconds=product.processing_seconds,
            outcome=product.outcome,
            keys=[self._new_key(mime) for _ in range(req.qty)],
        )
        line.schedule(max(now, product.release_at or now) if preorder else now)
        product.qty -= req.qty
        if mime == "text/plain":
            product.text_qty = (product.text_qty or 0) - req.qty
        product.text_qty = max(0, min(product.text_qty or 0, product.qty))
        product.updated_at = now
        return line

    def _order(self, request: web.Request) -> SimOrder:
        order = self.orders.get(request.match_info["orderId"])
        if order is None:
            raise _error(404, "OrderNotFound", "Order not found", now=self.clock())
        self._observe(order)
        return order

    def _order_json(self, order: SimOrder, *, with_keys: bool = True) -> dict[str, Any]:
        now = self.clock()
        products = []
        for line in order.lines:
            item: dict[str, Any] = {
                "kinguinId": line.kinguin_id,
                "offerId": line.offer_id,
                "productId": line.product_id,
                "qty": line.qty,
                "name": line.name,
                "price": line.price,
                "totalPrice": _money(line.price * line.qty),
                "requestPrice": line.request_price,
                "isPreorder": line.is_preorder,
                "releaseDate": line.release_date,
                "keyType": line.key_type,
            }
            if with_keys:
                item["keys"] = [{"id": k.key_id, "status": k.status(now)} for k in line.keys]
            products.append(item)
        preorder = next((line for line in order.lines if line.is_preorder), None)
        answer: dict[str, Any] = {
            "totalPrice": order.total_price,
            "requestTotalPrice": order.request_total_price,
            "status": order.status,
            "userEmail": self.user_email,
            "storeId": self.store_id,
            "createdAt": _iso(order.created_at),
            "orderId": order.order_id,
            "orderExternalId": order.external_id,
        }
        if order.coupon_code is not None:
            answer["couponCode"] = order.coupon_code
        answer |= {
            "paymentPrice": order.payment_price,
            "products": products,
            "totalQty": order.qty,
            "isPreorder": preorder is not None,
            "preorderReleaseDate": preorder.release_date if preorder is not None else None,
        }
        return answer

    async def _get_order(self, request: web.Request, body: Any) -> dict[str, Any]:
        return self._order_json(self._order(request))

    async def _search_orders(self, request: web.Request, body: Any) -> dict[str, Any]:
        q, now = request.query, self.clock()
        page = _page(q, "page", 1, None, now)
        limit = _page(q, "limit", DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, now)
        since = (
            _parse_date(q["createdAtFrom"], "createdAtFrom", now)
            if q.get("createdAtFrom")
            else None
        )
        until = (
            _parse_date(q["createdAtTo"], "createdAtTo", now, end_of_day=True)
            if q.get("createdAtTo")
            else None
        )
        preorder = _yes_no(q, "isPreorder", now)
        kinguin_id = q.get("kinguinId")
        product_id = q.get("productId")
        found = []
        for order in self.orders.values():
            self._observe(order)
            if q.get("orderExternalId") and order.external_id != q["orderExternalId"]:
                continue
            if q.get("orderId") and order.order_id != q["orderId"]:
                continue
            if q.get("status") and order.status != q["status"]:
                continue
            if kinguin_id and all(str(ln.kinguin_id) != kinguin_id for ln in order.lines):
                continue
            if product_id and all(ln.product_id != product_id for ln in order.lines):
                continue
            if preorder is not None and order.is_preorder != preorder:
                continue
            if (since is not None and order.created_at < since) or (
                until is not None and order.created_at > until
            ):
                continue
            found.append(order)
        found.reverse()  # newest first (the sort is stable: later orders first on a tie)
        found.sort(key=lambda o: o.created_at, reverse=True)
        chunk = found[(page - 1) * limit : page * limit]
        return {"results": [self._order_json(o) for o in chunk], "item_count": len(found)}

    async def _get_keys(self, request: web.Request, body: Any) -> list[dict[str, Any]]:
        order = self._order(request)
        now = self.clock()
        page = _page(request.query, "page", 1, None, now)
        limit = _page(request.query, "limit", DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, now)
        delivered = [
            (line, key)
            for line in order.lines
            for key in line.keys
            if key.status(now) == "DELIVERED"
        ]
        return [
            {
                "id": key.key_id,
                "serial": key.serial,
                "type": key.mime,
                "name": line.name,
                "kinguinId": line.kinguin_id,
                "offerId": line.offer_id,
                "productId": line.product_id,
            }
            for line, key in delivered[(page - 1) * limit : page * limit]
        ]

    async def _dispatch(self, request: web.Request, body: Any) -> web.Response:
        order = self._order(request)
        dispatch_id = self._next_dispatch_id
        self._next_dispatch_id += 1
        self._logger.info("order %s dispatched (deprecated): %s", order.order_id, dispatch_id)
        return web.json_response({"dispatchId": dispatch_id}, status=201)

    async def _get_balance(self, request: web.Request, body: Any) -> dict[str, Any]:
        return {"balance": self.balance}

    # ----------------------------------------------------------------- webhooks

    async def send_order_status(
        self,
        order_id: str,
        status: str | None = None,
        updated_at: str | float | None = None,
        secret: str | None = None,
    ) -> int | None:
        """Send an ``order.status`` event now (once, no retries): the order's current
        state, or a stale/forged one. ``updated_at``: a clock time or a verbatim string.
        Returns the receiver's HTTP status (None: no answer)."""
        order = self.orders[order_id]
        when = order.updated_at if updated_at is None else updated_at
        payload = {
            "orderId": order.order_id,
            "orderExternalId": order.external_id,
            "status": status or order.status,
            "updatedAt": when if isinstance(when, str) else _iso_ms(when),
        }
        return await self._send(WEBHOOK_ORDER_STATUS, payload, secret=secret, attempts=1)

    async def send_product_update(self, kinguin_id: int) -> int | None:
        """Send the documented ``product.update`` event for a product (with retries)."""
        product = self.products[kinguin_id]
        payload = {
            "kinguinId": product.kinguin_id,
            "productId": product.product_id,
            "qty": product.qty,
            "textQty": product.text_qty or 0,
            "cheapestOfferId": [product.offer_id],
            "price": product.price,
            "updatedAt": _iso_ms(product.updated_at or self.clock()),
        }
        return await self._send(WEBHOOK_PRODUCT_UPDATE, payload)

    async def _webhook_loop(self) -> None:
        while True:
            try:
                self._check_orders()
            except Exception:
                self._logger.exception("webhook loop failed")
            await asyncio.sleep(self.webhook_poll_seconds)

    def _check_orders(self) -> None:
        for order in list(self.orders.values()):
            self._observe(order)
            status = order.status
            if status == order.notified_status:
                continue
            order.notified_status = status
            if self.webhook_url is None:
                continue
            payload = {
                "orderId": order.order_id,
                "orderExternalId": order.external_id,
                "status": status,
                "updatedAt": _iso_ms(order.updated_at),
            }
            task = asyncio.create_task(self._send(WEBHOOK_ORDER_STATUS, payload))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _send(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        secret: str | None = None,
        attempts: int | None = None,
    ) -> int | None:
        url = self.webhook_url
        if url is None:
            raise RuntimeError("no webhook_url configured")
        secret = self.webhook_secret if secret is None else secret
        status: int | None = None
        for _ in range(2 if self.duplicate_webhooks else 1):
            status = await self._deliver(url, event, payload, secret, attempts)
        return status

    async def _deliver(
        self,
        url: str,
        event: str,
        payload: dict[str, Any],
        secret: str | None,
        attempts: int | None,
    ) -> int | None:
        headers = {"X-Event-Name": event, "Content-Type": "application/json"}
        if secret is not None:
            headers["X-Event-Secret"] = secret
        data = json.dumps(payload).encode()
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        status: int | None = None
        tries = self.webhook_attempts if attempts is None else attempts
        for attempt in range(1, max(1, tries) + 1):
            error: str | None = None
            try:
                async with self._session.post(url, data=data, headers=headers) as response:
                    status = response.status
                    await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            self.webhooks_sent.append(
                WebhookDelivery(event, url, dict(payload), attempt, status, error, secret)
            )
            self._logger.info(
                "webhook %s %s (attempt %s): %s",
                event,
                payload.get("orderId", payload.get("kinguinId")),
                attempt,
                status if status is not None else error,
            )
            if status is not None and 200 <= status < 300:
                break
            if attempt < tries:
                await asyncio.sleep(self.webhook_backoff * 2 ** (attempt - 1))
        return status

    # ----------------------------------------------------------------- helpers

    def _observe(self, order: SimOrder) -> None:
        """Log the order's status change the first time it is noticed (never a key) and
        give back the money of keys that will not be delivered."""
        status = order.status
        if status == order.logged_status:
            return
        self._logger.info("order %s: %s -> %s", order.order_id, order.logged_status, status)
        order.logged_status = status
        now = self.clock()
        if status == "refunded":
            owed = order.payment_price
        elif status == "canceled":
            lost = sum(
                line.price
                for line in order.lines
                for key in line.keys
                if key.status(now) == "CANCELED"
            )
            share = order.payment_price / order.total_price if order.total_price else 0.0
            owed = _money(lost * share)
        else:
            return
        if owed > order.refunded_amount:
            self._balance = _money(self._balance + owed - order.refunded_amount)
            self._logger.info(
                "order %s: %.2f EUR back to the balance",
                order.order_id,
                owed - order.refunded_amount,
            )
            order.refunded_amount = owed

    def _new_order_id(self) -> str:
        while True:
            order_id = "".join(secrets.choice(_ORDER_ID_ALPHABET) for _ in range(11))
            if order_id not in self.orders and not order_id.isdigit():
                return order_id

    def _new_key(self, mime: str) -> SimKey:
        while True:
            text = "-".join(
                "".join(secrets.choice(_KEY_ALPHABET) for _ in range(5)) for _ in range(3)
            )
            if text not in self._issued:
                break
        self._issued.add(text)
        serial = text if mime == "text/plain" else base64.b64encode(key_image(mime, text)).decode()
        return SimKey(key_id=secrets.token_hex(12), mime=mime, serial=serial)
