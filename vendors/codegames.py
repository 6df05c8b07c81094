"""CodeGames API-HUB client (seed 000): offers/find-one, create-order, order-status, keys.

Our order id travels as `transactionId`, which makes create-order idempotent: asking
again with the same id is how we learn what happened to an order whose answer we lost.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from aiolimiter import AsyncLimiter
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from storage.models import Key
from vendors.base import (
    OfferNotFound,
    OrderRejected,
    PlaceOrder,
    VendorAuthError,
    VendorError,
    VendorOffer,
    VendorOrder,
    VendorOrderStatus,
    VendorUnavailable,
)

if TYPE_CHECKING:
    from vendors import VendorContext

NAME = "codegames"
log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _text_id(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value


class FindOneAnswer(_Payload):
    offerId: str
    productName: str = ""
    offerName: str = ""
    price: float
    currency: str = ""
    isReturnDataForCustomer: bool = True
    required: list[str] = []

    _ids = field_validator("offerId", mode="before")(_text_id)


class OrderAnswer(_Payload):
    orderId: str
    status: str
    price: float | None = None
    currency: str | None = None
    key: str | None = None
    isReturnDataForCustomer: bool | None = None

    _ids = field_validator("orderId", mode="before")(_text_id)


class StatusAnswer(_Payload):
    status: str
    isReturnDataForCustomer: bool | None = None


class KeysAnswer(_Payload):
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


class CodeGamesSettings(BaseSettings):
    """CODEGAMES_API_URL, CODEGAMES_API_KEY and CODEGAMES_AUTH_HEADER from the environment.

    The seed does not name the header that carries the key; X-API-KEY is our default.
    """

    model_config = SettingsConfigDict(env_prefix="CODEGAMES_", env_file=".env", extra="ignore")

    api_url: str | None = None
    api_key: SecretStr | None = None
    auth_header: str = "X-API-KEY"


async def open_vendor(ctx: VendorContext) -> CodeGamesVendor:
    """The real API when credentials are set, else (or with SANDBOX=1) the simulator."""
    settings = CodeGamesSettings()
    url, key = settings.api_url, settings.api_key.get_secret_value() if settings.api_key else None
    if ctx.sandbox or not (url and key):
        from vendors.simulators.codegames import CodeGamesSimulator

        simulator = CodeGamesSimulator(api_key=key)
        url = await simulator.start()
        ctx.stack.push_async_callback(simulator.stop)
        log.warning("CodeGames: SANDBOX mode, orders go to the built-in simulator at %s", url)
    vendor = CodeGamesVendor(
        url,
        key,
        auth_header=settings.auth_header,
        timeout=ctx.timeout,
        rate_per_second=ctx.rate_per_second,
    )
    ctx.stack.push_async_callback(vendor.aclose)
    return vendor


class CodeGamesVendor:
    name = NAME

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        auth_header: str = "X-API-KEY",
        timeout: float = 10.0,
        rate_per_second: float = 10.0,
        attempts: int = 3,
    ) -> None:
        headers = {auth_header: api_key} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=f"{base_url.rstrip('/')}/api/v1/offers/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        )
        self._limiter = AsyncLimiter(rate_per_second, 1.0)
        self._attempts = attempts

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
        )

    async def place_order(self, order: PlaceOrder) -> VendorOrder:
        payload: dict[str, Any] = {
            "offerId": _numeric(order.offer_id),
            "price": order.price,
            "transactionId": order.reference,
        }
        if order.customer_fields:
            payload["customer"] = dict(order.customer_fields)
        answer = await self._call("create-order", payload, OrderAnswer, rejected=OrderRejected)
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

    async def _call(
        self,
        path: str,
        payload: dict[str, Any],
        model: type[Model],
        *,
        rejected: type[VendorError] = VendorUnavailable,
    ) -> Model:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(path, payload, model, rejected)
        except _Retryable as exc:
            raise VendorUnavailable(str(exc)) from None
        raise AssertionError("unreachable")

    async def _once(
        self, path: str, payload: dict[str, Any], model: type[Model], rejected: type[VendorError]
    ) -> Model:
        async with self._limiter:
            try:
                response = await self._http.post(path, json=payload)
            except httpx.TimeoutException:
                # not retried here: a customer may be waiting, and the worker retries later
                raise VendorUnavailable(f"codegames {path}: timed out") from None
            except httpx.TransportError as exc:
                raise _Retryable(f"codegames {path}: {type(exc).__name__}") from None
        log.debug("codegames %s -> %s", path, response.status_code)
        _raise_for_status(path, response, rejected)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            # the error text can echo the body (a key!), so keep only where it broke
            where = ", ".join(".".join(map(str, e["loc"])) or e["type"] for e in exc.errors())
            raise VendorUnavailable(f"codegames {path}: unreadable answer ({where})") from None


class _Retryable(Exception):
    pass


def _raise_for_status(path: str, response: httpx.Response, rejected: type[VendorError]) -> None:
    status = response.status_code
    if status < 400:
        return
    message, code = _error_detail(response)
    text = f"codegames {path}: HTTP {status} {message}".strip()
    if status in (401, 403):
        raise VendorAuthError(text)
    if status == 429 or status >= 500:
        raise _Retryable(text)
    if status == 404 and path in ("find-one", "create-order"):
        raise OfferNotFound(text)
    if rejected is OrderRejected:
        raise OrderRejected(text, code)
    raise rejected(text)


def _error_detail(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        return "", None
    if not isinstance(body, dict):
        return "", None
    message = next((str(body[k]) for k in ("message", "error", "detail") if k in body), "")
    code = body.get("code")
    return message[:200], str(code) if code is not None else None


def _numeric(value: str) -> int | str:
    """The seed's ids are numbers; send them as numbers when they are."""
    return int(value) if value.isdigit() else value
