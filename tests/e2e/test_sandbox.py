"""What a shop owner tries first: only a bot token, SANDBOX=1, the built-in simulator."""

from __future__ import annotations

import signal
import subprocess

import pytest

from storage import OrderState
from tests.conftest import APP_DIR, TOKEN, BotProcess, free_port
from tests.e2e.flows import paid_order, settled, started, wait_text


async def test_a_purchase_in_sandbox_mode_with_only_a_token(tg, tmp_path):
    bot_process = BotProcess(
        {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": tg.url,
            "DATABASE_PATH": str(tmp_path / "storefront.sqlite3"),
            "SANDBOX": "1",
            "TELEGRAM_TEST_ENVIRONMENT": "1",  # Stars are free there: how owners try it
            "POLL_MIN_SECONDS": "0.2",
            "HTTP_PORT": str(free_port()),  # the default 8080 may be taken on a test machine
        },
        tmp_path,
    )
    await started(tg, bot_process)
    try:
        user = tg.user(3001)
        await paid_order(tg, user, "Gift cards", "Steam Wallet 5 USD")
        key_message = await wait_text(tg, user, "Your key", since=0)
        assert "STM5-" in key_message and "test key" in key_message
        # Kinguin's simulator pushes its order.status webhook to the bot's own HTTP server
        mark = tg.mark()
        await paid_order(tg, user, "PC games", "Elden Ring")
        await wait_text(tg, user, "Your key", since=mark)
    finally:
        assert await bot_process.stop(signal.SIGTERM) == 0  # a clean shutdown on docker stop
    assert all(call.test_environment for call in tg.calls)
    assert not tg.calls_of("refundStarPayment")  # test Stars: nothing to give back
    output = bot_process.output()
    assert "SANDBOX mode" in output and "Traceback" not in output
    assert "kinguin says completed; checking now" in output  # delivered by the webhook


def test_without_a_token_the_bot_says_so_in_one_line(tmp_path):
    python = APP_DIR / ".venv" / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "bot"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "storefront: BOT_TOKEN is not set: put it in the environment or in .env"
    )


def test_a_vendor_without_credentials_stops_the_shop_naming_what_is_missing(tmp_path):
    """Credentials for one vendor and a typo for another: the shop must not sell that
    vendor's simulated keys for real Stars, it stops and says what to set."""
    python = APP_DIR / ".venv" / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "bot"],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "BOT_TOKEN": TOKEN,
            "DATABASE_PATH": str(tmp_path / "shop.sqlite3"),
            "CATALOG_FILE": str(APP_DIR / "catalog.toml"),
            "CODEGAMES_API_URL": "http://127.0.0.1:9",
            "CODEGAMES_API_KEY": "k",
            "KINGUIN_APIKEY": "a typo",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip().splitlines()[-1]  # after the migrations' log lines
    assert line.startswith("storefront: not set: ") and "SANDBOX=1" in line
    for needed in ("KINGUIN_API_KEY", "elden-ring", "G2A_API_HASH and G2A_API_KEY"):
        assert needed in line
    assert "KINGUIN_INTEGRATION_API_KEY" in line and "CODEGAMES" not in line


async def test_the_sandbox_shows_a_g2a_sale_end_to_end(tg, tmp_path):
    admins = tg.group(-100500, "Shop admins")
    owner = tg.user(9001)
    admins.set_member(owner, "creator")
    bot_process = BotProcess(
        {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": tg.url,
            "DATABASE_PATH": str(tmp_path / "storefront.sqlite3"),
            "SANDBOX": "1",
            "ADMIN_CHAT_ID": str(admins.id),
            "OWNER_IDS": str(owner.id),
            "HTTP_PORT": str(free_port()),
        },
        tmp_path,
    )
    await started(tg, bot_process)
    try:
        await owner.send("/g2a list cs-source 9.99", chat=admins)
        await tg.wait_for("sendMessage", where=lambda c: "G2A pays us" in c.params["text"])
        mark = await owner.press("✅ List it", chat=admins)
        await tg.wait_for(
            "editMessageText", where=lambda c: "is on G2A" in c.params["text"], since=mark
        )
        mark = await owner.send("/g2a demo cs-source", chat=admins)
        done = await tg.wait_for(
            "sendMessage", where=lambda c: "G2A order" in c.params["text"], since=mark, timeout=30
        )
        assert "1 key(s) handed over" in done.params["text"]
    finally:
        assert await bot_process.stop(signal.SIGTERM) == 0
    output = bot_process.output()
    assert "Traceback" not in output


class TestSandboxOnTheProductionEnvironment:
    """Trying the shop with real Stars: the keys say they are test keys, and the Stars go
    back once the test key is delivered."""

    @pytest.fixture
    def shop_env(self, shop_env):
        return shop_env | {"SANDBOX": "1"}

    async def test_a_test_purchase_is_labelled_and_refunded(self, tg, shop, orders):
        user = tg.user(3101)
        mark = await user.send("/start offer-steam-5")
        assert "test keys" in await wait_text(tg, user, "Sandbox", since=mark)
        order_id = await paid_order(tg, user, "Gift cards", "Steam Wallet 5 USD")
        assert "test key" in await wait_text(tg, user, "Your key", since=mark)
        assert "test purchase" in await wait_text(tg, user, "We refunded", since=mark)
        order = await settled(orders, order_id, OrderState.REFUNDED)
        assert order.test_purchase and tg.charges[order.telegram_charge_id].refunded
        assert await orders.keys(order_id)  # the test key stays on record
        assert len(tg.calls_of("refundStarPayment")) == 1
