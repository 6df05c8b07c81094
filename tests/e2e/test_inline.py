"""Inline mode (`@bot elden` in any chat) and offer cards with the product's cover."""

from __future__ import annotations

from pathlib import Path

from bot.catalog import load_catalog_file
from tests.e2e.flows import eventually
from vendors import REGISTRY

BOT_LINK = "https://t.me/storefront_test_bot?start=offer-"


async def answer_to(tg, user, query: str, offset: str = ""):
    await user.inline_query(query, offset=offset)
    query_id = user.last_inline_query_id
    return await eventually(lambda: tg.inline_answers.get(query_id))


async def test_inline_mode_lists_offers_that_open_by_deep_link(tg, shop, shop_env):
    user = tg.user(6101, language_code="ru")
    answer = await answer_to(tg, user, "элден", offset="")  # any alphabet, as in chat
    [result] = answer["results"]
    assert result["type"] == "article" and result["title"] == "Elden Ring (Steam key)"
    assert result["description"].startswith("420 ⭐")
    [[button]] = result["reply_markup"]["inline_keyboard"]
    assert button["url"] == BOT_LINK + "elden-ring"
    assert "Elden Ring" in result["input_message_content"]["message_text"]
    assert answer["is_personal"] is True and answer["button"]["start_parameter"] == "inline"

    # the link opens the card, with the vendor's cover above it; the inline result shows
    # that cover too once the shop has seen it
    mark = await user.send("/start offer-elden-ring")
    card = await tg.wait_for(
        "sendMessage", where=lambda c: c.params["chat_id"] == user.id, since=mark
    )
    assert "Elden Ring" in card.params["text"]
    preview = card.params["link_preview_options"]
    assert preview["url"].endswith("/cover.png") and preview["show_above_text"] is True
    again = await answer_to(tg, user, "elden ring")
    assert again["results"][0]["thumbnail_url"] == preview["url"]

    # an empty query pages through the whole catalog
    everything = len(load_catalog_file(Path(shop_env["CATALOG_FILE"]), REGISTRY))
    first = await answer_to(tg, user, "")
    assert len(first["results"]) == 20 and first["next_offset"] == "20"
    rest = await answer_to(tg, user, "", offset="20")
    ids = [r["id"] for r in first["results"] + rest["results"]]
    assert len(ids) == len(set(ids)) == min(everything, 40)
    nothing = await answer_to(tg, user, "zelda")
    assert nothing["results"] == []


async def test_a_card_without_a_cover_has_no_preview(tg, shop):
    user = tg.user(6102)
    mark = await user.send("/start offer-pubg-60uc")  # CodeGames gives no images
    card = await tg.wait_for(
        "sendMessage", where=lambda c: c.params["chat_id"] == user.id, since=mark
    )
    assert card.params["link_preview_options"] == {"is_disabled": True}
