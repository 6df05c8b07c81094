"""Support between customers (private chats) and the admin group.

A customer's message goes to the admin group: in a forum, into a topic of their own
(opened once, named after them, remembered by `bot.admin.topics`); in a plain group, after a
message naming them and their last order, both remembered so an admin's reply to either
answers them. An admin's message in a customer's topic, or reply to their message, goes
back to the customer under a short "Support" header. Messages are copied (copyMessage), so
photos and files pass both ways. Support stays open to banned customers and during
maintenance: they must be able to complain.
"""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import Callable
from enum import Enum

from aiogram import Bot
from aiogram.enums import ContentType
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup, Message, ReactionTypeEmoji, ReplyParameters, User
from aiogram.utils.i18n import gettext as _

from bot.admin.topics import GroupTopics, customer_topic
from bot.orders.notify import Notifier
from bot.texts import short_id, state_label
from storage.orders import OrderRepo
from storage.support import SupportMessageRepo

log = logging.getLogger(__name__)
MESSAGE_LIMIT, CAPTION_LIMIT = 4096, 1024  # Bot API: text of a message, of a caption
# What may pass through support (copyMessage takes them; service messages it does not).
CAPTIONED = frozenset(
    {
        ContentType.PHOTO,
        ContentType.DOCUMENT,
        ContentType.VIDEO,
        ContentType.AUDIO,
        ContentType.VOICE,
        ContentType.ANIMATION,
    }
)
COPYABLE = CAPTIONED | {ContentType.TEXT, ContentType.STICKER, ContentType.VIDEO_NOTE}
SEEN = "👌"  # the reaction that tells the writer their message went through


class Delivery(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # the customer blocked the bot
    FAILED = "failed"  # Telegram refused it (e.g. too long, or a kind that cannot be copied)


def customer_label(user: User) -> str:
    """'Anna Smith (@anna) · 12345': how admins see a customer (a topic's name)."""
    label = user.full_name
    if user.username:
        label += f" (@{user.username})"
    return f"{label} · {user.id}"


class SupportDesk:
    def __init__(
        self,
        bot: Bot,
        topics: GroupTopics | None,
        messages: SupportMessageRepo,
        orders: OrderRepo,
        notifier: Notifier,
        *,
        write_more: Callable[[], InlineKeyboardMarkup] | None = None,
    ) -> None:
        self._bot = bot
        self._topics = topics  # None: no admin group, no support
        self._messages = messages
        self._orders = orders
        self._notifier = notifier  # speaks each side's language
        self._write_more = write_more  # the customer's button to write again

    @property
    def available(self) -> bool:
        return self._topics is not None

    async def from_customer(self, message: Message) -> bool:
        """Pass a customer's message to the admin group; False if it could not go."""
        user = message.from_user
        if self._topics is None or user is None:
            return False
        topics = self._topics

        async def introduce(thread: int) -> None:  # a new topic starts with who writes
            with contextlib.suppress(TelegramAPIError):
                text = await self._describe(user, in_topic=True)
                await self._bot.send_message(topics.chat_id, text, message_thread_id=thread)

        async def send(thread: int | None) -> None:
            if thread is not None:
                await self._copy(message, topics.chat_id, thread=thread)
                return
            header = await self._bot.send_message(topics.chat_id, await self._describe(user))
            copied = await self._copy(message, topics.chat_id, reply_to=header.message_id)
            await self._messages.remember(
                topics.chat_id, [header.message_id, copied], customer_id=user.id
            )

        try:
            await topics.post(
                customer_topic(user.id),
                send,
                name=customer_label(user),
                customer_id=user.id,
                opened=introduce,
            )
        except TelegramAPIError as exc:
            log.warning("support message of %s did not reach the admin group: %s", user.id, exc)
            return False
        await self._react(message)
        return True

    async def customer_for(self, message: Message) -> int | None:
        """The customer an admin's message in the admin group answers, if any: the one of
        its forum topic, or the one of the support message it replies to."""
        topics = self._topics
        if topics is None or message.chat.id != topics.chat_id:
            return None
        if message.content_type not in COPYABLE:
            return None
        if message.is_topic_message and message.message_thread_id is not None:
            customer = await topics.customer_of(message.message_thread_id)
            if customer is not None:
                return customer
        if message.reply_to_message is not None:
            return await self._messages.customer_of(
                topics.chat_id, message.reply_to_message.message_id
            )
        return None

    async def answer(self, customer: int, message: Message) -> Delivery:
        """An admin's message to `customer`, under a short header in their language."""
        async with self._notifier.speaking_to(customer):
            header = _("💬 <b>Support:</b>")
            markup = self._write_more() if self._write_more is not None else None
            try:
                await self._relay(message, customer, header, markup)
            except TelegramForbiddenError:
                return Delivery.BLOCKED
            except TelegramAPIError as exc:
                log.warning("a support answer to %s failed: %s", customer, exc)
                return Delivery.FAILED
        await self._react(message)
        return Delivery.SENT

    async def _relay(
        self, message: Message, chat_id: int, header: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        """`message` with `header` above it: one message where the text or caption leaves
        room, else the header and then the copy."""
        body = message.html_text
        together = f"{header}\n{body}" if body else header
        if message.text is not None and len(together) <= MESSAGE_LIMIT:
            await self._bot.send_message(chat_id, together, reply_markup=markup)
            return
        if message.content_type in CAPTIONED and len(together) <= CAPTION_LIMIT:
            await self._copy(message, chat_id, caption=together, markup=markup)
            return
        await self._bot.send_message(chat_id, header)
        await self._copy(message, chat_id, markup=markup)

    async def _copy(
        self,
        message: Message,
        chat_id: int,
        *,
        thread: int | None = None,
        reply_to: int | None = None,
        caption: str | None = None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> int:
        copied = await self._bot.copy_message(
            chat_id,
            message.chat.id,
            message.message_id,
            message_thread_id=thread,
            caption=caption,
            reply_parameters=ReplyParameters(message_id=reply_to) if reply_to else None,
            reply_markup=markup,
        )
        return copied.message_id

    async def _describe(self, user: User, *, in_topic: bool = False) -> str:
        """Who writes (name, id) and their last order, and how to answer them."""
        recent = await self._orders.for_user(user.id, limit=1)
        last = recent[0] if recent else None
        async with self._notifier.speaking_to(None):
            lines = [_("💬 Support: {customer}").format(customer=html.escape(customer_label(user)))]
            if last is None:
                lines.append(_("No orders yet."))
            else:
                lines.append(
                    _("Last order: #{id} {title} · {state}").format(
                        id=short_id(last),
                        title=html.escape(last.title),
                        state=state_label(last.state),
                    )
                )
            if in_topic:
                lines.append(_("Write in this topic to answer; commands stay here."))
            else:
                lines.append(_("Reply to this message to answer."))
        return "\n".join(lines)

    async def _react(self, message: Message) -> None:
        """A small sign on the message that it went through (nice to have)."""
        with contextlib.suppress(TelegramAPIError):
            await self._bot.set_message_reaction(
                message.chat.id, message.message_id, [ReactionTypeEmoji(emoji=SEEN)]
            )
