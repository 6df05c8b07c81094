"""Live offer data: one vendor call for many customers, a short cache, honest availability."""

from __future__ import annotations

import asyncio

import pytest

from bot.offers import Availability, OfferService
from tests.support.factories import offer
from vendors.codegames import CodeGamesVendor
from vendors.simulators.codegames import CodeGamesSimulator

STEAM = offer()
PUBG = offer(sku="pubg", vendor_offer_id="2061", category="PUBG", max_vendor_price=700.0)


@pytest.fixture
async def sim():
    async with CodeGamesSimulator() as simulator:
        yield simulator


@pytest.fixture
async def vendor(sim):
    client = CodeGamesVendor(sim.base_url, None, timeout=1.0)
    yield client
    await client.aclose()


def find_one_calls(sim: CodeGamesSimulator) -> int:
    return sum(path.endswith("find-one") for path, _ in sim.requests)


async def test_concurrent_customers_share_one_vendor_call(sim, vendor):
    service = OfferService({"codegames": vendor}, ttl=60)
    results = await asyncio.gather(*(service.live(STEAM) for _ in range(20)))
    assert {r.availability for r in results} == {Availability.AVAILABLE}
    assert find_one_calls(sim) == 1
    await service.live(STEAM)
    assert find_one_calls(sim) == 1  # cached
    await service.live(STEAM, fresh=True)
    assert find_one_calls(sim) == 2  # before charging, always asked again


async def test_required_fields_come_from_the_vendor(vendor):
    live = await OfferService({"codegames": vendor}, ttl=60).live(PUBG)
    assert live.required_fields == ("gameUserId",)
    assert live.vendor is not None and not live.vendor.delivers_key


async def test_above_our_price_limit_is_sold_out(sim, vendor):
    sim.set_price(3001, 3000.0)
    live = await OfferService({"codegames": vendor}, ttl=60).live(STEAM)
    assert live.availability is Availability.SOLD_OUT


async def test_vendor_without_the_offer_is_sold_out(sim, vendor):
    sim.set_available(3001, False)
    live = await OfferService({"codegames": vendor}, ttl=60).live(STEAM)
    assert live.availability is Availability.SOLD_OUT and live.vendor is None


async def test_a_vendor_that_does_not_answer_is_unknown_and_not_cached(sim, vendor):
    service = OfferService({"codegames": vendor}, ttl=60, timeout=0.2)
    sim.fail_next("find-one", "timeout")
    assert (await service.live(STEAM)).availability is Availability.UNKNOWN  # after 0.2 s
    assert (await service.live(STEAM)).availability is Availability.UNKNOWN  # same call
    await asyncio.sleep(1.0)  # the client's own timeout ends that call; nothing is cached
    assert (await service.live(STEAM)).availability is Availability.AVAILABLE
    assert find_one_calls(sim) == 2
