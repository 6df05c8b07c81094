"""Prometheus metrics of one process (`GET /metrics`, under HEALTH_TOKEN): updates handled
and their latency, vendor calls by outcome, and, read from the database when scraped,
orders by state, the lag of the oldest due order step and the alerts waiting."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from storage.alerts import AlertRepo
from storage.orders import OrderRepo

UPDATES = Counter("storefront_updates_total", "Telegram updates handled", ["type", "outcome"])
UPDATE_SECONDS = Histogram(
    "storefront_update_seconds",
    "Time to handle one Telegram update",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ORDERS = Gauge("storefront_orders", "Orders by state", ["state"])
DUE_LAG = Gauge("storefront_order_step_lag_seconds", "How late the oldest due order step is")
ALERTS_WAITING = Gauge("storefront_alerts_waiting", "Admin alerts not sent yet")
CONTENT_TYPE = CONTENT_TYPE_LATEST


class UpdateMetrics(BaseMiddleware):
    """An outer middleware on updates: counts them and times their handling."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        started = time.perf_counter()
        try:
            result = await handler(event, data)
        except Exception:
            UPDATES.labels(kind, "error").inc()
            raise
        finally:
            UPDATE_SECONDS.observe(time.perf_counter() - started)
        UPDATES.labels(kind, "ok").inc()
        return result


async def scrape(orders: OrderRepo, alerts: AlertRepo) -> bytes:
    """The text exposition, with the database's figures read now."""
    for state, count in (await orders.count_by_state()).items():
        ORDERS.labels(state).set(count)
    oldest = await orders.oldest_due_at()
    DUE_LAG.set(0.0 if oldest is None else max(0.0, time.time() - oldest))
    ALERTS_WAITING.set(await alerts.pending())
    return generate_latest()
