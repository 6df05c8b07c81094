"""The one small interface every vendor module implements, and the errors it may raise.

The errors are one taxonomy for every vendor, so the workers act on them without knowing
which vendor spoke:

    OfferNotFound      the vendor does not sell this (any more)
    OrderRejected      refused for good; OutOfStock and InsufficientFunds are kinds of it
    VendorUnavailable  temporary (timeout, 5xx, garbled answer); RateLimited is a kind of it
    VendorAuthError    our credentials were refused: nothing helps until the owner fixes them
    OrderUncertain     an earlier attempt's fate cannot be learned: never buy again, refund
    KeyLost            the vendor handed the key out before and will not again (G2A ORD004)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from storage.models import Key


class VendorError(Exception):
    """Base of everything a vendor call can fail with. The message never contains a key."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class OfferNotFound(VendorError):
    """The vendor does not know (or no longer sells) this offer."""


class OrderRejected(VendorError):
    """The vendor refused the order for good (price moved, bad player ID...)."""


class OutOfStock(OrderRejected):
    """Nothing (or not enough) to sell at our price."""


class InsufficientFunds(OrderRejected):
    """The shop's balance at the vendor does not cover the order: the owner must top up."""


class VendorUnavailable(VendorError):
    """A temporary failure: timeout, 5xx, 429, a garbled answer. Safe to retry later."""


class RateLimited(VendorUnavailable):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, "rate_limited")
        self.retry_after = retry_after


class VendorAuthError(VendorError):
    """Our credentials were refused: retrying will not help until the shop owner fixes them."""


class OrderUncertain(VendorError):
    """We cannot tell whether an earlier attempt bought: refund, alert, never buy again."""


class KeyLost(VendorError):
    """The vendor already handed this key out once and will not again (lost in transit)."""


class VendorOrderStatus(StrEnum):
    PROCESSING = "processing"
    COMPLETED = "completed"
    PARTIAL = "partial"  # final: some units were delivered, the rest cancelled
    CANCELED = "canceled"


@dataclass(frozen=True)
class VendorOffer:
    offer_id: str
    name: str
    price: float  # per unit
    currency: str
    delivers_key: bool  # False: the order itself is the delivery (a top-up)
    required_fields: tuple[str, ...] = ()
    available: bool = True
    stock: int | None = None  # units the vendor can sell now, where it says
    release_date: str | None = None  # a pre-order's release date
    image_url: str | None = None
    category: str | None = None  # the vendor's platform or genre, a catalog category


@dataclass(frozen=True)
class PlaceOrder:
    reference: str  # our order id, the vendor's idempotency key where it has one
    offer_id: str
    price: float  # per unit, as quoted when the customer paid
    customer_fields: Mapping[str, str] = field(default_factory=dict)
    quantity: int = 1
    key_type: str | None = None  # "text": ask for text keys only
    variant: str | None = None  # the vendor's own sub-offer, where the catalog names one
    max_price: float | None = None  # the most we pay per unit (the catalog's max_vendor_price)
    # Set when an earlier attempt may have gone through (its answer was lost, or we crashed):
    resumed: bool = False
    vendor_order_id: str | None = None  # what an earlier attempt remembered
    placed_at: float = 0.0  # when the first attempt started (unix seconds)
    # Persist a vendor order id before the next money-spending call (G2A: before paying).
    remember: Callable[[str], Awaitable[None]] | None = None
    # Which of these vendor order ids belong to other orders of ours: a resumed search
    # (a vendor without idempotency keys) never adopts one of those.
    taken: Callable[[Sequence[str]], Awaitable[set[str]]] | None = None


@dataclass(frozen=True)
class VendorOrder:
    order_id: str
    status: VendorOrderStatus
    keys: tuple[Key, ...] = ()
    price: float | None = None
    currency: str | None = None
    release_date: str | None = None  # set while a pre-order waits for its release


@dataclass(frozen=True)
class OrderEvent:
    """A vendor's push about one of our orders (e.g. Kinguin's `order.status`)."""

    reference: str | None  # our order id, where the vendor echoes it
    vendor_order_id: str
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class ProductEvent:
    """A vendor's push that a product's price or stock changed."""

    offer_ids: tuple[str, ...]  # every catalog id that names this product
    stock: int | None = None
    price: float | None = None


class WebhookRefused(Exception):
    """A webhook we must not act on: `status` is the HTTP answer (401 forged, 400 garbled)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Vendor:
    """A wholesale API the shop buys from on the customer's behalf.

    A vendor module subclasses this and registers an `open_vendor(ctx)` factory in
    `vendors.REGISTRY`. Only `get_offer`, `place_order`, `order_status` and `fetch_keys`
    are required; the rest have defaults for vendors without the feature.
    """

    name: ClassVar[str]
    max_quantity: ClassVar[int] = 1  # units one order may hold
    pushes_updates: bool = False  # True: order webhooks arrive, polling is only a safety net
    # False: a repeated create buys again (no idempotency key). The workers then run one
    # create per product at a time whose outcome is unknown, so a resumed search can tell.
    idempotent_creates: ClassVar[bool] = True
    health: VendorHealth

    async def get_offer(self, offer_id: str) -> VendorOffer:
        raise NotImplementedError

    async def place_order(self, order: PlaceOrder) -> VendorOrder:
        """Buy once per `order.reference`. With `order.resumed`, first learn what an
        earlier attempt did and adopt its order; never buy a second time."""
        raise NotImplementedError

    async def order_status(self, vendor_order_id: str) -> VendorOrder:
        raise NotImplementedError

    async def fetch_keys(self, vendor_order_id: str) -> tuple[Key, ...]:
        raise NotImplementedError

    async def balance(self) -> float | None:
        """The shop's money at the vendor, where the API tells it."""
        return None

    async def find_products(self, query: str, limit: int = 10) -> list[VendorOffer]:
        """Products matching `query`, for building the catalog. Vendors without a search
        API find one product by its id."""
        query = query.strip()
        if not query or self.check_offer_id(query) is not None:
            return []
        try:
            return [await self.get_offer(query)]
        except OfferNotFound:
            return []

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes
    ) -> list[OrderEvent | ProductEvent]:
        """Authenticate and read a webhook; raise WebhookRefused for anything else."""
        raise WebhookRefused(404, f"{self.name} sends no webhooks")

    def check_offer_id(self, offer_id: str) -> str | None:
        """Why a catalog `vendor_offer_id` cannot be right for this vendor (None: fine)."""
        return None

    async def aclose(self) -> None:
        return None


@dataclass
class VendorHealth:
    """How a vendor's API has been answering this process (for /health and the admins)."""

    last_success: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    outcomes: list[tuple[float, bool]] = field(default_factory=list)  # (when, ok), recent

    WINDOW: ClassVar[float] = 3600.0

    def record(self, ok: bool, now: float, error: str | None = None) -> None:
        if ok:
            self.last_success = now
        else:
            self.last_error, self.last_error_at = error, now
        self.outcomes.append((now, ok))
        if len(self.outcomes) > 2000 or self.outcomes[0][0] < now - self.WINDOW:
            self.outcomes = [item for item in self.outcomes if item[0] >= now - self.WINDOW]

    def error_rate(self, now: float) -> float | None:
        recent = [ok for at, ok in self.outcomes if at >= now - self.WINDOW]
        return None if not recent else 1 - sum(recent) / len(recent)
