"""Shared fixtures: the fake Bot API server, the CodeGames simulator, and the shop itself
(in-process, or as a real `python -m bot` process for crash tests)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from bot.app import Storefront, build
from bot.config import PROJECT_ROOT, Settings
from storage import Database, KeyCipher, OrderRepo
from tests.support.fake_telegram import FakeTelegram
from tests.support.services import REDIS_URL, postgres_database, redis_prefix
from vendors.simulators.codegames import DEFAULT_OFFERS, CodeGamesSimulator
from vendors.simulators.g2a import G2ASimulator
from vendors.simulators.kinguin import KinguinSimulator
from vendors.simulators.kinguin_integration import KinguinIntegrationSimulator

TOKEN = "123456:TEST-token"
VENDOR_KEY = "test-vendor-key"
WEBHOOK_SECRET = "test-webhook-secret"
G2A_HASH = "test-g2a-hash"
FAST_PROCESSING = 0.3
HEALTH_TOKEN = "test-health-token"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server
    assert server.violations == [], "Bot API calls outside the 10.1 schema"


@pytest.fixture
async def sim() -> AsyncIterator[CodeGamesSimulator]:
    offers = [o.model_copy(update={"processing_seconds": FAST_PROCESSING}) for o in DEFAULT_OFFERS]
    async with CodeGamesSimulator(offers, api_key=VENDOR_KEY) as simulator:
        yield simulator


@pytest.fixture
async def kinguin() -> AsyncIterator[KinguinSimulator]:
    """Kinguin ESA; its webhooks go to the shop's HTTP server (see shop_env)."""
    async with KinguinSimulator(api_key=VENDOR_KEY, webhook_secret=WEBHOOK_SECRET) as simulator:
        for product in simulator.products.values():
            product.processing_seconds = FAST_PROCESSING
        yield simulator


@pytest.fixture
async def integration() -> AsyncIterator[KinguinIntegrationSimulator]:
    async with KinguinIntegrationSimulator(api_key=VENDOR_KEY) as simulator:
        for product in simulator.products.values():
            product.pending_seconds = FAST_PROCESSING
        yield simulator


@pytest.fixture
async def g2a() -> AsyncIterator[G2ASimulator]:
    async with G2ASimulator(api_hash=G2A_HASH, api_key=VENDOR_KEY) as simulator:
        for product in simulator.products.values():
            product.processing_seconds = FAST_PROCESSING
        yield simulator


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, str]]:
    """Every end-to-end test runs on both set-ups a shop can have: SQLite alone, and
    PostgreSQL with Redis (a database and a key prefix of the test's own)."""
    if request.param == "sqlite":
        yield {}
        return
    async with postgres_database() as url, redis_prefix() as prefix:
        yield {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix}


@pytest.fixture
def shop_env(
    tmp_path: Path,
    backend: dict[str, str],
    tg: FakeTelegram,
    sim: CodeGamesSimulator,
    kinguin: KinguinSimulator,
    integration: KinguinIntegrationSimulator,
    g2a: G2ASimulator,
) -> dict[str, str]:
    """The environment a shop owner would set, pointed at the fakes."""
    port = free_port()
    kinguin.webhook_url = f"http://127.0.0.1:{port}/webhooks/kinguin"
    return {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": tg.url,
        "DATABASE_PATH": str(tmp_path / "data" / "storefront.sqlite3"),
        "CATALOG_FILE": str(PROJECT_ROOT / "catalog.toml"),
        "CODEGAMES_API_URL": str(sim.base_url),
        "CODEGAMES_API_KEY": VENDOR_KEY,
        "ADMIN_CHAT_ID": "-100500",
        "POLL_MIN_SECONDS": "0.1",
        "POLL_MAX_SECONDS": "0.5",
        "WORKER_IDLE_SECONDS": "0.2",
        "OFFER_CACHE_SECONDS": "30",
        "WORKER_LEASE_SECONDS": "2",
        "VENDOR_TIMEOUT_SECONDS": "3",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "KINGUIN_API_URL": str(kinguin.base_url),
        "KINGUIN_API_KEY": VENDOR_KEY,
        "KINGUIN_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "KINGUIN_INTEGRATION_API_URL": str(integration.base_url),
        "KINGUIN_INTEGRATION_API_KEY": VENDOR_KEY,
        "G2A_API_URL": str(g2a.base_url),
        "G2A_API_HASH": G2A_HASH,
        "G2A_API_KEY": VENDOR_KEY,
        "HEALTH_TOKEN": HEALTH_TOKEN,
    } | backend


def free_port() -> int:
    """A port nobody listens on now, for the bot's HTTP server. Drawn below the ephemeral
    range (32768+), so no outgoing connection's local port takes it before the bot binds
    it a few seconds later (which made a `python -m bot` start fail now and then)."""
    while True:
        port = random.randrange(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@asynccontextmanager
async def running_shop(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Storefront]:
    """The real shop in this process, configured by `env` as an owner would, until the
    block ends."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(env["DATABASE_PATH"].rsplit("/data/", 1)[0])  # no stray .env
    async with AsyncExitStack() as stack:
        storefront = await build(Settings(), stack)
        task = asyncio.create_task(storefront.run(handle_signals=False))
        yield storefront
        await storefront.stop()
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def shop(
    shop_env: dict[str, str], tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Storefront]:
    """The real dispatcher and worker, long-polling the fake Bot API."""
    async with running_shop(shop_env, monkeypatch) as storefront:
        await tg.wait_for("getUpdates")
        yield storefront


async def open_shop_database(shop_env: dict[str, str]) -> Database:
    """The shop's database, as an admin tool would open it."""
    return await Database.open(shop_env.get("DATABASE_URL") or shop_env["DATABASE_PATH"])


@pytest.fixture
async def orders(shop_env: dict[str, str]) -> AsyncIterator[OrderRepo]:
    """A second view of the shop's database, as an admin tool would open it."""
    db = await open_shop_database(shop_env)
    yield OrderRepo(db, KeyCipher.from_file(Path(shop_env["DATABASE_PATH"]).parent / "keys.secret"))
    await db.close()


# CI points this at a copy of exactly what the Dockerfile puts in the image.
APP_DIR = Path(os.environ.get("STOREFRONT_APP_DIR", PROJECT_ROOT))


class BotProcess:
    """`python -m bot` exactly as the Docker image starts it (from APP_DIR)."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self._env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        self._env |= env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = log_dir / "bot.log"

    def start(self, **extra_env: str) -> None:
        python = APP_DIR / ".venv" / "bin" / "python"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(python if python.exists() else sys.executable), "-m", "bot"],
                env=self._env | extra_env,
                cwd=APP_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def exited(self, within: float = 30) -> int:
        """The exit code, waiting without blocking the fakes that share this event loop."""
        assert self.proc is not None
        for _ in range(int(within / 0.05)):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.05)
        raise AssertionError(
            f"the bot did not exit within {within}s; its output:\n{self.output()[-3000:]}"
        )

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig` (SIGTERM: `docker stop`; SIGKILL: a crash) and wait for the exit."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        return await self.exited()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def healthy(self) -> bool:
        """Its HTTP server answers /health with 200."""
        url = f"http://127.0.0.1:{self._env['HTTP_PORT']}/health"
        async with httpx.AsyncClient(timeout=1) as http:
            try:
                return (await http.get(url)).status_code == 200
            except httpx.HTTPError:
                return False

    async def ready(self, within: float = 30.0) -> None:
        """Once it is healthy; AssertionError with its output if it is not in time."""
        for _ in range(int(within / 0.1)):
            if await self.healthy():
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"not healthy within {within}s; its output:\n{self.output()[-3000:]}")


@pytest.fixture
def bot_process(shop_env: dict[str, str], tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(shop_env, tmp_path)
    yield process
    if process.proc is not None and process.proc.poll() is None:
        process.proc.kill()
        process.proc.wait(timeout=15)
