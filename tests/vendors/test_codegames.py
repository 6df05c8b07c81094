"""The CodeGames client against the simulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import pytest
from aiohttp import web

from vendors.base import (
    OfferNotFound,
    OrderRejected,
    PlaceOrder,
    VendorAuthError,
    VendorOrderStatus,
    VendorUnavailable,
)
from vendors.codegames import CodeGamesVendor
from vendors.simulators.codegames import CodeGamesSimulator


@pytest.fixture
async def sim():
    async with CodeGamesSimulator(api_key="secret") as simulator:
        yield simulator


@pytest.fixture
async def client(sim):
    vendor = CodeGamesVendor(sim.base_url, "secret", timeout=2.0)
    yield vendor
    await vendor.aclose()


async def test_offer_with_and_without_gift_card(client):
    card = await client.get_offer("3001")
    assert card.delivers_key and card.required_fields == () and card.currency == "KZT"
    topup = await client.get_offer("2061")
    assert not topup.delivers_key and topup.required_fields == ("gameUserId",)
    assert topup.price == 674.47 and topup.name == "PUBG Mobile 60 UC"


async def test_unknown_offer(client):
    with pytest.raises(OfferNotFound):
        await client.get_offer("123456")


async def test_key_in_the_create_order_answer(sim, client):
    sim.set_outcome(3001, "COMPLETED", processing_seconds=0)
    order = await client.place_order(PlaceOrder("ref-1", "3001", 2750.0))
    assert order.status is VendorOrderStatus.COMPLETED
    assert [k.value for k in order.keys] == [sim.orders[int(order.order_id)].key]


async def test_processing_then_keys(sim, client):
    placed = await client.place_order(PlaceOrder("ref-2", "3002", 5450.0))
    assert placed.status is VendorOrderStatus.PROCESSING and placed.keys == ()
    sim.force_status(int(placed.order_id), "COMPLETED")
    status = await client.order_status(placed.order_id)
    assert status.status is VendorOrderStatus.COMPLETED
    keys = await client.fetch_keys(placed.order_id)
    assert keys[0].value == sim.orders[int(placed.order_id)].key


async def test_topup_sends_the_customer(sim, client):
    placed = await client.place_order(
        PlaceOrder("ref-3", "2061", 674.47, {"gameUserId": "52357322414"})
    )
    assert sim.orders[int(placed.order_id)].game_user_id == "52357322414"


async def test_same_reference_never_buys_twice(sim, client):
    first = await client.place_order(PlaceOrder("ref-4", "3001", 2750.0))
    again = await client.place_order(PlaceOrder("ref-4", "3001", 2750.0))
    assert first.order_id == again.order_id and sim.orders_created == 1


async def test_lost_answer_is_retried_with_the_same_reference(sim, client):
    sim.fail_next("create-order", "500", after_commit=True)
    placed = await client.place_order(PlaceOrder("ref-5", "3001", 2750.0))
    assert sim.orders_created == 1 and placed.order_id == str(next(iter(sim.orders)))


@pytest.mark.parametrize(
    ("price", "fields", "code"),
    [
        (1.0, {}, "PRICE_CHANGED"),
        (674.47, {"gameUserId": "12ab"}, "INVALID_GAME_USER_ID"),
    ],
)
async def test_rejections_carry_the_vendor_code(client, price, fields, code):
    offer = "3001" if not fields else "2061"
    with pytest.raises(OrderRejected) as raised:
        await client.place_order(PlaceOrder("ref-6", offer, price, fields))
    assert raised.value.code == code


async def test_cancelled_order(sim, client):
    placed = await client.place_order(PlaceOrder("ref-7", "9001", 100.0))
    sim.force_status(int(placed.order_id), "CANCELED")
    assert (await client.order_status(placed.order_id)).status is VendorOrderStatus.CANCELED


@pytest.mark.parametrize("kind", ["garbled", "500", "disconnect"])
async def test_broken_answers_are_temporary(sim, client, kind):
    sim.fail_next("find-one", kind, times=5)
    with pytest.raises(VendorUnavailable):
        await client.get_offer("3001")


async def test_a_single_blip_is_retried(sim, client):
    sim.fail_next("find-one", "500", times=1)
    assert (await client.get_offer("3001")).price == 2750.0


async def test_wrong_key(sim):
    vendor = CodeGamesVendor(sim.base_url, "wrong")
    with pytest.raises(VendorAuthError):
        await vendor.get_offer("3001")
    await vendor.aclose()


async def test_slow_vendor_times_out(sim):
    vendor = CodeGamesVendor(sim.base_url, "secret", timeout=0.2)
    sim.fail_next("order-status", "timeout")
    with pytest.raises(VendorUnavailable):
        await vendor.order_status("10502")
    await vendor.aclose()


async def test_both_documented_shapes_and_extra_fields_are_accepted():
    """The seed's examples differ (count, key with isReturnDataForCustomer false);
    a vendor may add fields. Serve them raw and read them back."""
    answers = {
        "create-order": {
            "orderId": 10502,
            "count": 1,
            "price": 674.47,
            "currency": "KZT",
            "offerId": 2061,
            "productName": "PUBG",
            "offerName": "60 UC",
            "status": "COMPLETED",
            "key": "001434249936",
            "isReturnDataForCustomer": False,
            "brandNew": {"x": 1},
        },
        "order-status": {"status": "REFUND"},
        "keys": {"key": "001434249936", "extra": True},
    }

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(answers[request.match_info["name"]])

    app = web.Application()
    app.router.add_post("/api/v1/offers/{name}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    vendor = CodeGamesVendor(f"http://127.0.0.1:{port}", None)
    try:
        placed = await vendor.place_order(PlaceOrder("r", "2061", 674.47, {"gameUserId": "1"}))
        assert placed.order_id == "10502" and placed.status is VendorOrderStatus.COMPLETED
        assert (await vendor.order_status("10502")).status is VendorOrderStatus.CANCELED
        assert [k.value for k in await vendor.fetch_keys("10502")] == ["001434249936"]
    finally:
        await vendor.aclose()
        await runner.cleanup()
