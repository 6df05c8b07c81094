"""A customer buys through the real bot, the fake Bot API and the CodeGames simulator."""

from __future__ import annotations

import logging

from storage import OrderState
from tests.e2e.flows import buy_now, invoice_for, open_offer, settled, wait_text


async def test_gift_card_is_bought_paid_and_delivered(tg, sim, shop, orders):
    user = tg.user(1001)
    await open_offer(tg, user, "Gift cards", "Steam Wallet 5 USD")
    card = user.last_message().text or ""
    assert "Steam Wallet 5 USD" in card and "400 ⭐" in card and "In stock" in card

    await buy_now(tg, user)
    invoice = user.last_invoice().invoice
    assert invoice is not None and invoice.currency == "XTR" and invoice.total_amount == 400
    order_id = invoice.payload

    mark = tg.mark()
    answer = await user.pay()
    assert answer.params["ok"] is True
    await wait_text(tg, user, "Payment received", since=mark)
    delivered = await tg.wait_for(
        "sendMessage", where=lambda c: "Your key" in c.params.get("text", ""), since=mark
    )
    vendor_order = sim.order_by_transaction(order_id)
    assert vendor_order is not None and vendor_order.key
    assert f"<code>{vendor_order.key}</code>" in delivered.params["text"]
    copy = delivered.params["reply_markup"]["inline_keyboard"][0][0]["copy_text"]["text"]
    assert copy == vendor_order.key
    order = await settled(orders, order_id, OrderState.DELIVERED)
    assert order.telegram_charge_id
    assert vendor_order.price == 2750.0  # the price the shop saw, sent as `price`

    # "My orders" lists it, opens it, and shows the key again
    mark = await user.send("/orders")
    await wait_text(tg, user, "Your orders", since=mark)
    mark = await user.press(lambda button: "Steam Wallet 5 USD" in button["text"])
    details = await tg.wait_for("editMessageText", since=mark)
    assert "delivered" in details.params["text"]
    mark = await user.press("🔑 Show key")
    again = await wait_text(tg, user, "Your key", since=mark)
    assert vendor_order.key in again


async def test_top_up_asks_for_the_player_id_validates_and_confirms(tg, sim, shop, orders):
    user = tg.user(1002)
    mark = await user.send("/start offer-pubg-60uc")  # a deep link straight to the card
    card = await tg.wait_for("sendMessage", since=mark)
    assert "PUBG Mobile 60 UC" in card.params["text"]

    mark = await user.press(lambda button: button["text"].startswith("🛒"))
    await wait_text(tg, user, "player ID", since=mark)
    mark = await user.send("/orders")  # a command is not taken for a player ID
    await wait_text(tg, user, "no orders yet", since=mark)
    mark = await user.send("12ab")
    error = await wait_text(tg, user, "not a valid player ID", since=mark)
    assert "5 to 20" in error
    mark = await user.send("52357322414")
    confirmation = await wait_text(tg, user, "check your order", since=mark)
    assert "52357322414" in confirmation and "100 ⭐" in confirmation

    mark = await user.press("✏️ Change")  # the customer corrects the value
    await wait_text(tg, user, "player ID", since=mark)
    mark = await user.send("52357322415")
    await wait_text(tg, user, "52357322415", since=mark)
    mark = await user.press(lambda button: button["text"].startswith("✅"))
    await tg.wait_for("sendInvoice", since=mark)

    mark = tg.mark()
    assert (await user.pay()).params["ok"] is True
    done = await wait_text(tg, user, "is done", since=mark)
    assert "52357322415" in done
    order_id = user.last_invoice().invoice.payload
    vendor_order = sim.order_by_transaction(order_id)
    assert vendor_order.game_user_id == "52357322415"
    assert not any(path.endswith("/keys") for path, _ in sim.requests)  # a top-up has no key
    await settled(orders, order_id, OrderState.DELIVERED)


async def test_catalog_pattern_overrides_the_default(tg, shop):
    user = tg.user(1003)
    mark = await user.send("/start offer-pubg-660uc")  # pattern: 8 to 12 digits
    await tg.wait_for("sendMessage", since=mark)
    mark = await user.press(lambda button: button["text"].startswith("🛒"))
    await wait_text(tg, user, "player ID", since=mark)
    mark = await user.send("123456")
    await wait_text(tg, user, "not a valid player ID", since=mark)


async def test_cancel_while_entering_and_on_the_invoice(tg, sim, shop, orders):
    user = tg.user(1004)
    mark = await user.send("/start offer-pubg-60uc")
    await tg.wait_for("sendMessage", since=mark)
    mark = await user.press(lambda button: button["text"].startswith("🛒"))
    await wait_text(tg, user, "player ID", since=mark)
    mark = await user.press("✖ Cancel")
    await wait_text(tg, user, "Cancelled", since=mark)
    mark = await user.send("52357322414")  # no longer asked for: not taken as an ID
    await wait_text(tg, user, "Nothing found", since=mark)  # a search, not a form field

    invoice = await invoice_for(tg, user, "Gift cards", "Steam Wallet 10 USD")
    mark = await user.press("✖ Cancel", message=invoice)
    await tg.wait_for("deleteMessage", since=mark)
    order = await orders.get(invoice.invoice.payload)
    assert order.state is OrderState.CANCELLED
    answer = await user.pay(invoice)  # paying the cancelled invoice is refused
    assert answer.params["ok"] is False and "no longer valid" in answer.params["error_message"]
    assert sim.orders_created == 0


async def test_price_rise_between_card_and_payment_is_refused(tg, sim, shop, orders):
    user = tg.user(1005)
    await invoice_for(tg, user, "Gift cards", "Steam Wallet 20 USD")
    sim.set_price(3003, 20000.0)  # above the catalog's max_vendor_price
    answer = await user.pay()
    assert answer.params["ok"] is False
    assert "price" in answer.params["error_message"]
    order = await orders.get(user.last_invoice().invoice.payload)
    assert order.state is OrderState.AWAITING_PAYMENT and sim.orders_created == 0


async def test_small_price_rise_is_accepted_and_paid_at_the_new_price(tg, sim, shop, orders):
    user = tg.user(1006)
    await invoice_for(tg, user, "Gift cards", "Steam Wallet 20 USD")
    sim.set_price(3003, 11000.0)  # still below max_vendor_price (11392.5)
    mark = tg.mark()
    assert (await user.pay()).params["ok"] is True
    await wait_text(tg, user, "Your key", since=mark)
    assert sim.order_by_transaction(user.last_invoice().invoice.payload).price == 11000.0


async def test_vendor_cancellation_refunds_the_stars(tg, sim, shop, orders):
    user = tg.user(1007)
    await invoice_for(tg, user, "Sandbox", "Sandbox: always cancelled")
    mark = tg.mark()
    assert (await user.pay()).params["ok"] is True
    refund = await tg.wait_for("refundStarPayment", since=mark)
    order = await orders.get(user.last_invoice().invoice.payload)
    assert refund.params["telegram_payment_charge_id"] == order.telegram_charge_id
    assert refund.params["user_id"] == user.id
    await wait_text(tg, user, "refunded 1 ⭐", since=mark)
    await settled(orders, order.id, OrderState.REFUNDED)
    assert tg.charges[order.telegram_charge_id].refunded


async def test_vendor_rejection_after_payment_refunds(tg, sim, shop, orders):
    user = tg.user(1008)
    invoice = await invoice_for(tg, user, "Gift cards", "Steam Wallet 50 USD")
    mark = tg.mark()
    answer = await user.checkout(invoice)
    assert answer.params["ok"] is True
    sim.set_price(3004, 27500.0)  # moves after the pre-checkout: the vendor refuses our price
    await user.successful_payment(invoice)
    await tg.wait_for("refundStarPayment", since=mark)
    order = await settled(orders, invoice.invoice.payload, OrderState.REFUNDED)
    assert "PRICE_CHANGED" in order.failure_reason
    assert sim.orders_created == 0


async def test_pagination_of_a_long_category(tg, shop):
    user = tg.user(1009)
    mark = await user.send("/start")
    await tg.wait_for("sendMessage", since=mark)
    mark = await user.press("Gift cards")
    await tg.wait_for("editMessageText", since=mark)
    first_page = user.last_message().button_texts()
    assert sum("⭐" in text for text in first_page) == 8 and "1/2" in first_page
    mark = await user.press(lambda button: button["text"].startswith("Next"))
    await tg.wait_for("editMessageText", since=mark)
    second_page = user.last_message().button_texts()
    assert any("Razer Gold" in text for text in second_page) and "2/2" in second_page


async def test_forged_and_stale_buttons_change_nothing(tg, sim, shop, orders):
    owner, intruder = tg.user(1010), tg.user(1011)
    await invoice_for(tg, owner, "Gift cards", "Steam Wallet 5 USD")
    order_id = owner.last_invoice().invoice.payload
    mark = await intruder.send("/start")
    await tg.wait_for("sendMessage", since=mark)

    for data in (f"od:{order_id}:key", f"x:{order_id}", "od:nope", "b:no-such-sku", "zz:1"):
        mark = await intruder.press_data(data)
        answer = await tg.wait_for("answerCallbackQuery", since=mark)
        assert answer.params.get("show_alert") is True, data
    assert (await orders.get(order_id)).state is OrderState.AWAITING_PAYMENT
    assert tg.calls_of("sendInvoice", chat_id=intruder.id) == []

    mark = tg.mark()
    await intruder.pre_checkout(owner.last_invoice())  # someone else's invoice
    answer = await tg.wait_for("answerPreCheckoutQuery", since=mark)
    assert answer.params["ok"] is False


async def test_language_follows_telegram_and_can_be_changed(tg, shop):
    user = tg.user(1012, language_code="ru")
    mark = await user.send("/start")
    welcome = await tg.wait_for("sendMessage", since=mark)
    assert "Добро пожаловать" in welcome.params["text"]
    mark = await user.press("🌐 Язык")
    await tg.wait_for("editMessageText", since=mark)
    mark = await user.press("English")
    await wait_text(tg, user, "speak English", since=mark)
    mark = await user.send("/start")
    assert "Welcome" in (await tg.wait_for("sendMessage", since=mark)).params["text"]
    mark = await user.send("/language")
    await wait_text(tg, user, "Choose your language", since=mark)
    mark = await user.press("Русский")
    await wait_text(tg, user, "по-русски", since=mark)


async def test_commands_are_registered_in_every_language(tg, shop):
    menus = {
        c.params.get("language_code"): c.params["commands"] for c in tg.calls_of("setMyCommands")
    }
    assert set(menus) == {None, "en", "ru"}
    assert [c["command"] for c in menus["ru"]] == [
        "start",
        "orders",
        "support",
        "language",
        "cancel",
        "paysupport",
        "terms",
    ]
    assert menus["ru"][1]["description"] == "Мои заказы"


async def test_no_key_reaches_the_log(tg, sim, shop, caplog):
    caplog.set_level(logging.DEBUG)
    user = tg.user(1013)
    await invoice_for(tg, user, "Gift cards", "Google Play 10 USD")
    mark = tg.mark()
    await user.pay()
    await wait_text(tg, user, "Your key", since=mark)
    key = sim.order_by_transaction(user.last_invoice().invoice.payload).key
    assert key and all(key not in record.getMessage() for record in caplog.records)
