"""The shop's dispatcher: aiogram's, with two costs per update taken out.

- Updates that are for nobody are dropped before any middleware runs. A group the bot
  sits in (not the admin group) sends every message of its members; no handler wants
  them, and each would otherwise cost a conversation-state read, a chat lock and the
  language lookup.
- The conversation state is read when a handler's filter or the handler asks for it
  (`state.get_state()`, `handlers.filters.InState`), once per update, not for every
  update: with several replicas it is a Redis round trip, and a customer browsing the
  catalog's buttons needs none."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StateType, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.types import CallbackQuery, Message, TelegramObject, Update


class KnownStateContext(FSMContext):
    """A conversation's context that reads its state at most once (it is kept current
    when set here; one chat's updates are handled one at a time)."""

    _UNREAD = object()

    def __init__(self, storage: BaseStorage, key: StorageKey) -> None:
        super().__init__(storage, key)
        self._state: Any = self._UNREAD

    async def get_state(self) -> str | None:
        if self._state is self._UNREAD:
            self._state = await super().get_state()
        return cast(str | None, self._state)

    async def set_state(self, state: StateType = None) -> None:
        await super().set_state(state)
        self._state = self._UNREAD  # read back (as the storage keeps it) if asked again


class LazyStateMiddleware(FSMContextMiddleware):
    """aiogram's FSM middleware (the chat's lock, `state` for handlers) without the eager
    `raw_state`: filters and handlers ask the context."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        context = self.resolve_event_context(cast(Bot, data["bot"]), data)
        data["fsm_storage"] = self.storage
        if context is None:
            return await handler(event, data)
        async with self.events_isolation.lock(key=context.key):
            data["state"] = context
            return await handler(event, data)

    def resolve_context(self, *args: Any, **kwargs: Any) -> FSMContext | None:
        context = super().resolve_context(*args, **kwargs)
        return None if context is None else KnownStateContext(context.storage, context.key)


class ShopDispatcher(Dispatcher):
    def __init__(
        self,
        *,
        admin_chat_id: int | None,
        storage: BaseStorage | None = None,
        events_isolation: BaseEventIsolation | None = None,
    ) -> None:
        storage = storage or MemoryStorage()
        events_isolation = events_isolation or SimpleEventIsolation()
        super().__init__(storage=storage, events_isolation=events_isolation, disable_fsm=True)
        self.fsm = LazyStateMiddleware(storage=storage, events_isolation=events_isolation)
        self.update.outer_middleware(self.fsm)  # after aiogram's user context, as its own
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
