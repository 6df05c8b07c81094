"""10,000 open orders: what a shop process costs while vendors are slow, and how fast it
answers customers meanwhile.

The orders are paid and placed at the CodeGames simulator, which keeps them processing
(a vendor slow to deliver), so the worker polls them at the vendor's rate limit. The
shop runs as `python -m bot` (one process, long polling: the README's set-up) against the
fake Bot API. After a settling period it measures, over a window:
- the process's resident memory (now and its peak);
- the share of one core it used while the vendors have nothing new, and its vendor calls
  (the rate limit allows VENDOR_RATE_PER_SECOND);
- then, with customers (/start, then the catalog's main menu, every few seconds), how long
  each waited for the answer: from the update being handed to the bot to its answer
  reaching the Bot API.

    .venv/bin/python -m benchmarks.open_orders [--orders 10000] [--window 30]
        [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import tempfile
import time
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import tomli_w
from cryptography.fernet import Fernet

from benchmarks.scale_out import Processes
from bot.config import PROJECT_ROOT, Settings
from storage import Database, KeyCipher, OrderRepo, OrderState
from tests.support.fake_telegram import FakeTelegram, FakeUser
from tests.support.services import REDIS_URL, postgres_database, redis_prefix
from vendors.simulators.codegames import DEFAULT_OFFERS, CodeGamesSimulator

OFFER_ID, SKU = 3001, "steam-5"
FOREVER = 10.0**9  # the simulator's processing time: nothing is ever delivered
CUSTOMERS = 20  # each opens the shop, then the menu, every few seconds
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def codegames_catalog(tmp: Path) -> Path:
    """The shipped catalog's CodeGames offers only: no other vendor runs in the process."""
    shipped = tomllib.loads((PROJECT_ROOT / "catalog.toml").read_text(encoding="utf-8"))
    mine = [offer for offer in shipped["offers"] if offer["vendor"] == "codegames"]
    path = tmp / "catalog.toml"
    path.write_text(tomli_w.dumps({"offers": mine}), encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def database(backend: str, tmp: Path) -> AsyncIterator[dict[str, str]]:
    if backend == "sqlite":
        yield {"DATABASE_PATH": str(tmp / "shop.sqlite3")}
        return
    async with postgres_database() as url, redis_prefix() as prefix:
        yield {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix}


async def seed(env: dict[str, str], sim: CodeGamesSimulator, count: int, poll_max: float) -> None:
    """`count` paid orders, placed at the simulator, each due for its next poll at a random
    moment of one polling interval (as in a shop that has been running)."""
    db = await Database.open(env.get("DATABASE_URL") or env["DATABASE_PATH"], pool_size=10)
    orders = OrderRepo(db, KeyCipher(env["KEYS_ENCRYPTION_KEY"]))
    offer = sim.offers[OFFER_ID]
    chance = random.Random(17)

    async def one(n: int) -> None:
        order_id = f"open{n:06d}"
        await orders.create(
            order_id=order_id,
            user_id=100_000 + n % 5000,
            chat_id=100_000 + n % 5000,
            sku=SKU,
            title="Steam Wallet 5 USD",
            vendor="codegames",
            vendor_offer_id=str(OFFER_ID),
            price_stars=400,
            vendor_price=offer.price,
            max_vendor_price=offer.price * 2,
            vendor_currency=offer.currency,
            delivers_key=True,
            customer_fields={},
        )
        await orders.record_payment(order_id, f"charge-{order_id}")
        await orders.transition(order_id, OrderState.PLACING)
        placed = sim.place(OFFER_ID, order_id)
        await orders.transition(
            order_id,
            OrderState.PROCESSING,
            vendor_order_id=str(placed.order_id),
            due_in=chance.uniform(0, poll_max),
        )

    try:
        for first in range(0, count, 200):
            await asyncio.gather(*(one(n) for n in range(first, min(first + 200, count))))
    finally:
        await db.close()


class ProcessStats:
    """CPU time and memory of a process, from /proc."""

    def __init__(self, pid: int) -> None:
        self._pid = pid

    def cpu_seconds(self) -> float:
        return sum(self.cpu_split())

    def cpu_split(self) -> tuple[float, float]:
        """User and system CPU seconds so far."""
        fields = Path(f"/proc/{self._pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS

    def memory_mb(self) -> tuple[float, float]:
        """Resident now, and the peak."""
        status = dict(
            line.split(":", 1)
            for line in Path(f"/proc/{self._pid}/status").read_text().splitlines()
        )
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


async def customer(tg: FakeTelegram, user: FakeUser, until: float, waits: list[float]) -> None:
    """Opens the shop, then the menu, again and again, a few seconds apart."""
    chance = random.Random(user.id)
    while time.monotonic() < until:
        for step in ("/start", "/catalog"):
            sent = time.monotonic()
            mark = await user.send(step)
            answer = await tg.wait_for(
                "sendMessage", where=lambda c: c.params["chat_id"] == user.id, since=mark
            )
            waits.append(answer.ts - sent)
            await asyncio.sleep(chance.uniform(2.0, 6.0))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(args: argparse.Namespace) -> None:
    offers = [o.model_copy(update={"processing_seconds": FOREVER}) for o in DEFAULT_OFFERS]
    defaults = Settings.model_fields
    rate = float(
        os.environ.get("VENDOR_RATE_PER_SECOND", defaults["vendor_rate_per_second"].default)
    )
    poll_max = float(os.environ.get("POLL_MAX_SECONDS", defaults["poll_max_seconds"].default))
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        async with (
            FakeTelegram() as tg,
            CodeGamesSimulator(offers, api_key="k") as sim,
            database(args.backend, tmp) as db_env,
        ):
            env = db_env | {
                "BOT_TOKEN": "123456:bench",
                "TELEGRAM_API_URL": tg.url,
                "KEYS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                "CATALOG_FILE": str(codegames_catalog(tmp)),
                "CODEGAMES_API_URL": str(sim.base_url),
                "CODEGAMES_API_KEY": "k",
                "SANDBOX": "0",
                "HTTP_HOST": "127.0.0.1",
                "LOG_LEVEL": "WARNING",
            }
            started = time.monotonic()
            await seed(env, sim, args.orders, poll_max)
            print(f"{args.orders} open orders seeded in {time.monotonic() - started:.0f} s")
            processes = Processes(env, tmp)
            try:
                await processes.start("all", 1)
                stats = ProcessStats(processes.procs[0].pid)
                await asyncio.sleep(args.settle)
                calls_before, (user, system) = len(sim.log), stats.cpu_split()
                await asyncio.sleep(args.window)  # nobody but the worker: the vendors' pace
                user_after, system_after = stats.cpu_split()
                quiet_user = (user_after - user) / args.window
                quiet_system = (system_after - system) / args.window
                quiet_cpu = quiet_user + quiet_system
                vendor_calls = (len(sim.log) - calls_before) / args.window
                users = [tg.user(900_000 + n) for n in range(CUSTOMERS)]
                cpu_before, window_start = stats.cpu_seconds(), time.monotonic()
                waits: list[float] = []
                until = window_start + args.window
                await asyncio.gather(*(customer(tg, user, until, waits) for user in users))
                busy_cpu = (stats.cpu_seconds() - cpu_before) / (time.monotonic() - window_start)
                resident, peak = stats.memory_mb()
            finally:
                processes.stop()
    label = "SQLite" if args.backend == "sqlite" else "PostgreSQL + Redis"
    print(f"{label}, {args.orders} open orders, windows of {args.window:.0f} s:")
    print(f"  memory: {resident:.0f} MB resident, {peak:.0f} MB peak")
    print(
        f"  CPU, vendors with nothing new: {quiet_cpu * 100:.1f} % of one core"
        f" (user {quiet_user * 100:.1f} %, system {quiet_system * 100:.1f} %)"
    )
    print(f"  vendor calls meanwhile: {vendor_calls:.1f}/s (VENDOR_RATE_PER_SECOND {rate:g})")
    if vendor_calls:
        print(f"  CPU per vendor call: {quiet_cpu / vendor_calls * 1000:.2f} ms")
    p50, p99 = (percentile(waits, share) * 1000 for share in (0.5, 0.99))
    print(
        f"  customers ({CUSTOMERS}, {len(waits)} answers): p50 {p50:.0f} ms, p99 {p99:.0f} ms,"
        f" max {max(waits) * 1000:.0f} ms; CPU {busy_cpu * 100:.1f} %"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=15.0)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
