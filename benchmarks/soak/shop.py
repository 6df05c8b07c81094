"""The shop under the soak, as owners run it: `python -m bot` processes, SIGKILLed at random
moments and started again.

- "sqlite": one process doing everything on SQLite, long polling (the README's start);
- "scaled": two bot replicas in webhook mode behind a round-robin proxy and two workers,
  on a PostgreSQL and a Redis of the soak's own, which it restarts while the shop runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

from benchmarks.soak.world import World
from bot.config import PROJECT_ROOT
from tests.conftest import BotProcess, free_port
from tests.support.private_servers import (
    PrivatePostgres,
    PrivateRedis,
    private_postgres,
    private_redis,
)
from tests.support.proxy import RoundRobinProxy

SETUPS = ("sqlite", "scaled")
TELEGRAM_SECRET = "soak-telegram-secret"


def tuning() -> dict[str, str]:
    """Faster rounds than an owner's defaults, so that a run takes minutes."""
    return {
        "CATALOG_FILE": str(PROJECT_ROOT / "catalog.toml"),
        "HTTP_HOST": "127.0.0.1",
        "POLL_MIN_SECONDS": "0.2",
        "POLL_MAX_SECONDS": "1",
        "WEBHOOK_POLL_SECONDS": "2",
        "PREORDER_POLL_SECONDS": "3",
        "WORKER_IDLE_SECONDS": "0.3",
        "WORKER_LEASE_SECONDS": "6",
        "HOUSEKEEPING_SECONDS": "4",
        "TELEGRAM_TIMEOUT_SECONDS": "4",
        "OFFER_CACHE_SECONDS": "30",
        "KEY_LOST_REFUND_HOURS": "0.01",  # 36 s to enter a lost key, then it is refunded
        "ALERT_INTERVAL_SECONDS": "1",
        "VENDOR_RATE_PER_SECOND": "25",
        "AUTH_FAILURES_PER_MINUTE": "1000",
        "KEYS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }


@dataclass
class Shop:
    setup: str
    processes: dict[str, BotProcess]
    ports: dict[str, int]
    env: dict[str, str]
    postgres: PrivatePostgres | None = None
    redis: PrivateRedis | None = None
    proxy: RoundRobinProxy | None = None
    kills: int = 0
    restarts: Counter[str] = field(default_factory=Counter)  # of PostgreSQL and Redis
    crashes: list[str] = field(default_factory=list)  # processes that exited on their own
    # starts refused in one line while PostgreSQL or Redis was down (as designed: Docker's
    # restart policy starts them again)
    refused_starts: int = 0
    _killing: set[str] = field(default_factory=set)

    @property
    def http(self) -> str:
        """Where G2A and Kinguin call the shop."""
        if self.proxy is not None:
            return self.proxy.url
        return f"http://127.0.0.1:{self.ports['shop']}"

    @property
    def database(self) -> str:
        return self.env.get("DATABASE_URL") or self.env["DATABASE_PATH"]

    async def healthy(self, name: str) -> bool:
        return await self.processes[name].healthy()

    async def kill_one(self, chance: random.Random) -> str:
        """SIGKILL a random process (never the last serving bot replica) and start it again."""
        name = chance.choice(sorted(self.processes))
        if name.startswith("bot-"):
            other = "bot-2" if name == "bot-1" else "bot-1"
            if not await self.healthy(other):
                name = chance.choice(["worker-1", "worker-2"])
        process = self.processes[name]
        assert process.proc is not None
        self._killing.add(name)
        try:
            if process.proc.poll() is None:
                process.proc.send_signal(signal.SIGKILL)
                await process.exited()
                self.kills += 1
            process.start()
        finally:
            self._killing.discard(name)
        return name

    async def watch(self, stop: asyncio.Event) -> None:
        """Like Docker's restart policy: a process that exited on its own (not killed by
        the soak) is started again, and noted: the verdict counts it as a problem."""
        while not stop.is_set():
            for name, process in self.processes.items():
                proc = process.proc
                if name in self._killing or proc is None or proc.poll() is None:
                    continue
                last = (process.output().strip().splitlines()[-1:] or ["(no output)"])[0]
                if proc.returncode == 2 and "cannot use" in last:
                    self.refused_starts += 1
                else:
                    self.crashes.append(f"{name} exited with {proc.returncode}: {last[:300]}")
                process.start()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    async def restart_services(self) -> None:
        """PostgreSQL, then Redis, down for two seconds each while the shop runs."""
        for name, server in (("postgresql", self.postgres), ("redis", self.redis)):
            if server is None:
                continue
            await server.stop()
            await asyncio.sleep(2.0)
            await server.start()
            self.restarts[name] += 1

    def tracebacks(self) -> int:
        return sum(p.output().count("Traceback") for p in self.processes.values())


@asynccontextmanager
async def running(setup: str, world: World, workdir: Path) -> AsyncIterator[Shop]:
    async with AsyncExitStack() as stack:
        env = world.env() | tuning() | {"DATABASE_PATH": str(workdir / "data" / "shop.sqlite3")}
        if setup == "sqlite":
            names = ["shop"]
            ports = {"shop": free_port()}
            world.kinguin.webhook_url = f"http://127.0.0.1:{ports['shop']}/webhooks/kinguin"
            shop = Shop(setup, {}, ports, env)
        else:
            postgres = await stack.enter_async_context(private_postgres())
            redis = await stack.enter_async_context(private_redis(workdir))
            names = ["bot-1", "bot-2", "worker-1", "worker-2"]
            ports = {name: free_port() for name in names}
            replicas = [f"http://127.0.0.1:{ports[name]}" for name in names[:2]]
            proxy = await stack.enter_async_context(RoundRobinProxy(replicas))
            world.kinguin.webhook_url = f"{proxy.url}/webhooks/kinguin"
            env |= {
                "DATABASE_URL": postgres.url,
                "REDIS_URL": redis.url,
                "TELEGRAM_WEBHOOK_URL": f"{proxy.url}/telegram",
                "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            }
            shop = Shop(setup, {}, ports, env, postgres, redis, proxy)
        for name in names:
            role = name.split("-")[0] if "-" in name else "all"
            log_dir = workdir / name
            log_dir.mkdir(parents=True, exist_ok=True)
            process = BotProcess(env | {"ROLE": role, "HTTP_PORT": str(ports[name])}, log_dir)
            shop.processes[name] = process
            process.start()
        try:
            for name in names:
                await shop.processes[name].ready(within=60)
            yield shop
        finally:
            for process in shop.processes.values():
                if process.proc is not None and process.proc.poll() is None:
                    with contextlib.suppress(Exception):
                        await process.stop(signal.SIGTERM)
