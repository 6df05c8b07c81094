"""aiogram's types are completed on first use (bot.lazy_aiogram): every one of them can be,
and what the shop validates and sends is the same as with aiogram's own import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from bot.config import PROJECT_ROOT

CHECK = textwrap.dedent(
    """
    import bot  # first, as in every entry point
    import aiogram.methods as methods
    import aiogram.types as types

    assert not types.Message.__pydantic_complete__, "aiogram's import loop ran"
    update = types.Update.model_validate(
        {"update_id": 1, "callback_query": {"id": "q", "from": {"id": 5, "is_bot": False,
         "first_name": "A"}, "chat_instance": "c", "data": "m:0", "message": {"message_id": 2,
         "date": 0, "chat": {"id": 5, "type": "private"}, "text": "menu"}}}
    )
    assert isinstance(update.callback_query.message, types.Message)
    markup = types.InlineKeyboardMarkup(
        inline_keyboard=[[types.InlineKeyboardButton(text="Buy", callback_data="b:x:1")]]
    )
    sent = methods.SendMessage(chat_id=5, text="hi", reply_markup=markup)
    assert sent.model_dump(exclude_none=True)["reply_markup"] == {
        "inline_keyboard": [[{"text": "Buy", "callback_data": "b:x:1"}]]
    }
    incomplete = []
    for module in (types, methods):
        for name in module.__all__:
            model = getattr(module, name)
            if isinstance(model, type) and hasattr(model, "model_rebuild"):
                model.model_rebuild()
                if not model.__pydantic_complete__:
                    incomplete.append(name)
    assert not incomplete, incomplete
    print("ok")
    """
)


def test_every_telegram_type_completes_on_first_use():
    done = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"
