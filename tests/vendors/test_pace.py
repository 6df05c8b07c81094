"""The shop-wide rate limits (`vendors.pace`), in memory and in Redis."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.support.services import REDIS_URL, redis_prefix
from vendors.pace import Pace, background


@pytest.fixture(params=["memory", "redis"])
async def pace(request: pytest.FixtureRequest):
    if request.param == "memory":
        yield Pace()
        return
    async with redis_prefix() as prefix:
        yield Pace.in_redis(REDIS_URL, prefix)


async def _count_within(pace: Pace, name: str, seconds: float, **options) -> int:
    """How many events `pace` lets through under `name` in `seconds`."""
    done = 0

    async def one() -> None:
        nonlocal done
        await pace.wait(name, 10, **options)
        done += 1

    tasks = [asyncio.create_task(one()) for _ in range(40)]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return done


async def test_no_more_than_the_rate_in_a_second(pace):
    assert await _count_within(pace, "vendor:a", 0.9) == 10


async def test_background_work_leaves_the_reserve_to_customers(pace):
    with background():
        polls = asyncio.create_task(_count_within(pace, "vendor:b", 0.9, reserve=0.25))
    await asyncio.sleep(0.3)  # the polls had their chance to take the whole window
    started = time.monotonic()
    await pace.wait("vendor:b", 10, reserve=0.25)  # a customer's call
    waited = time.monotonic() - started
    assert await polls == 7  # 75 % of 10 a second
    assert waited < 0.5, waited


async def test_without_a_reserve_background_work_takes_it_all(pace):
    with background():
        assert await _count_within(pace, "vendor:c", 0.9) == 10


async def test_spaced_events_keep_the_rate_and_the_reserve(pace):
    with background():
        polls = asyncio.create_task(_count_within(pace, "vendor:d", 1.5, smooth=True, reserve=0.5))
    await asyncio.sleep(0.5)
    started = time.monotonic()
    await pace.wait("vendor:d", 10, smooth=True, reserve=0.5)  # a customer's call
    waited = time.monotonic() - started
    assert await polls <= 9  # half of 10 a second (spaced 0.2 s apart) for 1.5 s, and the first
    assert waited < 0.5, waited


async def test_spaced_events_never_bunch_up(pace):
    assert await _count_within(pace, "vendor:e", 0.95, smooth=True) <= 11  # 0.1 s apart
