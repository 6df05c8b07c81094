"""The G2A Import API client against the G2A simulator over HTTP: OAuth tokens (one refresh
for many waiting calls, renewed when refused), offers and their jobs, price simulations,
bestsellers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from vendors.base import VendorAuthError
from vendors.g2a_import import G2AImport, JobFailed
from vendors.simulators.g2a import DEFAULT_PRODUCTS, G2ASimulator

HASH, KEY, CLIENT_ID, CLIENT_SECRET = "imp-hash", "imp-key", "imp-client", "imp-secret"
CYBERPUNK, TERRARIA = DEFAULT_PRODUCTS[0].product_id, DEFAULT_PRODUCTS[1].product_id


@pytest.fixture
async def sim() -> AsyncIterator[G2ASimulator]:
    async with G2ASimulator(
        api_hash=HASH, api_key=KEY, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    ) as simulator:
        simulator.imports.set_job_timing(step_seconds=None)  # one status per poll
        yield simulator


@pytest.fixture
async def client(sim: G2ASimulator) -> AsyncIterator[G2AImport]:
    g2a = G2AImport(
        str(sim.base_url),
        api_hash=HASH,
        api_key=KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    yield g2a
    await g2a.aclose()


async def test_an_offer_is_created_through_its_job_and_managed(client, sim):
    job_id = await client.create_offer(CYBERPUNK, 29.99, stock=5)
    offer_id = await client.follow_job(job_id, every=0.01)
    assert (await client.job(job_id)).resourceId == offer_id
    offer = await client.offer(offer_id)
    assert (offer.type, offer.productId, offer.price, offer.active) == (
        "dropshipping",
        CYBERPUNK,
        29.99,
        True,
    )
    changed = await client.update_offer(offer_id, price=31.5, active=False)
    assert (changed.price, changed.active) == (31.5, False)
    page = await client.offers(productId=CYBERPUNK)
    assert [o.id for o in page.data] == [offer_id] and page.meta.total == 1
    assert sim.imports.offers[offer_id].price == 31.5  # as G2A holds it


async def test_a_failed_job_says_why(client, sim):
    sim.imports.fail_job_next("OFR09", "product blocked")
    job_id = await client.create_offer(TERRARIA, 4.2)
    with pytest.raises(JobFailed) as failed:
        await client.follow_job(job_id, every=0.01)
    assert failed.value.code == "OFR09" and "product blocked" in str(failed.value)


async def test_promo_keys_join_the_offer_through_a_collection(client):
    offer_id = await client.follow_job(
        await client.create_offer(TERRARIA, 3.0, offer_type="promo"), every=0.01
    )
    collection = await client.add_inventory(offer_id, ["AAAA-1", "BBBB-2"])
    offer = await client.update_offer(offer_id, collection=collection)
    assert offer.inventory is not None and offer.inventory.size == 2


async def test_price_simulation_and_bestsellers(client, sim):
    sim.imports.set_bestseller_sales(TERRARIA, 10**6)
    simulation = await client.price_simulation(CYBERPUNK, 20.0)
    assert simulation.income and all(v < 20.0 for v in simulation.income.values())
    assert simulation.finalePrice and set(simulation.finalePrice.values()) == {20.0}
    best = await client.bestsellers()
    assert best[0].productId == TERRARIA and best[0].sales == 10**6


async def test_one_token_for_many_calls_renewed_when_refused(client, sim):
    await asyncio.gather(*(client.offers() for _ in range(10)))
    assert sim.imports.token_requests == 1 and client.auth.issued == 1
    sim.imports.expire_tokens()  # G2A forgets it early: the 401 brings one new token
    await asyncio.gather(*(client.offers() for _ in range(5)))
    assert sim.imports.token_requests == 2
    token_calls = [r for r in sim.log if r.path.endswith("/token")]
    assert all(r.query["grant_type"] == "client_credentials" for r in token_calls)
    assert all("X-G2A-Hash" in r.headers for r in token_calls)  # the seed's hash auth


async def test_a_token_near_expiry_is_renewed_before_use(client, sim):
    sim.imports.token_ttl = 200  # under the 5 minutes of margin: every call renews
    await client.offers()
    await client.offers()
    assert sim.imports.token_requests == 2


async def test_wrong_credentials_are_an_auth_error(sim):
    wrong = G2AImport(str(sim.base_url), api_hash="nope", api_key=KEY)
    with pytest.raises(VendorAuthError):
        await wrong.offers()
    await wrong.aclose()
