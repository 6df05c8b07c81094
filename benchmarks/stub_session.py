"""A Bot API session without the network, for benchmarks of update handling.

It is the shop's session (`bot.runtime.session.ShopSession`, aiogram's `AiohttpSession`
underneath) doing what it does with a call, except sending it: the request's form is
built as for a real request, and a canned Bot API answer is parsed and validated into the
method's result type. The shop's dispatcher and a bare aiogram one pay the same for it,
so the difference between them is their own work."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

from bot.runtime.session import ShopSession

_BOT_USER = {"id": 1, "is_bot": True, "first_name": "Shop", "username": "shop_bot"}
_MESSAGE = {
    "message_id": 7,
    "date": 1_800_000_000,
    "chat": {"id": 1000, "type": "private", "first_name": "Customer"},
    "from": _BOT_USER,
    "text": "ok",
}
_CHAT_MEMBER = {"status": "member", "user": _BOT_USER}
_ANSWERS: dict[str, bytes] = {
    method: json.dumps({"ok": True, "result": result}).encode()
    for method, result in {
        "getMe": _BOT_USER,
        "getChatMember": _CHAT_MEMBER,
        "sendMessage": _MESSAGE,
        "sendPhoto": _MESSAGE,
        "sendInvoice": _MESSAGE,
        "editMessageText": _MESSAGE,
        "editMessageReplyMarkup": _MESSAGE,
        "editMessageMedia": _MESSAGE,
        "copyMessage": {"message_id": 8},
        "createInvoiceLink": "https://t.me/$invoice",
        "getStarTransactions": {"transactions": []},
    }.items()
}
_TRUE = b'{"ok":true,"result":true}'


class StubSession(ShopSession):
    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        self.build_form_data(bot, method)
        name = method.__api_method__
        self.calls[name] += 1
        answer = _ANSWERS.get(name, _TRUE)
        response = self.check_response(
            bot=bot, method=method, status_code=200, content=answer.decode()
        )
        return response.result  # type: ignore[return-value]

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def close(self) -> None:
        return None
