"""The G2A Export API simulator, exercised over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.vendors.clock import FakeClock
from tests.vendors.images import read_png
from vendors.simulators.g2a import (
    ALREADY_PAID,
    BAD_REQUEST,
    DEFAULT_BALANCE,
    DEFAULT_PRODUCTS,
    OUT_OF_STOCK,
    PAGE_SIZE,
    PRICE_ABOVE_MAX,
    PRODUCT_NOT_FOUND,
    ROUTE_NOT_FOUND,
    G2ASimulator,
    SimProduct,
    png_for_key,
)

HASH = "sim-api-hash"
KEY = "sim-api-key"
EMAIL = "owner@example.com"
SANDBOX_AUTH = {"Authorization": f"{HASH}, {KEY}"}

CYBERPUNK = "10000068865001"
TERRARIA = "10000003405002"
GAME_PASS = "10000502001003"
SOLD_OUT = "10000999999999"


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[G2ASimulator]:
    async with G2ASimulator(api_hash=HASH, api_key=KEY, email=EMAIL, clock=clock) as simulator:
        yield simulator


@pytest.fixture
def client_headers() -> dict[str, str]:
    return SANDBOX_AUTH


def hash_headers(timestamp: float, api_hash: str = HASH, api_key: str = KEY) -> dict[str, str]:
    ts = str(int(timestamp))
    digest = hashlib.sha256((api_hash + api_key + ts).encode()).hexdigest()
    return {
        "X-API-HASH": api_hash,
        "X-API-KEY": api_key,
        "X-G2A-Timestamp": ts,
        "X-G2A-Hash": digest,
    }


def production_headers(email: str = EMAIL) -> dict[str, str]:
    signature = hashlib.sha256((KEY + email + HASH).encode()).hexdigest()
    return {"Authorization": f"{KEY}, {signature}"}


async def create(client: httpx.AsyncClient, product_id: str | int, **extra: Any) -> tuple[int, Any]:
    response = await client.post("/v1/order", json={"product_id": product_id, **extra})
    return response.status_code, response.json()


async def pay(client: httpx.AsyncClient, order_id: str) -> tuple[int, Any]:
    response = await client.put(f"/v1/order/pay/{order_id}")
    return response.status_code, response.json()


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> tuple[int, Any]:
    response = await client.get(path, params=params)
    return response.status_code, response.json()


async def new_order(client: httpx.AsyncClient, product_id: str = CYBERPUNK) -> str:
    status, body = await create(client, product_id)
    assert status == 200, body
    return str(body["order_id"])


async def paid_order(client: httpx.AsyncClient, product_id: str = CYBERPUNK) -> str:
    order_id = await new_order(client, product_id)
    status, body = await pay(client, order_id)
    assert status == 200, body
    return order_id


def error(status: int, body: Any) -> tuple[int, str]:
    assert body["status"] == "ERROR" and body["message"]
    return status, body["code"]


# --------------------------------------------------------------------------- auth


async def test_three_auth_schemes_accepted(sim: G2ASimulator, clock: FakeClock) -> None:
    schemes = [
        hash_headers(clock.now),
        hash_headers(clock.now - 300),  # the edge of the allowed clock skew
        SANDBOX_AUTH,
        production_headers(),
        {"Authorization": f"{KEY},{production_headers()['Authorization'].split(', ')[1].upper()}"},
    ]
    async with httpx.AsyncClient(base_url=sim.base_url or "") as c:
        for headers in schemes:
            response = await c.get(f"/v1/products/{TERRARIA}", headers=headers)
            assert response.status_code == 200, (headers, response.text)


async def test_no_credentials_is_auth01(sim: G2ASimulator) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url or "") as c:
        response = await c.get("/v1/products")
    assert error(response.status_code, response.json()) == (400, "AUTH01")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"{HASH}, wrong"},
        {"Authorization": f"{HASH},{KEY},extra"},
        {"Authorization": "Bearer token"},
        {"Authorization": f"{KEY}, {'0' * 64}"},
        {"X-API-KEY": KEY},  # hash headers, incomplete
        "stale",
        "future",
        "wrong-hash",
        "production-other-email",
    ],
)
async def test_wrong_credentials_are_auth02(
    sim: G2ASimulator, clock: FakeClock, headers: Any
) -> None:
    if headers == "stale":
        headers = hash_headers(clock.now - 301)
    elif headers == "future":
        headers = hash_headers(clock.now + 301)
    elif headers == "wrong-hash":
        headers = hash_headers(clock.now) | {"X-G2A-Hash": "ab" * 32}
    elif headers == "production-other-email":
        headers = production_headers("someone@else.com")
    async with httpx.AsyncClient(base_url=sim.base_url or "") as c:
        response = await c.get("/v1/products", headers=headers)
    assert error(response.status_code, response.json()) == (401, "AUTH02")


async def test_production_scheme_needs_an_email(clock: FakeClock) -> None:
    async with (
        G2ASimulator(api_hash=HASH, api_key=KEY, clock=clock) as sim,
        httpx.AsyncClient(base_url=sim.base_url or "") as c,
    ):
        assert (await c.get("/v1/products", headers=production_headers())).status_code == 401
        assert (await c.get("/v1/products", headers=SANDBOX_AUTH)).status_code == 200


async def test_ip_blocked_is_auth03(sim: G2ASimulator, client: httpx.AsyncClient) -> None:
    sim.set_ip_blocked(True)
    assert error(*await get(client, "/v1/products")) == (401, "AUTH03")
    sim.set_ip_blocked(False)
    assert (await get(client, "/v1/products"))[0] == 200


async def test_method_forbidden_is_auth04(sim: G2ASimulator, client: httpx.AsyncClient) -> None:
    order_id = await new_order(client)
    sim.set_method_forbidden("/v1/order/pay/")
    assert error(*await pay(client, order_id)) == (401, "AUTH04")
    assert (await get(client, f"/v1/order/details/{order_id}"))[0] == 200
    assert not sim.order(order_id).paid and sim.order(order_id).pay_calls == 0
    sim.set_method_forbidden(None)
    assert (await pay(client, order_id))[0] == 200


async def test_auth_not_checked_without_credentials(clock: FakeClock) -> None:
    async with (
        G2ASimulator(clock=clock) as sim,
        httpx.AsyncClient(base_url=sim.base_url or "") as c,
    ):
        assert (await c.get("/v1/products")).status_code == 200
        sim.set_ip_blocked(True)  # steering still works
        assert error(*await get(c, "/v1/products")) == (401, "AUTH03")


def test_hash_without_key_is_a_mistake() -> None:
    with pytest.raises(ValueError):
        G2ASimulator(api_hash=HASH)


# --------------------------------------------------------------------------- products


async def test_products_list_hides_out_of_stock_by_default(client: httpx.AsyncClient) -> None:
    status, body = await get(client, "/v1/products")
    assert status == 200 and body["total"] == 3 and body["page"] == 1
    assert [d["id"] for d in body["docs"]] == [CYBERPUNK, TERRARIA, GAME_PASS]
    status, body = await get(client, "/v1/products", includeOutOfStock="true")
    assert body["total"] == 4 and body["docs"][-1]["id"] == SOLD_OUT


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({"id": TERRARIA}, [TERRARIA]),
        ({"id": SOLD_OUT}, []),
        ({"id": SOLD_OUT, "includeOutOfStock": "1"}, [SOLD_OUT]),
        ({"minPriceFrom": "5", "minPriceTo": "17.99"}, [CYBERPUNK, GAME_PASS]),
        ({"minPriceTo": "4.25"}, [TERRARIA]),
        ({"minQty": "51"}, []),
        ({"minQty": "50"}, [CYBERPUNK, TERRARIA, GAME_PASS]),
        ({"updatedAtFrom": "2023-11-14 22:13:20"}, [CYBERPUNK, TERRARIA, GAME_PASS]),
        ({"updatedAtFrom": "2023-11-14 22:13:21"}, []),
        ({"updatedAtTo": "2023-11-14 22:13:19"}, []),
    ],
)
async def test_products_filters(client: httpx.AsyncClient, params: Any, ids: list[str]) -> None:
    status, body = await get(client, "/v1/products", **params)
    assert status == 200
    assert [d["id"] for d in body["docs"]] == ids and body["total"] == len(ids)


async def test_updated_at_moves_with_price(
    sim: G2ASimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.advance(3600)
    sim.set_price(TERRARIA, 4.5)
    status, body = await get(client, "/v1/products", updatedAtFrom="2023-11-14 23:13:20")
    assert status == 200
    assert [d["id"] for d in body["docs"]] == [TERRARIA]
    assert body["docs"][0]["updated_at"] == "2023-11-14 23:13:20"
    assert body["docs"][0]["minPrice"] == 4.5


async def test_paging(clock: FakeClock) -> None:
    products = [
        SimProduct(product_id=str(10_000_000_000_000 + n), name=f"Game {n}", min_price=1, qty=1)
        for n in range(45)
    ]
    async with (
        G2ASimulator(products, clock=clock) as sim,
        httpx.AsyncClient(base_url=sim.base_url or "") as c,
    ):
        pages = [await get(c, "/v1/products", page=page) for page in (1, 2, 3, 4)]
        assert [len(body["docs"]) for _, body in pages] == [PAGE_SIZE, PAGE_SIZE, 5, 0]
        assert all(body["total"] == 45 for _, body in pages)
        assert [body["page"] for _, body in pages] == [1, 2, 3, 4]
        assert pages[2][1]["docs"][0]["id"] == str(10_000_000_000_040)
        assert (await get(c, "/v1/products", page=500))[0] == 200


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "501"},
        {"page": "x"},
        {"minQty": "many"},
        {"minPriceFrom": "cheap"},
        {"includeOutOfStock": "maybe"},
        {"updatedAtFrom": "2023-11-14"},
        {"updatedAtTo": "2023-11-14T22:13:20"},
    ],
)
async def test_products_bad_params(client: httpx.AsyncClient, params: Any) -> None:
    assert error(*await get(client, "/v1/products", **params)) == (400, BAD_REQUEST)


async def test_product_detail(client: httpx.AsyncClient) -> None:
    status, doc = await get(client, f"/v1/products/{CYBERPUNK}")
    assert status == 200
    assert doc["id"] == CYBERPUNK and isinstance(doc["id"], str) and doc["id"].isdigit()
    assert doc["name"] == "Cyberpunk 2077 (PC) - Steam Key - GLOBAL"
    assert doc["minPrice"] == 17.99 and doc["qty"] == 50 and doc["availableToBuy"] is True
    assert doc["retail_min_price"] >= doc["retailMinBasePrice"] >= doc["minPrice"]
    assert doc["priceLimit"] == {"min": None, "max": None}
    assert doc["coverImage"].startswith("https://") and doc["coverImage"] in doc["images"]
    assert {"id": 189, "name": "Games"} in doc["categories"]
    assert doc["platform"] == "Steam" and doc["region"] == "GLOBAL"
    assert doc["slug"].endswith(f"-i{CYBERPUNK}") and doc["type"]
    assert doc["updated_at"] == "2023-11-14 22:13:20"
    assert isinstance(doc["restrictions"], dict) and isinstance(doc["requirements"], dict)
    assert isinstance(doc["videos"], list)
    status, sold_out = await get(client, f"/v1/products/{SOLD_OUT}")
    assert status == 200 and sold_out["qty"] == 0 and sold_out["availableToBuy"] is False


async def test_unknown_product_is_404(client: httpx.AsyncClient) -> None:
    assert error(*await get(client, "/v1/products/123")) == (404, PRODUCT_NOT_FOUND)


async def test_no_stock_and_no_batch_price_endpoints(client: httpx.AsyncClient) -> None:
    assert error(*await get(client, f"/v1/products/{CYBERPUNK}/stock")) == (404, ROUTE_NOT_FOUND)
    response = await client.post("/v1/products/prices", json={"ids": [CYBERPUNK]})
    assert error(response.status_code, response.json()) == (404, ROUTE_NOT_FOUND)


# --------------------------------------------------------------------------- purchase flow


async def test_full_purchase_flow(
    sim: G2ASimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    status, created = await create(client, CYBERPUNK, currency="EUR", max_price=18)
    assert status == 200
    order_id = created["order_id"]
    assert isinstance(order_id, str) and order_id.isdigit()
    assert created == {"order_id": order_id, "price": 17.99, "currency": "EUR"}
    assert sim.balance == DEFAULT_BALANCE and sim.paid_orders == 0  # creating is free
    assert await get(client, f"/v1/order/details/{order_id}") == (
        200,
        {"status": "pending", "price": 17.99, "currency": "EUR"},
    )

    response = await client.put(f"/v1/order/pay/{order_id}")
    assert sim.calls("/pay/")[-1].headers.get("Content-Length") == "0"
    assert response.status_code == 200
    paid = response.json()
    assert paid["status"] is True and paid["transaction_id"]
    assert sim.balance == pytest.approx(DEFAULT_BALANCE - 17.99)
    assert sim.paid_orders == 1 and sim.order(order_id).paid
    assert sim.products[CYBERPUNK].qty == 49

    assert (await get(client, f"/v1/order/details/{order_id}"))[1]["status"] == "pending"
    assert error(*await get(client, f"/v1/order/key/{order_id}")) == (402, "ORD05")
    clock.advance(1.0)
    assert (await get(client, f"/v1/order/details/{order_id}"))[1]["status"] == "complete"
    assert sim.order(order_id).completed_at == clock.now

    status, key = await get(client, f"/v1/order/key/{order_id}")
    assert status == 200 and key == {"key": sim.order(order_id).key, "isFile": False}
    assert error(*await get(client, f"/v1/order/key/{order_id}")) == (400, "ORD004")
    order = sim.order(order_id)
    assert order.key_downloads == 1 and order.key_calls == 3 and order.pay_calls == 1
    assert sim.orders_created == 1 and list(sim.orders) == [order_id]


async def test_order_ids_are_distinct_digit_strings(client: httpx.AsyncClient) -> None:
    ids = [await new_order(client) for _ in range(3)]
    assert len(set(ids)) == 3 and all(i.isdigit() for i in ids)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ORD112", 403),
        ("ORD114", 403),
        ("ORD03", 403),
        ("ORD05", 402),
        ("ORD121", 403),
        ("ORD122", 502),
    ],
)
async def test_steered_pay_errors(
    sim: G2ASimulator, client: httpx.AsyncClient, code: Any, status: int
) -> None:
    order_id = await new_order(client)
    sim.set_pay_error(code)
    assert error(*await pay(client, order_id)) == (status, code)
    assert sim.balance == DEFAULT_BALANCE and not sim.order(order_id).paid
    assert (await pay(client, order_id))[0] == 200  # one-shot
    assert sim.order(order_id).pay_calls == 2


async def test_not_enough_funds(clock: FakeClock) -> None:
    async with (
        G2ASimulator(clock=clock, balance=20.0) as sim,
        httpx.AsyncClient(base_url=sim.base_url or "") as c,
    ):
        first = await paid_order(c)
        second = await new_order(c)
        assert error(*await pay(c, second)) == (403, "ORD112")
        assert sim.balance == pytest.approx(20.0 - 17.99)
        assert sim.order(first).paid and not sim.order(second).paid and sim.paid_orders == 1


async def test_payment_too_late(
    sim: G2ASimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = await new_order(client)
    clock.advance(600.5)
    assert error(*await pay(client, order_id)) == (403, "ORD114")
    assert sim.paid_orders == 0


async def test_pay_deadline_is_configurable(clock: FakeClock) -> None:
    async with (
        G2ASimulator(clock=clock, pay_deadline_seconds=5) as sim,
        httpx.AsyncClient(base_url=sim.base_url or "") as c,
    ):
        order_id = await new_order(c)
        clock.advance(5)
        assert (await pay(c, order_id))[0] == 200


async def test_pay_needs_an_empty_body(sim: G2ASimulator, client: httpx.AsyncClient) -> None:
    order_id = await new_order(client)
    for content in (b"{}", b"x", b'{"order_id": 1}'):
        response = await client.put(f"/v1/order/pay/{order_id}", content=content)
        assert error(response.status_code, response.json()) == (400, BAD_REQUEST)
    assert sim.paid_orders == 0


async def test_paying_twice(sim: G2ASimulator, client: httpx.AsyncClient, clock: FakeClock) -> None:
    order_id = await paid_order(client)
    balance = sim.balance
    assert error(*await pay(client, order_id)) == (402, "ORD05")  # still in progress
    clock.advance(1)
    assert error(*await pay(client, order_id)) == (400, ALREADY_PAID)
    assert sim.balance == balance and sim.order(order_id).pay_calls == 3


@pytest.mark.parametrize("path", ["/v1/order/details/1", "/v1/order/key/1"])
async def test_unknown_order_is_ord02(client: httpx.AsyncClient, path: str) -> None:
    assert error(*await get(client, path)) == (404, "ORD02")


async def test_pay_unknown_order_is_ord02(client: httpx.AsyncClient) -> None:
    assert error(*await pay(client, "1")) == (404, "ORD02")


async def test_key_before_payment_is_ord05(client: httpx.AsyncClient, clock: FakeClock) -> None:
    order_id = await new_order(client)
    clock.advance(100)
    assert error(*await get(client, f"/v1/order/key/{order_id}")) == (402, "ORD05")


async def test_max_price_exceeded(sim: G2ASimulator, client: httpx.AsyncClient) -> None:
    assert error(*await create(client, CYBERPUNK, max_price=17.98)) == (400, PRICE_ABOVE_MAX)
    sim.set_price(CYBERPUNK, 19.5)
    assert error(*await create(client, CYBERPUNK, max_price=19)) == (400, PRICE_ABOVE_MAX)
    assert sim.orders_created == 0
    status, body = await create(client, CYBERPUNK, max_price=19.5)
    assert status == 200 and body["price"] == 19.5
    assert next(p for p in DEFAULT_PRODUCTS if p.product_id == CYBERPUNK).min_price == 17.99


async def test_out_of_stock(sim: G2ASimulator, client: httpx.AsyncClient) -> None:
    assert error(*await create(client, SOLD_OUT)) == (400, OUT_OF_STOCK)
    sim.set_stock(TERRARIA, 0)
    assert error(*await create(client, TERRARIA)) == (400, OUT_OF_STOCK)
    sim.set_stock(TERRARIA, 1)
    sim.set_available(TERRARIA, False)
    assert error(*await create(client, TERRARIA)) == (400, OUT_OF_STOCK)
    assert sim.orders_created == 0


async def test_create_order_errors(client: httpx.AsyncClient) -> None:
    assert error(*await create(client, "123")) == (404, PRODUCT_NOT_FOUND)
    assert error(*await create(client, CYBERPUNK, currency="USD")) == (400, BAD_REQUEST)
    for body in ({}, [CYBERPUNK], {"product_id": CYBERPUNK, "max_price": "lots"}):
        response = await client.post("/v1/order", json=body)
        assert error(response.status_code, response.json()) == (400, BAD_REQUEST)
    response = await client.post("/v1/order", content=b'{"product_id": ')
    assert error(response.status_code, response.json()) == (400, BAD_REQUEST)
    status, body = await create(client, int(TERRARIA))  # a numeric id is accepted
    assert status == 200 and body["price"] == 4.25


# --------------------------------------------------------------------------- keys


async def test_image_key_is_a_png(
    sim: G2ASimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_ids = [await paid_order(client, GAME_PASS) for _ in range(2)]
    clock.advance(1)
    images = []
    for order_id in order_ids:
        status, body = await get(client, f"/v1/order/key/{order_id}")
        assert status == 200 and body["isFile"] is True
        png = base64.b64decode(body["key"], validate=True)
        assert png == png_for_key(sim.order(order_id).key)
        info = read_png(png)
        assert (info.depth, info.colour) == (8, 2)
        images.append(png)
    assert images[0] != images[1]


async def test_lost_key_answer_then_ord004(
    sim: G2ASimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = await paid_order(client)
    clock.advance(1)
    sim.fail_next("/v1/order/key/", "disconnect", after_commit=True)
    with pytest.raises(httpx.TransportError):
        await client.get(f"/v1/order/key/{order_id}")
    assert sim.order(order_id).key_downloads == 1
    assert error(*await get(client, f"/v1/order/key/{order_id}")) == (400, "ORD004")


async def test_lost_pay_answer_still_charges(
    sim: G2ASimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = await new_order(client)
    sim.fail_next("/pay/", "disconnect", after_commit=True)
    with pytest.raises(httpx.TransportError):
        await client.put(f"/v1/order/pay/{order_id}")
    assert sim.order(order_id).paid and sim.balance == pytest.approx(DEFAULT_BALANCE - 17.99)
    assert error(*await pay(client, order_id)) == (402, "ORD05")
    clock.advance(1)
    assert (await get(client, f"/v1/order/details/{order_id}"))[1]["status"] == "complete"
    assert (await get(client, f"/v1/order/key/{order_id}"))[0] == 200
    assert len(sim.calls("/pay/", method="PUT")) == 2


async def test_500_before_commit_charges_nothing(
    sim: G2ASimulator, client: httpx.AsyncClient
) -> None:
    order_id = await new_order(client)
    sim.fail_next("/pay/", "500")
    assert (await client.put(f"/v1/order/pay/{order_id}")).status_code == 500
    assert sim.paid_orders == 0 and sim.balance == DEFAULT_BALANCE
    assert (await pay(client, order_id))[0] == 200


async def test_keys_are_unique_and_never_logged(
    sim: G2ASimulator, client: httpx.AsyncClient, clock: FakeClock, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="vendors.simulators.g2a")
    order_ids = [await paid_order(client, TERRARIA) for _ in range(10)]
    clock.advance(1)
    keys = {(await get(client, f"/v1/order/key/{o}"))[1]["key"] for o in order_ids}
    assert len(keys) == 10
    assert "created" in caplog.text and "pending -> complete" in caplog.text
    assert not any(key in caplog.text for key in keys)
    assert not any(key in repr(sim.order(o)) for o in order_ids for key in keys)


# --------------------------------------------------------------------------- rate limit


async def test_rate_limited_br03(sim: G2ASimulator, client: httpx.AsyncClient) -> None:
    sim.set_rate_limited(2)
    for _ in range(2):
        response = await client.get("/v1/products")
        assert error(response.status_code, response.json()) == (429, "BR03")
        assert response.headers["Retry-After"] == "1"
    assert (await client.get("/v1/products")).status_code == 200


async def test_plain_injected_429(sim: G2ASimulator, client: httpx.AsyncClient) -> None:
    sim.fail_next("/v1/products", "429")
    response = await client.get("/v1/products")
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert (await client.get("/v1/products")).status_code == 200


# --------------------------------------------------------------------------- catalogue


def test_default_catalogue() -> None:
    by_id = {p.product_id: p for p in DEFAULT_PRODUCTS}
    assert list(by_id) == [CYBERPUNK, TERRARIA, GAME_PASS, SOLD_OUT]
    assert [p.min_price for p in DEFAULT_PRODUCTS] == [17.99, 4.25, 11.49, 1.00]
    assert [p.qty for p in DEFAULT_PRODUCTS] == [50, 50, 50, 0]
    assert [p.key_kind for p in DEFAULT_PRODUCTS] == ["text", "text", "image", "text"]
    assert by_id[GAME_PASS].name == "Xbox Game Pass Ultimate 1 Month - Xbox Live Key - GLOBAL"
    assert DEFAULT_BALANCE == 10_000.0
