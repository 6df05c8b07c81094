"""Vendor pushes, whichever vendor sent them: an order's new status wakes that order at once
(the worker then asks the vendor and delivers); a product's new price or stock refreshes
the offers that sell it. Late, repeated or forged events change nothing."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC

from aiohttp import web

from bot.offers import OfferService
from bot.runtime.public import read_body
from bot.runtime.signals import Signals
from storage.orders import OrderRepo
from vendors.base import OrderEvent, ProductEvent, Vendor, WebhookRefused

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024  # a webhook is one small JSON object


class VendorEvents:
    def __init__(
        self,
        vendors: Mapping[str, Vendor],
        orders: OrderRepo,
        offers: OfferService,
        signals: Signals,
    ) -> None:
        self._vendors = vendors
        self._orders = orders
        self._offers = offers
        self._signals = signals

    def route(self, app: web.Application) -> None:
        app.router.add_post("/webhooks/{vendor}", self._webhook)

    async def _webhook(self, request: web.Request) -> web.Response:
        vendor = request.match_info["vendor"]
        try:
            await self.receive(vendor, request.headers, await read_body(request, MAX_BODY))
        except WebhookRefused as refused:
            log.warning("webhook %s refused (%s): %s", vendor, refused.status, refused)
            return web.Response(status=refused.status)
        return web.Response(status=204)  # Kinguin: any 2xx with an empty body

    async def receive(self, vendor_name: str, headers: Mapping[str, str], body: bytes) -> None:
        """Authenticate, read and apply one webhook; WebhookRefused says why not."""
        vendor = self._vendors.get(vendor_name)
        if vendor is None:
            raise WebhookRefused(404, f"no vendor {vendor_name!r} in this shop")
        for event in vendor.parse_webhook(headers, body):
            if isinstance(event, OrderEvent):
                await self._order_event(vendor_name, event)
            elif isinstance(event, ProductEvent):
                await self._offers.refresh(vendor_name, event.offer_ids)

    async def _order_event(self, vendor_name: str, event: OrderEvent) -> None:
        updated_at = event.updated_at.astimezone(UTC).isoformat(timespec="microseconds")
        order = await self._orders.record_vendor_event(
            vendor_name, event.vendor_order_id, event.reference, event.status, updated_at
        )
        if order is None:
            log.info(
                "%s order %s: %s event of %s ignored (stale, repeated or not ours)",
                vendor_name,
                event.vendor_order_id,
                event.status,
                updated_at,
            )
            return
        log.info("order %s: %s says %s; checking now", order.id, vendor_name, event.status)
        self._signals.wake_workers()
