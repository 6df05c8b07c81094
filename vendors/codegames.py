"""CodeGames API-HUB client (seed 000): offers/find-one, create-order, order-status, keys.

Our order id travels as `transactionId`, which makes create-order idempotent: asking
again with the same id is how we learn what happened to an order whose answer we lost.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from storage.models import Key
from vendors.base import (
    InsufficientFunds,
    OfferNotFound,
    OrderRejected,
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
from vendors.pace import Pace
from vendors.payload import Payload, TextId
from vendors.settings import VendorSettings, real_api

if TYPE_CHECKING:
    from vendors import VendorContext

NAME = "codegames"
log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)


class FindOneAnswer(Payload):
    offerId: TextId
    productName: str = ""
    offerName: str = ""
    price: float
    currency: str = ""
    isReturnDataForCustomer: bool = True
    required: list[str] = []


class OrderAnswer(Payload):
    orderId: TextId
    status: str
    price: float | None = None
    currency: str | None = None
    key: str | None = None
    isReturnDataForCustomer: bool | None = None


class StatusAnswer(Payload):
    status: str
    isReturnDataForCustomer: bool | None = None


class KeysAnswer(Payload):
    """`{"key": "..."}` as documented; a list under `keys` is accepted as well."""

    key: str | None = None
    keys: list[str] = []

    def all(self) -> list[str]:
        return ([self.key] if self.key else []) + self.keys


_STATUSES = {
    "PROCESSING": VendorOrderStatus.PROCESSING,
    "COMPLETED": VendorOrderStatus.COMPLETED,
    "CANCELED": VendorOrderStatus.CANCELED,
    "CANCELLED": VendorOrderStatus.CANCELED,
    "REFUND": VendorOrderStatus.CANCELED,
}


def _status(raw: str) -> VendorOrderStatus:
    try:
        return _STATUSES[raw.upper()]
    except KeyError:
        raise VendorUnavailable(f"unexpected order status {raw!r}") from None


class CodeGamesSettings(VendorSettings):
    """CODEGAMES_API_URL, CODEGAMES_API_KEY, CODEGAMES_AUTH_HEADER, CODEGAMES_RATE_PER_SECOND.

    The seed does not name the header that carries the key; X-API-KEY is our default.
    """

    model_config = VendorSettings.prefixed("CODEGAMES_")

    auth_header: str = "X-API-KEY"


async def open_vendor(ctx: VendorContext) -> CodeGamesVendor:
    """The real API when credentials are set, else (or with SANDBOX=1) the simulator."""
    settings = CodeGamesSettings()
    url, key = settings.api_url, settings.secret("api_key")
    if not real_api(NAME, settings, ctx.sandbox):
        from vendors.simulators.codegames import CodeGamesSimulator

        url = await ctx.start_simulator(CodeGamesSimulator(api_key=key), "CodeGames")
    assert url is not None  # real_api checked it
    vendor = CodeGamesVendor(
        url,
        key,
        auth_header=settings.auth_header,
        timeout=ctx.timeout,
        rate_per_second=ctx.rate(settings),
        pace=ctx.pace,
    )
    ctx.stack.push_async_callback(vendor.aclose)
    return vendor


class CodeGamesVendor(Vendor):
    name = NAME

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        auth_header: str = "X-API-KEY",
        timeout: float = 10.0,
        rate_per_second: float = 10.0,
        pace: Pace | None = None,
        attempts: int = 3,
    ) -> None:
        self._http = VendorHttp(
            NAME,
            f"{base_url.rstrip('/')}/api/v1/offers",
            classify=_classify,
            headers={auth_header: api_key} if api_key else {},
            timeout=timeout,
            rate_per_second=rate_per_second,
            pace=pace,
            attempts=attempts,
        )
        self.health = self._http.health

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get_offer(self, offer_id: str) -> VendorOffer:
        answer = await self._call("find-one", {"offerId": _numeric(offer_id)}, FindOneAnswer)
        return VendorOffer(
            offer_id=answer.offerId,
            name=" ".join(part for part in (answer.productName, answer.offerName) if part),
            price=answer.price,
            currency=answer.currency,
            delivers_key=answer.isReturnDataForCustomer,
            required_fields=tuple(answer.required),
            category=answer.productName or None,
        )

    async def place_order(self, order: PlaceOrder) -> VendorOrder:
        """`transactionId` makes create-order idempotent: a resumed order asks again."""
        payload: dict[str, Any] = {
            "offerId": _numeric(order.offer_id),
            "price": order.price,
            "transactionId": order.reference,
        }
        if order.customer_fields:
            payload["customer"] = dict(order.customer_fields)
        answer = await self._call("create-order", payload, OrderAnswer)
        status = _status(answer.status)
        delivered = status is VendorOrderStatus.COMPLETED and answer.key
        keys = (Key(kind="text", value=answer.key),) if delivered and answer.key else ()
        return VendorOrder(answer.orderId, status, keys, answer.price, answer.currency)

    async def order_status(self, vendor_order_id: str) -> VendorOrder:
        answer = await self._call(
            "order-status", {"orderId": _numeric(vendor_order_id)}, StatusAnswer
        )
        return VendorOrder(vendor_order_id, _status(answer.status))

    async def fetch_keys(self, vendor_order_id: str) -> tuple[Key, ...]:
        answer = await self._call("keys", {"orderId": _numeric(vendor_order_id)}, KeysAnswer)
        keys = tuple(Key(kind="text", value=value) for value in answer.all())
        if not keys:
            raise VendorUnavailable("the keys answer holds no key")
        return keys

    async def _call(self, path: str, payload: dict[str, Any], model: type[Model]) -> Model:
        # every CodeGames call is safe to repeat: create-order is idempotent by transactionId
        return await self._http.send("POST", f"/{path}", model, json_body=payload, safe=True)


def _classify(status: int, body: Any, where: str) -> VendorError | None:
    text = f"{where}: HTTP {status} {error_message(body)}".strip()
    code = str(body.get("code")) if isinstance(body, dict) and body.get("code") else None
    if status in (401, 403):
        return VendorAuthError(text, code)
    if status == 429 or status >= 500:
        return None  # the shared mapping: rate limited, temporary
    ordering = where.endswith("/create-order")
    if status == 404 and (ordering or where.endswith("/find-one")):
        return OfferNotFound(text, code)
    if ordering and code == "INSUFFICIENT_BALANCE":
        return InsufficientFunds(text, code)
    if ordering:
        return OrderRejected(text, code)
    return VendorUnavailable(text, code)


def _numeric(value: str) -> int | str:
    """The seed's ids are numbers; send them as numbers when they are."""
    return int(value) if value.isdigit() else value
