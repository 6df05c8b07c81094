"""G2A Export API client: buying from G2A (seed 004; the Import API, selling, is not here).

`vendor_offer_id` is a G2A product id (a number such as 10000068865001). One G2A order is
one key, bought in three steps, of which only the second spends money:

1. `POST /v1/order {"product_id", "currency": "EUR", "max_price"}` creates an unpaid order
   (nothing is charged);
2. `PUT /v1/order/pay/{id}` with an empty body pays it from the shop's G2A balance;
3. `GET /v1/order/details/{id}` says `pending` until G2A is done, then `complete`, and
   `GET /v1/order/key/{id}` hands the key out exactly once.

Crash safety: the order id is handed to `PlaceOrder.remember` (the worker persists it)
before paying, so an attempt whose pay answer was lost resumes by asking the order's
details first and never creates or pays a second order. G2A has no search by our
reference, so an attempt that lost the *create* answer simply creates a new order: an
unpaid orphan G2A order costs nothing (G2A refuses to pay it after a while, ORD114).

A key downloads once: its call is never retried automatically, and G2A's "downloaded
already" (ORD004) becomes `KeyLost` (the key was handed out but never reached us).

Authentication (`G2A_AUTH_SCHEME`), computed per request:

* `hash` (the contract's): `X-API-HASH`, `X-API-KEY`, `X-G2A-Timestamp` (unix seconds)
  and `X-G2A-Hash` = sha256hex(hash + key + timestamp);
* `sandbox` (sandboxapi.g2a.com): `Authorization: "{hash}, {key}"`;
* `production`: `Authorization: "{key}, {sha256hex(key + email + hash)}"` (needs
  `G2A_EMAIL`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator

from storage.models import Key
from vendors.base import (
    InsufficientFunds,
    KeyLost,
    OfferNotFound,
    OrderRejected,
    OutOfStock,
    PlaceOrder,
    RateLimited,
    Vendor,
    VendorAuthError,
    VendorError,
    VendorOffer,
    VendorOrder,
    VendorOrderStatus,
    VendorUnavailable,
)
from vendors.http import VendorHttp, error_message
from vendors.pace import Pace
from vendors.payload import Payload, TextId
from vendors.settings import VendorSettings, real_api

if TYPE_CHECKING:
    from vendors import VendorContext

NAME = "g2a"
CURRENCY = "EUR"
AuthScheme = Literal["hash", "sandbox", "production"]
Clock = Callable[[], float]
log = logging.getLogger(__name__)

# Codes the contract leaves open, as the simulator (vendors/simulators/g2a.py) answers them.
PRODUCT_NOT_FOUND = "PRD01"
OUT_OF_STOCK = "ORD01"
PRICE_ABOVE_MAX = "ORD06"
ALREADY_PAID = "ORD07"

# G2A error codes onto our taxonomy (the body is {"status": "ERROR", "code", "message"}).
# - temporary, retried later by the worker (VendorUnavailable, RateLimited): ORD02 on an
#   order we made (the stuck-order alert catches one that never appears), ORD03, ORD05,
#   ORD122, BR03 (the shared layer retries safe calls, honouring Retry-After);
# - refused for good, the customer is refunded (OrderRejected, OutOfStock, OfferNotFound):
#   ORD114, ORD121, ORD01, ORD06, PRD01, and any other 4xx on create;
# - the admins are alerted: AUTH01-AUTH04 (VendorAuthError: orders wait for new
#   credentials), ORD112 (InsufficientFunds: top up the G2A balance), ORD004 (KeyLost).
# ORD02 (order not found) depends on the path and is decided in `classify_g2a_error`.
ERRORS: dict[str, type[VendorError]] = {
    # temporary: the worker tries again later
    "ORD03": VendorUnavailable,  # payment not ready yet
    "ORD05": VendorUnavailable,  # payment required or in progress (402)
    "ORD122": VendorUnavailable,  # bad gateway (502)
    "BR03": RateLimited,  # too many requests (429); Retry-After is filled in by VendorHttp
    # refused for good: the customer is refunded (the worker alerts on a resumed refusal)
    "ORD114": OrderRejected,  # paid too late: the order can never be paid
    "ORD121": OrderRejected,  # G2A PAY limit reached
    OUT_OF_STOCK: OutOfStock,
    PRICE_ABOVE_MAX: OutOfStock,  # not at our price
    PRODUCT_NOT_FOUND: OfferNotFound,
    ALREADY_PAID: OrderRejected,  # only on pay, where `_pay` takes it for "paid"
    # the admins are alerted
    "ORD112": InsufficientFunds,  # the G2A balance does not cover the order
    "ORD004": KeyLost,  # the key was downloaded before and never reached us
    "AUTH01": VendorAuthError,  # no Authorization header
    "AUTH02": VendorAuthError,  # merchant with this authorization not found
    "AUTH03": VendorAuthError,  # unallowed IP address
    "AUTH04": VendorAuthError,  # no privileges to this method
}
ORDER_NOT_FOUND = "ORD02"
_PRODUCT_ID = re.compile(r"^[0-9]{1,20}$")
_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # the updatedAt* filters


# --------------------------------------------------------------------------- payloads


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _either(camel: str, snake: str) -> Any:
    """A field G2A spells either way (the seed's camelCase, the live API's snake_case)."""
    return Field(default=None, validation_alias=AliasChoices(camel, snake))


class Category(Payload):
    id: TextId | None = None
    name: str | None = None


class PriceLimit(Payload):
    min: float | None = None
    max: float | None = None


class Product(Payload):
    """One product of `GET /v1/products[/{id}]`; only what we use is required."""

    id: TextId
    name: str = ""
    type: str | None = None
    slug: str | None = None
    qty: int = 0
    min_price: float | None = _either("minPrice", "min_price")
    retail_min_price: float | None = _either("retailMinPrice", "retail_min_price")
    retail_min_base_price: float | None = _either("retailMinBasePrice", "retail_min_base_price")
    available_to_buy: bool | None = _either("availableToBuy", "available_to_buy")
    price_limit: PriceLimit | None = _either("priceLimit", "price_limit")
    cover_image: str | None = _either("coverImage", "cover_image")
    thumbnail: str | None = None
    images: list[Any] = []
    categories: list[Category] = []
    platform: str | None = None
    region: str | None = None
    release_date: str | None = _either("releaseDate", "release_date")
    updated_at: str | None = _either("updatedAt", "updated_at")

    @field_validator("qty", mode="before")
    @classmethod
    def _no_qty_is_none(cls, value: Any) -> Any:
        return 0 if value is None else value

    @field_validator("images", "categories", mode="before")
    @classmethod
    def _no_list_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    def offer(self) -> VendorOffer:
        priced = self.min_price is not None
        return VendorOffer(
            offer_id=self.id,
            name=self.name,
            price=self.min_price if self.min_price is not None else 0.0,
            currency=CURRENCY,
            delivers_key=True,
            available=priced and self.qty > 0 and self.available_to_buy is not False,
            stock=self.qty,
            image_url=self.cover_image or self.thumbnail,
            category=self.platform or next((c.name for c in self.categories if c.name), None),
        )


class ProductPage(Payload):
    total: int = 0
    page: int = 1
    docs: list[Product] = []


class CreatedOrder(Payload):
    order_id: TextId = Field(validation_alias=AliasChoices("order_id", "orderId"))
    price: float | None = None
    currency: str | None = None


class OrderDetails(Payload):
    status: str
    price: float | None = None
    currency: str | None = None


class PaidOrder(Payload):
    status: bool | str | None = None
    transaction_id: TextId | None = _either("transactionId", "transaction_id")


class OrderKey(Payload):
    key: str
    is_file: bool = Field(default=False, validation_alias=AliasChoices("isFile", "is_file"))

    @field_validator("is_file", mode="before")
    @classmethod
    def _no_flag_is_false(cls, value: Any) -> Any:
        return False if value is None else value


# --------------------------------------------------------------------------- settings


class G2ASettings(VendorSettings):
    """G2A_API_URL, G2A_API_HASH (or G2A_API_SECRET), G2A_API_KEY, G2A_AUTH_SCHEME
    (hash | sandbox | production), G2A_EMAIL (for production), G2A_RATE_PER_SECOND."""

    model_config = VendorSettings.prefixed("G2A_")

    api_url: str | None = "https://api.g2a.com"
    api_hash: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("G2A_API_HASH", "G2A_API_SECRET")
    )
    auth_scheme: AuthScheme = "hash"
    email: str | None = None
    required: ClassVar[tuple[str, ...]] = ("api_hash", "api_key")


async def open_vendor(ctx: VendorContext) -> G2AVendor:
    """The real API when hash and key are set, else (or with SANDBOX=1) the simulator."""
    settings = G2ASettings()
    url = settings.api_url
    api_hash, api_key = settings.secret("api_hash"), settings.secret("api_key")
    email = settings.email
    if not real_api(NAME, settings, ctx.sandbox):
        from vendors.simulators.g2a import G2ASimulator

        api_hash = api_hash or secrets.token_hex(16)
        api_key = api_key or secrets.token_hex(16)
        email = email or "sandbox@example.com"
        simulator = G2ASimulator(api_hash=api_hash, api_key=api_key, email=email)
        url = await ctx.start_simulator(simulator, "G2A")
    elif settings.auth_scheme == "production" and not email:
        raise ValueError("G2A_AUTH_SCHEME=production needs G2A_EMAIL")
    assert url is not None
    vendor = G2AVendor(
        url,
        api_hash,
        api_key,
        auth_scheme=settings.auth_scheme,
        email=email,
        timeout=ctx.timeout,
        rate_per_second=ctx.rate(settings),
        pace=ctx.pace,
    )
    ctx.stack.push_async_callback(vendor.aclose)
    return vendor


class G2AAuth:
    """The headers of one request under one of G2A's schemes (secrets never logged)."""

    def __init__(
        self,
        api_hash: str,
        api_key: str,
        scheme: AuthScheme = "hash",
        *,
        email: str | None = None,
        clock: Clock = time.time,
    ) -> None:
        if scheme not in ("hash", "sandbox", "production"):
            raise ValueError(f"unknown G2A_AUTH_SCHEME {scheme!r}: hash, sandbox or production")
        if scheme == "production" and not email:
            raise ValueError("G2A_AUTH_SCHEME=production needs G2A_EMAIL")
        self._hash, self._key, self._scheme, self._clock = api_hash, api_key, scheme, clock
        self._production = _sha256(api_key + (email or "") + api_hash)

    def __repr__(self) -> str:
        return f"G2AAuth(scheme={self._scheme!r}, secrets=<hidden>)"

    def __call__(self) -> Mapping[str, str]:
        if self._scheme == "sandbox":
            return {"Authorization": f"{self._hash}, {self._key}"}
        if self._scheme == "production":
            return {"Authorization": f"{self._key}, {self._production}"}
        timestamp = str(int(self._clock()))
        return {
            "X-API-HASH": self._hash,
            "X-API-KEY": self._key,
            "X-G2A-Timestamp": timestamp,
            "X-G2A-Hash": _sha256(self._hash + self._key + timestamp),
        }


# --------------------------------------------------------------------------- the client


class G2AVendor(Vendor):
    name = NAME
    max_quantity = 1  # one G2A order is one key

    def __init__(
        self,
        base_url: str,
        api_hash: str | None,
        api_key: str | None,
        *,
        auth_scheme: AuthScheme = "hash",
        email: str | None = None,
        timeout: float = 10.0,
        rate_per_second: float = 10.0,
        pace: Pace | None = None,
        attempts: int = 3,
        clock: Clock = time.time,
    ) -> None:
        sign = (
            G2AAuth(api_hash, api_key, auth_scheme, email=email, clock=clock)
            if api_hash and api_key
            else None
        )
        self._http = VendorHttp(
            NAME,
            _root(base_url),
            classify=classify_g2a_error,
            sign=sign,
            timeout=timeout,
            rate_per_second=rate_per_second,
            pace=pace,
            attempts=attempts,
        )
        self.health = self._http.health

    async def aclose(self) -> None:
        await self._http.aclose()

    def check_offer_id(self, offer_id: str) -> str | None:
        if _PRODUCT_ID.match(offer_id):
            return None
        return "a G2A offer is a G2A product id (a number such as 10000068865001)"

    # ----------------------------------------------------------------- products

    async def get_offer(self, offer_id: str) -> VendorOffer:
        return (await self._http.get(f"/v1/products/{offer_id}", Product)).offer()

    async def search_products(self, **filters: Any) -> tuple[int, list[Product]]:
        """One page of `GET /v1/products`: (total matches, this page's products).

        Filters by the API's names or their snake_case: page, id (or product_id), minQty,
        minPriceFrom, minPriceTo, includeOutOfStock, updatedAtFrom, updatedAtTo (a
        datetime, taken as UTC, or "yyyy-mm-dd hh:mm:ss"). None means "not given".
        """
        params: dict[str, str] = {}
        for name, value in filters.items():
            param = _FILTERS.get(name)
            if param is None:
                raise TypeError(f"search_products: unknown filter {name!r}")
            if value is not None:
                params[param] = _param(value)
        page = await self._http.get("/v1/products", ProductPage, params=params)
        return page.total, page.docs

    async def find_products(self, query: str, limit: int = 10) -> list[VendorOffer]:
        """By product id, or by words in the name: the Export API has no name filter, so
        the first pages of `GET /v1/products` (in stock) are read and matched here."""
        words = query.casefold().split()
        if not words or self.check_offer_id(query.strip()) is None:
            return await super().find_products(query, limit)
        found: list[VendorOffer] = []
        for page in range(1, SEARCH_PAGES + 1):
            total, products = await self.search_products(page=page, min_qty=1)
            found += [
                product.offer()
                for product in products
                if all(word in product.name.casefold() for word in words)
            ]
            if len(found) >= limit or not products or page * len(products) >= total:
                break
        return found[:limit]

    # ----------------------------------------------------------------- orders

    async def place_order(self, order: PlaceOrder) -> VendorOrder:
        """Create, remember, pay; a resumed order with a remembered id is only looked up
        (and paid if still unpaid), never created again. A resumed order without one lost
        its create answer: a new order is created, since an unpaid G2A order costs nothing."""
        if order.quantity != 1:
            raise OrderRejected(f"g2a: one key per order, not {order.quantity}", "quantity")
        if order.vendor_order_id:
            details = await self._details(order.vendor_order_id)
            if details.status.lower() == "complete":
                return _vendor_order(order.vendor_order_id, details)
            return await self._pay(order.vendor_order_id, details.price, details.currency)
        limit = order.max_price if order.max_price is not None else order.price
        body = {"product_id": order.offer_id, "currency": CURRENCY, "max_price": limit}
        # money-free, yet not repeated automatically: a repeat would only add an orphan
        created = await self._http.send("POST", "/v1/order", CreatedOrder, json_body=body)
        log.info("g2a order %s created for %s (unpaid)", created.order_id, order.reference)
        if order.remember is not None:
            await order.remember(created.order_id)  # persisted before any money moves
        return await self._pay(created.order_id, created.price, created.currency)

    async def _pay(self, order_id: str, price: float | None, currency: str | None) -> VendorOrder:
        """Pay an unpaid order. A lost answer raises VendorUnavailable like any other: the
        resumed attempt asks the order's details before paying again."""
        try:
            paid = await self._http.send(
                "PUT", f"/v1/order/pay/{order_id}", PaidOrder, empty_body=True
            )
        except VendorError as exc:
            if exc.code != ALREADY_PAID:
                raise
            log.info("g2a order %s was paid already", order_id)
        else:
            if paid.status is False or str(paid.status).lower() == "false":
                raise VendorUnavailable(f"g2a order {order_id}: payment answered status false")
            log.info("g2a order %s paid (transaction %s)", order_id, paid.transaction_id)
        return VendorOrder(order_id, VendorOrderStatus.PROCESSING, price=price, currency=currency)

    async def _details(self, vendor_order_id: str) -> OrderDetails:
        return await self._http.get(f"/v1/order/details/{vendor_order_id}", OrderDetails)

    async def order_status(self, vendor_order_id: str) -> VendorOrder:
        return _vendor_order(vendor_order_id, await self._details(vendor_order_id))

    async def fetch_keys(self, vendor_order_id: str) -> tuple[Key, ...]:
        # a key downloads once: never repeated automatically (a repeat answers ORD004)
        answer = await self._http.send("GET", f"/v1/order/key/{vendor_order_id}", OrderKey)
        log.info("g2a order %s: key received", vendor_order_id)
        return (decode_key(answer.key, answer.is_file),)


# --------------------------------------------------------------------------- helpers


SEARCH_PAGES = 5  # pages of products read to match a name

_FILTERS = {
    "page": "page",
    "id": "id",
    "product_id": "id",
    "minQty": "minQty",
    "min_qty": "minQty",
    "minPriceFrom": "minPriceFrom",
    "min_price_from": "minPriceFrom",
    "minPriceTo": "minPriceTo",
    "min_price_to": "minPriceTo",
    "includeOutOfStock": "includeOutOfStock",
    "include_out_of_stock": "includeOutOfStock",
    "updatedAtFrom": "updatedAtFrom",
    "updated_at_from": "updatedAtFrom",
    "updatedAtTo": "updatedAtTo",
    "updated_at_to": "updatedAtTo",
}


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):  # G2A's time is UTC; a naive datetime is taken as UTC
        utc = value.astimezone(UTC) if value.tzinfo else value
        return utc.strftime(_DATETIME_FORMAT)
    return str(value)


def _root(base_url: str) -> str:
    """The API's root: the client adds `/v1/...`, so a configured `.../v1` is dropped."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_STATUSES = {
    "complete": VendorOrderStatus.COMPLETED,
    "completed": VendorOrderStatus.COMPLETED,
    "pending": VendorOrderStatus.PROCESSING,
    "processing": VendorOrderStatus.PROCESSING,
}


def _vendor_order(vendor_order_id: str, details: OrderDetails) -> VendorOrder:
    status = _STATUSES.get(details.status.lower())
    if status is None:
        raise VendorUnavailable(f"g2a order {vendor_order_id}: unexpected status")
    return VendorOrder(
        vendor_order_id, status, price=details.price, currency=details.currency or CURRENCY
    )


_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def decode_key(key: str, is_file: bool) -> Key:
    """A key as G2A sends it: text; or, with `isFile`, a base64 image (or a URL to one,
    kept as text). A key downloads once, so one that will not decode is kept as text
    rather than thrown away."""
    if not key:
        raise VendorUnavailable("g2a: the key answer holds no key")
    if not is_file or key.startswith(("http://", "https://")):
        return Key(kind="text", value=key)
    try:
        image = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        log.warning("g2a: a file key is not base64; kept as text")
        return Key(kind="text", value=key)
    mime = next((m for magic, m in _IMAGE_MAGIC if image.startswith(magic)), "image/png")
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        mime = "image/webp"
    return Key(kind="image", value=image, mime=mime)


def classify_g2a_error(status: int, body: Any, where: str) -> VendorError | None:
    """G2A's answer onto our taxonomy (see ERRORS); None: the shared generic mapping."""
    raw = body.get("code") if isinstance(body, dict) else None
    code = str(raw) if raw is not None else None
    text = f"{where}: HTTP {status} {code or ''} {error_message(body)}".strip()
    on_orders = "/v1/order" in where
    if code == ORDER_NOT_FOUND or (status == 404 and on_orders and code is None):
        # an order we created (or a product the order names): never "not sold any more"
        if on_orders:
            return VendorUnavailable(text, code)
        return OfferNotFound(text, code)
    error = ERRORS.get(code) if code else None
    if error is RateLimited:
        return RateLimited(text)  # VendorHttp fills retry_after from the header
    if error is not None:
        return error(text, code)
    if status == 429 or status >= 500:
        return None  # rate limited, temporary
    if status in (401, 403) and code is None:
        return VendorAuthError(text, code)
    if status == 404 and "/v1/products" in where:
        return OfferNotFound(text, code)
    if 400 <= status < 500 and where.endswith(" /v1/order"):
        return OrderRejected(text, code)  # create refused (bad product, currency...)
    return VendorUnavailable(text, code)
