"""Kinguin eCommerce API ("ESA", seeds 001 and 003, docs in vendor-docs/kinguin-esa).

`vendor_offer_id` is a number (the `kinguinId`, bought through `POST /v1/order`) or a
24-hex string (the `productId`, bought through `POST /v2/order`). Our order id travels as
`orderExternalId`; before placing again after a lost answer we search for it, so a found
order is adopted and never bought twice. Keys come from `GET /v2/order/{id}/keys`
(paginated); the deprecated dispatch call is made only when a completed order lists none.
Webhooks (`order.status`, `product.update`) arrive on the bot's HTTP server.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, SecretStr, ValidationError

from storage.models import Key
from vendors.base import (
    InsufficientFunds,
    OfferNotFound,
    OrderEvent,
    OrderRejected,
    OutOfStock,
    PlaceOrder,
    ProductEvent,
    Vendor,
    VendorAuthError,
    VendorError,
    VendorOffer,
    VendorOrder,
    VendorOrderStatus,
    VendorUnavailable,
    WebhookRefused,
)
from vendors.http import VendorHttp, error_message
from vendors.pace import Pace
from vendors.payload import Payload, TextId
from vendors.settings import VendorSettings, real_api

if TYPE_CHECKING:
    from vendors import VendorContext

NAME = "kinguin"
MAX_QTY_PER_OFFER = 9  # seed 001: "The qty limit for one offer is 9"
KEYS_PAGE = 100
NAME_SEARCH_MIN = 3  # GET /v1/products refuses shorter names
_PRODUCT_ID = re.compile(r"^[0-9a-f]{24}$")


class Cover(Payload):
    url: str | None = None
    thumbnail: str | None = None


class Images(Payload):
    cover: Cover | None = None


class Product(Payload):
    kinguinId: int | None = None
    productId: str | None = None
    name: str
    price: float
    qty: int = 0
    textQty: int | None = None
    isPreorder: bool = False
    releaseDate: str | None = None
    images: Images | None = None
    coverImage: str | None = None  # deprecated, still accepted
    platform: str | None = None

    def offer(self, offer_id: str) -> VendorOffer:
        """The Product Object (products API v1/v2) as the shop sells it: prices in EUR."""
        cover = self.images.cover if self.images and self.images.cover else None
        return VendorOffer(
            offer_id=offer_id,
            name=self.name,
            price=self.price,
            currency="EUR",
            delivers_key=True,
            available=self.qty > 0,
            stock=self.qty,
            release_date=self.releaseDate if self.isPreorder else None,
            image_url=(cover.url if cover else None) or self.coverImage,
            category=self.platform,
        )


class KeyStatus(Payload):
    id: str | None = None
    status: str


class OrderProduct(Payload):
    kinguinId: int | None = None
    productId: str | None = None
    qty: int = 1
    price: float | None = None
    isPreorder: bool | None = None
    releaseDate: str | None = None
    keys: list[KeyStatus] = []


class Order(Payload):
    orderId: TextId
    orderExternalId: str | None = None
    status: str
    totalPrice: float | None = None
    isPreorder: bool = False
    preorderReleaseDate: str | None = None
    products: list[OrderProduct] = []


class ProductSearch(Payload):
    results: list[Product] = []
    item_count: int = 0


class OrderSearch(Payload):
    results: list[Order] = []
    item_count: int = 0


class KeyItem(Payload):
    serial: str
    type: str = "text/plain"


class Balance(Payload):
    balance: float


class OrderStatusEvent(Payload):
    orderId: TextId
    orderExternalId: str | None = None
    status: str
    updatedAt: datetime


class ProductUpdateEvent(Payload):
    kinguinId: int | None = None
    productId: str | None = None
    qty: int | None = None
    textQty: int | None = None
    price: float | None = None
    updatedAt: datetime | None = None


class KinguinSettings(VendorSettings):
    """KINGUIN_API_URL, KINGUIN_API_KEY, KINGUIN_WEBHOOK_SECRET, KINGUIN_RATE_PER_SECOND."""

    model_config = VendorSettings.prefixed("KINGUIN_")

    api_url: str | None = "https://gateway.kinguin.net/esa/api"
    required: ClassVar[tuple[str, ...]] = ("api_key",)
    webhook_secret: SecretStr | None = Field(default=None)


async def open_vendor(ctx: VendorContext) -> KinguinVendor:
    settings = KinguinSettings()
    url, key = settings.api_url, settings.secret("api_key")
    secret = settings.secret("webhook_secret")
    if not real_api(NAME, settings, ctx.sandbox):
        from vendors.simulators.kinguin import KinguinSimulator

        key = key or secrets.token_hex(16)
        secret = secret or secrets.token_hex(16)
        hook = f"{ctx.webhook_base}/{NAME}" if ctx.webhook_base else None
        simulator = KinguinSimulator(api_key=key, webhook_url=hook, webhook_secret=secret)
        url = await ctx.start_simulator(simulator, "Kinguin")
    assert url is not None
    vendor = KinguinVendor(
        url,
        key,
        webhook_secret=secret,
        timeout=ctx.timeout,
        rate_per_second=ctx.rate(settings),
        pace=ctx.pace,
    )
    vendor.pushes_updates = vendor.pushes_updates and ctx.webhook_base is not None  # a receiver
    ctx.stack.push_async_callback(vendor.aclose)
    return vendor


class KinguinVendor(Vendor):
    name = NAME
    max_quantity = MAX_QTY_PER_OFFER

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        webhook_secret: str | None = None,
        timeout: float = 10.0,
        rate_per_second: float = 10.0,
        pace: Pace | None = None,
    ) -> None:
        self._http = VendorHttp(
            NAME,
            base_url,
            classify=_classify,
            headers={"X-Api-Key": api_key} if api_key else {},
            timeout=timeout,
            rate_per_second=rate_per_second,
            pace=pace,
        )
        self.health = self._http.health
        self._webhook_secret = webhook_secret
        self.pushes_updates = webhook_secret is not None

    async def aclose(self) -> None:
        await self._http.aclose()

    def check_offer_id(self, offer_id: str) -> str | None:
        if offer_id.isdigit() or _PRODUCT_ID.match(offer_id):
            return None
        return "a Kinguin offer is a kinguinId (a number) or a productId (24 hex characters)"

    async def get_offer(self, offer_id: str) -> VendorOffer:
        version = "v1" if offer_id.isdigit() else "v2"
        product = await self._http.get(f"/{version}/products/{offer_id}", Product)
        return product.offer(offer_id)

    async def find_products(self, query: str, limit: int = 10) -> list[VendorOffer]:
        """`GET /v1/products?name=` (at least 3 characters), or one product by its id."""
        query = query.strip()
        if self.check_offer_id(query) is None or len(query) < NAME_SEARCH_MIN:
            return await super().find_products(query, limit)
        found = await self._http.get(
            "/v1/products", ProductSearch, params={"name": query, "limit": limit}
        )
        return [
            product.offer(str(product.kinguinId) if product.kinguinId else product.productId or "")
            for product in found.results
            if product.kinguinId or product.productId
        ]

    async def place_order(self, order: PlaceOrder) -> VendorOrder:
        if order.quantity > MAX_QTY_PER_OFFER:
            raise OrderRejected(f"kinguin: at most {MAX_QTY_PER_OFFER} units per offer", "qty")
        if order.resumed:
            found = await self._find(order.reference)
            if found is not None:
                return found
        item: dict[str, Any] = {"qty": order.quantity, "price": order.price}
        if order.offer_id.isdigit():
            version, item["kinguinId"] = "v1", int(order.offer_id)
        else:
            version, item["productId"] = "v2", order.offer_id
        if order.key_type:
            item["keyType"] = order.key_type
        if order.variant:
            item["offerId"] = order.variant
        body = {"products": [item], "orderExternalId": order.reference}
        # spends money: never retried here; a lost answer is found by _find on resume
        placed = await self._http.send("POST", f"/{version}/order", Order, json_body=body)
        return _vendor_order(placed)

    async def _find(self, reference: str) -> VendorOrder | None:
        found = await self._http.get(
            "/v1/order", OrderSearch, params={"orderExternalId": reference}
        )
        for candidate in found.results:
            if candidate.orderExternalId == reference:
                return _vendor_order(candidate)
        return None

    async def order_status(self, vendor_order_id: str) -> VendorOrder:
        return _vendor_order(await self._http.get(f"/v1/order/{vendor_order_id}", Order))

    async def fetch_keys(self, vendor_order_id: str) -> tuple[Key, ...]:
        keys = await self._keys(vendor_order_id)
        if not keys:  # only where the keys endpoint needs the deprecated dispatch
            await self._http.send("POST", f"/v2/order/{vendor_order_id}/dispatch", dict, safe=True)
            keys = await self._keys(vendor_order_id)
        return keys

    async def _keys(self, vendor_order_id: str) -> tuple[Key, ...]:
        keys: list[Key] = []
        page = 1
        while True:
            batch = await self._http.get(
                f"/v2/order/{vendor_order_id}/keys",
                list[KeyItem],
                params={"page": page, "limit": KEYS_PAGE},
            )
            keys += [decode_key(item.serial, item.type) for item in batch]
            if len(batch) < KEYS_PAGE:
                return tuple(keys)
            page += 1

    async def balance(self) -> float | None:
        return (await self._http.get("/v1/balance", Balance)).balance

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes
    ) -> list[OrderEvent | ProductEvent]:
        given = headers.get("X-Event-Secret", "")
        expected = self._webhook_secret
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRefused(401, "kinguin webhook: wrong X-Event-Secret")
        event = headers.get("X-Event-Name", "")
        try:
            if event == "order.status":
                status = OrderStatusEvent.model_validate_json(body)
                return [
                    OrderEvent(
                        status.orderExternalId,
                        status.orderId,
                        status.status,
                        status.updatedAt,
                    )
                ]
            if event == "product.update":
                update = ProductUpdateEvent.model_validate_json(body)
                ids = tuple(str(i) for i in (update.kinguinId, update.productId) if i is not None)
                return [ProductEvent(ids, update.qty, update.price)]
        except (ValidationError, json.JSONDecodeError):
            raise WebhookRefused(400, f"kinguin webhook {event}: unreadable body") from None
        return []  # an event we do not use: acknowledged, nothing changes


def decode_key(serial: str, mime: str) -> Key:
    """A key as Kinguin sends it: text, or a base64 image in `serial`."""
    if not mime.startswith("image/"):
        return Key(kind="text", value=serial)
    try:
        return Key(kind="image", value=base64.b64decode(serial, validate=True), mime=mime)
    except (binascii.Error, ValueError):
        raise VendorUnavailable(f"an image key of type {mime} is not valid base64") from None


def _vendor_order(order: Order) -> VendorOrder:
    status = order.status.lower()
    release = order.preorderReleaseDate or next(
        (p.releaseDate for p in order.products if p.isPreorder), None
    )
    if status == "processing":
        return VendorOrder(
            order.orderId,
            VendorOrderStatus.PROCESSING,
            price=order.totalPrice,
            currency="EUR",
            release_date=release if order.isPreorder else None,
        )
    if status == "completed":
        return VendorOrder(
            order.orderId, VendorOrderStatus.COMPLETED, price=order.totalPrice, currency="EUR"
        )
    if status in ("canceled", "cancelled", "refunded"):
        delivered = any(k.status == "DELIVERED" for p in order.products for k in p.keys)
        final = VendorOrderStatus.PARTIAL if delivered else VendorOrderStatus.CANCELED
        return VendorOrder(order.orderId, final, price=order.totalPrice)
    raise VendorUnavailable(f"kinguin: unexpected order status {order.status!r}")


# Error kinds of ErrorsCodes.md onto our taxonomy.
_KINDS: dict[str, type[VendorError]] = {
    "Authorization": VendorAuthError,
    "InsufficientBalance": InsufficientFunds,
    "ProductUnavailable": OutOfStock,
    "ConstraintViolation": OrderRejected,
    "OrderFailed": OrderRejected,
    "Preorder": OrderRejected,
    "OrderNotSupported": OrderRejected,
    "NoKeysToReturn": OrderRejected,
    "OrderNotFound": VendorUnavailable,  # an order we placed: the stuck alert catches it
    "ResourceLock": VendorUnavailable,
    "Error": VendorUnavailable,
    "HttpClient": VendorUnavailable,
    "Http": VendorUnavailable,
}


def _classify(status: int, body: Any, where: str) -> VendorError | None:
    kind = body.get("kind") if isinstance(body, dict) else None
    text = f"{where}: HTTP {status} {kind or ''} {error_message(body)}".strip()
    if status == 429 or status >= 500:
        return None  # the shared mapping: rate limited, temporary
    if status == 404 and "/products/" in where:
        return OfferNotFound(text, kind)
    error = _KINDS.get(str(kind))
    if error is not None:
        return error(text, kind)
    if status in (401, 403):
        return VendorAuthError(text, kind)
    return OrderRejected(text, kind) if where.endswith("/order") else VendorUnavailable(text, kind)
