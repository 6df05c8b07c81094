"""/paysupport and /terms, as Telegram requires of bots that sell for Stars."""

from __future__ import annotations

import pytest

from tests.e2e.flows import wait_text


async def test_paysupport_and_terms_have_defaults_in_the_customers_language(tg, shop):
    user = tg.user(6001)
    mark = await user.send("/paysupport")
    assert "/orders" in await wait_text(tg, user, "payment", since=mark)
    mark = await user.send("/terms")
    assert "/paysupport" in await wait_text(tg, user, "Terms of sale", since=mark)
    russian = tg.user(6002, language_code="ru")
    mark = await russian.send("/terms")
    await wait_text(tg, russian, "Условия продажи", since=mark)
    commands = [c["command"] for c in tg.calls_of("setMyCommands")[0].params["commands"]]
    assert {"paysupport", "terms"} <= set(commands)


class TestOwnText:
    @pytest.fixture
    def shop_env(self, shop_env):
        return shop_env | {"PAYSUPPORT_TEXT": "Write to @shop_help <any time>"}

    async def test_the_owner_sets_their_own_text(self, tg, shop):
        user = tg.user(6003)
        mark = await user.send("/paysupport")
        await wait_text(tg, user, "@shop_help", since=mark)
        assert user.last_message().text == "Write to @shop_help <any time>"  # shown as written


async def test_a_plain_message_searches_the_catalog_in_any_alphabet(tg, shop):
    user = tg.user(6004, language_code="ru")
    mark = await user.send("элден")
    await tg.wait_for("sendMessage", where=lambda c: c.params["chat_id"] == user.id, since=mark)
    found = user.last_message(with_keyboard=True)
    assert any(b["text"].startswith("Elden Ring") for b in found.buttons())
    mark = await user.press(lambda b: b["text"].startswith("Elden Ring"))
    card = await tg.wait_for("editMessageText", since=mark)
    assert "Elden Ring" in card.params["text"]

    english = tg.user(6005)
    mark = await english.send("COUNTER strike")
    await tg.wait_for("sendMessage", where=lambda c: c.params["chat_id"] == english.id, since=mark)
    assert any(b["text"].startswith("Counter-Strike") for b in english.last_message(True).buttons())
    mark = await english.send("zelda")
    assert "Nothing found" in await wait_text(tg, english, "zelda", since=mark)
