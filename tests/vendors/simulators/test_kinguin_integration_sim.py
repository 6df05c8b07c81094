"""The Kinguin integration API simulator, exercised over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import logging
import re
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.vendors.clock import START, FakeClock
from tests.vendors.images import read_png
from vendors.simulators.kinguin_integration import (
    DEFAULT_BALANCE,
    DEFAULT_PRODUCTS,
    FIRST_ORDER_ID,
    SEED_JPEG,
    KinguinIntegrationSimulator,
    SimProduct,
    parse_utc,
)

API_KEY = "kinguin-test-key"
SEED_ORDER = {
    "products": [
        {"kinguinId": 5, "qty": 1, "name": "Anno", "price": 3.59},
        {"kinguinId": 8, "qty": 1, "name": "Aliens", "price": 4.99},
    ]
}
TEXT_KEY = re.compile(r"^[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}$")
PRICES = {p.kinguin_id: p.price for p in DEFAULT_PRODUCTS}


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[KinguinIntegrationSimulator]:
    async with KinguinIntegrationSimulator(api_key=API_KEY, clock=clock) as simulator:
        yield simulator


@pytest.fixture
def client_headers() -> dict[str, str]:
    return {"api-ecommerce-auth": API_KEY}


async def place(client: httpx.AsyncClient, *lines: tuple[int, int]) -> str:
    """Order `(kinguinId, qty)` lines at the catalogue price; the new orderId."""
    products = [{"kinguinId": k, "qty": q, "price": PRICES[k]} for k, q in lines]
    response = await client.post("/v1/order", json={"products": products})
    assert response.status_code == 201, response.text
    order_id = response.json()["orderId"]
    assert isinstance(order_id, str) and order_id.isdigit()
    return order_id


async def get_order(client: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/order/{order_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def dispatch(client: httpx.AsyncClient, order_id: str) -> httpx.Response:
    return await client.post("/v1/order/dispatch", json={"orderId": order_id})


async def dispatched_keys(
    client: httpx.AsyncClient, clock: FakeClock, *lines: tuple[int, int]
) -> tuple[str, list[dict[str, Any]]]:
    order_id = await place(client, *lines)
    clock.advance(1.0)
    response = await dispatch(client, order_id)
    assert response.status_code == 201, response.text
    keys = await client.get(
        "/v1/order/dispatch/keys", params={"dispatchId": response.json()["dispatchId"]}
    )
    assert keys.status_code == 200
    return order_id, keys.json()


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/order", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# --------------------------------------------------------------------------- auth


async def test_authentication(sim: KinguinIntegrationSimulator) -> None:
    assert sim.base_url is not None
    async with httpx.AsyncClient(base_url=sim.base_url) as c:
        for headers in ({}, {"api-ecommerce-auth": "wrong"}, {"X-Api-Key": "wrong"}):
            for method, url in (("GET", "/v1/order"), ("POST", "/v1/order")):
                response = await c.request(method, url, headers=headers, json=SEED_ORDER)
                assert response.status_code == 401
                assert response.json() == {"code": 401, "message": "Invalid authentication data."}
        assert sim.orders_created == 0
        for header in ("api-ecommerce-auth", "Api-Ecommerce-Auth", "X-Api-Key", "x-api-key"):
            ok = await c.get("/v1/order", headers={header: API_KEY})
            assert ok.status_code == 200


async def test_no_api_key_accepts_anything(clock: FakeClock) -> None:
    async with (
        KinguinIntegrationSimulator(clock=clock) as sim,
        httpx.AsyncClient(base_url=sim.base_url or "") as c,
    ):
        assert (await c.get("/v1/products/5")).status_code == 200


# --------------------------------------------------------------------------- the seed's flow


async def test_seed_example_order_lifecycle(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    response = await client.post(
        "/v1/order",
        content=json.dumps(SEED_ORDER),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201
    assert response.json() == {"orderId": str(FIRST_ORDER_ID)}
    order_id = response.json()["orderId"]
    assert sim.balance == pytest.approx(DEFAULT_BALANCE - 8.58)

    pending = await get_order(client, order_id)
    assert pending == {
        "totalPrice": 8.58,
        "orderId": order_id,
        "status": "pending",
        "storeId": 1,
        "createdAt": "2023-11-14T22:13:20+00:00",
        "products": [
            {"kinguinId": 5, "qty": 1, "name": "Anno", "price": 3.59},
            {"kinguinId": 8, "qty": 1, "name": "Aliens", "price": 4.99},
        ],
    }
    refused = await dispatch(client, order_id)
    assert refused.status_code == 400
    assert refused.json()["code"] == "ConstraintViolation" and refused.json()["message"]

    clock.advance(1.0)
    assert (await get_order(client, order_id))["status"] == "processing"
    clock.advance(180)
    first = await dispatch(client, order_id)
    assert first.status_code == 201
    dispatch_id = first.json()["dispatchId"]
    assert isinstance(dispatch_id, int) and first.json() == {"dispatchId": dispatch_id}

    completed = await get_order(client, order_id)
    assert completed["status"] == "completed"
    assert completed["dispatch"] == {
        "dispatchId": dispatch_id,
        "createdAt": "2023-11-14T22:16:21+00:00",
    }
    keys = await client.get(f"/v1/order/dispatch/keys?dispatchId={dispatch_id}")
    assert keys.status_code == 200
    items = keys.json()
    assert [(k["name"], k["type"], k["kinguinId"]) for k in items] == [
        ("Anno", "text/plain", 5),
        ("Aliens", "image/jpeg", 8),
    ]
    assert set(items[0]) == {"serial", "type", "name", "kinguinId"}
    assert TEXT_KEY.match(items[0]["serial"])

    order = sim.order(order_id)
    assert order.status == "completed" and order.dispatch_id == dispatch_id
    assert order.keys == [k["serial"] for k in items]
    assert order.total_price == 8.58 and order.create_calls == 1
    assert order.created_at == START and len(order.products) == 2
    assert sim.products[5].qty == 99 and sim.products[8].qty == 99


async def test_dispatch_twice_gives_the_same_dispatch_and_keys(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = await place(client, (5, 3))
    clock.advance(1.0)
    first, second = [(await dispatch(client, order_id)).json() for _ in range(2)]
    assert first == second
    url = f"/v1/order/dispatch/keys?dispatchId={first['dispatchId']}"
    keys_1, keys_2 = [(await client.get(url)).json() for _ in range(2)]
    assert keys_1 == keys_2 and len(keys_1) == 3 and len({k["serial"] for k in keys_1}) == 3
    assert sim.order(order_id).dispatch_calls == 2 and len(sim.order(order_id).keys) == 3


async def test_ids_increase_and_dispatch_ids_differ(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    ids = [await place(client, (5, 1)) for _ in range(3)]
    assert ids == [str(FIRST_ORDER_ID + n) for n in range(3)]
    clock.advance(1.0)
    dispatch_ids = [(await dispatch(client, i)).json()["dispatchId"] for i in ids]
    assert dispatch_ids == sorted(set(dispatch_ids))


async def test_unknown_order_dispatch_and_keys(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/v1/order/1"),
        await dispatch(client, "1"),
        await client.get("/v1/order/dispatch/keys", params={"dispatchId": 1}),
    ):
        assert response.status_code == 404 and response.json()["code"] == "OrderNotFound"
    for params in ({}, {"dispatchId": "abc"}):
        response = await client.get("/v1/order/dispatch/keys", params=params)
        assert response.status_code == 400
        assert response.json()["code"] == "ConstraintViolation"
    response = await client.post("/v1/order/dispatch", json={})
    assert response.status_code == 400 and response.json()["code"] == "ConstraintViolation"


async def test_order_id_may_be_sent_as_a_number(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order_id = await place(client, (5, 1))
    clock.advance(1.0)
    response = await client.post("/v1/order/dispatch", json={"orderId": int(order_id)})
    assert response.status_code == 201


# --------------------------------------------------------------------------- keys


async def test_image_keys_are_valid_and_distinct(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sim.set_key_type(5, "image/png")
    sim.set_key_type(18, "image/gif")
    _, keys = await dispatched_keys(client, clock, (5, 2), (8, 2), (18, 2))
    assert [k["type"] for k in keys] == ["image/png"] * 2 + ["image/jpeg"] * 2 + ["image/gif"] * 2
    images = [base64.b64decode(k["serial"], validate=True) for k in keys]
    assert len(set(images)) == 6
    for raw in images[:2]:
        png = read_png(raw)
        assert (png.depth, png.colour) == (8, 0)  # greyscale
        assert TEXT_KEY.match(png.texts["Serial"])
    for raw in images[2:4]:
        assert raw[:3] == b"\xff\xd8\xff" and raw.endswith(b"\xff\xd9")
        assert raw.replace(raw[2 : 4 + struct.unpack(">H", raw[4:6])[0]], b"") == SEED_JPEG
    for raw in images[4:]:
        assert raw.startswith(b"GIF89a") and raw.endswith(b";")
        assert struct.unpack("<HH", raw[6:10]) == (1, 1)
    assert [k["name"] for k in keys][::2] == [
        "Anno 1602 History Edition",
        "Aliens: Colonial Marines",
        "Battlefield 3 Close Quarters Expansion Pack DLC",
    ]


async def test_keys_are_never_logged(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient, clock: FakeClock, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    order_id, keys = await dispatched_keys(client, clock, (5, 3), (8, 1))
    await dispatch(client, order_id)
    assert "created" in caplog.text and "dispatched" in caplog.text
    assert "pending -> processing" in caplog.text
    for key in keys:
        assert key["serial"] not in caplog.text
        assert key["serial"] not in repr(sim.order(order_id))
    assert all(key["serial"] not in repr(record) for record in sim.log for key in keys)


# --------------------------------------------------------------------------- failures


async def test_price_too_low_creates_an_out_of_stock_order(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sim.set_price(18, 14.0)
    body = {"products": [{"kinguinId": 18, "qty": 2, "price": 13.50}]}
    response = await client.post("/v1/order", json=body)
    assert response.status_code == 201
    order_id = response.json()["orderId"]
    assert sim.balance == pytest.approx(DEFAULT_BALANCE - 27.0)
    assert (await get_order(client, order_id))["status"] == "pending"
    clock.advance(1.0)
    answer = await get_order(client, order_id)
    assert answer["status"] == "out_of_stock" and "dispatch" not in answer
    assert sim.balance == pytest.approx(DEFAULT_BALANCE)  # given back
    refused = await dispatch(client, order_id)
    assert refused.status_code == 400 and refused.json()["code"] == "OrderFailed"
    assert sim.products[18].qty == 100  # no stock taken

    body["products"][0]["price"] = 15.0  # a higher offer pays the current price
    order_id = (await client.post("/v1/order", json=body)).json()["orderId"]
    assert sim.order(order_id).products[0].price == 14.0
    assert sim.order(order_id).total_price == 28.0


async def test_stock_too_low_and_the_sandbox_product(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sim.set_stock(5, 2)
    short = await place(client, (5, 3))
    fine = await place(client, (5, 2))
    sandbox = await place(client, (99, 1))
    assert sim.products[5].qty == 0
    clock.advance(1.0)
    assert [sim.order(i).status for i in (short, fine, sandbox)] == [
        "out_of_stock",
        "processing",
        "out_of_stock",
    ]
    product = (await client.get("/v1/products/5")).json()
    assert (product["qty"], product["textQty"]) == (0, 0)
    assert sim.balance == pytest.approx(DEFAULT_BALANCE - 2 * 3.59)
    assert [o.order_id for o in sim.orders_for(5)] == [short, fine]


async def test_error_outcome(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sim.set_outcome(8, "error", pending_seconds=5)
    order_id = await place(client, (5, 1), (8, 1))
    clock.advance(4.9)
    assert sim.order(order_id).status == "pending"
    clock.advance(0.1)
    assert (await get_order(client, order_id))["status"] == "error"
    assert sim.balance == pytest.approx(DEFAULT_BALANCE)
    assert (await dispatch(client, order_id)).json()["code"] == "OrderFailed"
    sim.set_outcome(8, "completed", pending_seconds=0)
    assert sim.order(await place(client, (8, 1))).status == "processing"


async def test_insufficient_balance(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient
) -> None:
    sim.balance = 20.0
    await place(client, (5, 2))
    response = await client.post(
        "/v1/order", json={"products": [{"kinguinId": 18, "qty": 1, "price": 13.5}]}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "InsufficientBalance" and response.json()["message"]
    assert sim.orders_created == 1 and sim.balance == pytest.approx(20.0 - 7.18)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"products": [{"kinguinId": 5, "qty": 0, "price": 3.59}]}, "ConstraintViolation"),
        ({"products": [{"kinguinId": 5, "qty": 10, "price": 3.59}]}, "ConstraintViolation"),
        ({"products": [{"kinguinId": 5, "qty": 1}]}, "ConstraintViolation"),
        ({"products": [{"kinguinId": 5, "qty": 1, "price": 0}]}, "ConstraintViolation"),
        ({"products": []}, "ConstraintViolation"),
        ({}, "ConstraintViolation"),
        ({"products": [{"kinguinId": 5, "qty": 1, "price": 3.59}] * 11}, "ConstraintViolation"),
        ({"products": [{"kinguinId": 424242, "qty": 1, "price": 3.59}]}, "ProductUnavailable"),
    ],
)
async def test_invalid_orders_create_nothing(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient, body: Any, code: str
) -> None:
    response = await client.post("/v1/order", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["message"]
    assert sim.orders_created == 0 and sim.balance == DEFAULT_BALANCE


async def test_ten_lines_and_nine_units_are_allowed(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/v1/order", json={"products": [{"kinguinId": 5, "qty": 9, "price": 3.59}] * 10}
    )
    assert response.status_code == 201
    assert sim.products[5].qty == 10


async def test_bad_json(sim: KinguinIntegrationSimulator, client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/order", content=b"{{")
    assert response.status_code == 400 and response.json()["code"] == "ConstraintViolation"


# --------------------------------------------------------------------------- search


async def test_search_filters_sort_and_paging(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    a = await place(client, (5, 1))  # 3.59 @ START
    clock.advance(60)
    b = await place(client, (18, 1))  # 13.50
    clock.advance(60)
    c = await place(client, (8, 2), (5, 1))  # 13.57
    clock.advance(60)
    d = await place(client, (99, 1))  # 1.00, out_of_stock once due
    clock.advance(1.0)
    await dispatch(client, b)  # b completed; a, c processing

    everything = await search(client)
    assert everything["item_count"] == 4
    assert [o["orderId"] for o in everything["results"]] == [d, c, b, a]  # createdAt desc

    async def ids(**params: Any) -> list[str]:
        return [o["orderId"] for o in (await search(client, **params))["results"]]

    assert await ids(kinguinId=5) == [c, a]
    assert await ids(kinguinId="8,18") == [c, b]
    assert await ids(status="completed,out_of_stock") == [d, b]
    assert await ids(status="processing", sortType="asc") == [a, c]
    assert await ids(totalPriceFrom=4, totalPriceTo=13.5) == [b]
    assert await ids(totalPriceFrom="13.5") == [c, b]
    assert await ids(sortBy="totalPrice", sortType="asc") == [d, a, b, c]
    assert await ids(sortBy="status", sortType="asc") == [b, d, a, c]
    assert await ids(name="battlefield") == [b]

    created_b = datetime.fromtimestamp(START + 60, UTC)
    for since in (
        created_b.strftime("%Y-%m-%d %H:%M:%S"),
        created_b.strftime("%Y-%m-%dT%H:%M:%S"),
        created_b.isoformat(),
        created_b.strftime("%Y-%m-%dT%H:%M:%SZ"),
        created_b.astimezone().isoformat(),
    ):
        assert await ids(createdAtFrom=since) == [d, c, b], since
        assert await ids(createdAtTo=since) == [b, a], since
    assert await ids(createdAtFrom=created_b.strftime("%Y-%m-%d")) == [d, c, b, a]
    assert await ids(createdAtTo=created_b.strftime("%Y-%m-%d")) == [d, c, b, a]
    assert await ids(createdAtFrom="2023-11-15") == []

    page_1 = await search(client, limit=3, sortType="asc")
    page_2 = await search(client, limit=3, sortType="asc", page=2)
    assert [o["orderId"] for o in page_1["results"]] == [a, b, c]
    assert [o["orderId"] for o in page_2["results"]] == [d]
    assert page_1["item_count"] == page_2["item_count"] == 4
    assert (await search(client, page=3, limit=3)) == {"results": [], "item_count": 4}

    listed_b = next(o for o in everything["results"] if o["orderId"] == b)
    assert listed_b["dispatch"]["dispatchId"] == sim.order(b).dispatch_id
    assert listed_b["products"] == [
        {
            "kinguinId": 18,
            "qty": 1,
            "product_id": 367,
            "name": "Battlefield 3 Close Quarters Expansion Pack DLC",
            "price": 13.5,
        }
    ]


async def test_search_limit_default_and_maximum(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient
) -> None:
    sim.balance = 1_000_000
    for _ in range(12):
        await place(client, (5, 9))
    assert len((await search(client))["results"]) == 10
    assert len((await search(client, limit=100))["results"]) == 12


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 101},
        {"limit": 0},
        {"page": 0},
        {"page": "x"},
        {"sortBy": "price"},
        {"sortType": "up"},
        {"status": "done"},
        {"kinguinId": "five"},
        {"totalPriceFrom": "cheap"},
        {"createdAtFrom": "yesterday"},
    ],
)
async def test_search_rejects_bad_parameters(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    await place(client, (5, 1))
    response = await client.get("/v1/order", params=params)
    assert response.status_code == 400 and response.json()["code"] == "ConstraintViolation"


async def test_error_orders_are_listed_without_order_id(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sim.set_outcome(18, "error", pending_seconds=0)
    order_id = await place(client, (18, 1))
    listed = (await search(client, status="completed,error"))["results"]
    assert len(listed) == 1 and "orderId" not in listed[0] and listed[0]["status"] == "error"
    assert (await get_order(client, order_id))["orderId"] == order_id


def test_parse_utc() -> None:
    expected = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    for raw in (
        "2024-05-01 10:00:00",
        "2024-05-01T10:00:00",
        "2024-05-01T12:00:00+02:00",
        "2024-05-01T12:00:00 02:00",  # an unencoded "+" arrives as a space
        "2024-05-01T10:00:00Z",
    ):
        assert parse_utc(raw) == expected, raw
    assert parse_utc("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_utc("2024-05-01", end_of_day=True) == datetime(2024, 5, 1, 23, 59, 59, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_utc("01/05/2024")


# --------------------------------------------------------------------------- lost answer


async def test_lost_answer_after_commit_is_found_by_search(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await place(client, (18, 1))  # an unrelated older order
    clock.advance(30)
    sent_at = datetime.fromtimestamp(clock.now, UTC).strftime("%Y-%m-%d %H:%M:%S")
    sim.fail_next("/v1/order", "500", after_commit=True, method="POST")
    response = await client.post("/v1/order", json=SEED_ORDER)
    assert response.status_code == 500 and "orderId" not in response.text
    assert sim.orders_created == 2
    assert sim.balance == pytest.approx(DEFAULT_BALANCE - 13.5 - 8.58)

    found = await search(client, kinguinId=5, createdAtFrom=sent_at)
    assert found["item_count"] == 1
    (order,) = found["results"]
    assert [p["kinguinId"] for p in order["products"]] == [5, 8]
    assert order["totalPrice"] == 8.58 and order["status"] == "pending"
    assert sim.orders_for(5)[0].order_id == order["orderId"]
    clock.advance(1.0)
    assert (await dispatch(client, order["orderId"])).status_code == 201
    assert len(sim.calls("/v1/order", method="POST")) == 2


async def test_fault_before_commit_creates_nothing(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient
) -> None:
    sim.fail_next("/v1/order", "500", method="POST")
    assert (await client.post("/v1/order", json=SEED_ORDER)).status_code == 500
    assert sim.orders_created == 0 and sim.balance == DEFAULT_BALANCE
    assert (await client.get("/v1/order")).status_code == 200  # GET is not affected


# --------------------------------------------------------------------------- products


async def test_product_endpoint(
    sim: KinguinIntegrationSimulator, client: httpx.AsyncClient
) -> None:
    sim.set_price(8, 5.25)
    product = (await client.get("/v1/products/8")).json()
    assert product["kinguinId"] == 8 and product["name"] == "Aliens: Colonial Marines"
    assert (product["price"], product["qty"], product["textQty"]) == (5.25, 100, 0)
    assert product["isPreorder"] is False and product["platform"] == "Steam"
    assert product["images"]["cover"]["url"].startswith("https://")
    assert product["releaseDate"] == "2013-02-12"
    text = (await client.get("/v1/products/5")).json()
    assert (text["qty"], text["textQty"]) == (100, 100)
    for missing in ("/v1/products/424242", "/v1/products/abc"):
        response = await client.get(missing)
        assert response.status_code == 404 and response.json()["code"] == "ProductNotFound"


def test_default_catalogue() -> None:
    assert [(p.kinguin_id, p.name, p.price) for p in DEFAULT_PRODUCTS] == [
        (5, "Anno 1602 History Edition", 3.59),
        (8, "Aliens: Colonial Marines", 4.99),
        (18, "Battlefield 3 Close Quarters Expansion Pack DLC", 13.50),
        (99, "Sandbox: always out of stock", 1.00),
    ]
    assert all(p.qty == 100 and isinstance(p, SimProduct) for p in DEFAULT_PRODUCTS)
    by_id = {p.kinguin_id: p for p in DEFAULT_PRODUCTS}
    assert by_id[8].key_type == "image/jpeg" and by_id[5].key_type == "text/plain"
    assert by_id[99].outcome == "out_of_stock"
    assert DEFAULT_BALANCE == 10_000.0


async def test_steering_does_not_touch_the_defaults(clock: FakeClock) -> None:
    sim = KinguinIntegrationSimulator(clock=clock)
    sim.set_price(5, 99.0)
    sim.set_stock(5, 1)
    sim.set_outcome(5, "error")
    assert (DEFAULT_PRODUCTS[0].price, DEFAULT_PRODUCTS[0].qty) == (3.59, 100)
    assert DEFAULT_PRODUCTS[0].outcome == "completed"
