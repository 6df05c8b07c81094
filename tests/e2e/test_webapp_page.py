"""The Mini App's page in a real browser: Debian's headless Chromium driven by Playwright,
on the page the running shop serves, with a stand-in for Telegram's script that signs
initData for the test bot and pays invoices through the fake Bot API."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage import OrderState
from tests.conftest import PROJECT_ROOT, TOKEN
from tests.e2e.flows import settled
from tests.support.services import unavailable
from tests.support.webapp import init_data

STAND_IN = (Path(__file__).parents[1] / "support" / "telegram-web-app.js").read_text()
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
THEMES = {
    "light": {"bg_color": "#ffffff", "text_color": "#000000", "secondary_bg_color": "#f0f0f5"},
    "dark": {
        "bg_color": "#17212b",
        "text_color": "#f5f5f5",
        "hint_color": "#708499",
        "secondary_bg_color": "#232e3c",
        "button_color": "#5288c1",
        "link_color": "#6ab3f3",
    },
}


@pytest.fixture
def shop_env(shop_env):
    return shop_env | {"WEBAPP_URL": "https://shop.example/app/"}


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        unavailable("Debian's chromium", FileNotFoundError("apt-get install chromium"))
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        await launched.close()


async def open_app(
    browser: Any, tg: Any, shop_env: dict[str, str], user_id: int, *, theme: str = "light",
    language: str = "en", start_param: str | None = None,
) -> Any:  # fmt: skip
    """The Mini App as Telegram opens it for `user_id`."""
    extra = {"start_param": start_param} if start_param else {}
    config = {
        "initData": init_data(TOKEN, user_id, language=language, extra=extra),
        "initDataUnsafe": extra,
        "theme": THEMES[theme],
        "colorScheme": theme,
    }
    page = await browser.new_page(viewport=PHONE)
    await page.add_init_script(f"window.__TELEGRAM_TEST__ = {json.dumps(config)};")
    await page.route(
        "https://telegram.org/js/telegram-web-app.js",
        lambda route: route.fulfill(body=STAND_IN, content_type="text/javascript"),
    )

    async def pay(url: str) -> str:
        answer = await tg.user(user_id).pay(tg.invoice_link(url))
        return "paid" if answer.params.get("ok") else "failed"

    await page.expose_function("__payInvoice", pay)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(  # an API refusal (a 400) is the browser's console error too: not the page's
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.errors = errors
    await page.goto(f"http://127.0.0.1:{shop_env['HTTP_PORT']}/app/")
    return page


async def test_search_buy_and_the_key_shows_in_the_page_and_the_chat(
    tg, shop, shop_env, orders, sim, browser
):
    page = await open_app(browser, tg, shop_env, 6201)
    await page.wait_for_selector("text=Gift cards")
    await page.fill("#search", "steam wallet 5")
    await page.get_by_text("Steam Wallet 5 USD").click()
    await page.wait_for_selector("#availability")
    assert "In stock" in await page.inner_text("#availability")
    assert await page.evaluate("window.__tg.mainButton") == {
        "text": "Buy for 400 ⭐",
        "visible": True,
    }
    assert await page.evaluate("window.__tg.backButton") is True
    await page.evaluate("window.__tg.pressMainButton()")
    key_shown = await page.wait_for_selector(".key code", timeout=20_000)
    [invoice] = tg.invoice_links.values()
    order = await settled(orders, invoice.payload, OrderState.DELIVERED)
    key = sim.order_by_transaction(order.id).key
    assert await key_shown.inner_text() == key
    assert sum(key in text for text in tg.user(6201).texts()) == 1  # the chat got it, once
    assert "haptic:success" in await page.evaluate("window.__tg.events")
    assert page.errors == []


async def test_a_wrong_player_id_is_refused_with_the_chats_words(tg, shop, shop_env, browser):
    page = await open_app(browser, tg, shop_env, 6202, start_param="offer-pubg-60uc")
    field = await page.wait_for_selector("#field-gameUserId")
    await field.fill("12")
    await page.evaluate("window.__tg.pressMainButton()")
    await page.wait_for_selector("#problem:has-text('not a valid')")
    assert "“12” is not a valid player ID" in await page.inner_text("#problem")
    assert not tg.invoice_links  # nothing was ordered
    assert page.errors == []


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_screenshots_at_a_phone_size(tg, shop, shop_env, browser, theme):
    """Saved for the README (docs/screenshots): the catalog, and an offer ready to buy."""
    page = await open_app(browser, tg, shop_env, 6203, theme=theme, language="ru")
    await page.wait_for_selector(".item")
    assert await page.inner_text("h1") == "Каталог"  # the customer's language
    assert await page.get_attribute("#search", "placeholder") == "Поиск по магазину"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"webapp-catalog-{theme}.png"))
    await page.fill("#search", "elden")
    await page.get_by_text("Elden Ring").click()
    await page.wait_for_selector("#availability")
    cover = "document.querySelector('img.cover')"
    await page.wait_for_function(f"{cover} && {cover}.naturalWidth > 0")  # through the shop
    await page.screenshot(path=str(SCREENSHOTS / f"webapp-offer-{theme}.png"))
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(255, 255, 255)" if theme == "light" else "rgb(23, 33, 43)")
    assert page.errors == []


async def test_a_sold_out_offer_cannot_be_bought_and_my_orders_shows_keys(
    tg, shop, shop_env, orders, sim, kinguin, browser
):
    kinguin.set_stock(1949, 0)
    page = await open_app(browser, tg, shop_env, 6204, start_param="offer-cs-source")
    await page.wait_for_selector("#availability")
    assert "Sold out" in await page.inner_text("#availability")
    assert (await page.evaluate("window.__tg.mainButton"))["visible"] is False  # no Buy

    await page.fill("#search", "steam wallet 5")
    await page.get_by_text("Steam Wallet 5 USD").click()
    await page.wait_for_selector("#availability")
    await page.evaluate("window.__tg.pressMainButton()")
    await page.wait_for_selector(".key code", timeout=20_000)
    await page.evaluate("window.__tg.pressBackButton()")  # back to what came before
    await page.wait_for_selector("#availability")
    await page.click("#my-orders")
    await page.get_by_text("Steam Wallet 5 USD").click()
    shown = await page.wait_for_selector(".key code")
    [invoice] = tg.invoice_links.values()
    assert await shown.inner_text() == sim.order_by_transaction(invoice.payload).key
    assert page.errors == []


async def test_image_keys_show_as_images_and_the_page_fits_a_small_phone(
    tg, shop, shop_env, orders, integration, browser
):
    page = await open_app(browser, tg, shop_env, 6205, start_param="offer-aliens-cm")
    await page.set_viewport_size({"width": 360, "height": 740})
    await page.wait_for_selector("#availability")
    await page.evaluate("window.__tg.pressMainButton()")
    image = await page.wait_for_selector(".key img", timeout=30_000)
    assert (await image.get_attribute("src") or "").startswith("data:image/")
    [invoice] = tg.invoice_links.values()
    await settled(orders, invoice.payload, OrderState.DELIVERED)
    assert len([m for m in tg.user(6205).messages() if m.kind == "photo"]) == 1  # and the chat
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways
    assert page.errors == []
