"""Messages the shop sends on its own: keys to customers, refunds, alerts to admins."""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot
from aiogram.types import (
    BufferedInputFile,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.media_group import MediaGroupBuilder
from babel.support import LazyProxy

from bot.admin.topics import ALERTS, ORDERS, GroupTopics
from bot.i18n import pick_locale
from bot.texts import field_label, short_id, stars
from storage.alerts import AlertRepo
from storage.models import TELEGRAM, Key, Order, OrderState, undelivered_credit
from storage.users import UserRepo

log = logging.getLogger(__name__)
COPY_LIMIT = 256  # Bot API: CopyTextButton.text is 1-256 characters
ALBUM_LIMIT = 10  # Bot API: sendMediaGroup takes 2-10 items
# failure_reason prefixes: what the customer is told about a refund
SOLD_OUT = "sold_out"
REFUSED = "refused"
CANCELLED = "cancelled"
BY_SHOP = "shop"  # an admin refunded it
TEST_PURCHASE = "test"  # the sandbox on Telegram's production environment gives it back
KEY_LOST = "key_lost"  # the key was lost in transit and nobody recovered it in time


class Notifier:
    def __init__(
        self,
        bot: Bot,
        i18n: I18n,
        users: UserRepo,
        admin_chat_id: int | None = None,
        alerts: AlertRepo | None = None,
        topics: GroupTopics | None = None,
        order_card: Callable[[Order, bool], InlineKeyboardMarkup] | None = None,
    ) -> None:
        self._bot = bot
        self._order_card = order_card  # the customer's order card buttons (Show key)
        self._i18n = i18n
        self._users = users
        self._admin_chat_id = admin_chat_id
        self._alerts = alerts
        self._topics = topics  # the sales feed exists only in a forum admin group
        self._wake_sender: Callable[[], None] | None = None

    def on_alert(self, wake: Callable[[], None]) -> None:
        """Who sends stored alerts (woken at once, sending at its own pace)."""
        self._wake_sender = wake

    @asynccontextmanager
    async def speaking_to(self, user_id: int | None) -> AsyncIterator[None]:
        """gettext in the user's language (admins get the shop's default language)."""
        language = await self._users.language(user_id, None) if user_id else None
        with self._i18n.context(), self._i18n.use_locale(pick_locale(self._i18n, language)):
            yield

    async def send_keys(self, order: Order, keys: Sequence[Key]) -> None:
        """All of an order's keys together: text keys in one message (each copyable),
        image keys as photos (an album when there are several), the caption naming it.
        A fulfilled order's delivery also goes to the admins' sales feed (never the key).
        Another channel's order (G2A) has no chat: that channel fetches its keys."""
        if order.channel != TELEGRAM:
            await self._delivered(
                order, __("🧾 #{id} sold on {channel}: {title} ×{units}, their order {ref}")
            )
            return
        try:
            await self._keys(order, keys, order.chat_id, order.user_id)
        finally:
            await self._delivered(order)

    async def keys_waiting(self, order: Order) -> None:
        """The order is ready, but the message with its keys may have reached the customer
        already (a crash came before we could record it): a notice without the keys, with
        the button that shows them."""
        try:
            async with self.speaking_to(order.user_id):
                text = _(
                    "🎉 Order #{id} is ready: <b>{title}</b>. Your key is in “My orders”."
                ).format(id=short_id(order), title=html.escape(order.title))
                markup = self._order_card(order, True) if self._order_card else None
                await self._bot.send_message(order.chat_id, text, reply_markup=markup)
        finally:
            await self._delivered(order)

    async def show_keys_to(self, chat_id: int, order: Order, keys: Sequence[Key]) -> None:
        """An admin asked to see an order's keys (in the shop's language)."""
        await self._keys(order, keys, chat_id, None)

    async def _keys(
        self, order: Order, keys: Sequence[Key], chat_id: int, reader: int | None
    ) -> None:
        async with self.speaking_to(reader):
            header = _("🎉 Order #{id} is ready: <b>{title}</b>").format(
                id=short_id(order), title=html.escape(order.title)
            )
            if order.delivered_units is not None:
                header += "\n" + _(
                    "Only {delivered} of {quantity} arrived; {credit} went to your shop credit"
                    " for your next purchase."
                ).format(
                    delivered=order.delivered_units,
                    quantity=order.quantity,
                    credit=stars(
                        undelivered_credit(order.price_stars, order.quantity, order.delivered_units)
                    ),
                )
            if order.test_purchase:
                header += "\n" + _("🧪 A test key from the sandbox's simulated supplier.")
            texts = [str(key.value) for key in keys if key.kind == "text"]
            images = [key.value for key in keys if isinstance(key.value, bytes)]
            if texts:
                await self._send_text_keys(chat_id, header, texts)
            for start in range(0, len(images), ALBUM_LIMIT):
                await self._send_images(chat_id, header, images[start : start + ALBUM_LIMIT])

    async def _send_text_keys(self, chat_id: int, header: str, keys: list[str]) -> None:
        if len(keys) == 1:
            body = _("Your key (tap to copy):\n<code>{key}</code>").format(key=html.escape(keys[0]))
        else:
            body = _("Your keys (tap one to copy it):") + "".join(
                f"\n{number}. <code>{html.escape(key)}</code>"
                for number, key in enumerate(keys, start=1)
            )
        buttons = [
            [
                InlineKeyboardButton(
                    text=_("📋 Copy key") + (f" {number}" if len(keys) > 1 else ""),
                    copy_text=CopyTextButton(text=key),
                )
            ]
            for number, key in enumerate(keys, start=1)
            if len(key) <= COPY_LIMIT
        ]
        markup = InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None
        # not protect_content: some clients then refuse to copy the text, and copying is the point
        await self._bot.send_message(chat_id, f"{header}\n\n{body}", reply_markup=markup)

    async def _send_images(self, chat_id: int, caption: str, keys: list[bytes]) -> None:
        files = [BufferedInputFile(image, filename=f"key-{n}.png") for n, image in enumerate(keys)]
        if len(files) == 1:
            await self._bot.send_photo(chat_id, files[0], caption=caption)
            return
        album = MediaGroupBuilder(caption=caption)  # the caption goes on the first photo
        for file in files:
            album.add_photo(media=file)
        media: list[Any] = album.build()  # aiogram's builder types lag its own method's
        await self._bot.send_media_group(chat_id, media)

    async def topped_up(self, order: Order) -> None:
        try:
            await self._top_up_notice(order)
        finally:
            await self._delivered(order)

    async def _top_up_notice(self, order: Order) -> None:
        async with self.speaking_to(order.user_id):
            details = ", ".join(
                f"{field_label(name)} {html.escape(value)}"
                for name, value in order.customer_fields.items()
            )
            await self._bot.send_message(
                order.chat_id,
                _("✅ Order #{id} is done: <b>{title}</b> was credited to {details}.").format(
                    id=short_id(order), title=html.escape(order.title), details=details
                ),
            )

    async def refunded(self, order: Order) -> None:
        if order.channel != TELEGRAM:  # the channel refunds its own buyer
            await self._feed(
                order, __("↩️ #{id} closed: {title} ×{units}, sold on {channel}, their order {ref}")
            )
            return
        try:
            await self._refund_notice(order)
        finally:
            await self._feed(order, __("↩️ #{id} refunded: {title} ×{units}, {stars} — user {user}"))

    async def _refund_notice(self, order: Order) -> None:
        async with self.speaking_to(order.user_id):
            reason = (order.failure_reason or "").partition(":")[0]
            title = html.escape(order.title)
            if reason == SOLD_OUT:
                why = _("The supplier has no <b>{title}</b> left at our price (order #{id}).")
            elif reason == CANCELLED:
                why = _("The supplier cancelled order #{id} (<b>{title}</b>).")
            elif reason == BY_SHOP:
                why = _("The shop has refunded order #{id} (<b>{title}</b>).")
            elif reason == KEY_LOST:
                why = _(
                    "The key of order #{id} (<b>{title}</b>) could not be recovered from the"
                    " supplier in time."
                )
            elif reason == TEST_PURCHASE:
                why = _(
                    "Order #{id} (<b>{title}</b>) was a test purchase in the sandbox: trying"
                    " the shop costs nothing."
                )
            else:
                why = _("The vendor could not complete order #{id} (<b>{title}</b>).")
            icon = "🧪 " if reason == TEST_PURCHASE else "😔 "
            lines = [icon + why.format(id=short_id(order), title=title)]
            if order.charged_stars:
                lines.append(
                    _("We refunded {stars} to your Telegram balance.").format(
                        stars=stars(order.charged_stars)
                    )
                )
            credit = order.refund_credit
            if credit > 0:
                lines.append(
                    _("{stars} went back to your shop credit.").format(stars=stars(credit))
                )
            elif credit < 0:  # the whole charge came back: so did the credit for missing units
                lines.append(
                    _(
                        "The shop credit for its missing units ({stars}) was taken back, as far"
                        " as you still had it."
                    ).format(stars=stars(-credit))
                )
            await self._bot.send_message(order.chat_id, "\n".join(lines))

    async def preorder(self, order: Order, release_date: str) -> None:
        if order.channel != TELEGRAM:
            return
        async with self.speaking_to(order.user_id):
            await self._bot.send_message(
                order.chat_id,
                _(
                    "🗓 Order #{id} (<b>{title}</b>) is a pre-order. The key is released on"
                    " {date}; we will send it here as soon as it comes."
                ).format(
                    id=short_id(order), title=html.escape(order.title), date=release_date[:10]
                ),
            )

    async def key_delayed(self, order: Order, hours: int) -> None:
        """The key was lost on its way from the vendor: when the refund comes otherwise."""
        if order.channel != TELEGRAM:
            return
        async with self.speaking_to(order.user_id):
            await self._bot.send_message(
                order.chat_id,
                ngettext(
                    "⏳ Order #{id} (<b>{title}</b>) is delayed: your key went missing on its"
                    " way from the supplier and our team is recovering it. If it is not here"
                    " within {hours} hour, your Stars come back automatically.",
                    "⏳ Order #{id} (<b>{title}</b>) is delayed: your key went missing on its"
                    " way from the supplier and our team is recovering it. If it is not here"
                    " within {hours} hours, your Stars come back automatically.",
                    hours,
                ).format(id=short_id(order), title=html.escape(order.title), hours=hours),
            )

    async def stray_refunded(self, user_id: int) -> None:
        async with self.speaking_to(user_id):
            await self._bot.send_message(
                user_id, _("This payment did not match an open order and was refunded.")
            )

    async def alert_admins(
        self, template: str | LazyProxy, *, order_id: str | None = None, **values: object
    ) -> None:
        """A short note for the admin group, in the shop's language. Never pass a key here.

        Stored first and sent by `bot.admin.alerts.AlertSender` at Telegram's pace (digests),
        so an alert survives a crash and a burst never floods the group."""
        async with self.speaking_to(None):
            text = str(template).format(**values)
        log.warning("admin alert: %s", text)
        await self._store(text, order_id, ALERTS)

    async def _delivered(self, order: Order, template: LazyProxy | None = None) -> None:
        if order.state is OrderState.FULFILLED:  # not a customer asking to see a key again
            if template is None:
                template = __("🧾 #{id} delivered: {title} ×{units}, {stars} — user {user}")
            await self._feed(order, template)

    async def _feed(self, order: Order, template: LazyProxy) -> None:
        """A line of the sales feed, in the admin group's Orders topic (forums only)."""
        if self._topics is None:
            return
        try:
            if not await self._topics.is_forum():
                return
        except Exception:  # the feed must never break the order flow
            log.exception("could not tell whether the admin group has topics")
            return
        async with self.speaking_to(None):
            text = str(template).format(
                id=short_id(order),
                title=order.title,
                units=order.quantity if order.delivered_units is None else order.delivered_units,
                stars=stars(order.price_stars),
                user=order.user_id,
                channel=order.channel.upper(),
                ref=order.external_ref,
            )
        await self._store(text, order.id, ORDERS)

    async def _store(self, text: str, order_id: str | None, topic: str) -> None:
        """Kept for `bot.admin.alerts.AlertSender`, which posts at Telegram's pace."""
        if self._admin_chat_id is None or self._alerts is None:
            return
        try:
            if topic == ALERTS:
                await self._alerts.add(text, order_id, topic)
            else:  # a repeated delivery step must not repeat the line
                await self._alerts.add_once(text, order_id, topic)
        except Exception:  # an alert must never break the order flow that raised it
            log.exception("could not store an admin alert")
            return
        if self._wake_sender is not None:
            self._wake_sender()
