"""The shop's Bot API session sends exactly what aiogram's would, keyboards from cache."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.runtime.session import ShopSession

MENU = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text="Gift cards", callback_data="c:1:0")],
        [InlineKeyboardButton(text="🛒 Shop", url="https://t.me/shop_bot?start=x")],
    ]
)


def fields(session: AiohttpSession, bot: Bot, method) -> dict[str, str]:
    form = session.build_form_data(bot, method)
    return {options["name"]: value for options, _headers, value in form._fields}


async def test_a_keyboard_is_sent_as_aiogram_sends_it_and_serialized_once():
    shop, plain = ShopSession(), AiohttpSession()
    bot = Bot("1:test", session=shop)
    try:
        for method in (
            SendMessage(chat_id=5, text="Pick a category:", reply_markup=MENU),
            EditMessageText(chat_id=6, message_id=2, text="Again", reply_markup=MENU),
            SendMessage(chat_id=7, text="no keyboard"),
        ):
            assert fields(shop, bot, method) == fields(plain, bot, method)
        assert list(shop._prepared.values()) == [(MENU, shop.keyboard_json(bot, MENU))]
        other = MENU.model_copy(deep=True)  # an equal keyboard built anew: its own entry
        assert shop.keyboard_json(bot, other) == shop.keyboard_json(bot, MENU)
        assert len(shop._prepared) == 2
    finally:
        await bot.session.close()
        await plain.close()
