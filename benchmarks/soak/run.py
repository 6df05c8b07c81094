"""One soak run: the shop in one set-up, customers buying from every vendor and channel
while processes are SIGKILLed, PostgreSQL and Redis restart, vendors and Telegram fail;
then the faults stop, the shop settles, and the verdict is taken."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.soak.customers import (
    AFTER_CREDIT,
    CHAT_OFFERS,
    Customers,
    Purchase,
    ask_for_key,
)
from benchmarks.soak.shop import Shop, running
from benchmarks.soak.verdict import SETTLED, Verdict, judge
from benchmarks.soak.world import G2A_CLIENT, G2A_SECRET, OWNER, PREORDER, World
from storage import Database, OrderState
from storage.models import G2A
from tests.e2e.flows import put_up
from tests.support.fake_telegram import Call
from vendors.simulators.g2a.catalog import LISTED_BY_SANDBOX
from vendors.simulators.g2a_buyer import G2ABuyer

log = logging.getLogger(__name__)
LOST = re.compile(r"Order ([0-9a-f]{16}): the g2a key of vendor order (\d+)")
AT_ONCE = 6  # customers buying at the same time
VENDOR_FAULTS = 0.2
TELEGRAM_FAULTS = 0.05
SETTLE_SECONDS = 300.0


async def soak(
    setup: str, *, orders: int, kills: int, seed: int, workdir: Path, kill_every: float = 8.0
) -> Verdict:
    started = time.monotonic()
    world = await World.open()
    try:
        async with running(setup, world, workdir) as shop:
            await _list_on_g2a(world)
            customers = Customers(world.tg, random.Random(seed))
            world.storm(VENDOR_FAULTS, TELEGRAM_FAULTS, seed)
            stop = asyncio.Event()
            chance = random.Random(seed)
            killer = asyncio.create_task(_keep_killing(shop, chance, stop, kill_every))
            services = asyncio.create_task(_restart_services_midway(shop, stop))
            done = asyncio.Event()  # watched until the verdict
            watcher = asyncio.create_task(shop.watch(done))
            recovered: list[str] = []
            owner = asyncio.create_task(_owner_recovers_lost_keys(world, done, recovered))
            try:
                await _purchases(world, shop, customers, orders)
                for _ in range(240):  # orders are still on their way: kill on, 2 min at most
                    if shop.kills >= kills:
                        break
                    await asyncio.sleep(0.5)
            finally:
                stop.set()
                await killer
                await services
            world.calm()
            world.kinguin.release_preorder(PREORDER)
            await _settle(shop, customers.purchases)
            until = len(world.tg.calls)
            shown = await _blocked_come_back(world, shop, customers.purchases)
            verdict = await judge(
                setup, world, shop.database, shop.env["KEYS_ENCRYPTION_KEY"],
                customers.purchases, until,
            )  # fmt: skip
            verdict.problems += shown
            done.set()
            await asyncio.gather(watcher, owner)
            verdict.problems += [f"crash: {crash}" for crash in shop.crashes]
            faults = world.faults()
            verdict.figures |= {
                "kills": shop.kills,
                "restarts": dict(shop.restarts) or "-",
                "starts refused while a server was down": shop.refused_starts,
                "vendor faults": _total(faults["vendor"]),
                "webhook faults": _total(faults["webhook"]),
                "telegram faults": _total(faults["telegram"]),
                "lost G2A keys recovered by the owner": len(recovered),
                "gave up": customers.gave_up,
                "seconds": round(time.monotonic() - started),
            }
            return verdict
    finally:
        await world.close()


async def _purchases(world: World, shop: Shop, customers: Customers, count: int) -> None:
    slots = asyncio.Semaphore(AT_ONCE)
    kinds = len(CHAT_OFFERS) + 1  # every offer, then a sale on G2A
    partial: list[int] = []
    async with G2ABuyer(shop.http, G2A_CLIENT, G2A_SECRET, poll_interval=0.5) as buyer:

        async def one(n: int) -> None:
            async with slots:
                kind = n % kinds
                if kind == len(CHAT_OFFERS):
                    await customers.buy_on_g2a(buyer, LISTED_BY_SANDBOX.product_id, 1 + n % 2)
                    return
                offer = CHAT_OFFERS[kind]
                user = world.tg.user(800_000 + n)
                bought = await customers.buy(
                    user, offer, lose_payment=n % 7 == 3, block=n % 9 == 4 and offer.quantity == 1
                )
                if bought is not None and offer.title == "Stardew Valley":
                    partial.append(user.id)

        await asyncio.gather(*(one(n) for n in range(count)))
        # customers whose last order came partly as shop credit buy again, paying with it
        await asyncio.sleep(5)
        await asyncio.gather(
            *(customers.buy(world.tg.user(user_id), AFTER_CREDIT) for user_id in partial)
        )


async def _keep_killing(
    shop: Shop, chance: random.Random, stop: asyncio.Event, every: float
) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), chance.uniform(every / 2, every * 1.5))
        if not stop.is_set():
            killed = await shop.kill_one(chance)
            log.info("killed %s (%d so far)", killed, shop.kills)


async def _restart_services_midway(shop: Shop, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), 20.0)
    if not stop.is_set():
        await shop.restart_services()


async def _owner_recovers_lost_keys(
    world: World, stop: asyncio.Event, recovered: list[str]
) -> None:
    """The owner reads the alerts: every other G2A key lost in transit is recovered from
    G2A and entered on the order's card; the rest wait for the automatic refund."""
    seen: set[str] = set()
    while not stop.is_set():
        for text in world.admins.texts():
            for order_id, vendor_order in LOST.findall(text):
                if order_id in seen:
                    continue
                seen.add(order_id)
                bought = world.g2a.orders.get(vendor_order)
                if len(seen) % 2 == 0 and bought is not None:
                    with contextlib.suppress(Exception):  # Telegram failed: a refund comes
                        await _enter_key(world, order_id, bought.key)
                        recovered.append(order_id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def _enter_key(world: World, order_id: str, key: str) -> None:
    owner, group, tg = world.tg.user(OWNER), world.admins, world.tg

    def card_of(call: Call) -> bool:
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
        return (
            call.params.get("chat_id") == group.id
            and call.result is not None
            and any("recovered key" in button.get("text", "") for row in rows for button in row)
        )

    def says(needle: str) -> Callable[[Call], bool]:
        return lambda c: c.params.get("chat_id") == group.id and needle in c.params.get("text", "")

    mark = await owner.send(f"/order {order_id}", chat=group)
    card = await tg.wait_for("sendMessage", where=card_of, since=mark, timeout=20)
    mark = await owner.press(lambda b: "recovered key" in b["text"], put_up(tg, card))
    await tg.wait_for("sendMessage", where=says("next message"), since=mark, timeout=20)
    mark = await owner.send(key, chat=group)
    await tg.wait_for("sendMessage", where=says("on its way"), since=mark, timeout=20)


async def _list_on_g2a(world: World) -> None:
    """The owner lists cs-source on G2A from the admin group, as the README says."""
    owner = world.tg.user(OWNER)
    mark = await owner.send("/g2a list cs-source 9.99", chat=world.admins)
    await world.tg.wait_for(
        "sendMessage", where=lambda c: "List" in c.params.get("text", ""), since=mark, timeout=30
    )
    mark = await owner.press("✅ List it", chat=world.admins)
    await world.tg.wait_for(
        "editMessageText",
        where=lambda c: "is on G2A" in c.params.get("text", ""),
        since=mark,
        timeout=60,
    )


async def _settle(shop: Shop, purchases: list[Purchase], within: float = SETTLE_SECONDS) -> None:
    """Until every paid order is settled (a lost payment found in the Stars ledger first)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not await _open_orders(shop, purchases):
            return
        await asyncio.sleep(2.0)


async def _open_orders(shop: Shop, purchases: list[Purchase]) -> int:
    try:
        db = await Database.open(shop.database)
    except Exception:
        return 1
    try:
        rows = await db.fetchall("SELECT id, state, channel FROM orders")
    finally:
        await db.close()
    states = {row[0]: (OrderState(row[1]), row[2]) for row in rows}
    paid = {p.order_id for p in purchases if p.order_id}
    open_ = 0
    for order_id, (state, channel) in states.items():
        if state in SETTLED or (channel == G2A and state is OrderState.FAILED):
            continue
        if state is OrderState.AWAITING_PAYMENT and order_id not in paid:
            continue  # an invoice nobody paid
        open_ += 1
    return open_


async def _blocked_come_back(world: World, shop: Shop, purchases: list[Purchase]) -> list[str]:
    """Customers who blocked the bot before their key came unblock it: "My orders" shows
    the key they never got as a message."""
    problems: list[str] = []
    db = await Database.open(shop.database)
    try:
        for purchase in purchases:
            if not purchase.blocked or purchase.order_id is None:
                continue
            world.tg.unblock(purchase.user_id)
            row = await db.fetchone(
                "SELECT state, delivers_key FROM orders WHERE id = ?", (purchase.order_id,)
            )
            if row is None or row[0] != OrderState.DELIVERED or not row[1]:
                continue  # refunded, or a top-up: no key to show
            sent = await ask_for_key(world.tg, world.tg.user(purchase.user_id), purchase.order_id)
            if not any(c.method in ("sendMessage", "sendPhoto", "sendMediaGroup") for c in sent):
                problems.append(f"order {purchase.order_id}: My orders did not show the key")
    finally:
        await db.close()
    return problems


def _total(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "0"
    return f"{total} (" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")"
