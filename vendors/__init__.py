"""Vendors the shop buys from. One module per vendor; register it here with one line."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Protocol

from vendors import codegames, g2a, kinguin, kinguin_integration
from vendors.base import Vendor
from vendors.settings import VendorSettings

log = logging.getLogger(__name__)


class Simulator(Protocol):
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class VendorContext:
    """What the assembly hands a vendor factory."""

    sandbox: bool  # use the vendor's built-in simulator even if credentials are set
    timeout: float
    rate_per_second: float  # VENDOR_RATE_PER_SECOND, unless the vendor sets its own
    stack: AsyncExitStack  # where a factory registers clean-up (clients, simulators)
    webhook_base: str | None = None  # where a simulator sends webhooks (the bot's server)

    def rate(self, settings: VendorSettings) -> float:
        return settings.rate_per_second or self.rate_per_second

    async def start_simulator(self, simulator: Simulator, label: str) -> str:
        url = await simulator.start()
        self.stack.push_async_callback(simulator.stop)
        log.warning("%s: SANDBOX mode, orders go to the built-in simulator at %s", label, url)
        return url


VendorFactory = Callable[[VendorContext], Awaitable[Vendor]]

REGISTRY: dict[str, VendorFactory] = {
    codegames.NAME: codegames.open_vendor,
    g2a.NAME: g2a.open_vendor,
    kinguin.NAME: kinguin.open_vendor,
    kinguin_integration.NAME: kinguin_integration.open_vendor,
}
