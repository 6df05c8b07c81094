"""aiogram's Telegram types, each completed when first used instead of all at import.

`import aiogram.types` rebuilds the validation schema of all ~440 Telegram types one by
one, each with every type it refers to inlined: 3 s of CPU and 110 MB of memory in every
process, for the few dozen types a shop ever touches. Here that loop is skipped and each
model module is given the names its annotations refer to, so pydantic completes a type
the first time it validates or serializes one (a few milliseconds, once), exactly as the
loop would have. tests/bot/test_lazy_aiogram.py completes every type this way.

Only effective if it runs before anything imports aiogram: `bot/__init__.py` calls it."""

from __future__ import annotations

import sys
from typing import Any, Literal, Optional, Union


def load() -> None:
    if "aiogram.types" in sys.modules:
        return  # imported already (and complete): nothing left to save
    from pydantic import BaseModel

    rebuild = BaseModel.__dict__["model_rebuild"]
    BaseModel.model_rebuild = classmethod(_skip)  # type: ignore[method-assign,assignment]
    try:
        import aiogram.types
        from aiogram.client.default import Default
    finally:
        BaseModel.model_rebuild = rebuild  # type: ignore[method-assign]
    names: dict[str, Any] = {
        "List": list,
        "Optional": Optional,
        "Union": Union,
        "Literal": Literal,
        "Default": Default,
        **{name: getattr(aiogram.types, name) for name in aiogram.types.__all__},
    }
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith(("aiogram.types.", "aiogram.methods.")) and module:
            for name, value in names.items():
                module.__dict__.setdefault(name, value)


def complete_common() -> None:
    """Complete now the types every shop handles and sends, so that the first customer
    after a start does not wait for them (half a second of CPU, once)."""
    from aiogram import methods, types

    for model in (
        types.Update,
        types.Message,
        types.CallbackQuery,
        types.InlineQuery,
        types.PreCheckoutQuery,
        types.InlineKeyboardMarkup,
        methods.GetUpdates,
        methods.SendMessage,
        methods.EditMessageText,
        methods.AnswerCallbackQuery,
        methods.AnswerInlineQuery,
        methods.SendInvoice,
        methods.AnswerPreCheckoutQuery,
    ):
        model.model_rebuild()


def _skip(cls: type, **_: Any) -> None:
    """aiogram's import-time rebuild of one type: left to the type's first use."""
    return None
