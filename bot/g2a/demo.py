"""The sandbox's G2A sale: a simulated G2A buyer (vendors.simulators.g2a_buyer) buys one
unit of a listed offer through the shop's own dropshipping endpoints, exactly as G2A
would, so an owner sees the whole channel work before going live."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from bot.config import Settings
from vendors.simulators.g2a_buyer import BuyerError, G2ABuyer

if TYPE_CHECKING:
    from bot.g2a.channel import G2AChannel


class DemoFailed(Exception):
    pass


@dataclass(frozen=True)
class DemoSale:
    order_id: str
    confirm_status: int  # 200: keys ready at once; 202: they came later
    keys: int
    slowest: float  # seconds: G2A allows 9


async def demo_sale(channel: G2AChannel, settings: Settings, sku: str) -> DemoSale:
    listing = await channel.listings.find(sku)
    base_url = f"http://127.0.0.1:{settings.http_port}"
    async with G2ABuyer(base_url, channel.client_id, channel.client_secret) as buyer:
        try:
            sale = await buyer.buy(listing.product_id)
        except (BuyerError, httpx.HTTPError) as exc:
            raise DemoFailed(str(exc)) from exc
    return DemoSale(sale.order_id, sale.confirmation.status, len(sale.keys), sale.slowest)
