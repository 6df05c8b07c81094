"""Selling on G2A through the real bot: an owner lists an offer from the admin group, and a
simulated G2A buyer reserves, confirms and collects keys the shop buys from Kinguin, over
real HTTP, within G2A's 9 seconds; crashes, bad tokens, unlisted products, prices above
the cost limit, and the margin guard."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.g2a.channel import G2AChannel
from storage import G2ARepo, ListingState, OrderState
from storage.models import G2A, Order
from tests.conftest import G2A_HASH, VENDOR_KEY, open_shop_database
from tests.e2e.flows import eventually, settled, started
from tests.e2e.test_admins import ADMIN_CHAT, MEMBER, OPERATOR, OWNER, admins, reply_in
from vendors.simulators.g2a import G2ASimulator
from vendors.simulators.g2a.catalog import DEFAULT_PRODUCTS, LISTED_BY_SANDBOX
from vendors.simulators.g2a_buyer import ANSWER_DEADLINE, G2ABuyer, Refused, new_order_id

__all__ = ["admins"]  # the admin group fixture shared with test_admins

CLIENT_ID, CLIENT_SECRET = "g2a-marketplace", "s3cret-issued-to-g2a"
PRODUCT = LISTED_BY_SANDBOX.product_id  # catalog.toml: cs-source, bought from Kinguin 1949
CS_SOURCE = 1949
CRASH_HOOK = str(Path(__file__).resolve().parents[1] / "support" / "crash")


@pytest.fixture
async def g2a() -> AsyncIterator[G2ASimulator]:
    """G2A, knowing the product the shop sells there; jobs move on every poll."""
    products = (*DEFAULT_PRODUCTS, LISTED_BY_SANDBOX)
    async with G2ASimulator(api_hash=G2A_HASH, api_key=VENDOR_KEY, products=products) as sim:
        yield sim


@pytest.fixture
def shop_env(shop_env, g2a):
    return selling_on_g2a(shop_env, g2a)


def selling_on_g2a(shop_env: dict[str, str], g2a: G2ASimulator) -> dict[str, str]:
    """The owner's environment with the G2A sales channel on."""
    return shop_env | {
        "OWNER_IDS": str(OWNER),
        "G2A_IMPORT_API_URL": str(g2a.base_url),
        "G2A_DROPSHIPPING_CLIENT_ID": CLIENT_ID,
        "G2A_DROPSHIPPING_CLIENT_SECRET": CLIENT_SECRET,
        "G2A_MIN_MARGIN": "5",
        "ALERT_INTERVAL_SECONDS": "0.2",
    }


@pytest.fixture
async def buyer(shop_env) -> AsyncIterator[G2ABuyer]:
    base_url = f"http://127.0.0.1:{shop_env['HTTP_PORT']}"
    async with G2ABuyer(base_url, CLIENT_ID, CLIENT_SECRET, poll_interval=0.2) as client:
        yield client


@pytest.fixture
async def repo(shop_env) -> AsyncIterator[G2ARepo]:
    db = await open_shop_database(shop_env)
    yield G2ARepo(db)
    await db.close()


def channel(shop) -> G2AChannel:
    found = shop.dispatcher.workflow_data["g2a"]
    assert isinstance(found, G2AChannel)
    return found


async def listed(shop, g2a: G2ASimulator, price: float = 9.99) -> str:
    """cs-source on G2A, as an owner's /g2a list leaves it: its offer id."""
    g2a.imports.set_job_timing(step_seconds=0)
    listing = await channel(shop).listings.create("cs-source", price, OWNER)
    assert listing.state is ListingState.ACTIVE and listing.offer_id
    return listing.offer_id


async def confirmed_sale(buyer: G2ABuyer, orders, quantity: int = 1) -> tuple[str, Order]:
    """A G2A order reserved and confirmed: its G2A order id, and our order for it."""
    order_id = new_order_id()
    reservation = await buyer.reserve(order_id, PRODUCT, quantity)
    await buyer.confirm(reservation.body.reservationId)
    ours = await orders.by_external_ref(G2A, order_id)
    assert ours is not None
    return order_id, ours


async def test_an_owner_lists_an_offer_and_a_g2a_buyer_gets_kinguin_keys(
    tg, admins, shop, orders, kinguin, g2a, buyer, repo
):
    owner = tg.user(OWNER)
    mark = await owner.send("/g2a list cs-source 9.99", chat=admins)
    quote = await reply_in(tg, admins, mark, "List")
    assert "9.99 EUR" in quote and "G2A pays us 8.79 EUR" in quote  # the 12% country group
    assert "5.79 EUR" in quote and "+3.00 EUR (+52%)" in quote and "minimum 5%" in quote
    assert g2a.imports.offers == {}  # nothing happens before the owner confirms

    mark = await owner.press("✅ List it", chat=admins)
    done = await tg.wait_for(
        "editMessageText", where=lambda c: "is on G2A" in c.params["text"], since=mark, timeout=20
    )
    [offer] = g2a.imports.offers.values()
    assert offer.offer_id in done.params["text"] and offer.price == 9.99
    assert offer.product_id == PRODUCT and offer.offer_type == "dropshipping"
    listing = await repo.listing("cs-source")
    assert listing is not None and listing.offer_id == offer.offer_id
    assert listing.state is ListingState.ACTIVE

    purchase = await buyer.buy(PRODUCT, 2)
    assert purchase.slowest < ANSWER_DEADLINE
    sold = kinguin.order_by_external_id((await orders.by_external_ref(G2A, purchase.order_id)).id)
    assert sold is not None and sorted(purchase.keys) == sorted(sold.keys)
    assert kinguin.orders_created == 1
    again = await buyer.inventory(purchase.order_id)  # G2A may ask again: the same keys
    assert again.body.keys == purchase.keys
    order = await settled(orders, sold.external_id, OrderState.DELIVERED)
    assert order.channel == G2A and order.external_ref == purchase.order_id
    assert order.quantity == 2 and order.price_stars == 0 and order.telegram_charge_id is None

    mark = await tg.user(OPERATOR).send("/g2a offers", chat=admins)
    overview = await reply_in(tg, admins, mark, "Our offers on G2A")
    assert "cs-source" in overview and offer.offer_id in overview and "on sale" in overview
    mark = await tg.user(OPERATOR).send("/stats day", chat=admins)
    caption = (await tg.wait_for("sendPhoto", since=mark)).params["caption"]
    assert "By channel: G2A 1 (delivered 1)" in caption
    assert "Sold on G2A: 2 units for 19.98 EUR" in caption
    assert "G2A pays us 17.58 EUR" in caption and "not known" not in caption  # 2 × 8.79


async def test_a_confirm_before_the_source_delivers_answers_202_then_keys(
    shop, orders, kinguin, g2a, buyer
):
    await listed(shop, g2a)
    kinguin.set_outcome(CS_SOURCE, "completed", processing_seconds=7.0)  # over 5 s
    order_id = new_order_id()
    reservation = await buyer.reserve(order_id, PRODUCT, 1)
    assert reservation.body.status == "reserved" and reservation.seconds < ANSWER_DEADLINE
    confirmation = await buyer.confirm(reservation.body.reservationId)
    assert confirmation.status == 202 and not confirmation.body.stockReady
    assert confirmation.seconds < ANSWER_DEADLINE
    waiting = await buyer.inventory(order_id)
    assert not waiting.body.stockReady and waiting.body.keys is None
    ready = await buyer.wait_for_stock(order_id, within=30)
    sold = kinguin.order_by_external_id((await orders.by_external_ref(G2A, order_id)).id)
    assert ready.body.keys == sold.keys and len(sold.keys) == 1
    again = await buyer.confirm(reservation.body.reservationId)  # repeated: the same order
    assert again.status == 200 and again.body.stockReady
    assert kinguin.orders_created == 1


async def test_a_payout_g2a_did_not_tell_at_confirmation_is_asked_again_later(
    tg, admins, shop, orders, g2a, buyer, repo
):
    await listed(shop, g2a)
    g2a.fail_next("/prices/simulations", "500", times=1000)  # down during the sale
    order_id, ours = await confirmed_sale(buyer, orders)
    await settled(orders, ours.id, OrderState.DELIVERED)
    mark = await tg.user(OPERATOR).send("/stats day", chat=admins)
    caption = (await tg.wait_for("sendPhoto", since=mark)).params["caption"]
    assert "G2A pays us 0.00 EUR (not known yet for 1 units)" in caption

    g2a.heal()
    await channel(shop).chores()  # the housekeeping round asks G2A again
    assert order_id not in {r.g2a_order_id for r in await repo.without_payout(100)}
    mark = await tg.user(OPERATOR).send("/stats day", chat=admins)
    caption = (await tg.wait_for("sendPhoto", since=mark)).params["caption"]
    assert "G2A pays us 8.79 EUR" in caption and "not known" not in caption


@pytest.mark.parametrize("point", ["placing", "processing", "fulfilled"])
async def test_a_crash_after_confirm_still_hands_g2a_the_keys_once(
    tg, shop_env, bot_process, orders, kinguin, g2a, buyer, point
):
    g2a.imports.set_job_timing(step_seconds=0)
    await started(tg, bot_process, STOREFRONT_CRASH_AFTER=point, PYTHONPATH=CRASH_HOOK)
    await _list_through_http(g2a, shop_env)
    order_id = new_order_id()
    reservation = await buyer.reserve(order_id, PRODUCT, 1)
    with contextlib.suppress(httpx.HTTPError):  # the shop dies while G2A waits, mostly
        await buyer.confirm(reservation.body.reservationId)
    assert await bot_process.exited() == -signal.SIGKILL, bot_process.output()[-2000:]

    await started(tg, bot_process)
    await buyer.confirm(reservation.body.reservationId)  # G2A retries its confirmation
    stock = await buyer.wait_for_stock(order_id, within=30)
    order = await orders.by_external_ref(G2A, order_id)
    assert order is not None
    sold = kinguin.order_by_external_id(order.id)
    assert sold is not None and stock.body.keys == sold.keys
    assert kinguin.orders_created == 1  # bought once, whatever the crash
    assert (await buyer.inventory(order_id)).body.keys == sold.keys
    await bot_process.stop(signal.SIGTERM)


async def _list_through_http(g2a: G2ASimulator, shop_env) -> None:
    """The listing as `python -m bot` would hold it after /g2a list (the process is
    separate: its database is written the way the admin command writes it)."""
    db = await open_shop_database(shop_env)
    try:
        offer_id = await _create_offer(g2a)
        await G2ARepo(db).save_listing(
            "cs-source", PRODUCT, 9.99, ListingState.ACTIVE, offer_id=offer_id
        )
    finally:
        await db.close()


async def _create_offer(g2a: G2ASimulator) -> str:
    from vendors.g2a_import import G2AImport

    client = G2AImport(str(g2a.base_url), api_hash=G2A_HASH, api_key=VENDOR_KEY)
    try:
        return await client.follow_job(await client.create_offer(PRODUCT, 9.99), every=0.05)
    finally:
        await client.aclose()


async def test_calls_without_a_valid_token_are_refused(shop, g2a, buyer, shop_env, repo):
    await listed(shop, g2a)
    base = f"http://127.0.0.1:{shop_env['HTTP_PORT']}/integration-api/v1"
    body = {"orderId": "1", "productId": PRODUCT, "quantity": 1}
    async with httpx.AsyncClient() as http:
        for headers in ({}, {"Authorization": "Bearer forged"}, {"Authorization": "Basic x"}):
            answers = [
                await http.post(f"{base}/reservations", json=body, headers=headers),
                await http.post(f"{base}/reservations/x/confirm", headers=headers),
                await http.get(f"{base}/inventory/1", headers=headers),
            ]
            assert [a.status_code for a in answers] == [401, 401, 401]
        wrong = await http.post(
            f"http://127.0.0.1:{shop_env['HTTP_PORT']}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                  "client_secret": "guess"},
        )  # fmt: skip
        assert wrong.status_code == 401 and "access_token" not in wrong.text
    assert await repo.reservation("x") is None
    assert (await repo._db.fetchone("SELECT COUNT(*) FROM g2a_reservations"))[0] == 0


async def test_unlisted_products_and_costs_above_the_limit_are_refused(
    shop, orders, kinguin, g2a, buyer, repo
):
    with pytest.raises(Refused) as unlisted:
        await buyer.reserve(new_order_id(), PRODUCT, 1)  # not listed yet
    assert unlisted.value.status == 404 and unlisted.value.body["code"] == "RSV01"

    offer_id = await listed(shop, g2a)
    with pytest.raises(Refused) as other:
        await buyer.reserve(new_order_id(), "10000068865001", 1)  # on G2A, not ours
    assert other.value.status == 404

    with pytest.raises(Refused) as many:
        await buyer.reserve(new_order_id(), PRODUCT, 6)  # cs-source allows 5 at once
    assert many.value.status == 400

    kinguin.set_price(CS_SOURCE, 7.20)  # above cs-source's max_vendor_price of 6.5
    with pytest.raises(Refused) as dear:
        await buyer.reserve(new_order_id(), PRODUCT, 1)
    # the reservation sees the price itself, or the margin guard saw it first (a chore of
    # the worker's round) and has paused the listing: refused either way, nothing reserved
    refusal = (dear.value.status, dear.value.body["code"])
    assert refusal in {(409, "RSV03"), (404, "RSV01")}
    await eventually(lambda: g2a.imports.offers[offer_id].active is False)  # the guard
    with pytest.raises(Refused) as paused:
        await buyer.reserve(new_order_id(), PRODUCT, 1)  # a paused listing sells nothing
    assert paused.value.body["code"] == "RSV01"

    kinguin.set_price(CS_SOURCE, 5.79)
    kinguin.set_stock(CS_SOURCE, 0)
    await kinguin.send_product_update(CS_SOURCE)  # the guard keeps it paused: no stock
    kinguin.set_stock(CS_SOURCE, 50)
    await kinguin.send_product_update(CS_SOURCE)
    await eventually(lambda: g2a.imports.offers[offer_id].active)  # resumed on G2A,
    await eventually(lambda: _active(repo))  # then in our database
    kinguin.set_stock(CS_SOURCE, 0)  # and gone again, before any webhook says so
    with pytest.raises(Refused) as empty:
        await buyer.reserve(new_order_id(), PRODUCT, 1)
    assert empty.value.status == 409 and empty.value.body["code"] == "RSV02"
    assert (await repo._db.fetchone("SELECT COUNT(*) FROM g2a_reservations"))[0] == 0
    assert kinguin.orders_created == 0


async def _active(repo: G2ARepo) -> bool:
    listing = await repo.listing("cs-source")
    return listing is not None and listing.state is ListingState.ACTIVE


async def test_an_expired_reservation_is_released_and_cannot_be_confirmed(
    shop, g2a, buyer, repo, kinguin
):
    await listed(shop, g2a)
    order_id = new_order_id()
    reservation = await buyer.reserve(order_id, PRODUCT, 1)
    stored = await repo.reservation(reservation.body.reservationId)
    assert stored is not None and stored.expires_at - stored.created_at >= 1800
    await repo.expire_due(now=stored.expires_at + 1)  # half an hour later
    with pytest.raises(Refused) as late:
        await buyer.confirm(reservation.body.reservationId)
    assert late.value.status == 410
    assert kinguin.orders_created == 0

    order_id = new_order_id()  # confirmed in time, then G2A asks again after the expiry
    reservation = await buyer.reserve(order_id, PRODUCT, 1)
    await buyer.confirm(reservation.body.reservationId)
    stored = await repo.reservation(reservation.body.reservationId)
    assert stored is not None
    await repo.expire_due(now=stored.expires_at + 1)
    again = await buyer.confirm(reservation.body.reservationId)  # the order stands
    assert again.body.status == "confirmed"
    assert (await buyer.wait_for_stock(order_id, within=30)).body.keys
    assert kinguin.orders_created == 1


async def test_the_margin_guard_reprices_pauses_and_resumes(tg, admins, shop, kinguin, g2a, repo):
    offer_id = await listed(shop, g2a, price=7.50)  # pays 6.60; Kinguin 5.79 + 5% = 6.08
    kinguin.set_price(CS_SOURCE, 6.40)  # + 5% = 6.72: 7.50 no longer earns it
    mark = tg.mark()
    await kinguin.send_product_update(CS_SOURCE)
    await eventually(lambda: g2a.imports.offers[offer_id].price == 7.64)
    assert (await repo.listing("cs-source")).price == 7.64
    alert = await reply_in(tg, admins, mark, "repriced")
    assert "7.50" in alert and "7.64" in alert and "6.40" in alert

    kinguin.set_price(CS_SOURCE, 7.00)  # above the catalog's limit of 6.5: stop selling
    mark = tg.mark()
    await kinguin.send_product_update(CS_SOURCE)
    await eventually(lambda: not g2a.imports.offers[offer_id].active)
    assert (await repo.listing("cs-source")).state is ListingState.PAUSED
    assert "paused" in await reply_in(tg, admins, mark, "cs-source")

    kinguin.set_price(CS_SOURCE, 6.00)
    mark = tg.mark()
    await kinguin.send_product_update(CS_SOURCE)
    await eventually(lambda: g2a.imports.offers[offer_id].active)
    assert "resumed" in await reply_in(tg, admins, mark, "cs-source")


async def test_operators_look_owners_change_intruders_do_nothing(tg, admins, shop, g2a, repo):
    offer_id = await listed(shop, g2a)
    operator = tg.user(OPERATOR)
    mark = await operator.send("/g2a pause cs-source", chat=admins)
    assert "owner" in await reply_in(tg, admins, mark)
    mark = await operator.send("/g2a bestsellers", chat=admins)
    best = await reply_in(tg, admins, mark, "Bestsellers")
    assert "Cyberpunk 2077" in best and "in our catalog: cs-source" in best

    member = tg.user(MEMBER)
    await member.send("/g2a pause cs-source", chat=admins)
    await member.press_data("g2l:cs-source:100", chat=admins)  # a forged list button
    await tg.user(OWNER).send("/g2a pause cs-source")  # the owner, in a private chat
    await asyncio.sleep(0.5)
    assert g2a.imports.offers[offer_id].active and g2a.imports.offers[offer_id].price == 9.99

    owner = tg.user(OWNER)
    mark = await owner.send(f"/g2a pause {offer_id}", chat=admins)  # G2A's offer id works too
    assert "paused" in await reply_in(tg, admins, mark, "cs-source")
    assert not g2a.imports.offers[offer_id].active
    mark = await owner.send("/g2a resume cs-source", chat=admins)
    assert "on sale" in await reply_in(tg, admins, mark, "cs-source")
    assert g2a.imports.offers[offer_id].active
    mark = await owner.send("/g2a price cs-source 6.50", chat=admins)  # pays 5.72 < 6.08
    assert "Not changed" in await reply_in(tg, admins, mark)
    mark = await owner.send("/g2a price cs-source 12,50", chat=admins)
    assert "12.50 EUR" in await reply_in(tg, admins, mark, "cs-source")
    assert g2a.imports.offers[offer_id].price == 12.5
    mark = await owner.send("/g2a list minecraft 20", chat=admins)
    assert "g2a_product_id" in await reply_in(tg, admins, mark)


async def test_a_source_that_cancels_after_confirm_alerts_and_an_owner_closes_it(
    tg, admins, shop, orders, kinguin, g2a, buyer
):
    await listed(shop, g2a)
    kinguin.set_outcome(CS_SOURCE, "canceled")
    mark = tg.mark()
    order_id, ours = await confirmed_sale(buyer, orders)
    failed = await settled(orders, ours.id, OrderState.FAILED)
    alert = await reply_in(tg, admins, mark, "cancelled it")
    assert f"cancel their order {order_id} there" in alert and "refunded" not in alert
    waiting = await buyer.inventory(order_id)  # G2A's buyer waits: no keys, no error
    assert not waiting.body.stockReady and waiting.body.keys is None
    assert failed.telegram_charge_id is None

    owner = tg.user(OWNER)
    mark = await owner.send(f"/order {ours.id[:8]}", chat=admins)
    card = await reply_in(tg, admins, mark, ours.id)
    assert f"Sold on G2A: their order <code>{order_id}</code>" in card
    mark = await owner.send(f"/refund {ours.id[:8]}", chat=admins)
    assert "G2A refunds its buyer" in await reply_in(tg, admins, mark, "Close order")
    await owner.press("✅ Confirm", chat=admins)
    await settled(orders, ours.id, OrderState.REFUNDED)
    assert tg.calls_of("refundStarPayment") == []

    mark = await owner.send("/export day", chat=admins)
    await tg.wait_for("sendDocument", since=mark)
    [header, row] = admins.last_message().document.decode().splitlines()
    assert header.endswith(",channel,channel_order_id") and row.endswith(f",g2a,{order_id}")

    mark = await owner.send("/stats day", chat=admins)
    chart = await tg.wait_for("sendPhoto", since=mark)
    assert "By channel: G2A 1 (delivered 0)" in chart.params["caption"]


async def test_a_partial_delivery_hands_over_what_came_and_tells_the_admins(
    tg, admins, shop, orders, kinguin, g2a, buyer
):
    await listed(shop, g2a)
    kinguin.set_outcome(CS_SOURCE, "partial")
    mark = tg.mark()
    order_id, ours = await confirmed_sale(buyer, orders, quantity=3)
    stock = await buyer.wait_for_stock(order_id, within=30)
    sold = kinguin.order_by_external_id(ours.id)
    assert sold is not None and stock.body.keys == sold.keys and 0 < len(sold.keys) < 3
    alert = await reply_in(tg, admins, mark, "units")
    assert f"settle the rest of their order {order_id} there" in alert
    assert "shop credit" not in alert


async def test_the_sales_feed_names_g2a_sales_and_closed_orders(
    tg, shop, orders, kinguin, g2a, buyer
):
    forum = tg.group(ADMIN_CHAT, "Shop admins", is_forum=True)
    owner = tg.user(OWNER)
    forum.set_member(owner, "creator")
    await listed(shop, g2a)
    sold = await buyer.buy(PRODUCT)
    kinguin.set_outcome(CS_SOURCE, "canceled")
    cancelled, ours = await confirmed_sale(buyer, orders)
    await settled(orders, ours.id, OrderState.FAILED)
    mark = await owner.send(f"/refund {ours.id}", chat=forum)
    await tg.wait_for("sendMessage", where=lambda c: "Close order" in c.params["text"], since=mark)
    await owner.press("✅ Confirm", chat=forum)
    await settled(orders, ours.id, OrderState.REFUNDED)

    def feed() -> str:
        thread = next((t for t, name in forum.topics.items() if name == "🧾 Orders"), None)
        return "\n".join(forum.texts(thread)) if thread is not None else ""

    await eventually(lambda: "closed" in feed())
    assert f"×1, their order {sold.order_id}" in feed() and "sold on G2A" in feed()
    assert (
        f"closed: Counter-Strike: Source (Steam key) ×1, sold on G2A, their order {cancelled}"
        in feed()
    )
    assert "⭐" not in feed() and "user 0" not in feed()
