"""The Mini App's API over real HTTP, from a running shop: only Telegram's signed initData
names the customer (forged, expired or missing: 401, nothing more), the catalog, search
and offers as the chat shows them, and a customer's own orders and keys only."""

from __future__ import annotations

import time

import httpx
import pytest

from storage import CreditRepo, FlagRepo, OrderState, UserRepo
from storage.flags import MAINTENANCE
from tests.conftest import TOKEN, open_shop_database
from tests.e2e.flows import paid_order, settled
from tests.support.webapp import authorization, init_data

ANN, BOB = 6101, 6102


@pytest.fixture
def shop_env(shop_env):
    return shop_env | {"WEBAPP_URL": "https://shop.example/app/", "WEBAPP_AUTH_MAX_AGE": "3600"}


@pytest.fixture
async def api(shop_env, shop):
    base = f"http://127.0.0.1:{shop_env['HTTP_PORT']}/app/api"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        yield client


async def test_only_signed_fresh_init_data_names_a_customer(api):
    refusals = [
        await api.get("/catalog"),
        await api.get("/catalog", headers={"Authorization": "tma"}),
        await api.get("/catalog", headers={"Authorization": "tma user=%7B%22id%22%3A1%7D"}),
        await api.get("/catalog", headers=authorization("123456:another-bot", ANN)),
        await api.get("/catalog", headers=authorization(TOKEN, ANN, auth_date=time.time() - 7200)),
        await api.get("/catalog", headers={"Authorization": "Bearer " + init_data(TOKEN, ANN)}),
    ]
    assert [r.status_code for r in refusals] == [401] * len(refusals)
    assert {r.text for r in refusals} == {'{"error": "unauthorized"}'}
    tampered = init_data(TOKEN, ANN).replace(f"%22id%22%3A{ANN}", f"%22id%22%3A{BOB}")
    assert (
        await api.get("/orders", headers={"Authorization": f"tma {tampered}"})
    ).status_code == 401
    ok = await api.get("/catalog", headers=authorization(TOKEN, ANN))
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"


async def test_the_catalog_search_and_an_offer_as_the_chat_shows_them(api):
    ann = authorization(TOKEN, ANN)
    categories = (await api.get("/catalog", headers=ann)).json()["categories"]
    gift_cards = next(c for c in categories if c["title"] == "Gift cards")
    page = (await api.get(f"/categories/{gift_cards['key']}", headers=ann)).json()
    assert len(page["offers"]) == gift_cards["count"] and page["next"] is None
    assert (await api.get("/categories/nope", headers=ann)).status_code == 404
    found = (await api.get("/search", params={"q": "STEAM wallet"}, headers=ann)).json()
    assert found["offers"] and all("Steam" in o["title"] for o in found["offers"])
    cyrillic = (await api.get("/search", params={"q": "ЭЛДЕН"}, headers=ann)).json()
    assert [o["sku"] for o in cyrillic["offers"]] == ["elden-ring"]  # as in the chat
    pubg = (await api.get("/offers/pubg-60uc", headers=ann)).json()
    assert pubg["availability"] == "available" and pubg["price_stars"] == 100
    assert [f["name"] for f in pubg["fields"]] == ["gameUserId"]
    assert pubg["fields"][0]["label"] == "player ID"
    russian = authorization(TOKEN, 6103, language="ru")
    assert (await api.get("/offers/pubg-60uc", headers=russian)).json()["fields"][0]["label"] != (
        "player ID"
    )
    assert (await api.get("/offers/no-such-sku", headers=ann)).status_code == 404


async def test_a_customer_sees_their_own_orders_and_keys_only(tg, api, orders, sim, shop_env):
    order_id = await paid_order(tg, tg.user(ANN), "Gift cards", "Steam Wallet 5 USD")
    await settled(orders, order_id, OrderState.DELIVERED)
    ann, bob = authorization(TOKEN, ANN), authorization(TOKEN, BOB)
    listed = (await api.get("/orders", headers=ann)).json()["orders"]
    assert [o["id"] for o in listed] == [order_id] and listed[0]["state"] == "delivered"
    mine = (await api.get(f"/orders/{order_id}", headers=ann)).json()
    key = sim.order_by_transaction(order_id).key
    assert mine["keys"] == [{"kind": "text", "value": key}]
    assert (await api.get("/orders", headers=bob)).json() == {"orders": []}
    theirs = await api.get(f"/orders/{order_id}", headers=bob)
    missing = await api.get("/orders/0000000000000000", headers=bob)
    assert theirs.status_code == missing.status_code == 404 and theirs.text == missing.text
    assert key not in theirs.text

    db = await open_shop_database(shop_env)
    try:
        await UserRepo(db).set_banned(ANN, True)
    finally:
        await db.close()
    refused = await api.post("/buy", json={"sku": "steam-5"}, headers=ann)
    assert (
        refused.status_code == 403 and "not available for your account" in refused.json()["message"]
    )  # the chat's words; browsing and the orders stay open, as in the chat
    assert (await api.get("/orders", headers=ann)).status_code == 200


async def test_buying_from_the_mini_app_is_the_chats_checkout(tg, api, orders, sim):
    ann = authorization(TOKEN, ANN)
    garbled = await api.post("/buy", content=b'{"sku": ', headers=ann)
    assert garbled.status_code == 400
    too_many = await api.post("/buy", json={"sku": "steam-5", "quantity": 50}, headers=ann)
    assert too_many.status_code == 400 and "up to 1" in too_many.json()["message"]
    wrong = await api.post(
        "/buy", json={"sku": "pubg-60uc", "fields": {"gameUserId": "12"}}, headers=ann
    )
    assert wrong.status_code == 400 and wrong.json()["field"] == "gameUserId"
    assert "“12” is not a valid player ID" in wrong.json()["message"]  # the chat's words
    assert not tg.calls_of("createInvoiceLink")  # nothing was ordered

    bought = (await api.post("/buy", json={"sku": "steam-5"}, headers=ann)).json()
    invoice = tg.invoice_link(bought["invoice_link"])
    assert (invoice.currency, invoice.total_amount) == ("XTR", 400)
    assert invoice.payload == bought["order"]["id"]
    assert (await tg.user(ANN).pay(invoice)).params["ok"] is True  # openInvoice, then paid
    order = await settled(orders, invoice.payload, OrderState.DELIVERED)
    key = sim.order_by_transaction(order.id).key
    shown = (await api.get(f"/orders/{order.id}", headers=ann)).json()
    assert shown["state"] == "delivered" and shown["keys"] == [{"kind": "text", "value": key}]
    assert sum(key in text for text in tg.user(ANN).texts()) == 1  # the chat got it, once


async def test_the_menu_button_and_start_open_the_mini_app(tg, shop):
    menu = await tg.wait_for("setChatMenuButton")
    button = menu.params["menu_button"]
    assert button["type"] == "web_app" and button["web_app"]["url"] == "https://shop.example/app/"
    user = tg.user(6104)
    mark = await user.send("/start")
    answer = await tg.wait_for("sendMessage", since=mark)
    first = answer.params["reply_markup"]["inline_keyboard"][0][0]
    assert first["web_app"] == {"url": "https://shop.example/app/"}


async def test_the_page_is_locked_down_and_buying_is_refused_when_it_must_be(
    api, shop_env, kinguin
):
    page = await api.get(f"http://127.0.0.1:{shop_env['HTTP_PORT']}/app/")
    policy = page.headers["Content-Security-Policy"]
    assert page.status_code == 200 and '<script type="module" src="app.js">' in page.text
    assert "script-src 'self' https://telegram.org" in policy and "default-src 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    base = f"http://127.0.0.1:{shop_env['HTTP_PORT']}/app"
    cover = await api.get(f"{base}/covers/elden-ring")  # the vendor's, through the shop
    assert cover.status_code == 200 and cover.headers["Content-Type"] == "image/png"
    assert (await api.get(f"{base}/covers/no-such-sku")).status_code == 404

    ann = authorization(TOKEN, ANN)
    kinguin.set_stock(1949, 0)
    sold_out = await api.post("/buy", json={"sku": "cs-source"}, headers=ann)
    assert sold_out.status_code == 409 and sold_out.json()["error"] == "unavailable"
    db = await open_shop_database(shop_env)
    try:
        await FlagRepo(db).set(MAINTENANCE, "on")
    finally:
        await db.close()
    closed = await api.post("/buy", json={"sku": "steam-5"}, headers=ann)
    assert closed.status_code == 403 and "maintenance" in closed.json()["message"]


async def test_a_customer_calling_too_often_is_slowed_down(api):
    ann, bob = authorization(TOKEN, ANN), authorization(TOKEN, BOB)
    answers = [(await api.get("/catalog", headers=ann)).status_code for _ in range(245)]
    assert answers[:240] == [200] * 240 and answers[-1] == 429  # 240 a minute each
    assert (await api.get("/catalog", headers=bob)).status_code == 200  # only that customer


async def test_shop_credit_pays_first_in_the_mini_app_too(tg, api, orders, shop_env):
    db = await open_shop_database(shop_env)
    try:
        await CreditRepo(db).grant(ANN, 150, "goodwill")
    finally:
        await db.close()
    ann = authorization(TOKEN, ANN)
    bought = (await api.post("/buy", json={"sku": "steam-5"}, headers=ann)).json()
    invoice = tg.invoice_link(bought["invoice_link"])
    assert invoice.total_amount == 250  # 400 less the 150 of credit, as in the chat
    assert "150 ⭐ paid from your shop credit" in invoice.description


async def test_stale_pages_do_not_get_an_address_slowed_down(api, shop_env):
    """A page left open past its initData's age keeps calling; its customers may share one
    carrier address with many others: the Mini App limits customers, not addresses."""
    stale = authorization(TOKEN, ANN, auth_date=time.time() - 7200)
    answers = [(await api.get("/orders", headers=stale)).status_code for _ in range(15)]
    assert answers == [401] * 15  # more than AUTH_FAILURES_PER_MINUTE (10)
    assert (await api.get("/catalog", headers=authorization(TOKEN, BOB))).status_code == 200
    health = await api.get(f"http://127.0.0.1:{shop_env['HTTP_PORT']}/health")
    assert health.status_code == 200
