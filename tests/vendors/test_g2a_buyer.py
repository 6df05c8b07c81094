"""The G2A buyer against a small shop stub on 127.0.0.1 that answers the seed's dropshipping
shapes (token, reserve, confirm, inventory), and a few ways a shop can break them."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from vendors.simulators.g2a_buyer import (
    ContractBroken,
    G2ABuyer,
    Refused,
    StockNotReady,
    TooSlow,
)

CLIENT_ID = "g2a-client"
CLIENT_SECRET = "g2a-secret"
LISTED = "10000068865001"
SLOW = "10000003405002"  # the stock comes after a few inventory polls
P = "/integration-api/v1"


@dataclass
class Order:
    order_id: str
    product_id: str
    quantity: int
    confirmed: bool = False
    polls: int = 0


@dataclass
class ShopStub:
    """Our dropshipping API as the seed shapes it, with knobs to break it."""

    ttl: timedelta = timedelta(minutes=30)
    polls_before_ready: int = 2
    delay: float = 0.0  # seconds every answer waits
    token_seconds: int = 300
    confirm_status: int | None = None  # force the confirmation's HTTP status
    echo_quantity: int | None = None  # answer another quantity than asked
    key_count: int | None = None  # hand out another number of keys
    drop_field: str | None = None  # leave a field out of the reservation
    tokens: set[str] = field(default_factory=set)
    token_forms: list[dict[str, str]] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)  # by reservation id

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/token", self.token)
        app.router.add_post(f"{P}/reservations", self.reserve)
        app.router.add_post(f"{P}/reservations/{{rid}}/confirm", self.confirm)
        app.router.add_get(f"{P}/inventory/{{oid}}", self.inventory)
        return app

    async def token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_forms.append(form)
        client = (form.get("client_id"), form.get("client_secret"))
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            client = (user, password)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if client != (CLIENT_ID, CLIENT_SECRET):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = f"t{len(self.token_forms)}"
        self.tokens.add(token)
        answer = {"access_token": token, "expires_in": self.token_seconds, "token_type": "bearer"}
        return web.json_response(answer)

    async def guard(self, request: web.Request) -> web.Response | None:
        await asyncio.sleep(self.delay)
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return web.json_response({"code": "UNAUTHORIZED", "message": "No token"}, status=401)
        return None

    async def reserve(self, request: web.Request) -> web.Response:
        if (refused := await self.guard(request)) is not None:
            return refused
        body = await request.json()
        if body["productId"] not in (LISTED, SLOW):
            message = {"code": "PRODUCT_NOT_LISTED", "message": "Not listed"}
            return web.json_response(message, status=404)
        rid = f"r-{len(self.orders) + 1}"
        self.orders[rid] = Order(body["orderId"], body["productId"], body["quantity"])
        now = datetime.now(UTC)
        answer = {
            "reservationId": rid,
            "orderId": body["orderId"],
            "productId": body["productId"],
            "quantity": self.echo_quantity or body["quantity"],
            "status": "reserved",
            "expiresAt": (now + self.ttl).isoformat(),
            "createdAt": now.isoformat(),
            "extra": "tolerated",
        }
        answer.pop(self.drop_field or "", None)
        return web.json_response(answer, status=201)

    async def confirm(self, request: web.Request) -> web.Response:
        if (refused := await self.guard(request)) is not None:
            return refused
        order = self.orders[request.match_info["rid"]]
        order.confirmed = True
        ready = order.product_id == LISTED
        status = self.confirm_status or (200 if ready else 202)
        answer = {"reservationId": request.match_info["rid"], "status": "confirmed"}
        return web.json_response(answer | {"stockReady": ready}, status=status)

    async def inventory(self, request: web.Request) -> web.Response:
        if (refused := await self.guard(request)) is not None:
            return refused
        oid = request.match_info["oid"]
        order = next(o for o in self.orders.values() if o.order_id == oid and o.confirmed)
        order.polls += 1
        if order.product_id == SLOW and order.polls <= self.polls_before_ready:
            return web.json_response({"orderId": oid, "stockReady": False})
        count = order.quantity if self.key_count is None else self.key_count
        keys = [f"KEY-{oid}-{n}" for n in range(count)]
        return web.json_response({"orderId": int(oid), "stockReady": True, "keys": keys})


@pytest.fixture
async def shop() -> AsyncIterator[tuple[ShopStub, str]]:
    stub = ShopStub()
    runner = web.AppRunner(stub.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield stub, f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def buyer(shop: tuple[ShopStub, str]) -> AsyncIterator[G2ABuyer]:
    async with G2ABuyer(shop[1], CLIENT_ID, CLIENT_SECRET, poll_interval=0.01) as g2a:
        yield g2a


async def test_buy_with_the_stock_ready_at_confirmation(shop, buyer):
    stub, _ = shop
    purchase = await buyer.buy(LISTED, 2, order_id="123456789012")
    assert purchase.keys == ["KEY-123456789012-0", "KEY-123456789012-1"]
    assert purchase.confirmation.status == 200 and purchase.confirmation.body.stockReady
    assert purchase.reservation.status == 201
    reservation = purchase.reservation.body
    assert (reservation.reservationId, reservation.orderId, reservation.quantity) == (
        "r-1",
        "123456789012",
        2,
    )
    assert [(c.method, c.path, c.status) for c in purchase.calls] == [
        ("POST", "/oauth/token", 200),
        ("POST", f"{P}/reservations", 201),
        ("POST", f"{P}/reservations/r-1/confirm", 200),
        ("GET", f"{P}/inventory/123456789012", 200),
    ]
    assert 0 < purchase.slowest < 9
    assert stub.token_forms == [
        {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    ]


async def test_buy_with_a_202_then_polls_until_the_keys_come(shop, buyer):
    stub, _ = shop
    purchase = await buyer.buy(SLOW)
    assert purchase.confirmation.status == 202
    assert purchase.confirmation.body.stockReady is False
    assert len(purchase.keys) == 1 and purchase.inventory.body.stockReady
    polls = [c for c in purchase.calls if "/inventory/" in c.path]
    assert len(polls) == stub.polls_before_ready + 1
    assert purchase.order_id.isdigit() and len(purchase.order_id) == 12


async def test_one_token_serves_many_calls_and_concurrent_buys(shop, buyer):
    stub, _ = shop
    purchases = await asyncio.gather(*(buyer.buy(LISTED) for _ in range(4)))
    assert buyer.token_requests == 1 and len(stub.token_forms) == 1
    assert len({p.keys[0] for p in purchases}) == 4
    for purchase in purchases:  # each purchase's own calls
        assert [c.path.rsplit("/", 1)[-1] for c in purchase.calls[-2:]] == [
            "confirm",
            purchase.order_id,
        ]
    assert sum(len(p.calls) for p in purchases) == len(buyer.calls) == 13


async def test_an_expiring_token_is_renewed(shop):
    stub, url = shop
    stub.token_seconds = 1  # within the renewal margin: every call takes a new one
    async with G2ABuyer(url, CLIENT_ID, CLIENT_SECRET, poll_interval=0.01) as g2a:
        await g2a.buy(LISTED)
        assert g2a.token_requests == 3


async def test_http_basic_credentials(shop):
    stub, url = shop
    async with G2ABuyer(url, CLIENT_ID, CLIENT_SECRET, credentials="basic") as g2a:
        assert len((await g2a.buy(LISTED)).keys) == 1
    assert stub.token_forms == [{"grant_type": "client_credentials"}]


async def test_refusals_carry_the_shops_answer(shop):
    stub, url = shop
    async with G2ABuyer(url, CLIENT_ID, "wrong") as g2a:
        with pytest.raises(Refused) as refused:
            await g2a.buy(LISTED)
    assert refused.value.status == 401 and refused.value.body == {"error": "invalid_client"}
    async with G2ABuyer(url, CLIENT_ID, CLIENT_SECRET) as g2a:
        with pytest.raises(Refused) as refused:
            await g2a.reserve("1", "unlisted", 1)
        assert refused.value.status == 404 and refused.value.body["code"] == "PRODUCT_NOT_LISTED"
        assert refused.value.call.path == f"{P}/reservations"
        stub.tokens.clear()  # the shop forgot its tokens
        with pytest.raises(Refused) as refused:
            await g2a.reserve("1", LISTED, 1)
        assert refused.value.status == 401
        g2a.set_token(None)
        assert (await g2a.reserve("1", LISTED, 1)).body.orderId == "1"
        g2a.set_token("forged")
        with pytest.raises(Refused) as refused:
            await g2a.confirm("r-1")
        assert refused.value.status == 401 and not stub.orders["r-1"].confirmed


@pytest.mark.parametrize(
    ("knob", "value", "problem"),
    [
        ("ttl", timedelta(minutes=29), "30 minutes"),
        ("echo_quantity", 5, "does not echo"),
        ("confirm_status", 202, "HTTP 202 with stockReady True"),
        ("key_count", 0, "stockReady without keys"),
        ("key_count", 2, "1 ordered, 2 keys"),
        ("drop_field", "orderId", "orderId: Field required"),
        ("drop_field", "expiresAt", "expiresAt: Field required"),
    ],
)
async def test_answers_that_break_the_contract(shop, buyer, knob, value, problem):
    setattr(shop[0], knob, value)
    with pytest.raises(ContractBroken, match=problem):
        await buyer.buy(LISTED)


async def test_a_200_without_the_stock_breaks_the_contract(shop, buyer):
    shop[0].confirm_status = 200
    with pytest.raises(ContractBroken, match="HTTP 200 with stockReady False"):
        await buyer.buy(SLOW)


async def test_stock_that_never_comes(shop, buyer):
    shop[0].polls_before_ready = 10**6
    with pytest.raises(StockNotReady):
        await buyer.buy(SLOW, within=0.1)


async def test_an_answer_slower_than_the_deadline(shop):
    stub, url = shop
    async with G2ABuyer(url, CLIENT_ID, CLIENT_SECRET, deadline=0.2) as g2a:
        await g2a.token()
        stub.delay = 0.5
        with pytest.raises(TooSlow):
            await g2a.reserve("1", LISTED, 1)


def test_answer_models_accept_the_seeds_shapes() -> None:
    from vendors.simulators.g2a_buyer import Confirmation, Inventory, Reservation

    created = datetime(2025, 1, 1, tzinfo=UTC)
    reservation = Reservation.model_validate(
        {
            "reservationId": 7,
            "orderId": 123,
            "productId": 10000068865001,
            "quantity": 1,
            "status": "reserved",
            "expiresAt": "2025-01-01T00:30:00",  # no offset: read as UTC
            "createdAt": created.isoformat(),
        }
    )
    assert (reservation.reservationId, reservation.orderId) == ("7", "123")
    assert Inventory.model_validate({"orderId": "1", "stockReady": False}).keys is None
    confirmation: dict[str, Any] = {"reservationId": "7", "status": "pending", "stockReady": True}
    with pytest.raises(ValueError, match="confirmed"):
        Confirmation.model_validate(confirmation)
