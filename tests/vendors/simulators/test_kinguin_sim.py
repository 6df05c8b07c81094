"""The Kinguin ESA simulator, exercised over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.vendors.clock import FakeClock
from tests.vendors.images import read_png
from vendors.simulators.kinguin import (
    DAY,
    DEFAULT_BALANCE,
    DEFAULT_PRODUCTS,
    UNAUTHORIZED_BODY,
    KinguinSimulator,
    SimProduct,
    key_image,
)

ORDER_KEYS = {
    "totalPrice",
    "requestTotalPrice",
    "status",
    "userEmail",
    "storeId",
    "createdAt",
    "orderId",
    "orderExternalId",
    "paymentPrice",
    "products",
    "totalQty",
    "isPreorder",
    "preorderReleaseDate",
}
ORDER_PRODUCT_KEYS = {
    "kinguinId",
    "offerId",
    "productId",
    "qty",
    "name",
    "price",
    "totalPrice",
    "requestPrice",
    "isPreorder",
    "releaseDate",
    "keyType",
}
ERROR_KEYS = {"kind", "status", "title", "detail", "path", "method", "trace", "timestamp"}
ORDER_ID_RE = re.compile(r"^[A-Z0-9]{11}$")
WEBHOOK_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
CS_ID, CS_PRODUCT_ID, CS_DOCS_PRODUCT_ID = (
    1949,
    "5c9b5f6b2539a4e8f172916a",
    "5c9b68662539a4e8f17ae2fe",
)
ELDEN, MINECRAFT, HADES, STARDEW, SANDBOX = 2001, 2002, 2003, 2004, 2099
PRICES = {p.kinguin_id: p.price for p in DEFAULT_PRODUCTS}


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[KinguinSimulator]:
    async with KinguinSimulator(clock=clock) as simulator:
        yield simulator


async def buy(
    client: httpx.AsyncClient, kinguin_id: int, qty: int = 1, ref: str | None = None, **extra: Any
) -> dict[str, Any]:
    line = {"kinguinId": kinguin_id, "qty": qty, "price": PRICES[kinguin_id], **extra}
    body: dict[str, Any] = {"products": [line]}
    if ref is not None:
        body["orderExternalId"] = ref
    response = await client.post("/v1/order", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def place_error(client: httpx.AsyncClient, body: Any, version: str = "v1") -> dict[str, Any]:
    response = await client.post(f"/{version}/order", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert set(error) >= ERROR_KEYS and error["status"] == 400
    assert error["path"] == f"/api/{version}/order" and error["method"] == "POST"
    return error


async def order(client: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/order/{order_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def keys(client: httpx.AsyncClient, order_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"/v2/order/{order_id}/keys", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def key_statuses(answer: dict[str, Any]) -> list[str]:
    return [k["status"] for p in answer["products"] for k in p["keys"]]


async def eventually(check: Callable[[], bool], within: float = 2.0) -> None:
    for _ in range(int(within / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


# --------------------------------------------------------------------------- auth


async def test_api_key_required_with_the_documented_401() -> None:
    async with (
        KinguinSimulator(api_key="s3cret") as sim,
        httpx.AsyncClient(base_url=sim.base_url or "") as c,
    ):
        for headers in ({}, {"X-Api-Key": "wrong"}, {"Api-Ecommerce-Auth": "wrong"}):
            response = await c.get("/v1/balance", headers=headers)
            assert response.status_code == 401
            assert (
                response.json()
                == UNAUTHORIZED_BODY
                == {
                    "kind": "Authorization",
                    "status": 401,
                    "detail": "Invalid authentication data.",
                    "type": "Unauthorized",
                }
            )
        for header in ("X-Api-Key", "Api-Ecommerce-Auth"):
            ok = await c.get("/v1/balance", headers={header: "s3cret"})
            assert ok.status_code == 200 and ok.json() == {"balance": DEFAULT_BALANCE}


# --------------------------------------------------------------------------- products


async def test_product_v1_shape(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/products/{CS_ID}")
    assert response.status_code == 200
    p = response.json()
    assert p["kinguinId"] == CS_ID and p["productId"] == CS_PRODUCT_ID
    assert p["name"] == "Counter-Strike: Source Steam CD Key"
    assert (p["price"], p["qty"], p["textQty"], p["totalQty"]) == (5.79, 100, 100, 100)
    assert p["isPreorder"] is False and p["releaseDate"] == "2004-11-01"
    assert p["platform"] == "Steam" and p["genres"] == ["Action"]
    assert p["offersCount"] == 1 and p["cheapestOfferId"] == [p["offers"][0]["offerId"]]
    offer = p["offers"][0]
    assert set(offer) >= {
        "offerId",
        "name",
        "price",
        "qty",
        "textQty",
        "availableQty",
        "availableTextQty",
        "isPreorder",
        "releaseDate",
        "merchantName",
    }
    assert offer["price"] == 5.79 and offer["merchantName"] == "KinguinHK"
    assert set(p["images"]) == {"cover", "screenshots"}
    assert set(p["images"]["cover"]) == {"url", "thumbnail"}
    datetime.fromisoformat(p["updatedAt"])
    cover = await client.get(p["images"]["cover"]["url"])  # served by the simulator
    assert cover.status_code == 200 and cover.content.startswith(b"\x89PNG")


async def test_product_v2_and_the_docs_product_id(client: httpx.AsyncClient) -> None:
    v1 = (await client.get(f"/v1/products/{CS_ID}")).json()
    for product_id in (CS_PRODUCT_ID, CS_DOCS_PRODUCT_ID):
        response = await client.get(f"/v2/products/{product_id}")
        assert response.status_code == 200 and response.json() == v1
    image = (await client.get(f"/v1/products/{MINECRAFT}")).json()
    assert image["textQty"] == 0 and image["qty"] == 100
    preorder = (await client.get(f"/v1/products/{HADES}")).json()
    assert preorder["isPreorder"] is True
    assert (
        preorder["releaseDate"]
        == datetime.fromtimestamp(1_700_000_000 + 30 * DAY, UTC).date().isoformat()
    )


@pytest.mark.parametrize("path", ["/v1/products/1", "/v1/products/abc", "/v2/products/" + "0" * 24])
async def test_unknown_product_is_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    error = response.json()
    assert set(error) >= ERROR_KEYS
    assert (error["kind"], error["status"], error["title"]) == ("Http", 404, "Not Found")
    assert error["detail"] == "Product not found" and error["method"] == "GET"


async def test_out_of_stock_product_is_404(
    sim: KinguinSimulator, client: httpx.AsyncClient
) -> None:
    sim.set_stock(ELDEN, 0)
    assert (await client.get(f"/v1/products/{ELDEN}")).status_code == 404
    sim.set_stock(ELDEN, 3)
    product = (await client.get(f"/v1/products/{ELDEN}")).json()
    assert (product["qty"], product["textQty"]) == (3, 3)


async def test_search_products(
    sim: KinguinSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    async def search(**params: Any) -> tuple[list[int], int]:
        response = await client.get("/v1/products", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        return [p["kinguinId"] for p in body["results"]], body["item_count"]

    assert await search() == ([1949, 2001, 2002, 2003, 2004, 2099], 6)
    assert await search(name="sTeAm cd") == ([1949, 2001, 2003, 2004], 4)
    assert await search(name="steam", limit=2, page=2) == ([2003, 2004], 4)
    assert await search(kinguinId="2002,1949") == ([1949, 2002], 2)
    assert await search(productId=f"{CS_DOCS_PRODUCT_ID},64b7f0c2a1e4d5f6a7b8c9d3") == (
        [1949, 2004],
        2,
    )
    assert await search(isPreorder="yes") == ([2003], 1)
    assert 2002 not in (await search(withText="yes"))[0]
    clock.advance(60)
    sim.set_price(ELDEN, 41.0)
    since = datetime.fromtimestamp(clock.now - 1, UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert await search(updatedSince=since) == ([2001], 1)
    assert (await client.get("/v1/products", params={"name": "ab"})).json()["kind"] == (
        "ConstraintViolation"
    )
    for bad in ({"limit": 101}, {"page": 0}, {"isPreorder": "maybe"}, {"updatedSince": "x"}):
        response = await client.get("/v1/products", params=bad)
        assert response.status_code == 400 and response.json()["propertyPath"] == next(iter(bad))


# --------------------------------------------------------------------------- placing orders


async def test_seed_v1_example_body_verbatim(
    sim: KinguinSimulator, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/v1/order",
        content=b'{"products":[{"kinguinId":1949,"qty":1,"price":5.79}]}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201
    placed = response.json()
    assert set(placed) == ORDER_KEYS
    assert placed["status"] == "processing" and ORDER_ID_RE.match(placed["orderId"])
    assert (placed["totalPrice"], placed["requestTotalPrice"], placed["paymentPrice"]) == (
        5.79,
        5.79,
        5.79,
    )
    assert placed["totalQty"] == 1 and placed["orderExternalId"] is None
    assert placed["storeId"] == 1 and "@" in placed["userEmail"]
    assert placed["isPreorder"] is False and placed["preorderReleaseDate"] is None
    assert datetime.fromisoformat(placed["createdAt"]).timestamp() == 1_700_000_000
    [line] = placed["products"]
    assert set(line) == ORDER_PRODUCT_KEYS
    assert (line["kinguinId"], line["productId"], line["qty"], line["keyType"]) == (
        CS_ID,
        CS_PRODUCT_ID,
        1,
        "text",
    )
    assert (line["price"], line["totalPrice"], line["requestPrice"]) == (5.79, 5.79, 5.79)
    assert sim.orders_created == 1 and sim.balance == pytest.approx(DEFAULT_BALANCE - 5.79)


async def test_v2_docs_example_and_name_field(client: httpx.AsyncClient) -> None:
    docs = {"products": [{"productId": CS_DOCS_PRODUCT_ID, "qty": 1, "price": 5.79}]}
    response = await client.post("/v2/order", json=docs)
    assert response.status_code == 201
    assert response.json()["products"][0]["kinguinId"] == CS_ID
    with_name = {
        "products": [
            {"productId": "64b7f0c2a1e4d5f6a7b8c9d0", "qty": 2, "price": 45, "name": "Elden Ring"}
        ],
        "orderExternalId": "shop-42",
        "couponCode": "ESA",
    }
    response = await client.post("/v2/order", json=with_name)
    assert response.status_code == 201
    placed = response.json()
    assert placed["orderExternalId"] == "shop-42" and placed["couponCode"] == "ESA"
    assert (placed["totalPrice"], placed["requestTotalPrice"]) == (79.98, 90.0)
    assert placed["products"][0]["requestPrice"] == 45.0


async def test_seed_003_stray_quote_is_a_400_error_object(
    sim: KinguinSimulator, client: httpx.AsyncClient
) -> None:
    raw = (
        b'{"products":[{"productId":"5c9b68662539a4e8f17ae2fe","qty":1,'
        b'"name":"Counter-Strike: Source Steam CD Key","price":5.79"}]}'
    )
    response = await client.post(
        "/v2/order", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()
    assert set(error) >= ERROR_KEYS and error["kind"] == "Http" and error["title"] == "Bad Request"
    assert (error["path"], error["method"]) == ("/api/v2/order", "POST")
    assert sim.orders_created == 0


@pytest.mark.parametrize(
    ("body", "path", "value"),
    [
        ({"products": [{"kinguinId": 1949, "qty": 10, "price": 5.79}]}, "products[0].qty", 10),
        ({"products": [{"kinguinId": 1949, "qty": 0, "price": 5.79}]}, "products[0].qty", 0),
        (
            {"products": [{"kinguinId": 1949, "qty": 5, "price": 6}] * 2},
            "products",
            10,
        ),
        (
            {"products": [{"kinguinId": 1949 + i, "qty": 1, "price": 50} for i in range(11)]},
            "products",
            11,
        ),
        ({"products": []}, "products", 0),
        ({"products": [{"kinguinId": 1949, "qty": 1}]}, "products[0].price", None),
        ({"products": [{"kinguinId": "x", "qty": 1, "price": 6}]}, "products[0].kinguinId", "x"),
        (
            {"products": [{"kinguinId": 1949, "qty": 1, "price": 6, "keyType": "image"}]},
            "products[0].keyType",
            "image",
        ),
        ({"orderExternalId": "a"}, "products", None),
        ([1949], "body", None),
    ],
)
async def test_constraint_violations(
    sim: KinguinSimulator, client: httpx.AsyncClient, body: Any, path: str, value: Any
) -> None:
    error = await place_error(client, body)
    assert error["kind"] == "ConstraintViolation" and error["propertyPath"] == path
    if value is not None:
        assert error["invalidValue"] == value
    assert sim.orders_created == 0 and sim.balance == DEFAULT_BALANCE


async def test_order_external_id_is_unique(
    sim: KinguinSimulator, client: httpx.AsyncClient
) -> None:
    first = await buy(client, CS_ID, ref="shop-1")
    error = await place_error(
        client,
        {"products": [{"kinguinId": ELDEN, "qty": 1, "price": 40}], "orderExternalId": "shop-1"},
    )
    assert error["kind"] == "ConstraintViolation" and error["propertyPath"] == "orderExternalId"
    assert "unique" in error["detail"] and error["invalidValue"] == "shop-1"
    assert sim.orders_created == 1
    found = sim.order_by_external_id("shop-1")
    assert found is not None and found.order_id == first["orderId"] and found.create_calls == 2
    assert sim.order_by_external_id("nope") is None
    assert sim.balance == pytest.approx(DEFAULT_BALANCE - 5.79)


async def test_product_unavailable(sim: KinguinSimulator, client: httpx.AsyncClient) -> None:
    cases = [
        {"kinguinId": CS_ID, "qty": 1, "price": 5.78},  # lower than the current price
        {"kinguinId": 1, "qty": 1, "price": 5},  # unknown product
        {"kinguinId": MINECRAFT, "qty": 1, "price": 19.5, "keyType": "text"},  # no text keys
        {"kinguinId": CS_ID, "qty": 1, "price": 5.79, "offerId": "0" * 24},  # unknown offer
    ]
    for line in cases:
        error = await place_error(client, {"products": [line]})
        assert error["kind"] == "ProductUnavailable", line
    v2 = await place_error(
        client, {"products": [{"productId": "f" * 24, "qty": 1, "price": 9}]}, "v2"
    )
    assert v2["kind"] == "ProductUnavailable"
    sim.set_stock(ELDEN, 2)
    error = await place_error(client, {"products": [{"kinguinId": ELDEN, "qty": 3, "price": 40}]})
    assert error["kind"] == "ProductUnavailable"
    sim.set_stock(CS_ID, 5, text_qty=1)
    line = {"kinguinId": CS_ID, "qty": 2, "price": 5.79, "keyType": "text"}
    assert (await place_error(client, {"products": [line]}))["kind"] == "ProductUnavailable"
    sim.set_price(CS_ID, 6.5)
    assert (await place_error(client, {"products": [{**line, "qty": 1}]}))["kind"] == (
        "ProductUnavailable"
    )
    assert sim.orders_created == 0
    # a higher requested price is fine: the current price is charged
    placed = await buy(client, CS_ID, price=7.0)
    assert placed["totalPrice"] == 6.5 and placed["requestTotalPrice"] == 7.0


async def test_stock_goes_down(sim: KinguinSimulator, client: httpx.AsyncClient) -> None:
    await buy(client, CS_ID, qty=3)
    await buy(client, MINECRAFT, qty=2)
    assert (sim.products[CS_ID].qty, sim.products[CS_ID].text_qty) == (97, 97)
    assert (sim.products[MINECRAFT].qty, sim.products[MINECRAFT].text_qty) == (98, 0)


async def test_preorder_rules(sim: KinguinSimulator, client: httpx.AsyncClient) -> None:
    preorder = {"kinguinId": HADES, "qty": 1, "price": 24.99}
    regular = {"kinguinId": CS_ID, "qty": 1, "price": 5.79}
    sim.products[ELDEN].is_preorder = True
    sim.products[ELDEN].release_at = sim.clock() + DAY
    other = {"kinguinId": ELDEN, "qty": 1, "price": 39.99}
    for products in ([{**preorder, "keyType": "text"}], [preorder, other], [preorder, regular]):
        error = await place_error(client, {"products": products})
        assert error["kind"] == "Preorder", products
    assert sim.orders_created == 0
    placed = (await client.post("/v1/order", json={"products": [preorder]})).json()
    assert placed["isPreorder"] is True and placed["products"][0]["isPreorder"] is True
    assert placed["preorderReleaseDate"] == placed["products"][0]["releaseDate"]


async def test_balance_charged_then_insufficient(clock: FakeClock) -> None:
    async with (
        KinguinSimulator(clock=clock, balance=50.0) as sim,
        httpx.AsyncClient(base_url=sim.base_url or "") as c,
    ):
        await buy(c, ELDEN)
        assert (await c.get("/v1/balance")).json() == {"balance": 10.01}
        error = await place_error(
            c, {"products": [{"kinguinId": STARDEW, "qty": 2, "price": 9.49}]}
        )
        assert error["kind"] == "InsufficientBalance"
        assert sim.orders_created == 1 and sim.balance == 10.01
        sim.set_balance(100)
        await buy(c, STARDEW, qty=2)
        assert sim.balance == pytest.approx(81.02)


# --------------------------------------------------------------------------- over time


async def test_status_and_keys_move_with_the_clock(
    sim: KinguinSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    placed = await buy(client, CS_ID, qty=3, ref="shop-7")
    order_id = placed["orderId"]
    first = await order(client, order_id)
    assert first["status"] == "processing"
    assert key_statuses(first) == ["PROCESSING"] * 3
    assert await keys(client, order_id) == []

    clock.advance(0.7)  # one key of three delivered, the order still processing
    partial = await order(client, order_id)
    assert partial["status"] == "processing"
    assert key_statuses(partial) == ["DELIVERED", "PROCESSING", "PROCESSING"]
    [key] = await keys(client, order_id)
    assert set(key) == {"id", "serial", "type", "name", "kinguinId", "offerId", "productId"}
    assert key["type"] == "text/plain" and key["kinguinId"] == CS_ID
    assert key["id"] == partial["products"][0]["keys"][0]["id"]

    clock.advance(1.3)
    done = await order(client, order_id)
    assert done["status"] == "completed" and key_statuses(done) == ["DELIVERED"] * 3
    delivered = await keys(client, order_id)
    simulated = sim.orders[order_id]
    assert [k["serial"] for k in delivered] == simulated.keys
    assert simulated.status == "completed" and simulated.external_id == "shop-7"
    assert (simulated.qty, simulated.price) == (3, 17.37)


async def test_keys_paging(
    sim: KinguinSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = (await buy(client, ELDEN, qty=9))["orderId"]
    clock.advance(2)
    everything = await keys(client, order_id)
    assert len(everything) == 9 and len({k["serial"] for k in everything}) == 9
    pages = [await keys(client, order_id, limit=4, page=page) for page in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [4, 4, 1, 0]
    assert [k for p in pages for k in p] == everything
    response = await client.get(f"/v2/order/{order_id}/keys", params={"limit": 101})
    assert response.status_code == 400 and response.json()["kind"] == "ConstraintViolation"


async def test_image_keys_are_distinct_valid_pngs(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = (await buy(client, MINECRAFT, qty=2))["orderId"]
    clock.advance(2)
    answer = await order(client, order_id)
    assert answer["products"][0]["keyType"] == "image"
    delivered = await keys(client, order_id)
    assert [k["type"] for k in delivered] == ["image/png", "image/png"]
    images = [base64.b64decode(k["serial"], validate=True) for k in delivered]
    assert images[0] != images[1]
    pngs = [read_png(image) for image in images]
    assert all((png.depth, png.colour) == (8, 2) for png in pngs)
    texts = [png.texts["Comment"] for png in pngs]
    assert all(re.fullmatch(r"[A-Z2-9]{5}(-[A-Z2-9]{5}){2}", t) for t in texts)


def test_other_image_types() -> None:
    gif = key_image("image/gif", "AAAAA-BBBBB-CCCCC")
    assert gif.startswith(b"GIF89a") and gif.endswith(b";") and b"AAAAA-BBBBB-CCCCC" in gif
    jpeg = key_image("image/jpeg", "AAAAA-BBBBB-CCCCC")
    assert jpeg.startswith(b"\xff\xd8") and jpeg.endswith(b"\xff\xd9")
    assert b"AAAAA-BBBBB-CCCCC" in jpeg
    assert key_image("image/jpeg", "X") != jpeg


async def test_partial_outcome(
    sim: KinguinSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    placed = await buy(client, STARDEW, qty=3, ref="shop-partial")
    assert sim.balance == pytest.approx(DEFAULT_BALANCE - 28.47)
    clock.advance(1.0)
    midway = await order(client, placed["orderId"])
    assert midway["status"] == "processing"
    assert key_statuses(midway) == ["DELIVERED", "PROCESSING", "PROCESSING"]
    clock.advance(1.0)
    final = await order(client, placed["orderId"])
    assert final["status"] == "canceled"
    assert key_statuses(final) == ["DELIVERED", "DELIVERED", "CANCELED"]
    assert len(await keys(client, placed["orderId"])) == 2
    assert len(sim.orders[placed["orderId"]].keys) == 2
    assert sim.balance == pytest.approx(DEFAULT_BALANCE - 2 * 9.49)  # one unit given back


async def test_canceled_outcome_and_set_outcome(
    sim: KinguinSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = (await buy(client, SANDBOX, qty=2))["orderId"]
    clock.advance(2)
    answer = await order(client, order_id)
    assert answer["status"] == "canceled" and key_statuses(answer) == ["CANCELED"] * 2
    assert await keys(client, order_id) == [] and sim.balance == DEFAULT_BALANCE
    sim.set_outcome(CS_ID, "canceled", processing_seconds=0)
    instant = await buy(client, CS_ID)
    assert instant["status"] == "canceled"


async def test_preorder_waits_for_release(
    sim: KinguinSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = (await buy(client, HADES))["orderId"]
    clock.advance(3600)
    waiting = await order(client, order_id)
    assert waiting["status"] == "processing" and key_statuses(waiting) == ["PENDING"]
    sim.release_preorder(HADES)
    assert (await client.get(f"/v1/products/{HADES}")).json()["isPreorder"] is False
    clock.advance(1)
    assert key_statuses(await order(client, order_id)) == ["PROCESSING"]
    clock.advance(1)
    assert (await order(client, order_id))["status"] == "completed"
    assert len(await keys(client, order_id)) == 1


async def test_preorder_released_by_time(
    sim: KinguinSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = (await buy(client, HADES))["orderId"]
    clock.advance(30 * DAY - 1)
    assert (await order(client, order_id))["status"] == "processing"
    clock.advance(3)
    assert (await order(client, order_id))["status"] == "completed"
    assert (await client.get(f"/v1/products/{HADES}")).json()["isPreorder"] is False


async def test_force_status(
    sim: KinguinSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    a = (await buy(client, CS_ID, qty=2))["orderId"]
    b = (await buy(client, ELDEN))["orderId"]
    c = (await buy(client, CS_ID))["orderId"]
    sim.force_status(a, "completed")
    assert (await order(client, a))["status"] == "completed" and len(await keys(client, a)) == 2
    sim.force_status(b, "processing")
    clock.advance(100)
    assert (await order(client, b))["status"] == "processing" and sim.orders[b].keys == []
    balance = sim.balance
    sim.force_status(c, "refunded")
    refunded = await order(client, c)
    assert refunded["status"] == "refunded" and key_statuses(refunded) == ["REFUNDED"]
    assert await keys(client, c) == [] and sim.balance == pytest.approx(balance + 5.79)


# --------------------------------------------------------------------------- orders: get, search


async def test_unknown_order_is_404(client: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", "/v1/order/NOPE"),
        ("GET", "/v2/order/NOPE/keys"),
        ("POST", "/v2/order/NOPE/dispatch"),
    ):
        response = await client.request(method, path)
        assert response.status_code == 404
        assert response.json()["kind"] == "OrderNotFound"


async def test_search_orders(
    sim: KinguinSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    first = await buy(client, CS_ID, ref="shop-1")
    clock.advance(DAY)
    second = await buy(client, ELDEN, ref="shop-2")
    third = await buy(client, HADES, ref="shop-3")
    clock.advance(2)

    async def search(**params: Any) -> tuple[list[str | None], int]:
        response = await client.get("/v1/order", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        return [o["orderExternalId"] for o in body["results"]], body["item_count"]

    assert await search() == (["shop-3", "shop-2", "shop-1"], 3)  # newest first
    found = (await client.get("/v1/order", params={"orderExternalId": "shop-2"})).json()
    assert found["item_count"] == 1 and found["results"][0]["orderId"] == second["orderId"]
    assert "keys" in found["results"][0]["products"][0]
    assert await search(orderExternalId="shop-9") == ([], 0)
    assert await search(orderId=first["orderId"]) == (["shop-1"], 1)
    assert await search(status="completed") == (["shop-2", "shop-1"], 2)
    assert await search(status="processing") == (["shop-3"], 1)
    assert await search(kinguinId=ELDEN) == (["shop-2"], 1)
    assert await search(productId=CS_PRODUCT_ID) == (["shop-1"], 1)
    assert await search(isPreorder="yes") == (["shop-3"], 1)
    assert await search(isPreorder="no", limit=1, page=2) == (["shop-1"], 2)
    created = datetime.fromisoformat(third["createdAt"])
    assert await search(createdAtFrom=created.strftime("%Y-%m-%dT%H:%M:%S+00:00")) == (
        ["shop-3", "shop-2"],
        2,
    )
    day_before = datetime.fromtimestamp(clock.now - DAY - 2, UTC).date().isoformat()
    assert "shop-1" in (await search(createdAtTo=day_before))[0]
    assert await search(createdAtTo=created.strftime("%Y-%m-%dT%H:%M:%S.000Z")) == (
        ["shop-3", "shop-2", "shop-1"],
        3,
    )
    bad = await client.get("/v1/order", params={"createdAtFrom": "yesterday"})
    assert bad.status_code == 400 and bad.json()["propertyPath"] == "createdAtFrom"


async def test_dispatch_balance_and_unknown_route(client: httpx.AsyncClient) -> None:
    order_id = (await buy(client, CS_ID))["orderId"]
    first = await client.post(f"/v2/order/{order_id}/dispatch")
    again = await client.post(f"/v2/order/{order_id}/dispatch")
    assert first.status_code == again.status_code == 201
    assert isinstance(first.json()["dispatchId"], int)
    assert again.json()["dispatchId"] == first.json()["dispatchId"] + 1
    assert (await client.get("/v1/balance")).json() == {"balance": round(DEFAULT_BALANCE - 5.79, 2)}
    missing = await client.get("/v3/nothing")
    assert missing.status_code == 404 and missing.json()["kind"] == "Http"


# --------------------------------------------------------------------------- faults


async def test_lost_answer_after_commit_creates_exactly_one_order(
    sim: KinguinSimulator, client: httpx.AsyncClient
) -> None:
    sim.fail_next("/v1/order", "500", after_commit=True, method="POST")
    body = {"products": [{"kinguinId": CS_ID, "qty": 1, "price": 5.79}], "orderExternalId": "r-1"}
    lost = await client.post("/v1/order", json=body)
    assert lost.status_code == 500
    assert sim.orders_created == 1  # created and charged, answer lost
    found = (await client.get("/v1/order", params={"orderExternalId": "r-1"})).json()
    assert found["item_count"] == 1
    retry = await client.post("/v1/order", json=body)
    assert retry.status_code == 400 and retry.json()["kind"] == "ConstraintViolation"
    assert sim.orders_created == 1 and sim.balance == pytest.approx(DEFAULT_BALANCE - 5.79)
    simulated = sim.order_by_external_id("r-1")
    assert simulated is not None and simulated.create_calls == 2
    assert found["results"][0]["orderId"] == simulated.order_id


async def test_keys_are_never_logged(
    sim: KinguinSimulator, client: httpx.AsyncClient, clock: FakeClock, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG, logger="vendors.simulators.kinguin")
    order_id = (await buy(client, ELDEN, qty=3))["orderId"]
    image_id = (await buy(client, MINECRAFT))["orderId"]
    clock.advance(2)
    serials = [k["serial"] for o in (order_id, image_id) for k in await keys(client, o)]
    await order(client, order_id)
    assert len(serials) == 4
    assert "created" in caplog.text and "processing -> completed" in caplog.text
    assert not any(serial in caplog.text for serial in serials)


# --------------------------------------------------------------------------- webhooks


class Receiver:
    """A tiny webhook endpoint: records every POST, answers with queued statuses then 204."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.answers: list[int] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _hook(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), json.loads(await request.read())))
        return web.Response(status=self.answers.pop(0) if self.answers else 204)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as r:
        yield r


@pytest.fixture
async def hooked(
    sim: KinguinSimulator, receiver: Receiver
) -> AsyncIterator[tuple[KinguinSimulator, Receiver]]:
    sim.webhook_url, sim.webhook_secret = receiver.url, "hook-secret"
    sim.webhook_backoff = 0.01
    yield sim, receiver


async def test_order_status_webhook(
    hooked: tuple[KinguinSimulator, Receiver], client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sim, receiver = hooked
    placed = await buy(client, CS_ID, ref="shop-hook")
    await asyncio.sleep(0.15)
    assert receiver.received == []  # no event for the creation itself
    clock.advance(2)
    await eventually(lambda: len(receiver.received) == 1)
    headers, body = receiver.received[0]
    assert headers["X-Event-Name"] == "order.status"
    assert headers["X-Event-Secret"] == "hook-secret"
    assert headers["Content-Type"].startswith("application/json")
    assert set(body) == {"orderId", "orderExternalId", "status", "updatedAt"}
    assert (body["orderId"], body["orderExternalId"], body["status"]) == (
        placed["orderId"],
        "shop-hook",
        "completed",
    )
    assert WEBHOOK_TIME_RE.match(body["updatedAt"])
    assert datetime.fromisoformat(body["updatedAt"]).timestamp() == pytest.approx(clock.now)
    assert [(d.event, d.status, d.attempt) for d in sim.webhooks_sent] == [("order.status", 204, 1)]
    await asyncio.sleep(0.15)
    assert len(receiver.received) == 1  # a status is announced once


async def test_webhook_retried_and_duplicated(
    hooked: tuple[KinguinSimulator, Receiver], client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sim, receiver = hooked
    receiver.answers = [500, 503]
    await buy(client, SANDBOX)
    clock.advance(2)
    await eventually(lambda: len(receiver.received) == 3)
    assert [d.status for d in sim.webhooks_sent] == [500, 503, 204]
    assert [d.attempt for d in sim.webhooks_sent] == [1, 2, 3]
    assert receiver.received[-1][1]["status"] == "canceled"

    sim.duplicate_webhooks = True
    await buy(client, CS_ID)
    clock.advance(2)
    await eventually(lambda: len(receiver.received) == 5)
    assert receiver.received[3][1] == receiver.received[4][1]


async def test_send_order_status_stale_and_forged(
    hooked: tuple[KinguinSimulator, Receiver], client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sim, receiver = hooked
    order_id = (await buy(client, ELDEN))["orderId"]
    status = await sim.send_order_status(order_id, "processing", updated_at=clock.now - 60)
    assert status == 204
    _, body = receiver.received[-1]
    assert body["status"] == "processing" and WEBHOOK_TIME_RE.match(body["updatedAt"])
    assert datetime.fromisoformat(body["updatedAt"]).timestamp() == pytest.approx(clock.now - 60)
    receiver.answers = [401]
    assert await sim.send_order_status(order_id, secret="forged") == 401
    assert receiver.received[-1][0]["X-Event-Secret"] == "forged"
    assert sim.webhooks_sent[-1].status == 401 and len(sim.webhooks_sent) == 2  # no retries
    await sim.send_order_status(order_id, updated_at="2020-10-16T11:24:08.025+00:00")
    assert receiver.received[-1][1]["updatedAt"] == "2020-10-16T11:24:08.025+00:00"


async def test_product_update_webhook(
    hooked: tuple[KinguinSimulator, Receiver], clock: FakeClock
) -> None:
    sim, receiver = hooked
    sim.set_stock(ELDEN, 7)
    assert await sim.send_product_update(ELDEN) == 204
    headers, body = receiver.received[-1]
    assert headers["X-Event-Name"] == "product.update"
    assert body == {
        "kinguinId": ELDEN,
        "productId": "64b7f0c2a1e4d5f6a7b8c9d0",
        "qty": 7,
        "textQty": 7,
        "cheapestOfferId": [sim.products[ELDEN].offer_id],
        "price": 39.99,
        "updatedAt": body["updatedAt"],
    }
    assert WEBHOOK_TIME_RE.match(body["updatedAt"])


async def test_webhook_to_nowhere_is_recorded(clock: FakeClock) -> None:
    async with Receiver() as gone:
        url = gone.url
    async with KinguinSimulator(clock=clock, webhook_url=url, webhook_secret="s") as sim:
        sim.webhook_attempts, sim.webhook_backoff = 2, 0.01
        sim.products[CS_ID].processing_seconds = 0
        async with httpx.AsyncClient(base_url=sim.base_url or "") as c:
            await buy(c, CS_ID)
        await eventually(lambda: len(sim.webhooks_sent) == 2)
        assert all(d.status is None and d.error for d in sim.webhooks_sent)


# --------------------------------------------------------------------------- catalogue


def test_default_catalogue() -> None:
    by_id = {p.kinguin_id: p for p in DEFAULT_PRODUCTS}
    assert {k: (p.product_id, p.price) for k, p in by_id.items()} == {
        1949: ("5c9b5f6b2539a4e8f172916a", 5.79),
        2001: ("64b7f0c2a1e4d5f6a7b8c9d0", 39.99),
        2002: ("64b7f0c2a1e4d5f6a7b8c9d1", 19.50),
        2003: ("64b7f0c2a1e4d5f6a7b8c9d2", 24.99),
        2004: ("64b7f0c2a1e4d5f6a7b8c9d3", 9.49),
        2099: ("64b7f0c2a1e4d5f6a7b8c9ff", 1.00),
    }
    assert by_id[2002].mime == "image/png" and by_id[2003].is_preorder
    assert (by_id[2004].outcome, by_id[2099].outcome) == ("partial", "canceled")
    assert all(p.qty == 100 and p.processing_seconds == 2.0 for p in DEFAULT_PRODUCTS)
    assert isinstance(DEFAULT_PRODUCTS[0], SimProduct)
