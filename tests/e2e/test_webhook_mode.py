"""Telegram updates by webhook (TELEGRAM_WEBHOOK_URL): the shop registers it only when
Telegram has something else, buys through it, refuses posts without the secret, and never
deletes it when it stops. And what a process says, in one line, when it cannot start:
a second long-poller, a database or Redis that does not answer, a newer database."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest

from storage import Database, OrderState
from tests.conftest import BotProcess, running_shop
from tests.e2e.flows import paid_order, settled, started, wait_text
from tests.support.fake_telegram import FakeTelegram

SECRET = "the-webhook-secret"


@pytest.fixture
def webhook_env(shop_env: dict[str, str]) -> dict[str, str]:
    url = f"http://127.0.0.1:{shop_env['HTTP_PORT']}/telegram/updates"
    return shop_env | {"TELEGRAM_WEBHOOK_URL": url, "TELEGRAM_WEBHOOK_SECRET": SECRET}


async def test_a_purchase_by_webhook_and_the_webhook_kept_across_restarts(
    tg: FakeTelegram, webhook_env, monkeypatch, orders
):
    async with running_shop(webhook_env, monkeypatch):
        registered = await tg.wait_for("setWebhook")
        assert registered.params["url"] == webhook_env["TELEGRAM_WEBHOOK_URL"]
        assert registered.params["secret_token"] == SECRET
        assert "pre_checkout_query" in registered.params["allowed_updates"]
        assert not registered.params.get("drop_pending_updates")
        assert len(tg.calls_of("setWebhook")) == 1
        assert not tg.calls_of("getUpdates")  # no long polling beside it

        user = tg.user(8101)
        order_id = await paid_order(tg, user, "Gift cards", "Steam Wallet 5 USD")
        await wait_text(tg, user, "Your key")
        await settled(orders, order_id, OrderState.DELIVERED)
        assert all(delivery.ok for delivery in tg.webhook.deliveries)

        # a post without the secret (or with another) is refused and changes nothing
        mark = tg.mark()
        update = {"update_id": 999_999, "message": tg.user(8102)._message(text="/start")}
        async with httpx.AsyncClient() as http:
            url = webhook_env["TELEGRAM_WEBHOOK_URL"]
            assert (await http.post(url, json=update)).status_code == 401
            forged = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
            assert (await http.post(url, json=update, headers=forged)).status_code == 401
        await asyncio.sleep(0.3)
        assert tg.calls[mark:] == []

    assert not tg.calls_of("deleteWebhook")  # stopping leaves it to the other replicas
    async with running_shop(webhook_env, monkeypatch):  # a restart: Telegram has it already
        await tg.wait_for("getWebhookInfo", since=len(tg.calls) - 1)
        await asyncio.sleep(0.3)
        assert len(tg.calls_of("setWebhook")) == 1
    changed = webhook_env | {"TELEGRAM_WEBHOOK_SECRET": "a-new-secret"}
    async with running_shop(changed, monkeypatch):  # a new secret is given to Telegram
        await tg.wait_for("setWebhook", since=0, where=lambda c: c.params["secret_token"] != SECRET)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_telegram_hiccups_at_start_do_not_stop_the_shop(
    tg: FakeTelegram, shop_env, webhook_env, monkeypatch, orders, mode
):
    """429, 5xx and no answer to the start-up calls: tried again, and the shop serves."""
    tg.fail_next("setMyCommands", "Too Many Requests: retry after 1", code=429)
    tg.fail_next("setMyCommands", "Bad Gateway", code=502)
    tg.fail_next("getMe", "Too Many Requests: retry after 1", code=429)
    tg.fail_next("getMe", "Bad Gateway", code=502)
    tg.fail_next("getWebhookInfo", "Internal Server Error", code=500)
    tg.fail_next("setWebhook", "Bad Gateway", code=502)
    env = webhook_env if mode == "webhook" else shop_env
    async with running_shop(env, monkeypatch):
        if mode == "webhook":
            taken = await tg.wait_for("setWebhook", where=lambda c: c.result is True, timeout=20)
            assert taken.error is None
        user = tg.user(8103)
        order_id = await paid_order(tg, user, "Gift cards", "Steam Wallet 5 USD")
        await settled(orders, order_id, OrderState.DELIVERED)
    commands = tg.calls_of("setMyCommands")
    assert commands[0].error and commands[1].error and commands[2].error is None


async def test_a_second_long_poller_says_why_and_stops(tg, shop_env, tmp_path):
    first = BotProcess(shop_env, tmp_path)
    await started(tg, first)
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    other_port = {"HTTP_PORT": "0"}
    second = BotProcess(shop_env | other_port, second_dir)
    second.start()
    # Telegram ends the older poll with 409 when a newer one comes: one of them goes
    done, _ = await asyncio.wait(
        [asyncio.create_task(p.exited(within=60)) for p in (first, second)],
        return_when=asyncio.FIRST_COMPLETED,
    )
    assert next(iter(done)).result() == 2
    loser = first if first.proc.poll() is not None else second
    winner = second if loser is first else first
    assert "another process polls Telegram with this BOT_TOKEN" in loser.output()
    assert "Traceback" not in loser.output()
    await winner.stop(signal.SIGTERM)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DATABASE_URL", "postgresql://shop:hunter2@127.0.0.1:1/shop", "DATABASE_URL"),
        ("DATABASE_URL", "mysql://shop:hunter2@127.0.0.1/shop", "DATABASE_URL"),
        ("REDIS_URL", "redis://:hunter2@127.0.0.1:1/0", "REDIS_URL"),
    ],
)
async def test_a_database_or_redis_that_does_not_answer_stops_the_start_in_one_line(
    tmp_path, variable, value, named
):
    env = {"BOT_TOKEN": "123456:TEST-token", "HTTP_PORT": "0", variable: value}
    env["DATABASE_PATH"] = str(tmp_path / "data" / "shop.sqlite3")
    process = BotProcess(env, tmp_path)
    process.start()
    assert await process.exited() == 2
    output = process.output()
    [line] = [text for text in output.splitlines() if text.startswith("storefront:")]
    assert named in line and "hunter2" not in output and "Traceback" not in output


async def test_a_database_written_by_a_newer_shop_is_refused(tmp_path):
    path = tmp_path / "data" / "shop.sqlite3"
    db = await Database.open(path)
    await db.execute("INSERT INTO schema_migrations VALUES (9999, 'from_the_future', 0)")
    await db.close()
    process = BotProcess(
        {"BOT_TOKEN": "123456:TEST-token", "HTTP_PORT": "0", "DATABASE_PATH": str(path)},
        tmp_path,
    )
    process.start()
    assert await process.exited() == 2
    assert "newer than this version of the shop" in process.output()
    assert "Traceback" not in process.output()
