"""The G2A Export API client against the simulator, over real HTTP on 127.0.0.1, and the
seed's answer shapes fed to its models."""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone

import pytest

from tests.vendors.clock import FakeClock
from vendors import VendorContext
from vendors.base import (
    InsufficientFunds,
    KeyLost,
    OfferNotFound,
    OrderRejected,
    OutOfStock,
    PlaceOrder,
    RateLimited,
    VendorAuthError,
    VendorOrderStatus,
    VendorUnavailable,
)
from vendors.g2a import (
    NAME,
    AuthScheme,
    CreatedOrder,
    G2AAuth,
    G2ASettings,
    G2AVendor,
    OrderDetails,
    OrderKey,
    PaidOrder,
    Product,
    ProductPage,
    _param,
    classify_g2a_error,
    decode_key,
    open_vendor,
)
from vendors.settings import MissingCredentials
from vendors.simulators.g2a import G2ASimulator, png_for_key

HASH = "test-api-hash"
KEY = "test-api-key"
EMAIL = "owner@example.com"
CYBERPUNK = "10000068865001"
TERRARIA = "10000003405002"
GAME_PASS = "10000502001003"
SOLD_OUT = "10000999999999"


@pytest.fixture
def clock() -> FakeClock:
    """Starts at the real time (the hash scheme's timestamps must be near the sim's)."""
    return FakeClock(time.time())


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[G2ASimulator]:
    async with G2ASimulator(api_hash=HASH, api_key=KEY, email=EMAIL, clock=clock) as simulator:
        yield simulator


def vendor_for(
    sim: G2ASimulator,
    clock: FakeClock,
    *,
    api_hash: str | None = HASH,
    api_key: str | None = KEY,
    auth_scheme: AuthScheme = "hash",
    email: str | None = None,
) -> G2AVendor:
    assert sim.base_url is not None
    return G2AVendor(
        sim.base_url,
        api_hash,
        api_key,
        auth_scheme=auth_scheme,
        email=email,
        clock=clock,
        timeout=2.0,
    )


@pytest.fixture
async def client(sim: G2ASimulator, clock: FakeClock) -> AsyncIterator[G2AVendor]:
    vendor = vendor_for(sim, clock)
    yield vendor
    await vendor.aclose()


def header(recorded, name: str) -> str | None:
    return next((v for k, v in recorded.headers.items() if k.lower() == name.lower()), None)


class Remembered:
    """A `PlaceOrder.remember` that notes what the simulator had seen when it was called."""

    def __init__(self, sim: G2ASimulator, *, crash: bool = False) -> None:
        self.sim, self.crash = sim, crash
        self.ids: list[str] = []
        self.paid_when_remembered: list[bool] = []

    async def __call__(self, order_id: str) -> None:
        self.ids.append(order_id)
        self.paid_when_remembered.append(
            self.sim.order(order_id).paid or bool(self.sim.calls("/pay/"))
        )
        if self.crash:
            raise RuntimeError("the worker died right after persisting the order id")


def buy(offer: str = CYBERPUNK, price: float = 20.0, **extra) -> PlaceOrder:
    return PlaceOrder("ref-1", offer, price, **extra)


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    ("scheme", "sent"),
    [("hash", "X-G2A-Hash"), ("sandbox", "Authorization"), ("production", "Authorization")],
)
async def test_each_auth_scheme_is_accepted(sim, clock, scheme, sent):
    vendor = vendor_for(sim, clock, auth_scheme=scheme, email=EMAIL)
    try:
        assert (await vendor.get_offer(TERRARIA)).price == 4.25
    finally:
        await vendor.aclose()
    recorded = sim.log[-1]
    assert header(recorded, sent)
    if scheme == "hash":
        ts = header(recorded, "X-G2A-Timestamp")
        assert ts == str(int(clock.now))
        assert (
            header(recorded, "X-G2A-Hash") == hashlib.sha256((HASH + KEY + ts).encode()).hexdigest()
        )
    elif scheme == "sandbox":
        assert header(recorded, "Authorization") == f"{HASH}, {KEY}"
    else:
        digest = hashlib.sha256((KEY + EMAIL + HASH).encode()).hexdigest()
        assert header(recorded, "Authorization") == f"{KEY}, {digest}"


@pytest.mark.parametrize("scheme", ["hash", "sandbox", "production"])
async def test_wrong_key_is_an_auth_error(sim, clock, scheme):
    vendor = vendor_for(sim, clock, api_key="wrong", auth_scheme=scheme, email=EMAIL)
    try:
        with pytest.raises(VendorAuthError) as raised:
            await vendor.get_offer(TERRARIA)
    finally:
        await vendor.aclose()
    assert raised.value.code == "AUTH02"
    assert "wrong" not in str(raised.value) and HASH not in str(raised.value)
    assert len(sim.calls(TERRARIA)) == 1  # not retried


async def test_stale_timestamp_is_refused(sim, clock):
    late = FakeClock(clock.now - 1000)
    vendor = vendor_for(sim, late)
    try:
        with pytest.raises(VendorAuthError):
            await vendor.get_offer(TERRARIA)
    finally:
        await vendor.aclose()


async def test_no_credentials_blocked_ip_and_forbidden_method(sim, clock, client):
    anonymous = vendor_for(sim, clock, api_hash=None, api_key=None)
    try:
        with pytest.raises(VendorAuthError) as raised:
            await anonymous.get_offer(TERRARIA)
        assert raised.value.code == "AUTH01"
    finally:
        await anonymous.aclose()
    sim.set_method_forbidden("/v1/order")
    with pytest.raises(VendorAuthError) as raised:
        await client.place_order(buy())
    assert raised.value.code == "AUTH04"
    sim.set_ip_blocked(True)
    with pytest.raises(VendorAuthError) as raised:
        await client.get_offer(TERRARIA)
    assert raised.value.code == "AUTH03"


def test_production_needs_an_email():
    with pytest.raises(ValueError, match="G2A_EMAIL"):
        G2AAuth(HASH, KEY, "production")
    assert HASH not in repr(G2AAuth(HASH, KEY)) and KEY not in repr(G2AAuth(HASH, KEY))


# --------------------------------------------------------------------------- products


async def test_offer(client):
    offer = await client.get_offer(CYBERPUNK)
    assert (offer.offer_id, offer.price, offer.currency, offer.stock) == (
        CYBERPUNK,
        17.99,
        "EUR",
        50,
    )
    assert offer.available and offer.delivers_key and offer.name.startswith("Cyberpunk 2077")
    assert offer.image_url == f"https://images.g2a.com/sim/{CYBERPUNK}/cover.jpg"


async def test_sold_out_and_unavailable_offers(sim, client):
    sold_out = await client.get_offer(SOLD_OUT)
    assert not sold_out.available and sold_out.stock == 0
    sim.set_available(TERRARIA, False)
    assert not (await client.get_offer(TERRARIA)).available


async def test_unknown_offer(client):
    with pytest.raises(OfferNotFound):
        await client.get_offer("123456")


async def test_check_offer_id(client):
    assert client.check_offer_id(CYBERPUNK) is None
    assert client.check_offer_id("cyberpunk-2077") is not None


async def test_search_products(sim, client):
    total, docs = await client.search_products()
    assert total == 3 and {p.id for p in docs} == {CYBERPUNK, TERRARIA, GAME_PASS}
    total, docs = await client.search_products(includeOutOfStock=True, page=1)
    assert total == 4
    total, docs = await client.search_products(min_price_from=5, minPriceTo=12.0, min_qty=1)
    assert [p.id for p in docs] == [GAME_PASS] and docs[0].offer().price == 11.49
    since = datetime.fromtimestamp(sim.clock() - 60)
    total, _ = await client.search_products(
        id=TERRARIA, updated_at_from=since, updatedAtTo="2999-01-01 00:00:00"
    )
    query = sim.log[-1].query
    assert query["id"] == TERRARIA and query["updatedAtTo"] == "2999-01-01 00:00:00"
    assert len(query["updatedAtFrom"]) == 19
    with pytest.raises(TypeError):
        await client.search_products(colour="red")


# --------------------------------------------------------------------------- buying


async def test_create_remember_pay_then_complete_and_key(sim, clock, client):
    remember = Remembered(sim)
    placed = await client.place_order(buy(remember=remember))
    assert placed.status is VendorOrderStatus.PROCESSING and placed.keys == ()
    assert remember.ids == [placed.order_id] and remember.paid_when_remembered == [False]
    created = sim.calls("/v1/order", "POST")[0].body
    assert created == {"product_id": CYBERPUNK, "currency": "EUR", "max_price": 20.0}
    order = sim.order(placed.order_id)
    assert order.paid and order.pay_calls == 1 and placed.price == 17.99
    assert (await client.order_status(placed.order_id)).status is VendorOrderStatus.PROCESSING
    clock.advance(2)
    done = await client.order_status(placed.order_id)
    assert done.status is VendorOrderStatus.COMPLETED and done.currency == "EUR"
    keys = await client.fetch_keys(placed.order_id)
    assert len(keys) == 1 and keys[0].kind == "text" and keys[0].value == order.key
    assert sim.balance == pytest.approx(10_000 - 17.99)


async def test_pay_sends_an_empty_body(sim, client):
    await client.place_order(buy())
    (paid,) = sim.calls("/pay/", "PUT")
    assert header(paid, "Content-Length") == "0" and paid.body is None


async def test_image_key(sim, clock, client):
    placed = await client.place_order(buy(GAME_PASS))
    clock.advance(2)
    (key,) = await client.fetch_keys(placed.order_id)
    assert key.kind == "image" and key.mime == "image/png"
    assert key.value == png_for_key(sim.order(placed.order_id).key)


async def test_key_before_complete_is_temporary(sim, client):
    placed = await client.place_order(buy())
    with pytest.raises(VendorUnavailable) as raised:
        await client.fetch_keys(placed.order_id)
    assert raised.value.code == "ORD05"
    assert sim.order(placed.order_id).key_downloads == 0


async def test_resume_pays_a_remembered_unpaid_order_once(sim, client):
    remember = Remembered(sim, crash=True)
    with pytest.raises(RuntimeError):
        await client.place_order(buy(remember=remember))
    (order_id,) = remember.ids
    assert not sim.order(order_id).paid
    resumed = await client.place_order(buy(resumed=True, vendor_order_id=order_id))
    assert resumed.order_id == order_id and resumed.status is VendorOrderStatus.PROCESSING
    assert sim.orders_created == 1 and sim.order(order_id).pay_calls == 1
    assert sim.paid_orders == 1


async def test_resume_of_a_complete_order_does_not_pay_again(sim, clock, client):
    placed = await client.place_order(buy())
    clock.advance(2)
    resumed = await client.place_order(buy(resumed=True, vendor_order_id=placed.order_id))
    assert resumed.status is VendorOrderStatus.COMPLETED and resumed.order_id == placed.order_id
    assert sim.order(placed.order_id).pay_calls == 1 and sim.orders_created == 1


async def test_resume_without_an_id_creates_a_new_order(sim, client):
    sim.fail_next("/v1/order", "disconnect", after_commit=True, method="POST")
    with pytest.raises(VendorUnavailable):
        await client.place_order(buy())
    placed = await client.place_order(buy(resumed=True))
    # the first order is an unpaid orphan: it cost nothing
    assert sim.orders_created == 2 and sim.paid_orders == 1
    assert sim.order(placed.order_id).paid


@pytest.mark.parametrize("kind", ["disconnect", "500"])
async def test_lost_pay_answer_then_resume_never_pays_twice(sim, clock, client, kind):
    remember = Remembered(sim)
    sim.fail_next("/pay/", kind, after_commit=True)
    with pytest.raises(VendorUnavailable):
        await client.place_order(buy(remember=remember))
    (order_id,) = remember.ids
    assert sim.order(order_id).paid and sim.order(order_id).pay_calls == 1
    # still pending: paying again is refused as "in progress", a temporary error
    with pytest.raises(VendorUnavailable) as raised:
        await client.place_order(buy(resumed=True, vendor_order_id=order_id))
    assert raised.value.code == "ORD05"
    clock.advance(2)
    resumed = await client.place_order(buy(resumed=True, vendor_order_id=order_id))
    assert resumed.status is VendorOrderStatus.COMPLETED
    assert sim.paid_orders == 1 and sim.orders_created == 1
    assert sim.balance == pytest.approx(10_000 - 17.99)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("ORD112", InsufficientFunds),
        ("ORD114", OrderRejected),
        ("ORD121", OrderRejected),
        ("ORD03", VendorUnavailable),
        ("ORD05", VendorUnavailable),
        ("ORD122", VendorUnavailable),
    ],
)
async def test_pay_errors(sim, client, code, error):
    sim.set_pay_error(code)
    with pytest.raises(error) as raised:
        await client.place_order(buy())
    assert raised.value.code == code and sim.paid_orders == 0
    assert len(sim.calls("/pay/")) == 1  # a money call is never repeated automatically


async def test_temporary_pay_error_then_resume_pays(sim, client):
    remember = Remembered(sim)
    sim.set_pay_error("ORD03")
    with pytest.raises(VendorUnavailable):
        await client.place_order(buy(remember=remember))
    placed = await client.place_order(buy(resumed=True, vendor_order_id=remember.ids[0]))
    assert placed.status is VendorOrderStatus.PROCESSING and sim.paid_orders == 1


async def test_real_balance_and_deadline_refusals(sim, clock, client):
    sim.balance = 1.0
    with pytest.raises(InsufficientFunds):
        await client.place_order(buy())
    sim.balance = 100.0
    remember = Remembered(sim, crash=True)
    with pytest.raises(RuntimeError):
        await client.place_order(buy(remember=remember))
    clock.advance(sim.pay_deadline_seconds + 1)
    with pytest.raises(OrderRejected) as raised:
        await client.place_order(
            buy(resumed=True, vendor_order_id=remember.ids[0]),
        )
    assert raised.value.code == "ORD114"


async def test_already_paid_counts_as_paid(sim, clock, client):
    placed = await client.place_order(buy())
    clock.advance(2)
    # the race the details call cannot close: paid (and complete) when we pay again
    again = await client._pay(placed.order_id, None, None)
    assert again.status is VendorOrderStatus.PROCESSING and sim.paid_orders == 1


@pytest.mark.parametrize(
    ("offer", "price", "error", "code"),
    [
        (SOLD_OUT, 5.0, OutOfStock, "ORD01"),
        (CYBERPUNK, 10.0, OutOfStock, "ORD06"),
        ("123456", 10.0, OfferNotFound, "PRD01"),
    ],
)
async def test_create_refusals(sim, client, offer, price, error, code):
    with pytest.raises(error) as raised:
        await client.place_order(buy(offer, price))
    assert raised.value.code == code and sim.orders_created == 0


async def test_one_key_per_order(sim, client):
    with pytest.raises(OrderRejected):
        await client.place_order(buy(quantity=2))
    assert sim.log == []


async def test_unknown_order_is_temporary(client):
    with pytest.raises(VendorUnavailable) as raised:
        await client.order_status("404")
    assert raised.value.code == "ORD02"


# --------------------------------------------------------------------------- keys lost


async def test_key_lost_in_transit(sim, clock, client):
    placed = await client.place_order(buy())
    clock.advance(2)
    sim.fail_next("/v1/order/key/", "disconnect", after_commit=True)
    with pytest.raises(VendorUnavailable):
        await client.fetch_keys(placed.order_id)
    assert sim.order(placed.order_id).key_calls == 1  # never repeated automatically
    with pytest.raises(KeyLost) as raised:
        await client.fetch_keys(placed.order_id)
    assert raised.value.code == "ORD004"


async def test_garbled_key_answer_keeps_the_key_out_of_the_message(sim, clock, client, caplog):
    caplog.set_level(logging.DEBUG)
    placed = await client.place_order(buy())
    clock.advance(2)
    sim.fail_next("/v1/order/key/", "garbled", after_commit=True)
    with pytest.raises(VendorUnavailable) as raised:
        await client.fetch_keys(placed.order_id)
    key = sim.order(placed.order_id).key
    assert key[:5] not in str(raised.value)
    with pytest.raises(KeyLost):
        await client.fetch_keys(placed.order_id)
    assert key[:5] not in client.health.last_error
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("vendors."))
    assert key not in ours and HASH not in ours and KEY not in ours


async def test_garbled_offer_is_temporary(sim, client):
    sim.fail_next(f"/v1/products/{CYBERPUNK}", "garbled", times=5)
    with pytest.raises(VendorUnavailable):
        await client.get_offer(CYBERPUNK)
    assert len(sim.calls(CYBERPUNK)) == 3  # safe: retried


# --------------------------------------------------------------------------- rate limit


async def test_rate_limited_get_is_retried_after_retry_after(sim, client):
    sim.set_rate_limited(1)
    started = time.monotonic()
    offer = await client.get_offer(TERRARIA)
    elapsed = time.monotonic() - started
    assert offer.price == 4.25 and len(sim.calls(TERRARIA)) == 2
    assert 0.9 <= elapsed < 3.0


async def test_rate_limited_create_is_not_retried(sim, client):
    sim.set_rate_limited(1)
    with pytest.raises(RateLimited) as raised:
        await client.place_order(buy())
    assert raised.value.retry_after == 1.0 and len(sim.log) == 1


# --------------------------------------------------------------------------- models


def test_seed_shapes_parse():
    page = ProductPage.model_validate(
        {
            "total": 1,
            "page": 1,
            "docs": [
                {
                    "id": 10000068865001,
                    "name": "Game",
                    "qty": 3,
                    "minPrice": 9.5,
                    "retailMinPrice": 11.0,
                    "retailMinBasePrice": 10.0,
                    "availableToBuy": True,
                    "priceLimit": {"min": None, "max": 20},
                    "coverImage": "https://img/cover.jpg",
                    "images": ["https://img/1.jpg"],
                    "categories": [{"id": 189, "name": "Games"}, {"id": "x", "name": "RPG"}],
                    "restrictions": {"pegi_violence": True},
                    "requirements": {"minimal": {}, "recommended": {}},
                    "videos": [{"type": "youtube", "url": "https://y"}],
                    "surprise": "ignored",
                }
            ],
        }
    )
    product = page.docs[0]
    assert product.id == "10000068865001" and product.categories[0].id == "189"
    assert product.retail_min_price == 11.0 and product.price_limit
    assert product.price_limit.max == 20
    offer = product.offer()
    assert offer.price == 9.5 and offer.stock == 3 and offer.available
    assert offer.image_url == "https://img/cover.jpg"
    snake = Product.model_validate(
        {"id": "1", "min_price": 2.0, "retail_min_price": 3.0, "qty": None, "cover_image": "u"}
    )
    assert snake.retail_min_price == 3.0 and snake.qty == 0 and not snake.offer().available
    assert snake.offer().image_url == "u"
    assert not Product.model_validate({"id": 1, "qty": 5}).offer().available  # no price
    blocked = Product.model_validate({"id": 1, "qty": 5, "minPrice": 1, "availableToBuy": False})
    assert not blocked.offer().available
    created = CreatedOrder.model_validate({"order_id": 123, "price": 9.5, "currency": "EUR"})
    assert created.order_id == "123"
    assert OrderDetails.model_validate({"status": "pending", "price": 1, "currency": "EUR"})
    paid = PaidOrder.model_validate({"status": True, "transaction_id": 77})
    assert paid.status is True and paid.transaction_id == "77"
    assert not OrderKey.model_validate({"key": "AAAA"}).is_file
    assert OrderKey.model_validate({"key": "AAAA", "isFile": True}).is_file


def test_filter_values():
    berlin = timezone(timedelta(hours=2))
    assert _param(datetime(2024, 5, 1, 12, 0, tzinfo=berlin)) == "2024-05-01 10:00:00"
    assert _param(datetime(2024, 5, 1, 12, 0)) == "2024-05-01 12:00:00"
    assert (_param(True), _param(False), _param(5), _param(1.5)) == ("true", "false", "5", "1.5")


def test_file_keys():
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 8
    key = decode_key(base64.b64encode(jpeg).decode(), True)
    assert key.kind == "image" and key.mime == "image/jpeg" and key.value == jpeg
    gif = decode_key(base64.b64encode(b"GIF89a....").decode(), True)
    assert gif.mime == "image/gif"
    url = decode_key("https://g2a.example/key.png", True)
    assert url.kind == "text" and url.value == "https://g2a.example/key.png"
    assert decode_key("not base64!", True).kind == "text"  # kept, never thrown away
    assert decode_key("ABCD-EFGH", False).value == "ABCD-EFGH"
    with pytest.raises(VendorUnavailable):
        decode_key("", False)


@pytest.mark.parametrize(
    ("status", "body", "where", "error", "code"),
    [
        (
            404,
            {"code": "ORD02", "message": "x"},
            "g2a GET /v1/order/details/1",
            VendorUnavailable,
            "ORD02",
        ),
        (404, {"code": "ORD02"}, "g2a GET /v1/products/1", OfferNotFound, "ORD02"),
        (400, {"status": "ERROR", "code": "ORD004"}, "g2a GET /v1/order/key/1", KeyLost, "ORD004"),
        (
            403,
            {"code": "ORD112", "message": "funds"},
            "g2a PUT /v1/order/pay/1",
            InsufficientFunds,
            "ORD112",
        ),
        (400, {"code": "AUTH01"}, "g2a GET /v1/products", VendorAuthError, "AUTH01"),
        (401, None, "g2a GET /v1/products", VendorAuthError, None),
        (400, {"code": "BR01"}, "g2a POST /v1/order", OrderRejected, "BR01"),
        (422, None, "g2a POST /v1/order", OrderRejected, None),
        (400, {"code": "BR01"}, "g2a GET /v1/order/details/1", VendorUnavailable, "BR01"),
        (502, {"code": "ORD122"}, "g2a PUT /v1/order/pay/1", VendorUnavailable, "ORD122"),
    ],
)
def test_classify(status, body, where, error, code):
    classified = classify_g2a_error(status, body, where)
    assert type(classified) is error and classified.code == code


def test_classify_leaves_generic_cases_to_the_shared_layer():
    assert classify_g2a_error(503, None, "g2a GET /v1/products") is None
    limited = classify_g2a_error(429, {"code": "BR03"}, "g2a GET /v1/products")
    assert isinstance(limited, RateLimited) and limited.retry_after is None


# --------------------------------------------------------------------------- assembly


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("API_URL", "API_HASH", "API_SECRET", "API_KEY", "AUTH_SCHEME", "EMAIL"):
        monkeypatch.delenv(f"G2A_{name}", raising=False)
    return monkeypatch


def test_settings_accept_the_old_secret_name(no_env):
    no_env.setenv("G2A_API_SECRET", "old-name")
    no_env.setenv("G2A_AUTH_SCHEME", "sandbox")
    settings = G2ASettings()
    assert settings.secret("api_hash") == "old-name" and settings.auth_scheme == "sandbox"
    assert settings.api_url == "https://api.g2a.com"
    no_env.setenv("G2A_API_HASH", "new-name")
    assert G2ASettings().secret("api_hash") == "new-name"


@pytest.mark.parametrize("scheme", ["hash", "sandbox", "production"])
async def test_open_vendor_in_the_sandbox_starts_the_simulator(no_env, scheme):
    no_env.setenv("G2A_AUTH_SCHEME", scheme)
    async with AsyncExitStack() as stack:
        ctx = VendorContext(sandbox=True, timeout=2.0, rate_per_second=50.0, stack=stack)
        vendor = await open_vendor(ctx)
        assert vendor.name == NAME == "g2a" and vendor.max_quantity == 1
        placed = await vendor.place_order(buy())
        assert placed.status is VendorOrderStatus.PROCESSING


async def test_open_vendor_without_credentials_outside_the_sandbox_names_them(no_env):
    no_env.setenv("G2A_API_KEY", KEY)  # the hash forgotten
    async with AsyncExitStack() as stack:
        ctx = VendorContext(sandbox=False, timeout=2.0, rate_per_second=50.0, stack=stack)
        with pytest.raises(MissingCredentials) as refused:
            await open_vendor(ctx)
    assert refused.value.variables == ["G2A_API_HASH"]


async def test_open_vendor_production_without_email_is_refused(no_env):
    no_env.setenv("G2A_API_HASH", HASH)
    no_env.setenv("G2A_API_KEY", KEY)
    no_env.setenv("G2A_AUTH_SCHEME", "production")
    async with AsyncExitStack() as stack:
        ctx = VendorContext(sandbox=False, timeout=2.0, rate_per_second=50.0, stack=stack)
        with pytest.raises(ValueError, match="G2A_EMAIL"):
            await open_vendor(ctx)


async def test_a_configured_v1_url_is_not_doubled(sim, clock):
    vendor = G2AVendor(f"{sim.base_url}/v1/", HASH, KEY, clock=clock)
    try:
        assert (await vendor.get_offer(TERRARIA)).price == 4.25
    finally:
        await vendor.aclose()
