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
import random
import time
from collections import Counter
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
        self.webhook_faults: Counter[str] = Counter()  # by kind, see webhook_chaos
        self._webhook_chaos: tuple[float, float, random.Random] | None = None
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

    def webhook_chaos(
        self, rate: float, *, late_seconds: float = 5.0, seed: int | None = None
    ) -> None:
        """From now on about `rate` of the ``order.status`` events go wrong, each in one
        way: sent ``twice``, ``late`` (up to `late_seconds`), ``out_of_order`` (the
        order's previous status follows, with its older time) or ``never``. Counted in
        `webhook_faults`; `heal` ends it."""
        self._webhook_chaos = (rate, late_seconds, random.Random(seed))

    def heal(self) -> None:
        super().heal()
        self._webhook_chaos = None

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
            previous, order.notified_status = order.notified_status, status
            if self.webhook_url is None:
                continue
            payload = _order_status(order, status, order.updated_at)
            stale = _order_status(order, previous, order.updated_at - 1.0) if previous else None
            task = asyncio.create_task(self._push_status(payload, stale))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _push_status(self, payload: dict[str, Any], stale: dict[str, Any] | None) -> None:
        fault = None
        if self._webhook_chaos is not None:
            rate, late, chance = self._webhook_chaos
            if chance.random() < rate:
                kinds = ["twice", "late", "never"] + (["out_of_order"] if stale else [])
                fault = chance.choice(kinds)
                self.webhook_faults[fault] += 1
                if fault == "late":
                    await asyncio.sleep(chance.uniform(0.5, late))
        if fault == "never":
            return
        for _ in range(2 if fault == "twice" else 1):
            await self._send(WEBHOOK_ORDER_STATUS, payload)
        if fault == "out_of_order" and stale is not None:
            await self._send(WEBHOOK_ORDER_STATUS, stale)

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
