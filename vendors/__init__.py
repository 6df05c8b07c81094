"""Vendors the shop buys from. One module per vendor; register it here with one line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

from vendors import codegames
from vendors.base import Vendor


@dataclass(frozen=True)
class VendorContext:
    """What the assembly hands a vendor factory."""

    sandbox: bool  # use the vendor's built-in simulator even if credentials are set
    timeout: float
    rate_per_second: float
    stack: AsyncExitStack  # where a factory registers clean-up (clients, simulators)


VendorFactory = Callable[[VendorContext], Awaitable[Vendor]]

REGISTRY: dict[str, VendorFactory] = {
    codegames.NAME: codegames.open_vendor,
}
