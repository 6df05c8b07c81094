"""The G2A Import API half of the G2A simulator, exercised over real HTTP on 127.0.0.1:
tokens (hash auth), offers and their jobs, inventory, price simulations, bestsellers."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.vendors.clock import FakeClock
from vendors.simulators.g2a import DEFAULT_PRODUCTS, G2ASimulator

HASH = "import-api-hash"
KEY = "import-api-key"
CLIENT_ID = "import-client"
CLIENT_SECRET = "import-client-secret"
P = "/integration-api/v1"

CYBERPUNK, TERRARIA, GAME_PASS, SOLD_OUT = (p.product_id for p in DEFAULT_PRODUCTS)


@pytest.fixture
def clock() -> FakeClock:
    """Starts at the real time (hash timestamps must be near the simulator's)."""
    return FakeClock(time.time())


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[G2ASimulator]:
    async with G2ASimulator(
        api_hash=HASH,
        api_key=KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        clock=clock,
    ) as simulator:
        yield simulator


@pytest.fixture
async def http(sim: G2ASimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url or "", timeout=5) as client:
        yield client


@pytest.fixture
async def authed(http: httpx.AsyncClient, clock: FakeClock) -> httpx.AsyncClient:
    """``http`` with a fresh bearer token on every request."""
    http.headers["Authorization"] = f"Bearer {await token(http, clock)}"
    return http


def hash_headers(timestamp: float, api_hash: str = HASH, api_key: str = KEY) -> dict[str, str]:
    ts = str(int(timestamp))
    return {
        "X-API-HASH": api_hash,
        "X-API-KEY": api_key,
        "X-G2A-Timestamp": ts,
        "X-G2A-Hash": hashlib.sha256((api_hash + api_key + ts).encode()).hexdigest(),
    }


async def token(http: httpx.AsyncClient, clock: FakeClock) -> str:
    response = await http.get("/token", headers=hash_headers(clock.now))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def refused(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert body["status"] == "ERROR" and body["message"], body
    return response.status_code, body["code"]


def offer_body(product_id: str = CYBERPUNK, **changes: Any) -> dict[str, Any]:
    body = {
        "offerType": "dropshipping",
        "productId": product_id,
        "price": 21.5,
        "visibility": "retail",
        "inventory": {"size": 5},
    }
    return {**body, **changes}


async def create(http: httpx.AsyncClient, **body: Any) -> str:
    response = await http.post(f"{P}/offers", json=offer_body(**body))
    assert response.status_code == 200, response.text
    return str(response.json()["jobId"])


async def follow(http: httpx.AsyncClient, job_id: str) -> list[dict[str, Any]]:
    """Every answer of the job until it ends (at most ten polls)."""
    seen = []
    for _ in range(10):
        response = await http.get(f"{P}/jobs/{job_id}")
        assert response.status_code == 200, response.text
        seen.append(response.json())
        if seen[-1]["status"] in ("completed", "failed", "cancelled"):
            return seen
    raise AssertionError(f"job never ended: {seen}")


async def new_offer(http: httpx.AsyncClient, **body: Any) -> str:
    last = (await follow(http, await create(http, **body)))[-1]
    assert last["status"] == "completed", last
    return str(last["resourceId"])


# --------------------------------------------------------------------------- tokens


@pytest.mark.parametrize("path", ["/token", f"{P}/token"])
async def test_token_with_the_seeds_hash_auth(sim, http, clock, path):
    response = await http.get(path, headers=hash_headers(clock.now))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    offers = await http.get(
        f"{P}/offers", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert offers.status_code == 200, offers.text
    assert sim.imports.token_requests == 1


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        ({"Authorization": f"{HASH}, {KEY}"}, {}),  # the sandbox's form of hash auth
        ({}, {"grant_type": "client_credentials", "client_id": CLIENT_ID,
              "client_secret": CLIENT_SECRET}),
        ("hash", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    ],
)  # fmt: skip
async def test_other_accepted_credentials(http, clock, headers, params):
    sent = hash_headers(clock.now) if headers == "hash" else headers
    response = await http.get("/token", headers=sent, params=params)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong hash", (401, "AUTH02")),
        ("wrong key", (401, "AUTH02")),
        ("stale timestamp", (401, "AUTH02")),
        ("nothing", (400, "AUTH01")),
        ("wrong client secret", (401, "AUTH02")),
        ("right hash, wrong client secret", (401, "AUTH02")),
        ("password grant", (400, "BR01")),
    ],
)
async def test_token_refusals(
    sim: G2ASimulator,
    http: httpx.AsyncClient,
    clock: FakeClock,
    case: str,
    expected: tuple[int, str],
) -> None:
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    if case == "wrong hash":
        headers = hash_headers(clock.now)
        headers["X-G2A-Hash"] = hashlib.sha256(f"{HASH}{KEY}0".encode()).hexdigest()
    elif case == "wrong key":
        headers = hash_headers(clock.now, api_key="other-key")
    elif case == "stale timestamp":
        headers = hash_headers(clock.now - 301)
    elif case == "wrong client secret":
        params = {"client_id": CLIENT_ID, "client_secret": "guess"}
    elif case == "right hash, wrong client secret":
        headers, params = hash_headers(clock.now), {"client_id": CLIENT_ID, "client_secret": "x"}
    elif case == "password grant":
        headers, params = hash_headers(clock.now), {"grant_type": "password"}
    response = await http.get("/token", headers=headers, params=params)
    assert refused(response) == expected
    assert sim.imports.token_requests == 0


async def test_without_configured_credentials_any_token_request_is_served():
    async with (
        G2ASimulator() as sim,
        httpx.AsyncClient(base_url=sim.base_url or "") as http,
    ):
        response = await http.get("/token")
        assert response.status_code == 200
        bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}
        assert (await http.get(f"{P}/bestsellers", headers=bearer)).status_code == 200
        assert refused(await http.get(f"{P}/bestsellers")) == (401, "AUTH01")


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        (None, (401, "AUTH01")),
        (f"{HASH}, {KEY}", (401, "AUTH01")),  # Export credentials are no bearer token
        ("Bearer", (401, "AUTH01")),
        ("Bearer not-a-token", (401, "AUTH02")),
    ],
)
async def test_import_calls_need_a_valid_bearer_token(sim, http, authorization, expected):
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in [
        ("POST", f"{P}/offers"),
        ("GET", f"{P}/offers"),
        ("GET", f"{P}/jobs/some-job"),
        ("GET", f"{P}/prices/simulations"),
        ("GET", f"{P}/bestsellers"),
        ("GET", f"{P}/no-such-route"),
    ]:
        response = await http.request(method, path, headers=headers, json=offer_body())
        assert refused(response) == expected, (method, path)
    assert sim.imports.jobs == {}


async def test_tokens_expire(sim, http, clock):
    sim.imports.token_ttl = 60
    response = await http.get("/token", headers=hash_headers(clock.now))
    assert response.json()["expires_in"] == 60
    bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}
    clock.advance(59)
    assert (await http.get(f"{P}/offers", headers=bearer)).status_code == 200
    clock.advance(1)
    assert refused(await http.get(f"{P}/offers", headers=bearer)) == (401, "AUTH02")
    fresh = {"Authorization": f"Bearer {await token(http, clock)}"}
    assert (await http.get(f"{P}/offers", headers=fresh)).status_code == 200
    sim.imports.expire_tokens()
    assert refused(await http.get(f"{P}/offers", headers=fresh)) == (401, "AUTH02")
    assert sim.imports.token_requests == 2


async def test_concurrent_token_requests_are_each_counted(sim, http, clock):
    tokens = await asyncio.gather(*(token(http, clock) for _ in range(5)))
    assert len(set(tokens)) == 5 and sim.imports.token_requests == 5
    assert len(sim.calls("/token", method="GET")) == 5


async def test_export_api_keeps_its_own_auth(sim, authed, clock):
    bearer_only = await authed.get(f"/v1/products/{TERRARIA}")
    assert refused(bearer_only) == (401, "AUTH02")
    export = await authed.get(f"/v1/products/{TERRARIA}", headers=hash_headers(clock.now))
    assert export.status_code == 200 and export.json()["id"] == TERRARIA


async def test_faults_and_rate_limits_reach_the_import_api(sim, authed):
    sim.fail_next(f"{P}/offers", "500", method="POST")
    assert (await authed.post(f"{P}/offers", json=offer_body())).status_code == 500
    sim.set_rate_limited(1)
    limited = await authed.get(f"{P}/bestsellers")
    assert refused(limited) == (429, "BR03") and limited.headers["Retry-After"] == "1"
    assert sim.imports.jobs == {}


# --------------------------------------------------------------------------- offers and jobs


async def test_offer_creation_job_moves_to_completed_with_the_offer_id(sim, authed):
    job_id = await create(authed)
    assert (await authed.get(f"{P}/offers")).json()["meta"]["total"] == 0
    answers = await follow(authed, job_id)
    assert [a["status"] for a in answers] == ["pending", "processing", "completed"]
    assert answers[0] == {"jobId": job_id, "status": "pending"}
    done = answers[-1]
    assert done["resourceType"] == "offer" and "code" not in done
    offer = (await authed.get(f"{P}/offers/{done['resourceId']}")).json()
    assert offer == {
        "id": done["resourceId"],
        "type": "dropshipping",
        "productId": CYBERPUNK,
        "price": 21.5,
        "visibility": "retail",
        "status": "active",
        "active": True,
        "inventory": {"size": 5},
        "variant": None,
        "sold": 0,
        "createdAt": offer["createdAt"],
        "updatedAt": offer["createdAt"],
    }
    assert set(sim.imports.offers) == {done["resourceId"]}
    assert (await authed.get(f"{P}/jobs/{job_id}")).json() == done  # stays completed


async def test_jobs_also_move_with_the_clock(sim, authed, clock):
    sim.imports.set_job_timing(step_seconds=10, polls_per_step=100)
    job_id = await create(authed)
    assert (await authed.get(f"{P}/jobs/{job_id}")).json()["status"] == "pending"
    clock.advance(10)
    assert (await authed.get(f"{P}/jobs/{job_id}")).json()["status"] == "processing"
    clock.advance(10)
    listed = (await authed.get(f"{P}/offers")).json()  # the offer exists without a poll
    assert listed["meta"]["total"] == 1
    job = (await authed.get(f"{P}/jobs/{job_id}")).json()
    assert job["status"] == "completed" and job["resourceId"] == listed["data"][0]["id"]


@pytest.mark.parametrize("cancelled", [False, True])
async def test_steered_jobs_end_failed_or_cancelled(sim, authed, cancelled):
    sim.imports.fail_job_next("OFR99", "Rejected by moderation", cancelled=cancelled)
    answers = await follow(authed, await create(authed))
    last = answers[-1]
    assert [a["status"] for a in answers[:2]] == ["pending", "processing"]
    assert last["status"] == ("cancelled" if cancelled else "failed")
    assert (last["code"], last["message"]) == ("OFR99", "Rejected by moderation")
    assert "resourceId" not in last and sim.imports.offers == {}
    await new_offer(authed)  # only the next job was steered


async def test_unknown_product_and_second_offer_fail_their_jobs(sim, authed):
    last = (await follow(authed, await create(authed, product_id="404")))[-1]
    assert (last["status"], last["code"]) == ("failed", "PRD01")
    first = await create(authed)
    second = (await follow(authed, await create(authed)))[-1]  # before the first completes
    assert (second["status"], second["code"]) == ("failed", "OFR03")
    assert (await follow(authed, first))[-1]["status"] == "completed"
    promo = (await follow(authed, await create(authed, offerType="promo")))[-1]
    assert promo["status"] == "completed"  # another type of offer for the product


async def test_unknown_job_and_offer(authed):
    assert refused(await authed.get(f"{P}/jobs/nope")) == (404, "JOB01")
    assert refused(await authed.get(f"{P}/offers/nope")) == (404, "OFR01")
    assert refused(await authed.patch(f"{P}/offers/nope", json={"price": 1})) == (404, "OFR01")
    assert refused(await authed.get(f"{P}/nope")) == (404, "NF01")
    assert refused(await authed.put(f"{P}/offers/nope", json={})) == (404, "NF01")


@pytest.mark.parametrize("offer_type", ["dropshipping", "promo", "steamgift", "game", "preorder"])
async def test_every_offer_type_of_the_seed_is_created(sim, authed, offer_type):
    offer_id = await new_offer(authed, offerType=offer_type, productId=TERRARIA)
    assert sim.imports.offers[offer_id].offer_type == offer_type


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"offerType": "bundle"}, "offerType"),
        ({"offerType": None}, "offerType"),
        ({"productId": None}, "productId"),
        ({"price": 0}, "price"),
        ({"price": "cheap"}, "price"),
        ({"visibility": "secret"}, "visibility"),
        ({"visibility": None}, "visibility"),
        ({"inventory": {"size": -1}}, "inventory.size"),
        ({"inventory": {"tmpInventoryId": "x"}}, "tmpInventoryId"),
    ],
)
async def test_malformed_offers_are_refused_at_once(sim, authed, change, field):
    body = {k: v for k, v in {**offer_body(), **change}.items() if v is not None}
    response = await authed.post(f"{P}/offers", json=body)
    assert refused(response) == (400, "BR01") and field in response.json()["message"]
    assert sim.imports.jobs == {}


async def test_offer_bodies_tolerate_extra_fields_and_numeric_ids(sim, authed):
    body = {"productId": int(CYBERPUNK), "price": "9.99", "inventory": None, "note": "extra"}
    offer_id = await new_offer(authed, **body)
    offer = (await authed.get(f"{P}/offers/{offer_id}")).json()
    assert (offer["productId"], offer["price"], offer["inventory"]) == (
        CYBERPUNK,
        9.99,
        {"size": 0},
    )
    not_json = await authed.post(f"{P}/offers", content=b"{offer", headers={"Content-Type": "x"})
    assert refused(not_json) == (400, "BR01")
    assert refused(await authed.post(f"{P}/offers")) == (400, "BR01")  # no body at all


async def test_list_offers_filters_and_paging(sim, authed):
    products = [p.product_id for p in DEFAULT_PRODUCTS]
    ids = [await new_offer(authed, productId=pid) for pid in products]
    promo = await new_offer(authed, productId=TERRARIA, offerType="promo")
    await authed.patch(f"{P}/offers/{ids[0]}", json={"active": False})

    async def listed(**params: Any) -> list[str]:
        response = await authed.get(f"{P}/offers", params=params)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()["data"]]

    assert await listed() == [*ids, promo]
    assert await listed(productId=TERRARIA) == [ids[1], promo]
    assert await listed(offerType="promo") == [promo]
    assert await listed(status="inactive") == [ids[0]]
    assert await listed(active="false") == [ids[0]]
    assert await listed(active="true", offerType="dropshipping") == ids[1:]
    page = (await authed.get(f"{P}/offers", params={"perPage": 10, "page": 2})).json()
    assert page == {"data": [], "meta": {"currentPage": 2, "lastPage": 1, "perPage": 10,
                                         "total": 5}}  # fmt: skip
    for params in ({"perPage": 15}, {"page": 0}, {"offerType": "bundle"}, {"active": "maybe"}):
        assert refused(await authed.get(f"{P}/offers", params=params)) == (400, "BR01")


async def test_many_offers_are_paged(sim, authed):
    sim.imports.set_job_timing(step_seconds=0)  # jobs complete at once
    for n in range(23):
        sim.products[f"9{n:03d}"] = DEFAULT_PRODUCTS[1].model_copy(
            update={"product_id": f"9{n:03d}"}
        )
        await create(authed, productId=f"9{n:03d}")
    first = (await authed.get(f"{P}/offers")).json()
    assert len(first["data"]) == 20
    assert first["meta"] == {"currentPage": 1, "lastPage": 2, "perPage": 20, "total": 23}
    last = (await authed.get(f"{P}/offers", params={"page": 2})).json()
    assert [o["productId"] for o in last["data"]] == ["9020", "9021", "9022"]


async def test_partial_update(sim, authed, clock):
    offer_id = await new_offer(authed)
    clock.advance(5)
    changes = {"price": 19.99, "visibility": "all", "active": False, "inventory": {"size": 2},
               "variant": {"region": "EU"}, "unknown": 1}  # fmt: skip
    response = await authed.patch(f"{P}/offers/{offer_id}", json=changes)
    assert response.status_code == 200, response.text
    offer = response.json()
    assert (offer["price"], offer["visibility"], offer["active"], offer["status"]) == (
        19.99,
        "all",
        False,
        "inactive",
    )
    assert offer["inventory"] == {"size": 2} and offer["variant"] == {"region": "EU"}
    assert offer["updatedAt"] != offer["createdAt"]
    again = (await authed.patch(f"{P}/offers/{offer_id}", json={"active": True})).json()
    assert (again["active"], again["price"], again["variant"]) == (True, 19.99, {"region": "EU"})
    assert (await authed.get(f"{P}/offers/{offer_id}")).json() == again


@pytest.mark.parametrize(
    "change", [{"price": -1}, {"visibility": "x"}, {"active": "perhaps"}, {"inventory": 3}]
)
async def test_bad_updates_change_nothing(sim, authed, change):
    offer_id = await new_offer(authed)
    before = (await authed.get(f"{P}/offers/{offer_id}")).json()
    assert refused(await authed.patch(f"{P}/offers/{offer_id}", json=change)) == (400, "BR01")
    assert (await authed.get(f"{P}/offers/{offer_id}")).json() == before


async def test_preorder_offers_cannot_be_edited(authed):
    offer_id = await new_offer(authed, offerType="preorder")
    response = await authed.patch(f"{P}/offers/{offer_id}", json={"price": 30})
    assert refused(response) == (400, "OFR02")
    assert (await authed.get(f"{P}/offers/{offer_id}")).json()["price"] == 21.5


async def test_promo_inventory_is_uploaded_then_attached(sim, authed):
    offer_id = await new_offer(authed, offerType="promo", inventory=None)
    upload = await authed.post(f"{P}/offers/{offer_id}/inventory", json={"keys": ["K-1", "K-2"]})
    assert upload.status_code == 200, upload.text
    collection = upload.json()["collectionUuid"]
    assert (await authed.get(f"{P}/offers/{offer_id}")).json()["inventory"] == {"size": 0}
    attach = {"inventory": {"tmpInventoryId": collection}}
    offer = (await authed.patch(f"{P}/offers/{offer_id}", json=attach)).json()
    assert offer["inventory"] == {"size": 2}
    assert refused(await authed.patch(f"{P}/offers/{offer_id}", json=attach)) == (404, "OFR05")
    sized = await authed.patch(f"{P}/offers/{offer_id}", json={"inventory": {"size": 9}})
    assert refused(sized) == (400, "BR01")  # a promo offer's stock is its keys

    files = [
        ("keys", (None, "K-3\nK-4")),
        ("image", ("key.png", b"\x89PNG fake", "image/png")),
    ]
    form = await authed.post(f"{P}/offers/{offer_id}/inventory", files=files)
    assert form.status_code == 200, form.text
    attach = {"inventory": {"tmpInventoryId": form.json()["collectionUuid"]}}
    offer = (await authed.patch(f"{P}/offers/{offer_id}", json=attach)).json()
    assert offer["inventory"] == {"size": 5}
    assert sim.imports.offers[offer_id].keys == ["K-1", "K-2", "K-3", "K-4"]
    assert sim.imports.offers[offer_id].images == [b"\x89PNG fake"]


async def test_inventory_refusals(sim, authed):
    promo = await new_offer(authed, offerType="promo", inventory=None)
    dropshipping = await new_offer(authed, productId=TERRARIA)
    keys = {"keys": ["K-1"]}
    url = f"{P}/offers/{{}}/inventory"
    assert refused(await authed.post(url.format(dropshipping), json=keys)) == (400, "OFR04")
    assert refused(await authed.post(url.format("nope"), json=keys)) == (404, "OFR01")
    for body in ({"keys": []}, {"keys": [" "]}, {}):
        assert refused(await authed.post(url.format(promo), json=body)) == (400, "BR01")
    empty_form = await authed.post(url.format(promo), files=[("other", (None, "x"))])
    assert refused(empty_form) == (400, "BR01")
    other = await authed.post(url.format(promo), json=keys)
    attach = {"inventory": {"tmpInventoryId": other.json()["collectionUuid"]}}
    response = await authed.patch(f"{P}/offers/{dropshipping}", json=attach)
    assert refused(response) == (400, "OFR04")
    second_promo = await new_offer(authed, offerType="promo", productId=TERRARIA, inventory=None)
    response = await authed.patch(f"{P}/offers/{second_promo}", json=attach)
    assert refused(response) == (404, "OFR05")  # another offer's collection


async def test_sales_are_counted(sim, authed):
    offer_id = await new_offer(authed)
    sim.imports.record_sale(offer_id, 2)
    offer = (await authed.get(f"{P}/offers/{offer_id}")).json()
    assert (offer["sold"], offer["inventory"]) == (2, {"size": 3})


# --------------------------------------------------------------------------- market


async def simulation(http: httpx.AsyncClient, **params: Any) -> httpx.Response:
    return await http.get(f"{P}/prices/simulations", params={"productId": CYBERPUNK, **params})


async def test_price_simulation_per_country_group(sim, authed):
    every = (await simulation(authed, price=20)).json()
    assert every == {
        "income": {"OTHER": 18.0, "PL": 18.4, "GB": 17.6},
        "finalePrice": {"OTHER": 20.0, "PL": 20.0, "GB": 20.0},
        "businessFinalPrice": {"OTHER": 19.0, "PL": 19.0, "GB": 19.0},
        "businessIncome": {"OTHER": 17.1, "PL": 17.48, "GB": 16.72},
    }
    poland = (await simulation(authed, price=20, country="pl")).json()
    assert poland["income"] == {"PL": 18.4} and poland["businessIncome"] == {"PL": 17.48}
    germany = (await simulation(authed, price=20, country="DE")).json()
    assert germany["income"] == {"DE": 18.0}  # no rate of its own: OTHER's
    sim.imports.commissions = {"OTHER": 0.1}
    sim.imports.set_commission("PL", 0.1)
    assert (await simulation(authed, price=10)).json()["income"] == {"ALL": 9.0}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"price": 10, "productId": "404"}, (404, "PRD01")),
        ({}, (400, "BR01")),
        ({"price": 0}, (400, "BR01")),
        ({"price": "x"}, (400, "BR01")),
        ({"price": 10, "country": "Poland"}, (400, "BR01")),
    ],
)
async def test_price_simulation_refusals(authed, params, expected):
    assert refused(await simulation(authed, **params)) == expected


async def test_bestsellers_come_from_the_catalogue(sim, authed):
    async def ids(**params: Any) -> list[str]:
        response = await authed.get(f"{P}/bestsellers", params=params)
        assert response.status_code == 200, response.text
        return [b["productId"] for b in response.json()["data"]]

    first = (await authed.get(f"{P}/bestsellers")).json()
    assert [b["productId"] for b in first["data"]] == [CYBERPUNK, TERRARIA, GAME_PASS, SOLD_OUT]
    assert first["meta"] == {"currentPage": 1, "lastPage": 1, "perPage": 20, "total": 4}
    assert first["data"][0] | {"sales": 0} == {
        "productId": CYBERPUNK,
        "name": "Cyberpunk 2077 (PC) - Steam Key - GLOBAL",
        "platform": "Steam",
        "region": "GLOBAL",
        "categories": [{"id": 189, "name": "Games"}, {"id": 2699, "name": "RPG"}],
        "lowestPrice": 17.99,
        "sales": 0,
    }
    sim.imports.set_bestseller_sales(GAME_PASS, 10_000)
    assert (await ids())[0] == GAME_PASS
    assert await ids(platform="xbox live") == [GAME_PASS]
    assert await ids(category="RPG") == [CYBERPUNK]
    assert await ids(category="5020") == [GAME_PASS]
    assert await ids(perPage=2, page=2) == [TERRARIA, SOLD_OUT]
    for params in ({"perPage": 0}, {"page": "x"}, {"category": " "}):
        response = await authed.get(f"{P}/bestsellers", params=params)
        assert refused(response) == (400, "BR01")
