"""Every vendor through the real bot: Kinguin (by kinguinId and productId, with webhooks),
Kinguin's integration API and G2A; text and image keys, quantities, shop credit, refunds."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime

import httpx

from storage import OrderState
from tests.conftest import WEBHOOK_SECRET
from tests.e2e.flows import (
    buy_now,
    eventually,
    invoice_for,
    open_offer,
    paid_order,
    settled,
    wait_text,
)
from vendors.simulators.g2a import png_for_key

ADMIN_CHAT = -100500


async def more(tg, user, times: int = 1) -> None:
    for _ in range(times):
        mark = await user.press("➕")
        await tg.wait_for("editMessageText", since=mark)


async def admin_alert(tg, *needles: str) -> str:
    call = await tg.wait_for(
        "sendMessage",
        where=lambda c: (
            c.params["chat_id"] == ADMIN_CHAT and all(n in c.params["text"] for n in needles)
        ),
    )
    return str(call.params["text"])


def photos_to(tg, user) -> list:
    return [m for m in user.messages() if m.kind == "photo"]


async def test_kinguin_by_kinguin_id_two_keys_arrive_together(tg, kinguin, shop, orders):
    user = tg.user(2001)
    await open_offer(tg, user, "PC games", "Counter-Strike: Source")
    await more(tg, user)
    assert "2 pcs" in user.last_message().button_texts()
    await buy_now(tg, user)
    invoice = user.last_invoice().invoice
    assert invoice is not None and invoice.total_amount == 120  # 2 × 60 Stars
    mark = tg.mark()
    assert (await user.pay()).params["ok"] is True
    text = await wait_text(tg, user, "Your keys", since=mark)

    vendor_order = kinguin.order_by_external_id(invoice.payload)
    assert vendor_order is not None and len(vendor_order.keys) == 2
    assert all(key in text for key in vendor_order.keys)  # one message, both keys
    copy_buttons = [b for b in user.last_message().buttons() if "copy_text" in b]
    assert [b["copy_text"]["text"] for b in copy_buttons] == vendor_order.keys
    placed = kinguin.calls("/v1/order", method="POST")
    assert len(placed) == 1
    item = placed[0].body["products"][0]
    assert (item["kinguinId"], item["qty"], item["keyType"]) == (1949, 2, "text")
    assert placed[0].body["orderExternalId"] == invoice.payload
    order = await settled(orders, invoice.payload, OrderState.DELIVERED)
    assert order.quantity == 2 and order.price_stars == 120


async def test_kinguin_by_product_id_buys_through_v2(tg, kinguin, shop, orders):
    user = tg.user(2002)
    order_id = await paid_order(tg, user, "PC games", "Elden Ring")
    await settled(orders, order_id, OrderState.DELIVERED)
    placed = kinguin.calls("/v2/order", method="POST")
    assert len(placed) == 1
    assert placed[0].body["products"][0]["productId"] == "64b7f0c2a1e4d5f6a7b8c9d0"
    vendor_order = kinguin.order_by_external_id(order_id)
    await wait_text(tg, user, vendor_order.keys[0])


async def test_kinguin_image_key_is_a_photo_and_shown_again(tg, kinguin, shop, orders):
    user = tg.user(2003)
    order_id = await paid_order(tg, user, "PC games", "Minecraft")
    await settled(orders, order_id, OrderState.DELIVERED)
    vendor_order = kinguin.order_by_external_id(order_id)
    image = base64.b64decode(vendor_order.keys[0])
    [photo] = photos_to(tg, user)
    assert photo.photo == image and order_id[:8].upper() in (photo.caption or "")
    assert not any(vendor_order.keys[0] in t for t in user.texts())  # no base64 in text

    mark = await user.send("/orders")
    await wait_text(tg, user, "Your orders", since=mark)
    mark = await user.press(lambda b: "Minecraft" in b["text"])
    await tg.wait_for("editMessageText", since=mark)
    mark = await user.press("🔑 Show key")
    again = await tg.wait_for("sendPhoto", since=mark)
    assert again.params["chat_id"] == user.id and len(photos_to(tg, user)) == 2


async def test_kinguin_webhook_completes_the_order_forged_and_stale_change_nothing(
    tg, kinguin, shop, shop_env, orders
):
    kinguin.set_outcome(2001, "completed", processing_seconds=3600)  # only a push ends it
    user = tg.user(2004)
    order_id = await paid_order(tg, user, "PC games", "Elden Ring")
    order = await settled(orders, order_id, OrderState.PROCESSING)
    vendor_id = kinguin.order_by_external_id(order_id).order_id
    hook = f"http://127.0.0.1:{shop_env['HTTP_PORT']}/webhooks/kinguin"
    event = {
        "orderId": vendor_id,
        "orderExternalId": order_id,
        "status": "completed",
        "updatedAt": "2030-01-01T00:00:00.000+00:00",
    }
    async with httpx.AsyncClient() as http:
        forged = await http.post(
            hook,
            content=json.dumps(event),
            headers={"X-Event-Name": "order.status", "X-Event-Secret": "guess"},
        )
        assert forged.status_code == 401
        garbled = await http.post(
            hook,
            content=b'{"orderId": ',
            headers={"X-Event-Name": "order.status", "X-Event-Secret": WEBHOOK_SECRET},
        )
        assert garbled.status_code == 400
    unchanged = await orders.get(order_id)
    assert unchanged.vendor_status is None and unchanged.state is OrderState.PROCESSING
    polls = len(kinguin.calls(f"/v1/order/{vendor_id}"))

    mark = tg.mark()
    kinguin.force_status(vendor_id, "completed")  # Kinguin pushes order.status with our secret
    await wait_text(tg, user, kinguin.order_by_external_id(order_id).keys[0], since=mark)
    order = await settled(orders, order_id, OrderState.DELIVERED)
    assert order.vendor_status == "completed"
    assert len(kinguin.calls(f"/v1/order/{vendor_id}")) == polls + 1  # one look, then keys
    assert kinguin.webhooks_sent and kinguin.webhooks_sent[-1].status == 204

    # a late event (older updatedAt) is acknowledged and ignored
    status = await kinguin.send_order_status(vendor_id, "processing", "2001-01-01T00:00:00+00:00")
    assert status == 204
    after = await orders.get(order_id)
    assert after.state is OrderState.DELIVERED
    assert after.vendor_updated_at == order.vendor_updated_at


async def test_kinguin_pre_order_tells_the_release_date_and_waits(tg, kinguin, shop, orders):
    user = tg.user(2005)
    order_id = await paid_order(tg, user, "PC games", "Hades II")
    text = await wait_text(tg, user, "is a pre-order")
    release_at = kinguin.products[2003].release_at
    release = datetime.fromtimestamp(release_at, UTC).date().isoformat()
    assert release in text
    order = await settled(orders, order_id, OrderState.PROCESSING)
    assert order.release_date is not None and order.release_date.startswith(release)
    vendor_id = kinguin.order_by_external_id(order_id).order_id
    await asyncio.sleep(1.0)
    assert len(kinguin.calls(f"/v1/order/{vendor_id}")) <= 1  # waits slowly, no busy polling

    mark = tg.mark()
    kinguin.release_preorder(2003)
    await wait_text(tg, user, "Your key", since=mark)
    await settled(orders, order_id, OrderState.DELIVERED)


async def test_partial_delivery_becomes_credit_that_pays_the_next_orders(
    tg, kinguin, g2a, shop, orders
):
    user = tg.user(2006)
    await open_offer(tg, user, "PC games", "Stardew Valley")
    await more(tg, user, 2)
    await buy_now(tg, user)
    invoice = user.last_invoice().invoice
    assert invoice.total_amount == 330
    mark = tg.mark()
    await user.pay()
    text = await wait_text(tg, user, "Only 2 of 3 arrived", since=mark)
    assert "110 ⭐" in text and "shop credit" in text
    order = await settled(orders, invoice.payload, OrderState.DELIVERED)
    assert order.delivered_units == 2
    assert len(await orders.keys(order.id)) == 2
    await admin_alert(tg, order.id, "delivered 2 of 3")

    # the credit pays a 50-Star order whole: no invoice at all
    invoices_before = len(tg.calls_of("sendInvoice", user.id))
    await open_offer(tg, user, "PC games", "Terraria")
    mark = await user.press(lambda b: b["text"].startswith("🛒"))
    await wait_text(tg, user, "paid from your shop credit", since=mark)
    vendor_key = await eventually(
        lambda: next((o.key for o in g2a.orders.values() if o.key_downloads), None)
    )
    await wait_text(tg, user, vendor_key, since=mark)
    assert len(tg.calls_of("sendInvoice", user.id)) == invoices_before

    # a credit-paid order that fails gives its Stars back to the credit, not to Telegram
    mark = tg.mark()
    await open_offer(tg, user, "Sandbox", "Sandbox: Kinguin out of stock")
    await user.press(lambda b: b["text"].startswith("🛒"))
    refund = await wait_text(tg, user, "went back to your shop credit", since=mark)
    assert "1 ⭐" in refund and "Telegram balance" not in refund
    assert not tg.calls_of("refundStarPayment")

    # the 60 Stars left shrink the next invoice
    invoice = (await invoice_for(tg, user, "PC games", "Minecraft")).invoice
    assert invoice.total_amount == 210 - 60
    await user.pay()
    order = await settled(orders, invoice.payload, OrderState.DELIVERED)
    assert order.credit_stars == 60 and order.charged_stars == 150

    mark = await user.send("/orders")
    listing = await wait_text(tg, user, "Shop credit", since=mark)
    assert "Shop credit: 0 ⭐" in listing and "+110" in listing


async def test_out_of_stock_at_the_vendor_refunds_and_says_why(tg, kinguin, shop, orders):
    user = tg.user(2007)
    invoice = await invoice_for(tg, user, "PC games", "Elden Ring")
    await user.checkout(invoice)
    kinguin.set_stock(2001, 0)  # sold out between the pre-checkout and the order
    mark = tg.mark()
    await user.successful_payment(invoice)
    order_id = invoice.invoice.payload
    text = await wait_text(tg, user, "We refunded", since=mark)
    assert "Elden Ring" in text and "left at our price" in text
    order = await settled(orders, order_id, OrderState.REFUNDED)
    assert tg.charges[order.telegram_charge_id].refunded
    await admin_alert(tg, order_id, "no stock")
    assert kinguin.orders_created == 0


async def test_insufficient_funds_refunds_and_alerts(tg, kinguin, shop, orders):
    kinguin.balance = 0.0
    user = tg.user(2008)
    mark = tg.mark()
    order_id = await paid_order(tg, user, "PC games", "Counter-Strike: Source")
    await wait_text(tg, user, "We refunded", since=mark)
    await settled(orders, order_id, OrderState.REFUNDED)
    alert = await admin_alert(tg, order_id, "lack of funds")
    assert "top up" in alert


async def test_integration_api_text_and_image_keys(tg, integration, shop, orders):
    user = tg.user(2009)
    order_id = await paid_order(tg, user, "Classic games", "Anno 1602")
    await settled(orders, order_id, OrderState.DELIVERED)
    [text_order] = integration.orders.values()
    await wait_text(tg, user, text_order.keys[0])
    assert text_order.dispatch_id is not None

    order_id = await paid_order(tg, user, "Classic games", "Aliens")
    await settled(orders, order_id, OrderState.DELIVERED)
    image_order = next(o for o in integration.orders.values() if o is not text_order)
    [photo] = photos_to(tg, user)
    assert photo.photo == base64.b64decode(image_order.keys[0])
    assert integration.orders_created == 2


async def test_integration_api_same_product_bought_at_once_with_lost_answers(
    tg, integration, shop, orders
):
    """The API has no idempotency key and here does not echo our line names: only the
    search tells whose order is whose. Creates of one product run one at a time while an
    outcome is unknown, so each lost answer leaves exactly one candidate to adopt."""
    integration.keeps_line_names = False
    users = [tg.user(2101 + n) for n in range(4)]
    invoices = [await invoice_for(tg, user, "Classic games", "Anno 1602") for user in users]
    integration.fail_next("/v1/order", "500", times=3, after_commit=True, method="POST")
    paid = await asyncio.gather(*(u.pay(i) for u, i in zip(users, invoices, strict=True)))
    assert all(answer.params["ok"] for answer in paid)
    order_ids = [invoice.invoice.payload for invoice in invoices]
    done = [await settled(orders, order_id, OrderState.DELIVERED) for order_id in order_ids]
    assert integration.orders_created == 4  # nothing bought twice, nobody refunded
    assert len({order.vendor_order_id for order in done}) == 4
    for user, order in zip(users, done, strict=True):
        await wait_text(tg, user, integration.orders[order.vendor_order_id].keys[0])


async def test_integration_api_out_of_stock_refunds(tg, integration, shop, orders):
    user = tg.user(2010)
    mark = tg.mark()
    order_id = await paid_order(tg, user, "Sandbox", "Sandbox: integration API")
    text = await wait_text(tg, user, "We refunded", since=mark)
    assert "cancelled" in text
    await settled(orders, order_id, OrderState.REFUNDED)
    await admin_alert(tg, order_id, "cancelled")


async def test_g2a_text_and_image_keys(tg, g2a, shop, orders):
    user = tg.user(2011)
    order_id = await paid_order(tg, user, "PC games", "Cyberpunk 2077")
    await settled(orders, order_id, OrderState.DELIVERED)
    [bought] = g2a.orders.values()
    assert bought.paid and bought.pay_calls == 1 and bought.key_downloads == 1
    await wait_text(tg, user, bought.key)
    create = g2a.calls("/v1/order", method="POST")[0]
    assert create.body["max_price"] == 19.5  # the catalog's max_vendor_price
    pay = g2a.calls("/v1/order/pay/", method="PUT")[0]
    assert pay.headers.get("Content-Length") == "0"

    order_id = await paid_order(tg, user, "Subscriptions", "Xbox Game Pass")
    await settled(orders, order_id, OrderState.DELIVERED)
    image_order = next(o for o in g2a.orders.values() if o is not bought)
    [photo] = photos_to(tg, user)
    assert photo.photo == png_for_key(image_order.key)  # the file G2A hands out


async def test_health_reports_the_database_the_worker_and_each_vendor(
    tg, kinguin, shop, shop_env, orders
):
    await paid_order(tg, tg.user(2012), "PC games", "Elden Ring")  # Kinguin answers once
    url = f"http://127.0.0.1:{shop_env['HTTP_PORT']}/health"
    owner = {"Authorization": f"Bearer {shop_env['HEALTH_TOKEN']}"}
    async with httpx.AsyncClient() as http:
        answer = await http.get(url, headers=owner)
        stranger = await http.get(url)
    assert answer.status_code == 200 and stranger.json() == {"status": "ok"}
    body = answer.json()
    assert body["database"]["ok"] is True and body["worker"] is True
    assert body["database"]["kind"] == ("postgresql" if "DATABASE_URL" in shop_env else "sqlite")
    assert body["redis"] is ("REDIS_URL" in shop_env or None)
    assert set(body["vendors"]) == {"codegames", "kinguin", "kinguin-integration", "g2a"}
    assert body["vendors"]["kinguin"]["last_success"] is not None
    assert body["vendors"]["kinguin"]["balance"] == kinguin.balance  # GET /v1/balance
    assert body["vendors"]["g2a"]["balance"] is None  # G2A's Export API tells none


async def test_kinguin_product_update_refreshes_the_offer_card(tg, kinguin, shop):
    user = tg.user(2013)
    await open_offer(tg, user, "PC games", "Counter-Strike: Source")
    assert "In stock" in (user.last_message().text or "")
    kinguin.set_price(1949, 9.99)  # above the catalog's max_vendor_price (6.5)
    await kinguin.send_product_update(1949)
    await eventually(lambda: len(kinguin.calls("/v1/products/1949")) >= 2)
    mark = await user.press(lambda b: "PC games" in b["text"] or "«" in b["text"])
    await tg.wait_for("editMessageText", since=mark)
    mark = await user.press(lambda b: b["text"].startswith("Counter-Strike"))
    card = await tg.wait_for("editMessageText", since=mark)
    assert "Sold out" in card.params["text"]  # no Refresh needed: the push refreshed it
