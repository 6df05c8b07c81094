"""Orders of the G2A simulator: created unpaid, paid, then ``complete`` after the product's
processing time; the key is handed out once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vendors.simulators.base import Clock

OrderStatus = Literal["pending", "complete"]


@dataclass
class SimOrder:
    """An order as G2A sees it; ``status`` is derived from the clock."""

    order_id: str
    product_id: str
    price: float
    currency: str
    is_file: bool
    created_at: float
    processing_seconds: float
    clock: Clock = field(repr=False, compare=False)
    key: str = field(default="", repr=False)  # the serial (an image product: drawn as PNG)
    paid: bool = False
    paid_at: float | None = None
    transaction_id: str | None = None
    pay_calls: int = 0
    key_downloads: int = 0  # successful key answers (0 or 1)
    key_calls: int = 0  # every key request for this order
    logged_status: OrderStatus = field(default="pending", repr=False)

    @property
    def status(self) -> OrderStatus:
        if self.paid_at is None or self.clock() < self.paid_at + self.processing_seconds:
            return "pending"
        return "complete"

    @property
    def completed_at(self) -> float | None:
        """Clock time at which the order became complete (None while pending)."""
        if self.status != "complete" or self.paid_at is None:
            return None
        return self.paid_at + self.processing_seconds
