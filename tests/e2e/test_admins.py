"""The admin group through the real bot: who may act, orders, refunds, retries, credit,
vendor health, and alerts merged into digests at Telegram's pace."""

from __future__ import annotations

import asyncio

import pytest

from storage import AdminLog, FlagRepo, OrderState
from storage.flags import MAINTENANCE
from tests.conftest import open_shop_database
from tests.e2e.flows import (
    ADMIN_CHAT,
    MEMBER,
    OPERATOR,
    OWNER,
    admin_group,
    eventually,
    open_offer,
    paid_order,
    reply_in,
    settled,
    wait_text,
)


@pytest.fixture
def shop_env(shop_env):
    return shop_env | {"OWNER_IDS": f"{OWNER}, 12345"}


@pytest.fixture
def admins(tg):
    return admin_group(tg)


async def test_order_card_shows_the_history_and_hides_the_key(tg, admins, shop, orders, kinguin):
    customer = tg.user(5001)
    order_id = await paid_order(tg, customer, "PC games", "Elden Ring")
    await settled(orders, order_id, OrderState.DELIVERED)
    key = kinguin.order_by_external_id(order_id).keys[0]

    operator = tg.user(OPERATOR)
    mark = await operator.send(f"/order {order_id[:8].upper()}", chat=admins)  # a short id
    card = await reply_in(tg, admins, mark, order_id)
    assert str(customer.id) in card and "Elden Ring" in card and "delivered" in card
    assert "placing" in card and "processing" in card and key not in card

    mark = await operator.press("🔑 Show key", chat=admins)  # operators may not see keys
    answer = await tg.wait_for("answerCallbackQuery", since=mark)
    assert "owner" in answer.params.get("text", "")
    assert not any(key in text for text in admins.texts())

    owner = tg.user(OWNER)
    mark = await owner.press("🔑 Show key", message=admins.last_message(with_keyboard=True))
    shown = await reply_in(tg, admins, mark, key)
    assert key in shown
    [logged] = await AdminLog(orders._db).for_target(order_id)
    assert (logged.admin_id, logged.action) == (OWNER, "show_key")


async def test_owner_refunds_after_confirming(tg, admins, shop, orders, kinguin):
    kinguin.set_outcome(2001, "completed", processing_seconds=3600)
    customer = tg.user(5002)
    order_id = await paid_order(tg, customer, "PC games", "Elden Ring")
    await settled(orders, order_id, OrderState.PROCESSING)

    operator = tg.user(OPERATOR)
    mark = await operator.send(f"/refund {order_id}", chat=admins)
    assert "owner" in await reply_in(tg, admins, mark)

    owner = tg.user(OWNER)
    mark = await owner.send(f"/refund {order_id}", chat=admins)
    question = await reply_in(tg, admins, mark, "Refund order")
    assert "420 ⭐" in question
    assert (await orders.get(order_id)).state is OrderState.PROCESSING  # nothing yet
    mark = await owner.press("✅ Confirm", chat=admins)
    await wait_text(tg, customer, "We refunded", since=mark)
    order = await settled(orders, order_id, OrderState.REFUNDED)
    assert tg.charges[order.telegram_charge_id].refunded
    [logged] = await AdminLog(orders._db).for_target(order_id)
    assert (logged.admin_id, logged.action) == (OWNER, "refund")


async def test_owner_refunds_a_delivered_order_and_the_key_stays_on_record(
    tg, admins, shop, orders, kinguin
):
    customer = tg.user(5006)
    order_id = await paid_order(tg, customer, "PC games", "Elden Ring")
    await settled(orders, order_id, OrderState.DELIVERED)
    keys = [key.value for key in await orders.keys(order_id)]

    operator, owner = tg.user(OPERATOR), tg.user(OWNER)
    mark = await operator.send(f"/retry {order_id}", chat=admins)  # nothing to retry: said
    assert "Not possible" in await reply_in(tg, admins, mark)  # at once, with no Confirm
    assert not admins.last_message().buttons()
    mark = await owner.send(f"/refund {order_id}", chat=admins)
    assert "say why" in await reply_in(tg, admins, mark)
    mark = await owner.send(f"/order {order_id}", chat=admins)  # its card's button: the same
    await reply_in(tg, admins, mark, order_id)
    mark = await owner.press("↩ Refund", chat=admins)
    assert "say why" in await reply_in(tg, admins, mark)
    [asked] = tg.calls_of("sendMessage", ADMIN_CHAT)[-1:]
    assert "say why" in asked.params["text"] and "reply_markup" not in asked.params  # no Confirm
    mark = await owner.send(f"/refund {order_id} the key does not work", chat=admins)
    question = await reply_in(tg, admins, mark, "Refund order")
    assert "delivered" in question and "the key does not work" in question
    mark = await owner.press("✅ Confirm", chat=admins)
    notice = await wait_text(tg, customer, "We refunded", since=mark)
    assert "The shop has refunded" in notice
    order = await settled(orders, order_id, OrderState.REFUNDED)
    assert tg.charges[order.telegram_charge_id].refunded
    assert [key.value for key in await orders.keys(order_id)] == keys  # kept on record
    history = [(before, after) for before, after, _, _ in await orders.events(order_id)]
    assert ("delivered", "refunding") in history and history[-1] == ("refunding", "refunded")
    [logged] = await AdminLog(orders._db).for_target(order_id)
    assert (logged.admin_id, logged.action, logged.details) == (
        OWNER,
        "refund",
        "the key does not work",
    )
    mark = await owner.send(f"/refund {order_id} twice", chat=admins)  # refused before asking
    assert "Not possible" in await reply_in(tg, admins, mark)


async def test_operator_retries_a_refund_telegram_refused(tg, admins, shop, orders):
    tg.fail_next("refundStarPayment", "Bad Request: CHARGE_NOT_FOUND")
    customer = tg.user(5003)
    order_id = await paid_order(tg, customer, "Sandbox", "Sandbox: always cancelled")
    await settled(orders, order_id, OrderState.FAILED)

    operator = tg.user(OPERATOR)
    mark = await operator.send(f"/retry {order_id}", chat=admins)
    await reply_in(tg, admins, mark, "Retry order")
    await operator.press("✅ Confirm", chat=admins)
    await settled(orders, order_id, OrderState.REFUNDED)
    await wait_text(tg, customer, "We refunded")


async def test_owner_grants_credit_the_customer_then_spends(tg, admins, shop, orders, g2a):
    owner = tg.user(OWNER)
    mark = await owner.send("/credit 5004 50 sorry for the wait", chat=admins)
    await reply_in(tg, admins, mark, "sorry for the wait")
    mark = await owner.press("✅ Confirm", chat=admins)
    await tg.wait_for("editMessageText", since=mark)
    assert "50 ⭐" in admins.last_message().text

    customer = tg.user(5004)
    mark = await customer.send("/start offer-terraria")
    await tg.wait_for("sendMessage", since=mark)
    mark = await customer.press(lambda b: b["text"].startswith("🛒"))
    await wait_text(tg, customer, "paid from your shop credit", since=mark)
    await eventually(lambda: any(o.key_downloads for o in g2a.orders.values()))


async def test_vendors_shows_health_and_balance(tg, admins, shop, orders, kinguin):
    await paid_order(tg, tg.user(5005), "PC games", "Elden Ring")
    mark = await tg.user(OPERATOR).send("/vendors", chat=admins)
    text = await reply_in(tg, admins, mark, "kinguin")
    assert "codegames" in text and "g2a" in text and f"{kinguin.balance:.2f}" in text


EVERY_COMMAND = [
    "/order 1234",
    "/orders",
    "/refund 1234",
    "/retry 1234",
    "/credit 1 5 x",
    "/vendors",
    "/stats",
    "/export",
    "/user 1",
    "/ban 1",
    "/maintenance on",
    "/broadcast hello",
    "/catalog",
    "/offer steam-5 price 1",
    "/import kinguin elden",
    "/g2a list cs-source 9.99",
    "/g2a pause cs-source",
]


@pytest.mark.parametrize("command", EVERY_COMMAND)
async def test_intruders_change_nothing_and_learn_nothing(tg, admins, shop, orders, command):
    outsider_group = tg.group(-100777, "Another group")
    outsider_group.set_member(tg.user(OWNER), "creator")
    mark = tg.mark()
    await tg.user(MEMBER).send(command, chat=admins)  # a plain member of the admin group
    await tg.user(OWNER).send(command, chat=outsider_group)  # the owner, elsewhere
    private = tg.user(OWNER)
    await private.send(command)  # the owner in a private chat: a customer's answer at most
    await wait_text(tg, private, "", since=mark)
    await asyncio.sleep(0.3)
    group_replies = [
        c for c in tg.calls_of("sendMessage") if c.params["chat_id"] in (admins.id, -100777)
    ]
    assert group_replies == []
    assert not any(
        "Order" in c.params["text"] or "Vendors" in c.params["text"]
        for c in tg.calls_of("sendMessage", private.id)
    )
    assert await AdminLog(orders._db).for_target("1") == []
    assert (await orders._db.fetchone("SELECT COUNT(*) FROM admin_actions"))[0] == 0
    assert (await orders._db.fetchone("SELECT COUNT(*) FROM offer_edits"))[0] == 0
    assert await FlagRepo(orders._db).get(MAINTENANCE) is None


async def test_forged_admin_buttons_are_refused(tg, admins, shop, orders, kinguin):
    kinguin.set_outcome(2001, "completed", processing_seconds=3600)
    order_id = await paid_order(tg, tg.user(5006), "PC games", "Elden Ring")
    await settled(orders, order_id, OrderState.PROCESSING)
    member = tg.user(MEMBER)
    owner = tg.user(OWNER)
    mark = await owner.send(f"/order {order_id}", chat=admins)
    card = await tg.wait_for("sendMessage", since=mark)
    message = admins.last_message(with_keyboard=True)
    assert card.params["chat_id"] == admins.id
    await member.press_data(f"adm:refund:{order_id}", message_id=message.message_id, chat=admins)
    customer_in_private = tg.user(5007)
    mark = await customer_in_private.send("/start")
    await tg.wait_for("sendMessage", since=mark)
    await customer_in_private.press_data(f"adm:refund:{order_id}")  # from a private chat
    await member.press_data("adi:kinguin:2002", message_id=message.message_id, chat=admins)
    await customer_in_private.press_data("adi:kinguin:2002")  # an import, forged
    await asyncio.sleep(0.5)
    imported = "SELECT COUNT(*) FROM offers WHERE imported_by IS NOT NULL"
    assert (await orders._db.fetchone(imported))[0] == 0
    assert (await orders.get(order_id)).state is OrderState.PROCESSING
    assert await AdminLog(orders._db).for_target(order_id) == []


async def test_an_outage_yields_a_few_digests_not_hundreds(tg, admins, shop, orders, kinguin):
    kinguin.balance = 0.0  # every order fails for lack of funds: one alert each
    order_ids = [
        await paid_order(tg, tg.user(5100 + n), "PC games", "Counter-Strike: Source")
        for n in range(12)
    ]
    for order_id in order_ids:
        await settled(orders, order_id, OrderState.REFUNDED)

    def alerted() -> bool:
        text = "\n".join(admins.texts())
        return all(order_id in text for order_id in order_ids)

    await eventually(alerted, within=20)
    assert len(admins.messages()) <= 4  # digests, never one message per order
    assert tg.per_chat_per_minute(admins.id) <= 20
    digest = next(m for m in admins.messages() if "alerts" in (m.text or ""))
    assert digest.buttons() and all(
        b["callback_data"].startswith("adm:open:") for b in digest.buttons()
    )


async def test_ban_maintenance_and_the_customer_summary(tg, admins, shop, orders):
    owner, operator = tg.user(OWNER), tg.user(OPERATOR)
    customer = tg.user(5200)
    order_id = await paid_order(tg, customer, "Gift cards", "Steam Wallet 5 USD")
    await settled(orders, order_id, OrderState.DELIVERED)

    mark = await operator.send("/user 5200", chat=admins)
    summary = await reply_in(tg, admins, mark, "5200")
    assert order_id in summary and "400 ⭐" in summary
    mark = await operator.send("/ban 5200", chat=admins)
    assert "owner" in await reply_in(tg, admins, mark)

    mark = await owner.send("/ban 5200", chat=admins)
    await reply_in(tg, admins, mark, "banned")
    await open_offer(tg, customer, "Gift cards", "Steam Wallet 5 USD")
    mark = await customer.press(lambda b: b["text"].startswith("🛒"))
    refused = await tg.wait_for(
        "answerCallbackQuery", where=lambda c: "text" in c.params, since=mark
    )
    assert "not available for your account" in refused.params["text"]
    assert not tg.calls_of("sendInvoice", customer.id)[1:]  # only the first purchase's

    mark = await owner.send("/unban 5200", chat=admins)
    await reply_in(tg, admins, mark, "may buy again")
    mark = await owner.send("/maintenance on", chat=admins)
    await reply_in(tg, admins, mark, "Maintenance is on")
    other = tg.user(5201)
    await open_offer(tg, other, "Gift cards", "Steam Wallet 5 USD")
    mark = await other.press(lambda b: b["text"].startswith("🛒"))
    closed = await tg.wait_for(
        "answerCallbackQuery", where=lambda c: "text" in c.params, since=mark
    )
    assert "maintenance" in closed.params["text"]
    mark = await owner.send("/maintenance off", chat=admins)
    await reply_in(tg, admins, mark, "open")
    mark = await other.press(lambda b: b["text"].startswith("🛒"))
    await tg.wait_for("sendInvoice", since=mark)
    actions = [a.action for a in await AdminLog(orders._db).for_target("5200")]
    assert actions == ["unban", "ban"]


async def test_orders_list_filters_and_export_as_csv(tg, admins, shop, orders, kinguin):
    ids = [
        await paid_order(tg, tg.user(5300), "Gift cards", "Steam Wallet 5 USD"),
        await paid_order(tg, tg.user(5301), "PC games", "Elden Ring"),
    ]
    for order_id in ids:
        await settled(orders, order_id, OrderState.DELIVERED)
    operator = tg.user(OPERATOR)
    mark = await operator.send("/orders", chat=admins)
    listing = await reply_in(tg, admins, mark, "of 2")
    assert all(order_id[:8].upper() in listing for order_id in ids)
    mark = await operator.send("/orders kinguin delivered", chat=admins)
    only = await reply_in(tg, admins, mark, "of 1")
    assert ids[1][:8].upper() in only and ids[0][:8].upper() not in only
    mark = await operator.send("/orders 5300", chat=admins)
    assert ids[0][:8].upper() in await reply_in(tg, admins, mark, "of 1")
    mark = await operator.send("/orders nonsense", chat=admins)
    assert "Usage" in await reply_in(tg, admins, mark)

    mark = await operator.send("/export week", chat=admins)
    document = await tg.wait_for("sendDocument", since=mark)
    assert document.params["chat_id"] == admins.id
    rows = admins.last_message().document.decode().splitlines()
    assert rows[0].startswith("order_id,created_at_utc,user_id")
    assert sorted(row.split(",")[0] for row in rows[1:]) == sorted(ids)
    key = kinguin.order_by_external_id(ids[1]).keys[0]
    assert all(key not in row for row in rows)  # never a key

    mark = await operator.send("/stats week", chat=admins)
    chart = await tg.wait_for("sendPhoto", since=mark, timeout=30)
    assert chart.params["chat_id"] == admins.id
    caption = admins.last_message().caption or ""
    assert "Paid orders: 2, delivered 2, refunded 0" in caption
    assert "820 ⭐" in caption and "EUR" in caption and "Elden Ring" in caption
    assert admins.last_message().photo.startswith(b"\x89PNG")


async def test_broadcast_to_500_keeps_the_pace_and_counts_the_blocked(
    tg, admins, shop, shop_env, orders
):

    from storage import UserRepo

    db = await open_shop_database(shop_env)
    users = UserRepo(db)
    customers = list(range(700_000, 700_500))
    for user_id in customers:
        await users.language(user_id, "en")  # as the bot records every customer it meets
    for user_id in customers[::10]:
        tg.block(user_id)  # 50 of them blocked the bot

    owner = tg.user(OWNER)
    mark = await owner.send("/broadcast Big <sale> this weekend", chat=admins)
    preview = await reply_in(tg, admins, mark, "Preview")
    assert "Big &lt;sale&gt; this weekend" in preview
    assert not tg.calls_of("sendMessage", customers[1])  # nothing before the confirmation
    mark = await owner.press(lambda b: b["text"].startswith("📣"), chat=admins)
    summary = await tg.wait_for(
        "sendMessage",
        where=lambda c: c.params["chat_id"] == admins.id and "Broadcast done" in c.params["text"],
        since=mark,
        timeout=60,
    )
    assert "450 sent, 50 had blocked" in summary.params["text"]
    assert "0 failed" in summary.params["text"]
    assert tg.max_rate("sendMessage", window=1.0) <= 30  # Telegram's limit in all
    assert tg.per_chat_per_minute(admins.id) <= 20
    assert all(not tg.calls_of("sendMessage", user_id)[1:] for user_id in customers)

    # the blocked are skipped next time
    mark = await owner.send("/broadcast Second note", chat=admins)
    second_preview = await reply_in(tg, admins, mark, "Preview")
    assert "Second note" in second_preview
    button = admins.last_message(with_keyboard=True).buttons()[0]["text"]
    assert "450" in button
    await db.close()


class TestVendorWatch:
    @pytest.fixture
    def shop_env(self, shop_env):
        return shop_env | {"HOUSEKEEPING_SECONDS": "0.3", "VENDOR_BALANCE_ALERT_BELOW": "100"}

    async def test_failing_recovered_and_low_balance_are_each_said_once(
        self, tg, admins, shop, kinguin
    ):
        kinguin.balance = 50.0
        await eventually(lambda: any("balance is 50.00" in t for t in admins.texts()), within=15)

        kinguin.fail_next("/v2/products/64b7f0c2a1e4d5f6a7b8c9d0", "500", times=6)
        user = tg.user(5400)
        mark = await user.send("/start offer-elden-ring")  # 3 attempts, all 500
        await tg.wait_for("sendMessage", where=lambda c: c.params["chat_id"] == user.id, since=mark)
        mark = await user.press("🔄 Refresh")  # 3 more
        await tg.wait_for("editMessageText", since=mark)
        await eventually(lambda: any("is failing" in t for t in admins.texts()), within=15)
        mark = await user.press("🔄 Refresh")  # Kinguin answers again
        await tg.wait_for("editMessageText", since=mark)
        await eventually(lambda: any("has recovered" in t for t in admins.texts()), within=15)
        await asyncio.sleep(1.0)  # several more rounds: nothing is said twice
        text = "\n".join(admins.texts())
        assert text.count("is failing") == 1 and text.count("has recovered") == 1
        assert text.count("balance is 50.00") == 1


async def test_offer_edits_reach_customers_and_survive_the_catalog_file(
    tg, admins, shop, shop_env, orders
):
    owner, operator = tg.user(OWNER), tg.user(OPERATOR)
    mark = await operator.send("/offer steam-5 price 450", chat=admins)
    assert "owner" in await reply_in(tg, admins, mark)
    mark = await owner.send("/offer steam-5 price 450", chat=admins)
    assert "450 ⭐" in await reply_in(tg, admins, mark, "steam-5")
    mark = await owner.send("/offer steam-5 qty 3", chat=admins)  # CodeGames sells one
    assert "at most 1" in await reply_in(tg, admins, mark, "not changed")
    mark = await owner.send("/offer gplay-10 off", chat=admins)
    await reply_in(tg, admins, mark, "(off)")

    customer = tg.user(5500)
    mark = await customer.send("/start offer-steam-5")
    card = await tg.wait_for("sendMessage", where=lambda c: c.params["chat_id"] == customer.id)
    assert "450 ⭐" in card.params["text"]
    listing = ""
    for page in (1, 2, 3):  # ten offers a page
        mark = await operator.send(f"/catalog {page}", chat=admins)
        listing += await reply_in(tg, admins, mark, f"Catalog, page {page}")
    assert (
        "⛔ <code>gplay-10</code>" in listing
        and "✅ <code>steam-5</code> · Steam Wallet 5 USD · 450 ⭐" in listing
    )

    # a restart re-reads catalog.toml: the edits stay
    from pathlib import Path

    from bot.catalog import load_catalog_file
    from storage import OfferRepo
    from vendors import REGISTRY

    db = await open_shop_database(shop_env)
    repo = OfferRepo(db)
    await repo.replace_catalog(load_catalog_file(Path(shop_env["CATALOG_FILE"]), REGISTRY))
    active = {offer.sku: offer for offer in await repo.active()}
    assert active["steam-5"].price_stars == 450 and "gplay-10" not in active
    await db.close()
