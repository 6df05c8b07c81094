"""Vendors the shop buys from. One module per vendor; register it here with one line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Protocol

from vendors import codegames, g2a, kinguin, kinguin_integration
from vendors.base import Vendor
from vendors.pace import Pace
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
    simulators: list[str] = field(default_factory=list)  # labels of the simulators started
    pace: Pace = field(default_factory=Pace)  # the vendors' rate limits (shared with Redis)

    def rate(self, settings: VendorSettings) -> float:
        return settings.rate_per_second or self.rate_per_second

    async def start_simulator(self, simulator: Simulator, label: str) -> str:
        url = await simulator.start()
        self.simulators.append(label)
        self.stack.push_async_callback(simulator.stop)
        log.warning("%s: SANDBOX mode, orders go to the built-in simulator at %s", label, url)
        return url


VendorFactory = Callable[[VendorContext], Awaitable[Vendor]]


@dataclass(frozen=True)
class Registration:
    open: VendorFactory
    settings: type[VendorSettings]  # its variables: are its credentials set?


REGISTRY: dict[str, Registration] = {
    codegames.NAME: Registration(codegames.open_vendor, codegames.CodeGamesSettings),
    g2a.NAME: Registration(g2a.open_vendor, g2a.G2ASettings),
    kinguin.NAME: Registration(kinguin.open_vendor, kinguin.KinguinSettings),
    kinguin_integration.NAME: Registration(
        kinguin_integration.open_vendor, kinguin_integration.KinguinIntegrationSettings
    ),
}


def credentials_given() -> bool:
    """Has the owner set any vendor's credentials? With none at all the shop is a sandbox
    (the README's try-it-out start); with some, every vendor it sells from needs its own."""
    return any(entry.settings().given() for entry in REGISTRY.values())


def missing_credentials(names: Iterable[str]) -> dict[str, list[str]]:
    """The unset variables of each of these vendors that needs some."""
    missing = {name: REGISTRY[name].settings().missing() for name in sorted(names)}
    return {name: variables for name, variables in missing.items() if variables}


class VendorPool:
    """The vendors this process talks to, each opened once on first use. `opened` is the
    one mapping every service shares, so a vendor opened later (an /import from a vendor
    the catalog did not use yet) reaches them all."""

    def __init__(self, context: VendorContext) -> None:
        self.context = context
        self.opened: dict[str, Vendor] = {}
        self._lock = asyncio.Lock()

    async def get(self, name: str) -> Vendor:
        """The vendor registered as `name` (KeyError for an unknown name)."""
        factory = REGISTRY[name].open
        async with self._lock:
            if name not in self.opened:
                self.opened[name] = await factory(self.context)
        return self.opened[name]

    async def open_all(self, names: set[str]) -> dict[str, Vendor]:
        for name in sorted(names):
            await self.get(name)
        return self.opened
