"""The CodeGames simulator, exercised over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.vendors.clock import FakeClock
from vendors.simulators.codegames import DEFAULT_OFFERS, CodeGamesSimulator, SimOffer

PREFIX = "/api/v1/offers/"
KEY_RE = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]{4}){3}$")
TOPUP = {"offerId": 2061, "price": 674.47, "customer": {"gameUserId": "52357322414"}}


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[CodeGamesSimulator]:
    async with CodeGamesSimulator(clock=clock) as simulator:
        yield simulator


async def call(client: httpx.AsyncClient, endpoint: str, body: Any) -> tuple[int, Any]:
    response = await client.post(PREFIX + endpoint, json=body)
    return response.status_code, response.json()


async def buy(client: httpx.AsyncClient, offer_id: int, tx: str, **extra: Any) -> dict[str, Any]:
    price = next(o.price for o in DEFAULT_OFFERS if o.offer_id == offer_id)
    status, body = await call(
        client, "create-order", {"offerId": offer_id, "price": price, "transactionId": tx, **extra}
    )
    assert status == 200, body
    return body


# --------------------------------------------------------------------------- find-one


async def test_find_one_gift_card_shape(client: httpx.AsyncClient) -> None:
    status, body = await call(client, "find-one", {"offerId": 3001})
    assert status == 200
    assert body == {
        "offerId": 3001,
        "productName": "Steam",
        "offerName": "Wallet 5 USD",
        "price": 2750.0,
        "currency": "KZT",
        "isReturnDataForCustomer": True,
    }


async def test_find_one_top_up_shape(client: httpx.AsyncClient) -> None:
    status, body = await call(client, "find-one", {"offerId": 2061, "extra": "ignored"})
    assert status == 200
    assert body["isReturnDataForCustomer"] is False
    assert body["required"] == ["gameUserId"]
    assert body["price"] == 674.47


async def test_find_one_unknown_and_unavailable(
    sim: CodeGamesSimulator, client: httpx.AsyncClient
) -> None:
    assert await call(client, "find-one", {"offerId": 1}) == (404, {"message": "Offer not found"})
    sim.set_available(3001, False)
    assert (await call(client, "find-one", {"offerId": 3001}))[0] == 404


@pytest.mark.parametrize("body", [{}, {"offerId": "abc"}, [2061], "2061"])
async def test_find_one_malformed(client: httpx.AsyncClient, body: Any) -> None:
    status, answer = await call(client, "find-one", body)
    assert status == 400
    assert answer["message"]


async def test_not_json_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(PREFIX + "find-one", content=b'{"offerId": 20')
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


# --------------------------------------------------------------------------- create-order


async def test_gift_card_without_processing_completes_at_once(
    sim: CodeGamesSimulator, client: httpx.AsyncClient
) -> None:
    sim.set_outcome(3001, "COMPLETED", processing_seconds=0)
    body = await buy(client, 3001, "tx-1")
    assert body["orderId"] == 10502
    assert body["status"] == "COMPLETED"
    assert "count" not in body
    assert KEY_RE.match(body["key"]) and body["key"].startswith("STM5-")
    assert await call(client, "keys", {"orderId": 10502}) == (200, {"key": body["key"]})


async def test_processing_then_completed(
    sim: CodeGamesSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    body = await buy(client, 3002, "tx-1")
    assert body["status"] == "PROCESSING" and body["count"] == 1 and "key" not in body
    order_id = body["orderId"]
    status_answer = {"status": "PROCESSING", "isReturnDataForCustomer": True}
    assert await call(client, "order-status", {"orderId": order_id}) == (200, status_answer)
    status, err = await call(client, "keys", {"orderId": order_id})
    assert (status, err["code"]) == (400, "ORDER_NOT_COMPLETED")
    assert sim.orders[order_id].completed_at is None

    clock.advance(2.0)
    assert (await call(client, "order-status", {"orderId": order_id}))[1]["status"] == "COMPLETED"
    status, keys = await call(client, "keys", {"orderId": order_id})
    assert status == 200 and keys["key"] == sim.orders[order_id].key
    assert sim.orders[order_id].completed_at == sim.orders[order_id].created_at + 2.0


async def test_real_clock_short_processing() -> None:
    async with CodeGamesSimulator() as sim, httpx.AsyncClient(base_url=sim.base_url or "") as c:
        sim.set_outcome(3001, "COMPLETED", processing_seconds=0.05)
        created = await buy(c, 3001, "tx-1")
        order_id = created["orderId"]
        assert created["status"] == "PROCESSING"
        await asyncio.sleep(0.1)
        assert (await call(c, "order-status", {"orderId": order_id}))[1]["status"] == "COMPLETED"
        completed_at = sim.orders[order_id].completed_at
        assert completed_at is not None and completed_at <= time.time()


@pytest.mark.parametrize(
    ("customer", "code"),
    [
        (None, "CUSTOMER_REQUIRED"),
        ({}, "CUSTOMER_REQUIRED"),
        ({"gameUserId": ""}, "CUSTOMER_REQUIRED"),
        ({"gameUserId": "12ab"}, "INVALID_GAME_USER_ID"),
        ({"gameUserId": "١٢٣"}, "INVALID_GAME_USER_ID"),
    ],
)
async def test_top_up_requires_numeric_game_user_id(
    sim: CodeGamesSimulator, client: httpx.AsyncClient, customer: Any, code: str
) -> None:
    body = {"offerId": 2061, "price": 674.47, "transactionId": "tx-1", "customer": customer}
    status, answer = await call(client, "create-order", body)
    assert (status, answer["code"]) == (400, code)
    assert sim.orders_created == 0


async def test_top_up_completes_without_key(
    sim: CodeGamesSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    body = await buy(client, 2061, "tx-1", customer={"gameUserId": "52357322414"})
    assert body["status"] == "PROCESSING" and body["isReturnDataForCustomer"] is False
    clock.advance(3.0)
    status, answer = await call(client, "order-status", {"orderId": body["orderId"]})
    assert answer == {"status": "COMPLETED", "isReturnDataForCustomer": False}
    status, err = await call(client, "keys", {"orderId": body["orderId"]})
    assert (status, err["code"]) == (400, "NO_KEYS_FOR_ORDER")
    order = sim.orders[body["orderId"]]
    assert order.game_user_id == "52357322414" and order.key is None


async def test_numeric_game_user_id_is_accepted(client: httpx.AsyncClient) -> None:
    body = await buy(client, 2061, "tx-1", customer={"gameUserId": 52357322414})
    assert body["status"] == "PROCESSING"


async def test_create_order_is_idempotent_on_transaction_id(
    sim: CodeGamesSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    balance = sim.balance
    first = await buy(client, 3003, "tx-1")
    clock.advance(5)
    second = await buy(client, 3003, "tx-1")
    assert second["orderId"] == first["orderId"]
    assert second["status"] == "COMPLETED" and second["key"] == sim.orders[first["orderId"]].key
    assert sim.orders_created == 1
    order = sim.order_by_transaction("tx-1")
    assert order is not None and order.create_calls == 2
    assert sim.balance == pytest.approx(balance - 10850.0)
    assert sim.order_by_transaction("tx-unknown") is None


async def test_order_ids_increment(client: httpx.AsyncClient) -> None:
    ids = [(await buy(client, 3001, f"tx-{n}"))["orderId"] for n in range(3)]
    assert ids == [10502, 10503, 10504]


async def test_price_changed(sim: CodeGamesSimulator, client: httpx.AsyncClient) -> None:
    sim.set_price(3001, 2800.0)
    body = {"offerId": 3001, "price": 2750.0, "transactionId": "tx-1"}
    status, err = await call(client, "create-order", body)
    assert (status, err["code"]) == (400, "PRICE_CHANGED")
    assert sim.orders_created == 0

    status, order = await call(client, "create-order", {**body, "price": 3000.0})
    assert status == 200 and order["price"] == 2800.0
    assert next(o.price for o in DEFAULT_OFFERS if o.offer_id == 3001) == 2750.0


async def test_unknown_offer_and_insufficient_balance(clock: FakeClock) -> None:
    async with (
        CodeGamesSimulator(clock=clock, balance=3000.0) as sim,
        httpx.AsyncClient(base_url=sim.base_url or "") as c,
    ):
        unknown = {"offerId": 1, "price": 1, "transactionId": "a"}
        status, err = await call(c, "create-order", unknown)
        assert status == 404 and err["message"] == "Offer not found"
        await buy(c, 3001, "tx-1")
        assert sim.balance == pytest.approx(250.0)
        body = {"offerId": 3001, "price": 2750.0, "transactionId": "tx-2"}
        status, err = await call(c, "create-order", body)
        assert (status, err["code"]) == (400, "INSUFFICIENT_BALANCE")


async def test_canceled_and_refund_outcomes(
    sim: CodeGamesSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = (await buy(client, 9001, "tx-1"))["orderId"]
    clock.advance(2)
    assert (await call(client, "order-status", {"orderId": order_id}))[1]["status"] == "CANCELED"
    status, err = await call(client, "keys", {"orderId": order_id})
    assert (status, err["code"]) == (400, "ORDER_NOT_COMPLETED")

    sim.set_outcome(3001, "REFUND", processing_seconds=0)
    body = await buy(client, 3001, "tx-2")
    assert body["status"] == "REFUND" and "key" not in body


async def test_force_status(
    sim: CodeGamesSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = (await buy(client, 3001, "tx-1"))["orderId"]
    clock.advance(0.5)
    sim.force_status(order_id, "COMPLETED")
    assert sim.orders[order_id].completed_at == clock.now
    assert (await call(client, "keys", {"orderId": order_id}))[0] == 200
    sim.force_status(order_id, "PROCESSING")
    clock.advance(100)
    assert sim.orders[order_id].status == "PROCESSING"


@pytest.mark.parametrize("endpoint", ["order-status", "keys"])
async def test_unknown_order_is_404(client: httpx.AsyncClient, endpoint: str) -> None:
    status, err = await call(client, endpoint, {"orderId": 1})
    assert status == 404 and err["message"]


async def test_keys_are_unique_and_never_logged(
    sim: CodeGamesSimulator, client: httpx.AsyncClient, clock: FakeClock, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="vendors.simulators.codegames")
    sim.set_outcome(3001, "COMPLETED", processing_seconds=0)
    keys = {(await buy(client, 3001, f"tx-{n}"))["key"] for n in range(20)}
    assert len(keys) == 20
    order_id = (await buy(client, 3002, "tx-late"))["orderId"]
    clock.advance(2)
    keys.add((await call(client, "keys", {"orderId": order_id}))[1]["key"])
    assert "created" in caplog.text and "PROCESSING -> COMPLETED" in caplog.text
    assert not any(key in caplog.text for key in keys)


async def test_requests_are_recorded(sim: CodeGamesSimulator, client: httpx.AsyncClient) -> None:
    await call(client, "find-one", {"offerId": 2061})
    assert sim.requests == [(PREFIX + "find-one", {"offerId": 2061})]


# --------------------------------------------------------------------------- auth


async def test_api_key_required() -> None:
    async with CodeGamesSimulator(api_key="s3cret") as sim:
        url = (sim.base_url or "") + PREFIX + "find-one"
        async with httpx.AsyncClient() as c:
            for headers in ({}, {"X-API-KEY": "wrong"}):
                response = await c.post(url, json={"offerId": 2061}, headers=headers)
                assert response.status_code == 401
                assert response.json() == {"message": "Unauthorized"}
            ok = await c.post(url, json={"offerId": 2061}, headers={"X-API-KEY": "s3cret"})
            assert ok.status_code == 200


# --------------------------------------------------------------------------- faults


async def test_garbled_answer(sim: CodeGamesSimulator, client: httpx.AsyncClient) -> None:
    sim.fail_next("find-one", "garbled")
    response = await client.post(PREFIX + "find-one", json={"offerId": 2061})
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert (await call(client, "find-one", {"offerId": 2061}))[0] == 200


async def test_500_before_commit_creates_nothing(
    sim: CodeGamesSimulator, client: httpx.AsyncClient
) -> None:
    sim.fail_next("create-order", "500", times=2)
    body = {"offerId": 3001, "price": 2750.0, "transactionId": "tx-1"}
    for _ in range(2):
        assert (await client.post(PREFIX + "create-order", json=body)).status_code == 500
    assert sim.orders_created == 0
    await buy(client, 3001, "tx-1")
    assert sim.orders_created == 1


@pytest.mark.parametrize("kind", ["500", "garbled"])
async def test_lost_answer_after_commit_is_the_double_buy_trap(
    sim: CodeGamesSimulator, client: httpx.AsyncClient, kind: Any
) -> None:
    sim.fail_next("create-order", kind, after_commit=True)
    body = {"offerId": 3001, "price": 2750.0, "transactionId": "tx-1"}
    response = await client.post(PREFIX + "create-order", json=body)
    assert response.status_code != 200 or not _is_json(response.content)
    assert sim.orders_created == 1  # the vendor did create (and charge) the order
    retry = await buy(client, 3001, "tx-1")
    assert retry["orderId"] == 10502 and sim.orders_created == 1


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


async def test_disconnect(sim: CodeGamesSimulator, client: httpx.AsyncClient) -> None:
    sim.fail_next("order-status", "disconnect")
    with pytest.raises(httpx.TransportError):
        await client.post(PREFIX + "order-status", json={"orderId": 1})
    assert (await call(client, "order-status", {"orderId": 1}))[0] == 404


async def test_timeout_after_commit_and_prompt_stop(clock: FakeClock) -> None:
    sim = CodeGamesSimulator(clock=clock)
    base_url = await sim.start()
    sim.fail_next("create-order", "timeout", after_commit=True)
    async with httpx.AsyncClient(base_url=base_url, timeout=0.2) as c:
        with pytest.raises(httpx.ReadTimeout):
            await c.post(
                PREFIX + "create-order",
                json={"offerId": 3001, "price": 2750.0, "transactionId": "tx-1"},
            )
    assert sim.orders_created == 1
    started = time.monotonic()
    await sim.stop()
    assert time.monotonic() - started < 2


# --------------------------------------------------------------------------- catalogue


def test_default_catalogue() -> None:
    ids = {o.offer_id for o in DEFAULT_OFFERS}
    assert {2061, 2062, 2063, 2064, 2101, 3001, 3005, 3101, 3103, 3201, 3202, 3301, 9001} <= ids
    assert sum(o.gift_card for o in DEFAULT_OFFERS) > 8
    assert all(o.currency == "KZT" and o.price > 0 for o in DEFAULT_OFFERS)
    assert next(o for o in DEFAULT_OFFERS if o.offer_id == 9001).outcome == "CANCELED"
    assert isinstance(DEFAULT_OFFERS[0], SimOffer)
