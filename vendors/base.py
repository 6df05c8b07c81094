"""The one small interface every vendor module implements, and the errors it may raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from storage.models import Key


class VendorError(Exception):
    """Base of everything a vendor call can fail with. The message never contains a key."""


class OfferNotFound(VendorError):
    """The vendor does not know (or no longer sells) this offer."""


class OrderRejected(VendorError):
    """The vendor refused the order for good (price moved, bad player ID, no balance...)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class VendorUnavailable(VendorError):
    """A temporary failure: timeout, 5xx, 429, a garbled answer. Safe to retry later."""


class VendorAuthError(VendorError):
    """Our credentials were refused: retrying will not help until the shop owner fixes them."""


class VendorOrderStatus(StrEnum):
    PROCESSING = "processing"
    COMPLETED = "completed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class VendorOffer:
    offer_id: str
    name: str
    price: float
    currency: str
    delivers_key: bool  # False: the order itself is the delivery (a top-up)
    required_fields: tuple[str, ...] = ()
    available: bool = True


@dataclass(frozen=True)
class PlaceOrder:
    reference: str  # our order id, the vendor's idempotency key
    offer_id: str
    price: float
    customer_fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VendorOrder:
    order_id: str
    status: VendorOrderStatus
    keys: tuple[Key, ...] = ()
    price: float | None = None
    currency: str | None = None


class Vendor(Protocol):
    """A wholesale API the shop buys from on the customer's behalf."""

    name: str

    async def get_offer(self, offer_id: str) -> VendorOffer: ...

    async def place_order(self, order: PlaceOrder) -> VendorOrder:
        """Buy once per `order.reference`: calling again with the same reference must
        return the order already placed, never buy a second time."""
        ...

    async def order_status(self, vendor_order_id: str) -> VendorOrder: ...

    async def fetch_keys(self, vendor_order_id: str) -> tuple[Key, ...]: ...

    async def aclose(self) -> None: ...
