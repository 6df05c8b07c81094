"""The shop's Bot API session: aiogram's, with two costs of a busy shop taken out.

- A keyboard the shop built once (the catalog's menus and pages, in each language) is
  turned into JSON once too, not again for every customer it is shown to.
- aiogram's `Response[...]` model of each method in use is kept alive. pydantic caches
  generic models only weakly, so every garbage collection dropped them and the next call
  rebuilt its model: milliseconds, a large share of an update."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import InlineKeyboardMarkup, InputFile
from aiohttp import FormData

PREPARED_LIMIT = 10_000  # keyboards whose JSON is kept (the catalog's, mostly)
_RESPONSE_MODELS: dict[Any, type] = {}


class ShopSession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._prepared: dict[int, tuple[InlineKeyboardMarkup, str]] = {}
        self.middleware(keep_response_models)

    def build_form_data(self, bot: Bot, method: TelegramMethod[TelegramType]) -> FormData:
        markup = getattr(method, "reply_markup", None)
        if not isinstance(markup, InlineKeyboardMarkup):
            return super().build_form_data(bot, method)
        # aiogram's own loop (AiohttpSession.build_form_data), with the keyboard from cache
        form = FormData(quote_fields=False)
        files: dict[str, InputFile] = {}
        for key, value in method.model_dump(warnings=False, exclude={"reply_markup"}).items():
            value = self.prepare_value(value, bot=bot, files=files)
            if value:
                form.add_field(key, value)
        form.add_field("reply_markup", self.keyboard_json(bot, markup))
        for key, file in files.items():
            form.add_field(key, file.read(bot), filename=file.filename or key)
        return form

    def keyboard_json(self, bot: Bot, markup: InlineKeyboardMarkup) -> str:
        """The keyboard as the Bot API gets it, remembered by identity: the shop never
        changes a keyboard it built, it builds another."""
        known = self._prepared.get(id(markup))
        if known is not None and known[0] is markup:
            return known[1]
        prepared = self.prepare_value(markup.model_dump(warnings=False), bot=bot, files={})
        if len(self._prepared) >= PREPARED_LIMIT:
            self._prepared.clear()
        self._prepared[id(markup)] = (markup, prepared)  # the markup kept: its id stays its
        return str(prepared)


async def keep_response_models(
    make_request: NextRequestMiddlewareType[TelegramType],
    bot: Bot,
    method: TelegramMethod[TelegramType],
) -> Response[TelegramType]:
    """Builds aiogram's `Response[...]` model of a method once and keeps it."""
    returning = method.__returning__
    if returning not in _RESPONSE_MODELS:
        _RESPONSE_MODELS[returning] = Response[returning]  # type: ignore[valid-type]
    return await make_request(bot, method)
