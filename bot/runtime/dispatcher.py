"""The shop's dispatcher: aiogram's, with the updates that are for nobody dropped before
any middleware runs. A group the bot sits in (not the admin group) sends every message
of its members; no handler wants them, and each would otherwise cost a conversation-state
read and a chat lock (Redis round trips with several replicas) and the language lookup."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import CallbackQuery, Message, Update


class ShopDispatcher(Dispatcher):
    def __init__(self, *, admin_chat_id: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._admin_chat_id = admin_chat_id

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        if not self.is_for_us(update):
            return UNHANDLED
        return await super().feed_update(bot, update, **kwargs)

    def is_for_us(self, update: Update) -> bool:
        """Customers write in private chats, admins in the admin group; inline queries,
        payments and membership changes come from anywhere."""
        message: Message | None = update.message or update.edited_message
        if message is None and isinstance(update.callback_query, CallbackQuery):
            found = update.callback_query.message
            message = found if isinstance(found, Message) else None
        if message is None:
            return update.channel_post is None and update.edited_channel_post is None
        return message.chat.type == "private" or message.chat.id == self._admin_chat_id
