"""Small helpers for answering callback queries."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message


async def edit_or_send(
    query: CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    preview: LinkPreviewOptions | None = None,
) -> None:
    """Show a new screen in place of the pressed message (or as a new one if it can't be
    edited, e.g. an invoice or a message too old), and stop the button's spinner."""
    message = query.message
    if isinstance(message, Message) and message.text is not None:
        try:
            await message.edit_text(text, reply_markup=markup, link_preview_options=preview)
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                await message.answer(text, reply_markup=markup, link_preview_options=preview)
    elif query.from_user is not None and query.bot is not None:
        await query.bot.send_message(
            query.from_user.id, text, reply_markup=markup, link_preview_options=preview
        )
    await query.answer()
