"""The bot's public HTTP port, from outside over real HTTP, endpoint by endpoint: strangers
learn nothing (not even whether an order or reservation exists) and change nothing,
bodies are bounded, and a caller that keeps failing authentication is slowed down on
every replica (the failures are counted in Redis when the shop has it)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from storage import OrderState
from tests.conftest import HEALTH_TOKEN, WEBHOOK_SECRET, running_shop
from tests.e2e.flows import paid_order, settled
from tests.e2e.test_g2a_sales import (
    CLIENT_ID,
    CLIENT_SECRET,
    PRODUCT,
    buyer,
    confirmed_sale,
    g2a,
    listed,
    repo,
    selling_on_g2a,
)
from vendors.simulators.g2a_buyer import new_order_id

__all__ = ["buyer", "g2a", "repo"]  # the G2A sales set-up, shared
API = "/integration-api/v1"
TOKEN_FORM = {"grant_type": "client_credentials", "client_id": CLIENT_ID}


@pytest.fixture
def shop_env(shop_env, g2a):
    """Selling on G2A; the callers here fail often on purpose: not slowed down but where
    that is the point."""
    return selling_on_g2a(shop_env, g2a) | {"AUTH_FAILURES_PER_MINUTE": "1000"}


@pytest.fixture
async def http(shop_env) -> AsyncIterator[httpx.AsyncClient]:
    base = f"http://127.0.0.1:{shop_env['HTTP_PORT']}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        yield client


def same_answer(a: httpx.Response, b: httpx.Response) -> bool:
    """Indistinguishable to the caller: status, body and the headers that vary by content."""
    headers = ("Content-Type", "Content-Length", "WWW-Authenticate")
    return (a.status_code, a.content, [a.headers.get(h) for h in headers]) == (
        b.status_code,
        b.content,
        [b.headers.get(h) for h in headers],
    )


async def test_strangers_learn_nothing_and_change_nothing(
    tg, shop, orders, kinguin, g2a, buyer, repo, http
):
    health = await http.get("/health")
    assert health.json() == {"status": "ok"}  # the details need HEALTH_TOKEN
    assert (await http.get("/metrics")).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert (await http.get("/metrics", headers=wrong)).status_code == 401
    right = {"Authorization": f"Bearer {HEALTH_TOKEN}"}
    assert "vendors" in (await http.get("/health", headers=right)).json()
    assert (await http.get("/app/")).status_code == 404  # no WEBAPP_URL: no Mini App
    assert (await http.get("/app/api/catalog")).status_code == 404
    assert not tg.calls_of("setChatMenuButton")

    await listed(shop, g2a)
    g2a_order, _ours = await confirmed_sale(buyer, orders)
    reservation = await repo._db.fetchone(
        "SELECT id FROM g2a_reservations WHERE g2a_order_id = ?", (g2a_order,)
    )
    forged = {"Authorization": "Bearer forged"}
    for existing, missing in (
        (f"{API}/reservations/{reservation[0]}/confirm", f"{API}/reservations/nope/confirm"),
        (f"{API}/inventory/{g2a_order}", f"{API}/inventory/{new_order_id()}"),
    ):
        method = "POST" if existing.endswith("confirm") else "GET"
        for headers in ({}, forged):
            a = await http.request(method, existing, headers=headers)
            b = await http.request(method, missing, headers=headers)
            assert a.status_code == 401 and same_answer(a, b)
            assert "keys" not in a.text

    customer = tg.user(2301)
    kinguin.set_outcome(2001, "completed", processing_seconds=3600)
    order_id = await paid_order(tg, customer, "PC games", "Elden Ring")
    await settled(orders, order_id, OrderState.PROCESSING)
    vendor_id = kinguin.order_by_external_id(order_id).order_id
    answers = []
    for reference, vendor_order in ((order_id, vendor_id), ("0" * 16, "999999")):
        event = {"orderId": vendor_order, "orderExternalId": reference, "status": "completed",
                 "updatedAt": "2030-01-01T00:00:00+00:00"}  # fmt: skip
        answers.append(
            await http.post(
                "/webhooks/kinguin",
                content=json.dumps(event),
                headers={"X-Event-Name": "order.status", "X-Event-Secret": "guess"},
            )
        )
    assert answers[0].status_code == 401 and same_answer(*answers)
    unchanged = await orders.get(order_id)
    assert unchanged.state is OrderState.PROCESSING and unchanged.vendor_status is None
    assert (await http.get("/webhooks/kinguin")).status_code == 405


async def test_bodies_are_bounded_per_endpoint(shop, g2a, buyer, repo, http):
    big_form = TOKEN_FORM | {"client_secret": "x" * 5000}
    assert (await http.post("/oauth/token", data=big_form)).status_code == 413
    token = (await buyer.request_token()).body.access_token
    bearer = {"Authorization": f"Bearer {token}"}
    body = {"orderId": "1", "productId": PRODUCT, "quantity": 1, "pad": "x" * 70_000}
    too_big = await http.post(f"{API}/reservations", json=body, headers=bearer)
    assert too_big.status_code == 413

    async def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(20):
            yield b"x" * 8192

    streamed = await http.post(f"{API}/reservations", content=chunks(), headers=bearer)
    assert streamed.status_code == 413
    hook = await http.post(
        "/webhooks/kinguin",
        content=b"{" + b" " * 70_000 + b"}",
        headers={"X-Event-Name": "order.status", "X-Event-Secret": WEBHOOK_SECRET},
    )
    assert hook.status_code == 413
    assert (await http.post("/metrics", content=b"x" * 2_000_000)).status_code in (405, 413)
    assert (await repo._db.fetchone("SELECT COUNT(*) FROM g2a_reservations"))[0] == 0


@pytest.fixture
def slow_down(shop_env):
    return shop_env | {"AUTH_FAILURES_PER_MINUTE": "3", "TRUSTED_PROXIES": "127.0.0.1"}


async def test_a_caller_that_keeps_failing_authentication_is_slowed_down(
    slow_down, tg, g2a, monkeypatch, http
):
    async with running_shop(slow_down, monkeypatch):
        await tg.wait_for("getUpdates")
        guesser = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}  # as our proxy tells
        G2A = {"X-Forwarded-For": "203.0.113.8"}
        guess = TOKEN_FORM | {"client_secret": "guess"}
        assert (await http.post("/oauth/token", data=guess, headers=guesser)).status_code == 401
        forged = guesser | {"Authorization": "Bearer forged"}
        assert (await http.get(f"{API}/inventory/1", headers=forged)).status_code == 401
        assert (await http.get("/metrics", headers=forged)).status_code == 401
        slowed = await http.post("/oauth/token", data=guess, headers=guesser)
        assert slowed.status_code == 429 and 1 <= int(slowed.headers["Retry-After"]) <= 60
        right = TOKEN_FORM | {"client_secret": CLIENT_SECRET}
        again = await http.post("/oauth/token", data=right, headers=guesser)
        assert again.status_code == 429 and "access_token" not in again.text  # meanwhile
        assert (await http.get("/health", headers=guesser)).status_code == 429

        token = await http.post("/oauth/token", data=right, headers=G2A)  # another client
        assert token.status_code == 200
        bearer = G2A | {"Authorization": f"Bearer {token.json()['access_token']}"}
        unknown = await http.get(f"{API}/inventory/{new_order_id()}", headers=bearer)
        assert unknown.status_code == 404  # with G2A's token: G2A may know
        direct = await http.post("/oauth/token", data=right)  # the proxy itself: its own count
        assert direct.status_code == 200

        if "REDIS_URL" in slow_down:  # counted where every replica sees it
            redis = Redis.from_url(slow_down["REDIS_URL"])
            try:
                keys = await redis.keys(f"{slow_down['REDIS_PREFIX']}:limits*auth-failures*")
            finally:
                await redis.aclose()
            assert keys and any(b"203.0.113.7" in key for key in keys)
