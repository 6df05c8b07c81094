"""Keyboards that do not change per customer are built once per language and catalog
snapshot, and built again when the catalog changes."""

from __future__ import annotations

from aiogram.utils.i18n import I18n

from bot.catalog import Catalog
from bot.config import PROJECT_ROOT
from bot.i18n import load_i18n
from handlers import keyboards
from handlers.callbacks import CategoryCb, OfferCb
from tests.support.factories import offer

OFFERS = [offer(sku=f"s{n}", title=f"Game {n}", category="Games") for n in range(10)]


def texts(markup) -> list[str]:
    return [button.text for row in markup.inline_keyboard for button in row]


def in_language(i18n: I18n, locale: str, build):
    with i18n.context(), i18n.use_locale(locale):
        return build()


def test_a_menu_is_built_once_per_language_and_page():
    i18n = load_i18n(PROJECT_ROOT / "locales", "en")
    catalog = Catalog(OFFERS)
    english = in_language(i18n, "en", lambda: keyboards.main_menu(catalog, 0))
    assert in_language(i18n, "en", lambda: keyboards.main_menu(catalog, 0)) is english
    russian = in_language(i18n, "ru", lambda: keyboards.main_menu(catalog, 0))
    assert russian is not english and "🧾 My orders" in texts(english)
    assert "🧾 My orders" not in texts(russian)

    games = catalog.categories[0]
    first = in_language(i18n, "en", lambda: keyboards.category_menu(catalog, games, 0))
    second = in_language(i18n, "en", lambda: keyboards.category_menu(catalog, games, 1))
    assert texts(first)[:8] == [f"Game {n} · 400 ⭐" for n in range(8)]
    assert texts(second)[:2] == ["Game 8 · 400 ⭐", "Game 9 · 400 ⭐"]
    assert OfferCb.unpack(first.inline_keyboard[0][0].callback_data).sku == "s0"
    pager = [b.callback_data for b in second.inline_keyboard[2]]
    assert CategoryCb.unpack(pager[0]) == CategoryCb(key=games.key, page=0)


def test_a_changed_catalog_gets_new_keyboards():
    i18n = load_i18n(PROJECT_ROOT / "locales", "en")
    catalog = Catalog(OFFERS)
    before = in_language(
        i18n, "en", lambda: keyboards.category_menu(catalog, catalog.categories[0], 0)
    )
    catalog.replace([o.model_copy(update={"price_stars": 500}) for o in OFFERS])
    after = in_language(
        i18n, "en", lambda: keyboards.category_menu(catalog, catalog.categories[0], 0)
    )
    assert texts(before)[0] == "Game 0 · 400 ⭐" and texts(after)[0] == "Game 0 · 500 ⭐"


def test_an_offer_card_follows_stock_and_quantity():
    i18n = load_i18n(PROJECT_ROOT / "locales", "en")
    catalog = Catalog(OFFERS)
    card = in_language(i18n, "en", lambda: keyboards.offer_card(catalog, OFFERS[0], True, 2, 3))
    assert texts(card) == ["➖", "2 pcs", "➕", "🛒 Buy 2 for 800 ⭐", "🔄 Refresh", "« Games"]
    sold_out = in_language(i18n, "en", lambda: keyboards.offer_card(catalog, OFFERS[0], False))
    assert texts(sold_out) == ["🔄 Refresh", "« Games"]


def test_search_results_are_remembered_until_the_catalog_changes():
    catalog = Catalog(OFFERS)
    found = catalog.search("GAME 1")
    assert [o.sku for o in found] == ["s1"]
    assert catalog.search("game 1") == found  # the same normalized words
    assert [o.sku for o in catalog.search("game", limit=3, offset=8)] == ["s8", "s9"]
    catalog.replace(OFFERS[:1])
    assert catalog.search("game 1") == ()
