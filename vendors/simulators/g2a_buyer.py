"""A G2A buyer: calls the shop's dropshipping endpoints the way G2A does (seed 004, "Import
API - Reservations"), for the sandbox and the tests.

G2A first takes a token from the shop's ``POST /oauth/token`` (OAuth2 client credentials,
``grant_type=client_credentials``; the client id and secret go in the form body, or with
``credentials="basic"`` as HTTP Basic), then sends ``Authorization: Bearer ...`` with

* ``POST /integration-api/v1/reservations`` ``{orderId, productId, quantity}`` ->
  ``{reservationId, orderId, productId, quantity, status, expiresAt, createdAt}`` (kept at
  least 30 minutes);
* ``POST /integration-api/v1/reservations/{id}/confirm`` -> ``{reservationId, status:
  "confirmed", stockReady}``: HTTP 200 with the stock ready, 202 without;
* ``GET /integration-api/v1/inventory/{orderId}`` -> ``{orderId, stockReady, keys?}``,
  asked again until ``stockReady``.

Every answer must come within 9 seconds (``ANSWER_DEADLINE``): each call is timed, and a
slower one is ``TooSlow``. Answers are validated against the seed's shapes (unknown fields
tolerated); one that breaks the contract (a missing field, an id not echoed, 200 without
the stock, a reservation kept less than 30 minutes, ready without the keys) is
``ContractBroken``; an error answer is ``Refused``. Keys and secrets are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError, field_validator, model_validator

from vendors.payload import Payload, TextId

logger = logging.getLogger("vendors.simulators.g2a_buyer")

ANSWER_DEADLINE = 9.0  # seconds G2A waits for each answer
MIN_RESERVATION_TTL = timedelta(minutes=30)
IMPORT_PREFIX = "/integration-api/v1"
TOKEN_PATH = "/oauth/token"
TOKEN_MARGIN = 5.0  # seconds before its expiry a token is renewed

Credentials = Literal["body", "basic"]
M = TypeVar("M", bound=BaseModel)

# The calls of the purchase running in this task (concurrent buys keep theirs apart).
_purchase_calls: ContextVar[list[Call] | None] = ContextVar("purchase_calls", default=None)


class BuyerError(Exception):
    """Something went wrong talking to the shop."""


class Refused(BuyerError):
    """The shop answered with an error status."""

    def __init__(self, call: Call, body: Any) -> None:
        super().__init__(f"{call.method} {call.path}: HTTP {call.status}")
        self.call = call
        self.status = call.status
        self.body = body


class ContractBroken(BuyerError):
    """The shop's answer breaks the seed's contract."""


class TooSlow(BuyerError):
    """No answer within the deadline."""


class StockNotReady(BuyerError):
    """The inventory was still not ready when the buyer stopped asking."""


class TokenAnswer(Payload):
    access_token: str
    expires_in: float
    token_type: str

    @field_validator("token_type")
    @classmethod
    def _bearer(cls, value: str) -> str:
        if value.lower() != "bearer":
            raise ValueError("token_type must be Bearer")
        return value


class Reservation(Payload):
    reservationId: TextId
    orderId: TextId
    productId: TextId
    quantity: int
    status: str
    expiresAt: datetime
    createdAt: datetime

    @field_validator("expiresAt", "createdAt")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    @model_validator(mode="after")
    def _kept_long_enough(self) -> Self:
        if self.expiresAt - self.createdAt < MIN_RESERVATION_TTL:
            raise ValueError("a reservation must be kept at least 30 minutes")
        return self


class Confirmation(Payload):
    reservationId: TextId
    status: Literal["confirmed"]
    stockReady: bool


class Inventory(Payload):
    orderId: TextId
    stockReady: bool
    keys: list[str] | None = None


@dataclass(frozen=True)
class Call:
    """One request to the shop and how long its answer took."""

    method: str
    path: str
    status: int
    seconds: float


@dataclass(frozen=True)
class Answer(Generic[M]):
    body: M
    status: int
    seconds: float


@dataclass
class Purchase:
    """A G2A order from reservation to keys; ``calls`` holds every call it made."""

    order_id: str
    reservation: Answer[Reservation]
    confirmation: Answer[Confirmation]
    inventory: Answer[Inventory]
    calls: list[Call] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return list(self.inventory.body.keys or [])

    @property
    def slowest(self) -> float:
        """The longest any answer took, in seconds."""
        return max(call.seconds for call in self.calls)


def new_order_id() -> str:
    """A G2A-like numeric order id."""
    return str(10**11 + secrets.randbelow(9 * 10**11))


class G2ABuyer:
    """Buys from the shop's dropshipping API as G2A does. Use ``async with``."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        credentials: Credentials = "body",
        deadline: float = ANSWER_DEADLINE,
        poll_interval: float = 0.5,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.credentials = credentials
        self.deadline = deadline
        self.poll_interval = poll_interval
        self.calls: list[Call] = []  # every call so far, token requests included
        self.token_requests = 0
        self._http = httpx.AsyncClient(base_url=base_url, timeout=deadline)
        self._token: str | None = None
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # ----------------------------------------------------------------- the calls

    async def token(self) -> str:
        """A valid access token: the one held, or a new one (one request at a time)."""
        async with self._token_lock:
            if self._token is None or time.monotonic() >= self._token_until:
                answer = await self.request_token()
                self._token = answer.body.access_token
                self._token_until = time.monotonic() + answer.body.expires_in - TOKEN_MARGIN
            return self._token

    def set_token(self, token: str | None, seconds: float = 3600.0) -> None:
        """Present ``token`` (e.g. a forged one) from now on; None: take a new one."""
        self._token = token
        self._token_until = time.monotonic() + seconds

    async def request_token(self) -> Answer[TokenAnswer]:
        """``POST /oauth/token`` with the client credentials (the held token is kept)."""
        form = {"grant_type": "client_credentials"}
        auth: tuple[str, str] | None = None
        if self.credentials == "basic":
            auth = (self.client_id, self.client_secret)
        else:
            form |= {"client_id": self.client_id, "client_secret": self.client_secret}
        self.token_requests += 1
        return await self._call("POST", TOKEN_PATH, TokenAnswer, data=form, auth=auth)

    async def reserve(self, order_id: str, product_id: str, quantity: int) -> Answer[Reservation]:
        body = {"orderId": order_id, "productId": product_id, "quantity": quantity}
        answer = await self._call(
            "POST", f"{IMPORT_PREFIX}/reservations", Reservation, json=body, ok=(200, 201)
        )
        got = answer.body
        if (got.orderId, got.productId, got.quantity) != (order_id, product_id, quantity):
            raise ContractBroken(f"reservation does not echo the order: {body}")
        return answer

    async def confirm(self, reservation_id: str) -> Answer[Confirmation]:
        path = f"{IMPORT_PREFIX}/reservations/{reservation_id}/confirm"
        answer = await self._call("POST", path, Confirmation, ok=(200, 202))
        if answer.body.reservationId != reservation_id:
            raise ContractBroken("confirmation of another reservation")
        if answer.body.stockReady != (answer.status == 200):
            raise ContractBroken(
                f"HTTP {answer.status} with stockReady {answer.body.stockReady}"
                " (the stock ready is 200, not ready 202)"
            )
        return answer

    async def inventory(self, order_id: str) -> Answer[Inventory]:
        answer = await self._call("GET", f"{IMPORT_PREFIX}/inventory/{order_id}", Inventory)
        if answer.body.orderId != order_id:
            raise ContractBroken("inventory of another order")
        if answer.body.stockReady and not answer.body.keys:
            raise ContractBroken("stockReady without keys")
        return answer

    async def wait_for_stock(self, order_id: str, *, within: float = 60.0) -> Answer[Inventory]:
        """Ask for the inventory until it is ready; ``StockNotReady`` after ``within`` s."""
        give_up = time.monotonic() + within
        while True:
            answer = await self.inventory(order_id)
            if answer.body.stockReady:
                return answer
            if time.monotonic() + self.poll_interval > give_up:
                raise StockNotReady(f"order {order_id}: no stock after {within} s")
            await asyncio.sleep(self.poll_interval)

    async def buy(
        self,
        product_id: str,
        quantity: int = 1,
        *,
        order_id: str | None = None,
        within: float = 60.0,
    ) -> Purchase:
        """Token, reserve, confirm, then poll the inventory until the keys come."""
        order_id = order_id or new_order_id()
        calls: list[Call] = []
        collecting = _purchase_calls.set(calls)
        try:
            reservation = await self.reserve(order_id, product_id, quantity)
            confirmation = await self.confirm(reservation.body.reservationId)
            inventory = await self.wait_for_stock(order_id, within=within)
        finally:
            _purchase_calls.reset(collecting)
        if len(inventory.body.keys or []) != quantity:
            raise ContractBroken(f"{quantity} ordered, {len(inventory.body.keys or [])} keys")
        return Purchase(order_id, reservation, confirmation, inventory, calls)

    # ----------------------------------------------------------------- plumbing

    async def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        ok: tuple[int, ...] = (200,),
        auth: tuple[str, str] | None = None,
        **send: Any,
    ) -> Answer[M]:
        headers = {}
        if path != TOKEN_PATH:
            headers["Authorization"] = f"Bearer {await self.token()}"
        started = time.perf_counter()
        try:
            response = await self._http.request(method, path, headers=headers, auth=auth, **send)
        except httpx.TimeoutException as exc:
            raise TooSlow(f"{method} {path}: no answer within {self.deadline} s") from exc
        call = Call(method, path, response.status_code, time.perf_counter() - started)
        self.calls.append(call)
        purchase = _purchase_calls.get()
        if purchase is not None:
            purchase.append(call)
        logger.debug("%s %s: HTTP %d in %.3f s", method, path, call.status, call.seconds)
        if call.seconds > self.deadline:
            raise TooSlow(f"{method} {path}: answered after {call.seconds:.1f} s")
        body = _json(response)
        if call.status not in ok:
            raise Refused(call, body)
        try:
            return Answer(model.model_validate(body), call.status, call.seconds)
        except ValidationError as exc:
            raise ContractBroken(f"{method} {path}: {_problems(exc)}") from None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )
