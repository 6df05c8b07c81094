"""Throughput of the scaled-out shop on PostgreSQL and Redis, with real processes.

- Orders from payment to key: paid orders wait in the database; 1, then 2 worker processes
  (`python -m bot --role worker`) buy them from the CodeGames simulator and send the keys
  to the fake Bot API. Prints orders per second from the first payment to the last key.
- Updates: the fake Bot API posts /start updates of many customers to 1, then 2 bot
  replicas (`--role bot`, webhook mode) behind a round-robin proxy. Prints updates per
  second from the first post to the last answer.

    .venv/bin/python -m benchmarks.scale_out [--orders 300] [--updates 1500]

Needs PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL; 127.0.0.1 by default). The
machine's cores are shared by every process, the simulators and the fake Bot API.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from bot.config import PROJECT_ROOT
from storage import Database, KeyCipher, OrderRepo, OrderState
from tests.support.fake_telegram import FakeTelegram
from tests.support.proxy import RoundRobinProxy
from tests.support.services import REDIS_URL, postgres_database, redis_prefix
from vendors.simulators.codegames import DEFAULT_OFFERS, CodeGamesSimulator

SECRET = "bench-webhook-secret"


class Processes:
    """`python -m bot` processes of one role, each on its own HTTP port."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self._env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | env
        self._log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []

    def spawn(self, role: str, n: int) -> str:
        port = _free_port()
        log = (self._log_dir / f"{role}-{n}-{port}.log").open("wb")
        env = self._env | {"ROLE": role, "HTTP_PORT": str(port)}
        self.procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bot"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        )
        return f"http://127.0.0.1:{port}"

    async def start(self, role: str, count: int) -> list[str]:
        urls = [self.spawn(role, n) for n in range(count)]
        async with httpx.AsyncClient(timeout=1) as http:
            for url in urls:
                for _ in range(600):
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get(f"{url}/health")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
                else:
                    raise RuntimeError(f"{url} did not start; see {self._log_dir}")
        return urls

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=20)
        self.procs.clear()


async def until(check: Callable[[], bool]) -> None:
    for _ in range(20 * 600):
        if check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("not done within 10 minutes")


async def until_async(repo: OrderRepo, count: int) -> None:
    """Until `count` orders are delivered."""
    for _ in range(5 * 600):
        if (await repo.count_by_state()).get(OrderState.DELIVERED, 0) >= count:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("not delivered within 10 minutes")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def shop_env(tg: FakeTelegram, sim: CodeGamesSimulator) -> AsyncIterator[dict[str, str]]:
    async with postgres_database() as database, redis_prefix() as prefix:
        yield {
            "BOT_TOKEN": "123456:bench",
            "TELEGRAM_API_URL": tg.url,
            "DATABASE_URL": database,
            "REDIS_URL": REDIS_URL,
            "REDIS_PREFIX": prefix,
            "KEYS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "CATALOG_FILE": str(PROJECT_ROOT / "catalog.toml"),
            "CODEGAMES_API_URL": str(sim.base_url),
            "CODEGAMES_API_KEY": "k",
            "SANDBOX": "0",
            "HTTP_HOST": "127.0.0.1",
            "VENDOR_RATE_PER_SECOND": "1000",
            "POLL_MIN_SECONDS": "0.2",
            "POLL_MAX_SECONDS": "0.5",
            "WORKER_IDLE_SECONDS": "0.5",
        }


async def orders_per_second(workers: int, count: int, tmp: Path) -> float:
    offers = [o.model_copy(update={"processing_seconds": 0.0}) for o in DEFAULT_OFFERS]
    async with (
        FakeTelegram() as tg,
        CodeGamesSimulator(offers, api_key="k") as sim,
        shop_env(tg, sim) as env,
    ):
        db = await Database.open(env["DATABASE_URL"])
        repo = OrderRepo(db, KeyCipher(env["KEYS_ENCRYPTION_KEY"]))
        processes = Processes(env | {"DATABASE_PATH": str(tmp / "unused.sqlite3")}, tmp)
        try:
            await processes.start("worker", workers)
            ids = [secrets.token_hex(8) for _ in range(count)]
            for n, order_id in enumerate(ids):
                user = tg.user(50_000 + n)
                await repo.create(
                    order_id=order_id,
                    user_id=user.id,
                    chat_id=user.id,
                    sku="steam-5",
                    title="Steam Wallet 5 USD",
                    vendor="codegames",
                    vendor_offer_id="3001",
                    price_stars=400,
                    vendor_price=2750.0,
                    max_vendor_price=3000.0,
                    vendor_currency="KZT",
                    delivers_key=True,
                    customer_fields={},
                )
            started = time.monotonic()
            for order_id in ids:
                await repo.record_payment(order_id, f"charge-{order_id}")
            await until_async(repo, count)
            elapsed = time.monotonic() - started
            assert sim.orders_created == count, "a vendor order per order"
            return count / elapsed
        finally:
            processes.stop()
            await db.close()


async def updates_per_second(replicas: int, count: int, tmp: Path) -> float:
    async with (
        FakeTelegram() as tg,
        CodeGamesSimulator(api_key="k") as sim,
        shop_env(tg, sim) as env,
        RoundRobinProxy([]) as proxy,
    ):
        processes = Processes(
            env
            | {
                "DATABASE_PATH": str(tmp / "unused.sqlite3"),
                "TELEGRAM_WEBHOOK_URL": f"{proxy.url}/telegram",
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
            },
            tmp,
        )
        try:
            proxy.targets = await processes.start("bot", replicas)
            users = [tg.user(60_000 + n) for n in range(count)]
            await tg.wait_for("setWebhook", timeout=30)
            mark = tg.mark()
            started = time.monotonic()
            for user in users:
                await user.send("/start")
            await until(lambda: len(tg.calls_of("sendMessage")) >= count)
            elapsed = time.monotonic() - started
            assert len(tg.calls[mark:]) >= count
            return count / elapsed
        finally:
            processes.stop()


async def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for workers in (1, 2):
            rate = await orders_per_second(workers, args.orders, tmp)
            print(f"{workers} worker(s): {rate:.1f} orders/s from payment to key ({args.orders})")
        for replicas in (1, 2):
            rate = await updates_per_second(replicas, args.updates, tmp)
            print(f"{replicas} bot replica(s): {rate:.0f} updates/s (/start, {args.updates})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--updates", type=int, default=1500)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
