"""Admins browsing orders: /orders (filtered, paginated) and /export (CSV)."""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime

from aiogram.filters import CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _

from bot.admin.desk import AdminDesk
from bot.admin.stats import chart_png
from bot.g2a.channel import G2AChannel
from bot.texts import short_id, stars, state_label
from storage.models import G2A, TELEGRAM, OrderState

PERIODS = {"day": 86_400.0, "week": 7 * 86_400.0, "month": 30 * 86_400.0, "all": None}
STATS_DAYS = {"day": 1, "week": 7, "month": 30}
CHANNEL_NAMES = {TELEGRAM: "Telegram", G2A: "G2A"}


class AdminOrdersCb(CallbackData, prefix="ado"):
    state: str = ""
    vendor: str = ""
    user: int = 0
    page: int = 0


async def orders_command(message: Message, command: CommandObject, desk: AdminDesk) -> None:
    """/orders [state] [vendor] [user id], in any order."""
    query = AdminOrdersCb()
    for word in (command.args or "").split():
        if word in OrderState.__members__.values():
            query.state = word
        elif word in desk.vendor_names:
            query.vendor = word
        elif word.isdigit():
            query.user = int(word)
        else:
            await message.reply(
                _("Usage: /orders [state] [vendor] [user id]; states: {states}").format(
                    states=", ".join(OrderState)
                )
            )
            return
    text, markup = await _page(desk, query)
    await message.answer(text, reply_markup=markup)


async def orders_page(query: CallbackQuery, callback_data: AdminOrdersCb, desk: AdminDesk) -> None:
    text, markup = await _page(desk, callback_data)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def _page(desk: AdminDesk, query: AdminOrdersCb) -> tuple[str, InlineKeyboardMarkup | None]:
    orders, total = await desk.recent_orders(
        state=OrderState(query.state) if query.state else None,
        vendor=query.vendor or None,
        user_id=query.user or None,
        page=query.page,
    )
    if not orders:
        return _("No orders match."), None
    lines = [
        _("Orders {first}–{last} of {total}:").format(
            first=query.page * 10 + 1, last=query.page * 10 + len(orders), total=total
        )
    ]
    lines += [
        f"<code>{short_id(order)}</code> · {html.escape(order.title)} × {order.quantity}"
        f" · {stars(order.price_stars)} · {order.vendor} · {state_label(order.state)}"
        f" · {order.user_id}"
        for order in orders
    ]
    row = []
    if query.page > 0:
        back = query.model_copy(update={"page": query.page - 1})
        row.append(InlineKeyboardButton(text="‹", callback_data=back.pack()))
    if (query.page + 1) * 10 < total:
        more = query.model_copy(update={"page": query.page + 1})
        row.append(InlineKeyboardButton(text="›", callback_data=more.pack()))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


async def export_command(message: Message, command: CommandObject, desk: AdminDesk) -> None:
    """/export [day|week|month|all]: paid orders as a CSV document (default: month)."""
    period = (command.args or "month").strip().lower()
    if period not in PERIODS:
        await message.reply(_("Usage: /export [day|week|month|all]"))
        return
    window = PERIODS[period]
    assert message.from_user is not None
    since = time.time() - window if window is not None else None
    data, count = await desk.export_csv(since, message.from_user.id)
    await message.answer_document(
        BufferedInputFile(data, filename=f"orders-{period}.csv"),
        caption=_("{count} orders ({period}).").format(count=count, period=period),
    )


async def stats_command(
    message: Message, command: CommandObject, desk: AdminDesk, g2a: G2AChannel | None = None
) -> None:
    """/stats [day|week|month]: the figures, with a chart of daily revenue and orders."""
    period = (command.args or "week").strip().lower()
    if period not in STATS_DAYS:
        await message.reply(_("Usage: /stats [day|week|month]"))
        return
    stats = await desk.stats(STATS_DAYS[period])
    spend = ", ".join(f"{amount:.2f} {currency}" for currency, amount in stats.vendor_spend.items())
    lines = [
        _("📊 {since} – {until} (UTC)").format(since=stats.since, until=stats.until),
        _("Paid orders: {paid}, delivered {delivered}, refunded {refunded} ({rate:.0%})").format(
            paid=stats.paid_orders,
            delivered=stats.delivered,
            refunded=stats.refunded,
            rate=stats.refund_rate,
        ),
        _("Revenue: {revenue} by Telegram, {credit} from shop credit").format(
            revenue=stars(stats.revenue_stars), credit=stars(stats.credit_stars)
        ),
        _("Vendor spend: {spend}").format(spend=html.escape(spend or "-")),
    ]
    if set(stats.channels) - {TELEGRAM}:  # selling on G2A too: each channel's share
        lines.append(
            _("By channel: {channels}").format(
                channels=", ".join(
                    _("{channel} {paid} (delivered {delivered})").format(
                        channel=CHANNEL_NAMES.get(name, name), paid=paid, delivered=done
                    )
                    for name, (paid, done) in stats.channels.items()
                )
            )
        )
    if g2a is not None:
        since = datetime.combine(stats.since, datetime.min.time(), UTC).timestamp()
        takings = await g2a.sales.takings(since)
        line = _(
            "Sold on G2A: {units} units for {amount} EUR at our G2A prices; G2A pays us"
            " {payout} EUR"
        ).format(
            units=takings.units,
            amount=f"{takings.amount:.2f}",
            payout=f"{takings.payout:.2f}",
        )
        if takings.payout_unknown:
            line += " " + _("(not known yet for {units} units)").format(
                units=takings.payout_unknown
            )
        lines.append(line)
    if stats.top_offers:
        lines.append(_("Top offers:"))
        lines += [f"  {html.escape(title)} × {count}" for title, count in stats.top_offers]
    chart = await chart_png(stats, _("Daily revenue and orders"), _("Stars"), _("Orders"))
    await message.answer_photo(
        BufferedInputFile(chart, filename=f"stats-{period}.png"), caption="\n".join(lines)[:1024]
    )
