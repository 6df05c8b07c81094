"""Two processes of one shop (here: two assemblies sharing PostgreSQL and Redis, one a bot,
one a worker): what one changes reaches the other at once through Redis, not at the next
housekeeping round (an hour away here)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from bot.app import build
from bot.config import Settings
from bot.runtime.signals import Signal
from tests.conftest import free_port
from tests.e2e.flows import eventually

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@pytest.fixture
async def two_processes(shop_env, tg, monkeypatch) -> AsyncIterator[tuple]:
    monkeypatch.chdir(shop_env["DATABASE_PATH"].rsplit("/data/", 1)[0])
    env = shop_env | {"HOUSEKEEPING_SECONDS": "3600"}
    async with AsyncExitStack() as stack:
        shops = []
        for role, port in (("bot", env["HTTP_PORT"]), ("worker", str(free_port()))):
            for name, value in (env | {"ROLE": role, "HTTP_PORT": port}).items():
                monkeypatch.setenv(name, value)
            shop = await build(Settings(), stack)
            task = asyncio.create_task(shop.run(handle_signals=False))
            stack.push_async_callback(asyncio.wait_for, task, 10)
            stack.push_async_callback(shop.stop)
            await asyncio.wait_for(shop.signals.subscribed.wait(), 10)
            shops.append(shop)
        yield tuple(shops)


async def test_an_offer_edit_on_one_process_reaches_the_other_at_once(two_processes):
    bot, worker = two_processes
    their_catalog = worker.dispatcher.workflow_data["catalog"]
    assert their_catalog.offer("steam-5").price_stars == 400
    desk = bot.dispatcher.workflow_data["catalog_desk"]
    edited = await desk.edit_offer("steam-5", admin_id=1, price_stars=450)
    assert not isinstance(edited, str)
    await eventually(lambda: their_catalog.offer("steam-5").price_stars == 450, within=2)


async def test_a_payment_on_a_bot_replica_wakes_the_workers(two_processes):
    bot, worker = two_processes
    woken = asyncio.Event()
    worker.signals.on(Signal.ORDERS_DUE, lambda _: woken.set())
    bot.signals.wake_workers()
    await asyncio.wait_for(woken.wait(), 2)
