"""Shop figures for a period: orders, Stars, vendor spend, refunds, top offers, and a PNG
chart of daily revenue and orders (matplotlib, drawn off the event loop)."""

from __future__ import annotations

import asyncio
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from storage.models import Order, OrderState

S = OrderState
SETTLED = (S.DELIVERED, S.FULFILLED)


@dataclass
class Stats:
    since: date
    until: date
    paid_orders: int = 0
    delivered: int = 0
    refunded: int = 0
    revenue_stars: int = 0  # Stars charged by Telegram for orders not refunded
    credit_stars: int = 0  # shop credit spent on them
    vendor_spend: dict[str, float] = field(default_factory=dict)  # per currency
    top_offers: list[tuple[str, int]] = field(default_factory=list)
    daily: dict[date, tuple[int, int]] = field(default_factory=dict)  # day -> (Stars, orders)
    channels: dict[str, tuple[int, int]] = field(default_factory=dict)  # -> (paid, delivered)

    @property
    def refund_rate(self) -> float:
        return self.refunded / self.paid_orders if self.paid_orders else 0.0


def compute(orders: Iterable[Order], since: datetime, until: datetime) -> Stats:
    stats = Stats(since.date(), until.date())
    offers: Counter[str] = Counter()
    daily: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    spend: dict[str, float] = defaultdict(float)
    channels: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for order in orders:
        stats.paid_orders += 1
        channels[order.channel][0] += 1
        day = datetime.fromtimestamp(order.created_at, UTC).date()
        daily[day][1] += 1
        if order.state is S.REFUNDED:
            stats.refunded += 1
            continue
        stats.revenue_stars += order.charged_stars
        stats.credit_stars += order.credit_stars
        daily[day][0] += order.charged_stars
        if order.state in SETTLED:
            stats.delivered += 1
            channels[order.channel][1] += 1
            units = order.quantity if order.delivered_units is None else order.delivered_units
            spend[order.vendor_currency or "?"] += order.vendor_price * units
            offers[order.title] += order.quantity
    day = stats.since
    while day <= stats.until:  # every day of the period, quiet ones too
        stats.daily[day] = (daily[day][0], daily[day][1])
        day += timedelta(days=1)
    stats.vendor_spend = dict(spend)
    stats.channels = {name: (paid, done) for name, (paid, done) in sorted(channels.items())}
    stats.top_offers = offers.most_common(5)
    return stats


async def chart_png(stats: Stats, title: str, revenue_label: str, orders_label: str) -> bytes:
    return await asyncio.to_thread(_draw, stats, title, revenue_label, orders_label)


def _draw(stats: Stats, title: str, revenue_label: str, orders_label: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no screen: draw into memory
    from matplotlib import pyplot as plt

    days = [day.isoformat()[5:] for day in stats.daily]  # "MM-DD" labels
    revenue = [stars for stars, _orders in stats.daily.values()]
    orders = [count for _stars, count in stats.daily.values()]
    figure, axis = plt.subplots(figsize=(8, 4), dpi=100)
    try:
        axis.bar(days, revenue, color="#f2b705", label=revenue_label)
        axis.set_ylabel(revenue_label)
        other = axis.twinx()
        other.plot(days, orders, color="#1f5fbf", marker="o", label=orders_label)
        other.set_ylabel(orders_label)
        other.set_ylim(bottom=0)
        axis.set_title(title)
        figure.autofmt_xdate()
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(figure)
