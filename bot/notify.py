"""Messages the shop sends on its own: keys to customers, refunds, alerts to admins."""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aiogram import Bot
from aiogram.types import (
    BufferedInputFile,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.support import LazyProxy

from bot.i18n import pick_locale
from bot.texts import field_label, short_id, stars
from storage.models import Key, Order
from storage.users import UserRepo

log = logging.getLogger(__name__)
COPY_LIMIT = 256  # Bot API: CopyTextButton.text is 1-256 characters


class Notifier:
    def __init__(
        self, bot: Bot, i18n: I18n, users: UserRepo, admin_chat_id: int | None = None
    ) -> None:
        self._bot = bot
        self._i18n = i18n
        self._users = users
        self._admin_chat_id = admin_chat_id

    @asynccontextmanager
    async def speaking_to(self, user_id: int | None) -> AsyncIterator[None]:
        """gettext in the user's language (admins get the shop's default language)."""
        language = await self._users.language(user_id, None) if user_id else None
        with self._i18n.context(), self._i18n.use_locale(pick_locale(self._i18n, language)):
            yield

    async def send_keys(self, order: Order, keys: Sequence[Key]) -> None:
        async with self.speaking_to(order.user_id):
            header = _("🎉 Order #{id} is ready: <b>{title}</b>").format(
                id=short_id(order), title=html.escape(order.title)
            )
            for number, key in enumerate(keys, start=1):
                label = header if len(keys) == 1 else f"{header} ({number}/{len(keys)})"
                await self._send_key(order.chat_id, label, key)

    async def _send_key(self, chat_id: int, header: str, key: Key) -> None:
        if key.kind == "image" and isinstance(key.value, bytes):
            extension = key.mime.rpartition("/")[2] or "png"
            await self._bot.send_photo(
                chat_id,
                BufferedInputFile(key.value, filename=f"key.{extension}"),
                caption=header,
            )
            return
        value = str(key.value)
        text = _("{header}\n\nYour key (tap to copy):\n<code>{key}</code>").format(
            header=header, key=html.escape(value)
        )
        markup = None
        if len(value) <= COPY_LIMIT:
            button = InlineKeyboardButton(
                text=_("📋 Copy key"), copy_text=CopyTextButton(text=value)
            )
            markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
        # not protect_content: some clients then refuse to copy the text, and copying is the point
        await self._bot.send_message(chat_id, text, reply_markup=markup)

    async def topped_up(self, order: Order) -> None:
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
        async with self.speaking_to(order.user_id):
            await self._bot.send_message(
                order.chat_id,
                _(
                    "😔 The vendor could not complete order #{id} (<b>{title}</b>).\n"
                    "We refunded {stars} to your Telegram balance."
                ).format(
                    id=short_id(order),
                    title=html.escape(order.title),
                    stars=stars(order.price_stars),
                ),
            )

    async def stray_refunded(self, user_id: int) -> None:
        async with self.speaking_to(user_id):
            await self._bot.send_message(
                user_id, _("This payment did not match an open order and was refunded.")
            )

    async def alert_admins(self, template: str | LazyProxy, **values: object) -> None:
        """A short note to the admin group, in the shop's language. Never pass a key here."""
        async with self.speaking_to(None):
            text = str(template).format(**values)
        log.warning("admin alert: %s", text)
        if self._admin_chat_id is None:
            return
        try:
            await self._bot.send_message(self._admin_chat_id, html.escape(text))
        except Exception:  # an alert must never break the order flow that raised it
            log.exception("could not alert the admin chat")
