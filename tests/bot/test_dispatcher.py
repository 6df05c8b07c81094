"""Updates that are for nobody (a busy group the bot sits in) are dropped before any
middleware runs; everything else goes on to the routers."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Update

from bot.runtime.dispatcher import ShopDispatcher
from handlers.filters import InState

ADMINS = -100_111


class Form(StatesGroup):
    waiting = State()


def message(chat: dict[str, Any], n: int = 1) -> dict[str, Any]:
    return {
        "update_id": n,
        "message": {
            "message_id": n,
            "date": 0,
            "chat": chat,
            "from": {"id": 5, "is_bot": False, "first_name": "A"},
            "text": "hello",
        },
    }


def button(chat: dict[str, Any], n: int = 2) -> dict[str, Any]:
    """A press of a button under the bot's message in `chat`."""
    return {
        "update_id": n,
        "callback_query": {
            "id": f"q{n}",
            "from": {"id": 5, "is_bot": False, "first_name": "A"},
            "chat_instance": "c",
            "message": message(chat, n)["message"],
            "data": "m:0",
        },
    }


PRIVATE = {"id": 5, "type": "private", "first_name": "A"}
GROUP = {"id": -100_222, "type": "supergroup", "title": "Gamers"}
ADMIN_GROUP = {"id": ADMINS, "type": "supergroup", "title": "Shop admins"}


@pytest.fixture
def seen() -> list[str]:
    return []


@pytest.fixture
def dispatcher(seen: list[str]) -> ShopDispatcher:
    dispatcher = ShopDispatcher(admin_chat_id=ADMINS)
    router = Router()

    @router.message()
    async def any_message(message: Any) -> None:
        seen.append(message.chat.type)

    @router.callback_query()
    async def any_button(query: Any) -> None:
        seen.append("button")

    @router.inline_query()
    async def any_inline(query: Any) -> None:
        seen.append("inline")

    async def first(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        seen.append("middleware")
        return await handler(event, data)

    dispatcher.update.outer_middleware.register(first)

    dispatcher.include_router(router)
    return dispatcher


async def feed(dispatcher: ShopDispatcher, raw: dict[str, Any]) -> Any:
    bot = Bot("1:test")
    try:
        return await dispatcher.feed_update(bot, Update.model_validate(raw))
    finally:
        await bot.session.close()


async def test_a_groups_chatter_reaches_nothing(dispatcher, seen):
    assert await feed(dispatcher, message(GROUP)) is UNHANDLED
    assert await feed(dispatcher, button(GROUP)) is UNHANDLED
    post = {"update_id": 3, "channel_post": message(GROUP | {"type": "channel"})["message"]}
    assert await feed(dispatcher, post) is UNHANDLED
    assert seen == []  # not even the first middleware ran


async def test_customers_admins_and_inline_queries_go_on(dispatcher, seen):
    await feed(dispatcher, message(PRIVATE))
    await feed(dispatcher, message(ADMIN_GROUP))
    inline = {
        "update_id": 4,
        "inline_query": {
            "id": "i",
            "from": {"id": 5, "is_bot": False, "first_name": "A"},
            "query": "elden",
            "offset": "",
        },
    }
    await feed(dispatcher, inline)
    assert seen == ["middleware", "private", "middleware", "supergroup", "middleware", "inline"]


async def test_the_conversation_state_is_read_only_when_asked_and_once(seen):
    reads: list[str] = []

    class CountingStorage(MemoryStorage):
        async def get_state(self, key):
            reads.append("read")
            return await super().get_state(key)

    dispatcher = ShopDispatcher(admin_chat_id=ADMINS, storage=CountingStorage())
    router = Router()

    @router.callback_query()
    async def browse(query: Any) -> None:
        seen.append("button")

    @router.message(InState(None), InState(None, Form.waiting))
    async def chat(message: Any, state: FSMContext) -> None:
        seen.append(str(await state.get_state()))
        await state.set_state(Form.waiting)

    @router.message(InState(Form.waiting))
    async def answer(message: Any, state: FSMContext) -> None:
        seen.append(str(await state.get_state()))

    dispatcher.include_router(router)
    await feed(dispatcher, button(PRIVATE, 9))
    assert reads == []  # a button nobody's state filter looks at: no read
    await feed(dispatcher, message(PRIVATE, 10))
    assert reads == ["read"]  # two filters and the handler: one read
    await feed(dispatcher, message(PRIVATE, 11))
    assert seen == ["button", "None", "Form:waiting"]
