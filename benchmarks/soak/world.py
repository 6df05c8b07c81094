"""Everything around the shop in the soak: the fake Telegram, every vendor's simulator and
G2A's marketplace, each able to fail at random (`storm`) and to stop failing (`calm`)."""

from __future__ import annotations

from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Self

from tests.support.fake_telegram import FakeGroup, FakeTelegram
from vendors.simulators.codegames import DEFAULT_OFFERS, CodeGamesSimulator
from vendors.simulators.g2a import G2ASimulator
from vendors.simulators.g2a.catalog import DEFAULT_PRODUCTS, LISTED_BY_SANDBOX
from vendors.simulators.kinguin import KinguinSimulator
from vendors.simulators.kinguin_integration import KinguinIntegrationSimulator

VENDOR_KEY = "soak-vendor-key"
WEBHOOK_SECRET = "soak-kinguin-secret"
G2A_HASH = "soak-g2a-hash"
G2A_CLIENT, G2A_SECRET = "g2a-marketplace", "soak-dropshipping-secret"
ADMIN_CHAT, OWNER = -100777, 7001
PREORDER = 2003  # Hades II at Kinguin: released near the end of the run
FAST = 0.5  # seconds a vendor takes to complete an order
VENDOR_TIMEOUT = 3.0  # VENDOR_TIMEOUT_SECONDS: a "timeout" fault hangs longer than this


@dataclass
class World:
    tg: FakeTelegram
    codegames: CodeGamesSimulator
    kinguin: KinguinSimulator
    integration: KinguinIntegrationSimulator
    g2a: G2ASimulator
    admins: FakeGroup
    _stack: AsyncExitStack

    @classmethod
    async def open(cls) -> Self:
        stack = AsyncExitStack()
        hang = VENDOR_TIMEOUT + 1.0
        tg = await stack.enter_async_context(FakeTelegram())
        offers = [o.model_copy(update={"processing_seconds": FAST}) for o in DEFAULT_OFFERS]
        codegames = CodeGamesSimulator(offers, api_key=VENDOR_KEY, hang_seconds=hang)
        kinguin = KinguinSimulator(api_key=VENDOR_KEY, webhook_secret=WEBHOOK_SECRET)
        integration = KinguinIntegrationSimulator(api_key=VENDOR_KEY, hang_seconds=hang)
        products = (*DEFAULT_PRODUCTS, LISTED_BY_SANDBOX)
        g2a = G2ASimulator(api_hash=G2A_HASH, api_key=VENDOR_KEY, products=products)
        for simulator in (codegames, kinguin, integration, g2a):
            simulator.hang_seconds = hang
            await stack.enter_async_context(simulator)
        for kinguin_product in kinguin.products.values():
            kinguin_product.processing_seconds = FAST
        for old_product in integration.products.values():
            old_product.pending_seconds = FAST
        for g2a_product in g2a.products.values():
            g2a_product.processing_seconds = FAST
        g2a.imports.set_job_timing(step_seconds=0)
        integration.keeps_line_names = False  # only the search tells our orders apart
        admins = tg.group(ADMIN_CHAT, "Shop admins")
        admins.set_member(tg.user(OWNER), "creator")
        return cls(tg, codegames, kinguin, integration, g2a, admins, stack)

    async def close(self) -> None:
        await self._stack.aclose()

    def env(self) -> dict[str, str]:
        """What the owner would set for these vendors, Telegram and the admin group."""
        return {
            "BOT_TOKEN": "123456:SOAK-token",
            "TELEGRAM_API_URL": self.tg.url,
            "ADMIN_CHAT_ID": str(ADMIN_CHAT),
            "OWNER_IDS": str(OWNER),
            "CODEGAMES_API_URL": str(self.codegames.base_url),
            "CODEGAMES_API_KEY": VENDOR_KEY,
            "KINGUIN_API_URL": str(self.kinguin.base_url),
            "KINGUIN_API_KEY": VENDOR_KEY,
            "KINGUIN_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "KINGUIN_INTEGRATION_API_URL": str(self.integration.base_url),
            "KINGUIN_INTEGRATION_API_KEY": VENDOR_KEY,
            "G2A_API_URL": str(self.g2a.base_url),
            "G2A_API_HASH": G2A_HASH,
            "G2A_API_KEY": VENDOR_KEY,
            "G2A_IMPORT_API_URL": str(self.g2a.base_url),
            "G2A_DROPSHIPPING_CLIENT_ID": G2A_CLIENT,
            "G2A_DROPSHIPPING_CLIENT_SECRET": G2A_SECRET,
            "G2A_MIN_MARGIN": "5",
            "VENDOR_TIMEOUT_SECONDS": str(VENDOR_TIMEOUT),
        }

    @property
    def vendors(
        self,
    ) -> tuple[CodeGamesSimulator, KinguinSimulator, KinguinIntegrationSimulator, G2ASimulator]:
        return (self.codegames, self.kinguin, self.integration, self.g2a)

    def storm(self, vendor_rate: float, telegram_rate: float, seed: int) -> None:
        """Faults from now on: about `vendor_rate` of every vendor call (a third of them
        after the vendor acted), `telegram_rate` of the shop's Bot API calls, and a third
        of Kinguin's webhooks twice, late, out of order or never."""
        for n, simulator in enumerate(self.vendors):
            simulator.chaos(vendor_rate, seed=seed + n)
        self.kinguin.webhook_chaos(0.33, seed=seed + 10)
        self.tg.chaos(telegram_rate, hang_seconds=5.0, seed=seed + 20)

    def calm(self) -> None:
        for simulator in self.vendors:
            simulator.heal()
        self.tg.heal()

    def faults(self) -> dict[str, Counter[str]]:
        """Every fault injected, by where and kind."""
        vendor: Counter[str] = Counter()
        for simulator in self.vendors:
            vendor.update(simulator.injected)
        return {
            "vendor": vendor,
            "webhook": Counter(self.kinguin.webhook_faults),
            "telegram": Counter(self.tg.injected),
        }
