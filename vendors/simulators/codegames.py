"""CodeGames API-HUB simulator: an aiohttp server speaking the vendor's wire protocol.

With SANDBOX=1 the bot runs it in-process so a shop owner can try the whole purchase
flow without a vendor account; tests run it too and steer it through plain methods
(prices, availability, outcomes, forced statuses, fault injection).

Order statuses are computed lazily from one injectable clock: an order stays
PROCESSING until ``created_at + processing_seconds`` and then takes the outcome its
offer had when the order was created. Keys are secrets and are never logged.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from vendors.simulators.base import ApiError, Clock, RequestBody, SimulatorServer, parser
from vendors.simulators.common import note_status, unique_code

logger = logging.getLogger("vendors.simulators.codegames")

Outcome = Literal["COMPLETED", "CANCELED", "REFUND"]
Status = Literal["PROCESSING", "COMPLETED", "CANCELED", "REFUND"]

API_PREFIX = "/api/v1/offers/"
FIRST_ORDER_ID = 10502
DEFAULT_BALANCE = 100_000_000.0
_GAME_USER_ID = re.compile(r"[0-9]+")


# --------------------------------------------------------------------------- catalogue


class SimOffer(BaseModel):
    """One offer of the simulated catalogue (mutable: steer it with the simulator)."""

    offer_id: int
    product_name: str
    offer_name: str
    price: float
    currency: str = "KZT"
    gift_card: bool
    processing_seconds: float = 2.0
    outcome: Outcome = "COMPLETED"
    available: bool = True
    key_prefix: str = "CODE"


def _topup(offer_id: int, product: str, name: str, price: float) -> SimOffer:
    return SimOffer(
        offer_id=offer_id,
        product_name=product,
        offer_name=name,
        price=price,
        gift_card=False,
        processing_seconds=3.0,
    )


def _card(
    offer_id: int, product: str, name: str, price: float, prefix: str, **extra: Any
) -> SimOffer:
    return SimOffer(
        offer_id=offer_id,
        product_name=product,
        offer_name=name,
        price=price,
        gift_card=True,
        key_prefix=prefix,
        **extra,
    )


DEFAULT_OFFERS: tuple[SimOffer, ...] = (
    _topup(2061, "PUBG Mobile", "60 UC", 674.47),
    _topup(2062, "PUBG Mobile", "325 UC", 3290.00),
    _topup(2063, "PUBG Mobile", "660 UC", 6540.00),
    _topup(2064, "PUBG Mobile", "1800 UC", 16350.00),
    _topup(2101, "Free Fire", "520 Diamonds", 3150.00),
    _card(3001, "Steam", "Wallet 5 USD", 2750.00, "STM5"),
    _card(3002, "Steam", "Wallet 10 USD", 5450.00, "STM10"),
    _card(3003, "Steam", "Wallet 20 USD", 10850.00, "STM20"),
    _card(3004, "Steam", "Wallet 50 USD", 27100.00, "STM50"),
    _card(3005, "Steam", "Wallet 100 USD", 54150.00, "STM100"),
    _card(3101, "Google Play", "Gift Card 10 USD", 5400.00, "GPL10"),
    _card(3102, "Google Play", "Gift Card 25 USD", 13450.00, "GPL25"),
    _card(3103, "Google Play", "Gift Card 50 USD", 26850.00, "GPL50"),
    _card(3201, "App Store", "Gift Card 10 USD", 5450.00, "APL10"),
    _card(3202, "App Store", "Gift Card 25 USD", 13500.00, "APL25"),
    _card(3301, "Razer Gold", "Gift Card 10 USD", 5350.00, "RZG10"),
    _card(9001, "Sandbox", "Sandbox: always cancelled", 100.00, "SBX", outcome="CANCELED"),
)


# --------------------------------------------------------------------------- orders


@dataclass
class SimOrder:
    """An order as the vendor sees it; ``status`` is derived from the clock."""

    order_id: int
    transaction_id: str
    offer_id: int
    product_name: str
    offer_name: str
    price: float
    currency: str
    gift_card: bool
    created_at: float
    due_at: float
    final_status: Status
    clock: Clock = field(repr=False, compare=False)
    key: str | None = field(default=None, repr=False)
    game_user_id: str | None = None
    create_calls: int = 1
    logged_status: Status = field(default="PROCESSING", repr=False)

    @property
    def status(self) -> Status:
        return "PROCESSING" if self.clock() < self.due_at else self.final_status

    @property
    def completed_at(self) -> float | None:
        """Clock time at which the order became final (None while PROCESSING)."""
        return None if self.status == "PROCESSING" else self.due_at

    @property
    def is_return_data_for_customer(self) -> bool:
        return self.gift_card


# --------------------------------------------------------------------------- wire models


class FindOneRequest(RequestBody):
    offer_id: int = Field(alias="offerId")


class CustomerData(RequestBody):
    game_user_id: str | None = Field(default=None, alias="gameUserId")


class CreateOrderRequest(RequestBody):
    offer_id: int = Field(alias="offerId")
    price: float
    transaction_id: str = Field(alias="transactionId", min_length=1)
    customer: CustomerData | None = None


class OrderRequest(RequestBody):
    order_id: int = Field(alias="orderId")


def _error(status: int, message: str, code: str | None = None) -> ApiError:
    """CodeGames answers errors as ``{"message": ..., "code": ...}``."""
    return ApiError(status, {"message": message} | ({"code": code} if code else {}))


_parse = parser(lambda problems: _error(400, problems, "BAD_REQUEST"))


# --------------------------------------------------------------------------- simulator


class CodeGamesSimulator(SimulatorServer):
    """HTTP server implementing find-one, create-order, order-status and keys."""

    name = "codegames"

    def __init__(
        self,
        offers: Sequence[SimOffer] = DEFAULT_OFFERS,
        api_key: str | None = None,
        *,
        clock: Clock = time.time,
        balance: float = DEFAULT_BALANCE,
        hang_seconds: float = 30.0,
    ) -> None:
        super().__init__(clock=clock, hang_seconds=hang_seconds)
        self.offers: dict[int, SimOffer] = {o.offer_id: o.model_copy() for o in offers}
        self.api_key = api_key
        self.balance = balance
        self.orders: dict[int, SimOrder] = {}
        self._by_tx: dict[str, int] = {}
        self._issued_keys: set[str] = set()
        self._next_order_id = FIRST_ORDER_ID
        self._endpoints: dict[str, Callable[[Any], dict[str, Any]]] = {
            "find-one": self._find_one,
            "create-order": self._create_order,
            "order-status": self._order_status,
            "keys": self._keys,
        }

    def routes(self, app: web.Application) -> None:
        app.router.add_post(API_PREFIX + "{endpoint}", self.endpoint(self._route))

    def auth_error(self, request: web.Request) -> ApiError | None:
        if self.api_key is not None and request.headers.get("X-API-KEY") != self.api_key:
            return ApiError(401, {"message": "Unauthorized"})
        return None

    def bad_json(self) -> ApiError:
        return _error(400, "Request body must be JSON", "BAD_REQUEST")

    async def _route(self, request: web.Request, body: Any) -> dict[str, Any]:
        handler = self._endpoints.get(request.match_info["endpoint"])
        if handler is None:
            raise _error(404, "Not found", "NOT_FOUND")
        return handler(body)

    # ----------------------------------------------------------------- steering

    @property
    def requests(self) -> list[tuple[str, Any]]:
        return [(r.path, r.body) for r in self.log]

    @property
    def orders_created(self) -> int:
        return len(self.orders)

    def set_price(self, offer_id: int, price: float) -> None:
        self.offers[offer_id].price = price

    def set_available(self, offer_id: int, available: bool) -> None:
        self.offers[offer_id].available = available

    def set_outcome(
        self, offer_id: int, outcome: Outcome, processing_seconds: float | None = None
    ) -> None:
        """Change the outcome (and optionally the delay) of orders created from now on."""
        offer = self.offers[offer_id]
        offer.outcome = outcome
        if processing_seconds is not None:
            offer.processing_seconds = processing_seconds

    def force_status(self, order_id: int, status: Status) -> None:
        """Make the order final with ``status`` now (PROCESSING: keep it processing)."""
        order = self.orders[order_id]
        if status == "PROCESSING":
            order.due_at = math.inf
        else:
            order.final_status = status
            order.due_at = self.clock()
        self._observe(order)

    def place(self, offer_id: int, transaction_id: str) -> SimOrder:
        """An order placed earlier, as if create-order had been called (benchmarks seed
        shops with thousands of open orders this way)."""
        return self._commit(self._offer(offer_id), transaction_id, None)

    def order_by_transaction(self, transaction_id: str) -> SimOrder | None:
        order_id = self._by_tx.get(transaction_id)
        return None if order_id is None else self.orders[order_id]

    # ----------------------------------------------------------------- endpoints

    def _offer(self, offer_id: int) -> SimOffer:
        offer = self.offers.get(offer_id)
        if offer is None or not offer.available:
            raise _error(404, "Offer not found", "OFFER_NOT_FOUND")
        return offer

    def _order(self, order_id: int) -> SimOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise _error(404, "Order not found", "ORDER_NOT_FOUND")
        self._observe(order)
        return order

    def _find_one(self, body: Any) -> dict[str, Any]:
        try:
            offer = self._offer(_parse(FindOneRequest, body).offer_id)
        except ApiError as err:
            raise ApiError(err.status, {"message": err.body["message"]}) from None  # no code
        answer: dict[str, Any] = {
            "offerId": offer.offer_id,
            "productName": offer.product_name,
            "offerName": offer.offer_name,
            "price": offer.price,
            "currency": offer.currency,
            "isReturnDataForCustomer": offer.gift_card,
        }
        if not offer.gift_card:
            answer["required"] = ["gameUserId"]
        return answer

    def _create_order(self, body: Any) -> dict[str, Any]:
        req = _parse(CreateOrderRequest, body)
        existing = self.order_by_transaction(req.transaction_id)
        if existing is not None:
            existing.create_calls += 1
            self._observe(existing)
            logger.info(
                "order %s: repeated create-order for transaction %s (call %s)",
                existing.order_id,
                req.transaction_id,
                existing.create_calls,
            )
            return self._order_answer(existing)
        offer = self._offer(req.offer_id)
        game_user_id = self._check_order(offer, req)
        return self._order_answer(self._commit(offer, req.transaction_id, game_user_id))

    def _check_order(self, offer: SimOffer, req: CreateOrderRequest) -> str | None:
        """Validate a new order; return the gameUserId to keep (None for gift cards)."""
        if round(req.price, 2) < round(offer.price, 2):
            raise _error(
                400,
                f"Price changed: current price is {offer.price:.2f} {offer.currency}",
                "PRICE_CHANGED",
            )
        game_user_id = req.customer.game_user_id if req.customer else None
        if not offer.gift_card:
            if not game_user_id:
                raise _error(400, "customer.gameUserId is required", "CUSTOMER_REQUIRED")
            if not _GAME_USER_ID.fullmatch(game_user_id):
                raise _error(400, "gameUserId must contain digits only", "INVALID_GAME_USER_ID")
        if offer.price > self.balance:
            raise _error(400, "Insufficient balance", "INSUFFICIENT_BALANCE")
        return None if offer.gift_card else game_user_id

    def _commit(self, offer: SimOffer, transaction_id: str, game_user_id: str | None) -> SimOrder:
        now = self.clock()
        order = SimOrder(
            order_id=self._next_order_id,
            transaction_id=transaction_id,
            offer_id=offer.offer_id,
            product_name=offer.product_name,
            offer_name=offer.offer_name,
            price=offer.price,
            currency=offer.currency,
            gift_card=offer.gift_card,
            created_at=now,
            due_at=now + offer.processing_seconds,
            final_status=offer.outcome,
            clock=self.clock,
            key=self._new_key(offer.key_prefix) if offer.gift_card else None,
            game_user_id=game_user_id,
        )
        self._next_order_id += 1
        self.balance -= offer.price
        self.orders[order.order_id] = order
        self._by_tx[transaction_id] = order.order_id
        logger.info(
            "order %s created: offer %s, transaction %s, price %.2f %s, balance left %.2f",
            order.order_id,
            offer.offer_id,
            transaction_id,
            order.price,
            order.currency,
            self.balance,
        )
        self._observe(order)
        return order

    def _order_status(self, body: Any) -> dict[str, Any]:
        order = self._order(_parse(OrderRequest, body).order_id)
        return {
            "status": order.status,
            "isReturnDataForCustomer": order.is_return_data_for_customer,
        }

    def _keys(self, body: Any) -> dict[str, Any]:
        order = self._order(_parse(OrderRequest, body).order_id)
        if not order.is_return_data_for_customer:
            raise _error(400, "Keys are not available for this order", "NO_KEYS_FOR_ORDER")
        if order.status != "COMPLETED" or order.key is None:
            raise _error(400, f"Order is {order.status}", "ORDER_NOT_COMPLETED")
        return {"key": order.key}

    # ----------------------------------------------------------------- helpers

    def _order_answer(self, order: SimOrder) -> dict[str, Any]:
        status = order.status
        answer: dict[str, Any] = {"orderId": order.order_id}
        if status == "PROCESSING":
            answer["count"] = 1
        answer |= {
            "price": order.price,
            "currency": order.currency,
            "offerId": order.offer_id,
            "productName": order.product_name,
            "offerName": order.offer_name,
            "status": status,
        }
        if status == "COMPLETED" and order.key is not None:
            answer["key"] = order.key
        answer["isReturnDataForCustomer"] = order.is_return_data_for_customer
        return answer

    def _observe(self, order: SimOrder) -> None:
        """Log the order's state change the first time it is noticed (never the key)."""
        note_status(logger, order)

    def _new_key(self, prefix: str) -> str:
        return unique_code(self._issued_keys, length=4, prefix=prefix)
