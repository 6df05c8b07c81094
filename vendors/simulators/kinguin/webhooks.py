"""The Kinguin simulator's webhooks: ``order.status`` when an order's status changes (a
background task started by ``start`` notices it) and ``product.update`` on request.

Each is POSTed to ``webhook_url`` with ``X-Event-Name`` and, when there is a secret,
``X-Event-Secret``; a failed delivery is retried with a doubling backoff, and every attempt
is recorded in ``webhooks_sent``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from vendors.simulators.base import Clock, SimulatorServer
from vendors.simulators.common import iso
from vendors.simulators.kinguin.catalog import SimProduct
from vendors.simulators.kinguin.orders import SimOrder

WEBHOOK_ORDER_STATUS = "order.status"
WEBHOOK_PRODUCT_UPDATE = "product.update"


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to deliver a webhook (``status`` None: no HTTP answer)."""

    event: str
    url: str
    body: dict[str, Any]
    attempt: int
    status: int | None
    error: str | None = None
    secret: str | None = field(default=None, repr=False)


class WebhookPusher(SimulatorServer):
    """A simulator that pushes Kinguin's webhooks about its ``orders`` and ``products``.

    With ``webhook_url`` set, every status change of an order (noticed within
    ``webhook_poll_seconds``) is POSTed as ``order.status``; a change noticed while no URL is
    set is not sent later. Failed deliveries are retried ``webhook_attempts`` times in all;
    ``duplicate_webhooks`` sends each event twice. ``send_order_status`` /
    ``send_product_update`` send one event on demand.
    """

    orders: dict[str, SimOrder]
    products: dict[int, SimProduct]

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        clock: Clock = time.time,
        hang_seconds: float = 30.0,
    ) -> None:
        super().__init__(clock=clock, hang_seconds=hang_seconds)
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.duplicate_webhooks = False
        self.webhook_attempts = 4  # one delivery, then retries with a doubling backoff
        self.webhook_backoff = 0.05
        self.webhook_poll_seconds = 0.05
        self.webhooks_sent: list[WebhookDelivery] = []
        self._webhook_task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None

    def _observe(self, order: SimOrder) -> None:
        """Take note of the order's current status (the simulator's bookkeeping)."""
        raise NotImplementedError

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        url = await super().start(host, port)
        self._webhook_task = asyncio.create_task(self._webhook_loop())
        return url

    async def stop(self) -> None:
        tasks = [t for t in (self._webhook_task, *self._deliveries) if t is not None]
        self._webhook_task = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None
        await super().stop()

    async def send_order_status(
        self,
        order_id: str,
        status: str | None = None,
        updated_at: str | float | None = None,
        secret: str | None = None,
    ) -> int | None:
        """Send an ``order.status`` event now (once, no retries): the order's current
        state, or a stale/forged one. ``updated_at``: a clock time or a verbatim string.
        Returns the receiver's HTTP status (None: no answer)."""
        order = self.orders[order_id]
        when = order.updated_at if updated_at is None else updated_at
        payload = _order_status(order, status or order.status, when)
        return await self._send(WEBHOOK_ORDER_STATUS, payload, secret=secret, attempts=1)

    async def send_product_update(self, kinguin_id: int) -> int | None:
        """Send the documented ``product.update`` event for a product (with retries)."""
        product = self.products[kinguin_id]
        payload = {
            "kinguinId": product.kinguin_id,
            "productId": product.product_id,
            "qty": product.qty,
            "textQty": product.text_qty or 0,
            "cheapestOfferId": [product.offer_id],
            "price": product.price,
            "updatedAt": iso(product.updated_at or self.clock(), "milliseconds"),
        }
        return await self._send(WEBHOOK_PRODUCT_UPDATE, payload)

    async def _webhook_loop(self) -> None:
        while True:
            try:
                self._check_orders()
            except Exception:
                self._logger.exception("webhook loop failed")
            await asyncio.sleep(self.webhook_poll_seconds)

    def _check_orders(self) -> None:
        for order in list(self.orders.values()):
            self._observe(order)
            status = order.status
            if status == order.notified_status:
                continue
            order.notified_status = status
            if self.webhook_url is None:
                continue
            payload = _order_status(order, status, order.updated_at)
            task = asyncio.create_task(self._send(WEBHOOK_ORDER_STATUS, payload))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _send(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        secret: str | None = None,
        attempts: int | None = None,
    ) -> int | None:
        url = self.webhook_url
        if url is None:
            raise RuntimeError("no webhook_url configured")
        secret = self.webhook_secret if secret is None else secret
        status: int | None = None
        for _ in range(2 if self.duplicate_webhooks else 1):
            status = await self._deliver(url, event, payload, secret, attempts)
        return status

    async def _deliver(
        self,
        url: str,
        event: str,
        payload: dict[str, Any],
        secret: str | None,
        attempts: int | None,
    ) -> int | None:
        headers = {"X-Event-Name": event, "Content-Type": "application/json"}
        if secret is not None:
            headers["X-Event-Secret"] = secret
        data = json.dumps(payload).encode()
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        status: int | None = None
        tries = self.webhook_attempts if attempts is None else attempts
        for attempt in range(1, max(1, tries) + 1):
            error: str | None = None
            try:
                async with self._session.post(url, data=data, headers=headers) as response:
                    status = response.status
                    await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            self.webhooks_sent.append(
                WebhookDelivery(event, url, dict(payload), attempt, status, error, secret)
            )
            self._logger.info(
                "webhook %s %s (attempt %s): %s",
                event,
                payload.get("orderId", payload.get("kinguinId")),
                attempt,
                status if status is not None else error,
            )
            if status is not None and 200 <= status < 300:
                break
            if attempt < tries:
                await asyncio.sleep(self.webhook_backoff * 2 ** (attempt - 1))
        return status


def _order_status(order: SimOrder, status: str, updated_at: str | float) -> dict[str, Any]:
    """The ``order.status`` payload; ``updatedAt`` as ``Y-m-d\\TH:i:s.vP``, e.g.
    ``2020-10-16T11:24:08.025+00:00`` (a string is sent as it is)."""
    return {
        "orderId": order.order_id,
        "orderExternalId": order.external_id,
        "status": status,
        "updatedAt": updated_at if isinstance(updated_at, str) else iso(updated_at, "milliseconds"),
    }
