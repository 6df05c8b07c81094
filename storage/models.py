"""What the storefront stores: catalog offers, orders and their state machine, keys."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_FIELD_PATTERN = "[0-9]{5,20}"


class Offer(BaseModel):
    """One entry of the shop's catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    vendor: str = Field(min_length=1)
    vendor_offer_id: str = Field(min_length=1)
    title: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=60)
    price_stars: int = Field(ge=1, le=100_000)
    max_vendor_price: float = Field(gt=0)
    patterns: dict[str, str] = Field(default_factory=dict)
    description: str = Field(default="", max_length=200)
    max_quantity: int = Field(default=1, ge=1, le=1000)  # units a customer may buy at once
    key_type: Literal["text"] | None = None  # ask the vendor for text keys only
    kinguin_offer_id: str | None = Field(default=None, min_length=1)  # a Kinguin seller offer
    g2a_product_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")  # sold on G2A

    @field_validator("vendor_offer_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator("patterns")
    @classmethod
    def _compilable(cls, value: dict[str, str]) -> dict[str, str]:
        for name, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern for {name!r} is not a valid regex: {exc}") from None
        return value

    def pattern_for(self, field_name: str) -> str:
        return self.patterns.get(field_name, DEFAULT_FIELD_PATTERN)

    def accepts(self, field_name: str, value: str) -> bool:
        """Whether `value` is a valid `field_name` (a player ID...) for this offer."""
        return re.fullmatch(self.pattern_for(field_name), value) is not None


TELEGRAM, G2A = "telegram", "g2a"  # sales channels (Order.channel)


class OrderState(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    CANCELLED = "cancelled"
    PAID = "paid"
    PLACING = "placing"
    PROCESSING = "processing"
    FULFILLED = "fulfilled"  # the vendor delivered; keys (if any) are stored
    DELIVERED = "delivered"  # the customer has been told
    REFUNDING = "refunding"
    REFUNDED = "refunded"
    FAILED = "failed"  # needs a human: e.g. the refund itself was refused
    # the vendor handed the key out once and we never stored it (G2A): an owner enters the
    # key recovered from the vendor, or the order is refunded when its wait runs out
    KEY_LOST = "key_lost"


S = OrderState
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.AWAITING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.CANCELLED: frozenset({S.PAID}),  # a payment that raced a cancel is still honoured
    S.PAID: frozenset({S.PLACING, S.REFUNDING}),
    # FAILED from these: a sale on another channel that its buyer is refunded for there
    S.PLACING: frozenset({S.PROCESSING, S.FULFILLED, S.REFUNDING, S.FAILED, S.KEY_LOST}),
    S.PROCESSING: frozenset({S.FULFILLED, S.REFUNDING, S.FAILED, S.KEY_LOST}),
    S.FULFILLED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.REFUNDING}),  # an owner settles a dispute; the key stays on record
    S.REFUNDING: frozenset({S.REFUNDED, S.FAILED}),
    S.REFUNDED: frozenset(),
    S.FAILED: frozenset({S.REFUNDING}),
    S.KEY_LOST: frozenset({S.FULFILLED, S.REFUNDING, S.FAILED}),  # recovered, or given up
}
# States a background worker moves forward on its own (a lost key: when its wait runs out).
WORKER_STATES = (S.PAID, S.PLACING, S.PROCESSING, S.FULFILLED, S.REFUNDING, S.KEY_LOST)


@dataclass(frozen=True)
class Order:
    id: str
    user_id: int
    chat_id: int
    sku: str
    title: str
    vendor: str
    vendor_offer_id: str
    price_stars: int
    vendor_price: float
    max_vendor_price: float
    vendor_currency: str
    delivers_key: bool
    state: OrderState
    created_at: float
    updated_at: float
    customer_fields: dict[str, str] = field(default_factory=dict)
    telegram_charge_id: str | None = None
    vendor_order_id: str | None = None
    failure_reason: str | None = None
    attempts: int = 0
    alerted: bool = False
    quantity: int = 1
    credit_stars: int = 0  # part of price_stars paid from shop credit
    key_type: str | None = None
    variant: str | None = None
    vendor_status: str | None = None
    vendor_updated_at: str | None = None
    release_date: str | None = None
    delivered_units: int | None = None
    channel: str = "telegram"  # who sold it: TELEGRAM, or G2A (selling on G2A)
    external_ref: str | None = None  # the channel's own order id (G2A's orderId)
    test_purchase: bool = False  # bought in the sandbox: a simulated vendor's test key

    @property
    def charged_stars(self) -> int:
        """What the Telegram charge carried (the rest came from credit)."""
        return self.price_stars - self.credit_stars

    @property
    def unit_stars(self) -> int:
        return self.price_stars // self.quantity

    @property
    def refund_credit(self) -> int:
        """What a refund moves on the customer's shop credit (see `refund_credit`)."""
        return refund_credit(
            self.credit_stars, self.price_stars, self.quantity, self.delivered_units
        )


def undelivered_credit(price_stars: int, quantity: int, delivered_units: int | None) -> int:
    """The shop credit an order gave for units its vendor did not deliver (Telegram
    refunds only whole charges)."""
    if delivered_units is None or delivered_units >= quantity:
        return 0
    return price_stars // quantity * (quantity - delivered_units)


def refund_credit(
    credit_stars: int, price_stars: int, quantity: int, delivered_units: int | None
) -> int:
    """A refund gives back the whole charge, so the credit the order used comes back, less
    the credit it already gave for undelivered units (negative: taken back)."""
    return credit_stars - undelivered_credit(price_stars, quantity, delivered_units)


@dataclass(frozen=True)
class Key:
    """A delivered product key: text, or an image (bytes) for vendors that send pictures."""

    kind: Literal["text", "image"]
    value: str | bytes
    mime: str = "text/plain"

    def __repr__(self) -> str:  # keys are secrets: never let one slip into a log line
        return f"Key(kind={self.kind!r}, mime={self.mime!r}, value=<hidden>)"
