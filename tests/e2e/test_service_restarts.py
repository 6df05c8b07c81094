"""Redis or PostgreSQL restarts while the shop runs (servers of the test's own): /health
says 503 meanwhile, what was in flight fails cleanly, nothing paid is lost, and the shop
goes on by itself once they are back."""

from __future__ import annotations

import asyncio
from functools import partial

import httpx
import pytest

from storage import Database, KeyCipher, OrderRepo, OrderState
from tests.conftest import HEALTH_TOKEN, running_shop
from tests.e2e.flows import eventually, invoice_for, paid_order, settled, wait_text
from tests.support.private_servers import private_postgres, private_redis

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


async def health(env: dict[str, str]) -> tuple[int, dict]:
    url = f"http://127.0.0.1:{env['HTTP_PORT']}/health"
    async with httpx.AsyncClient(timeout=5) as http:
        answer = await http.get(url, headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
    return answer.status_code, answer.json()


async def test_a_redis_restart_loses_no_payment(tg, sim, shop_env, monkeypatch, tmp_path):
    async with private_redis(tmp_path) as redis:
        env = shop_env | {"REDIS_URL": redis.url, "HOUSEKEEPING_SECONDS": "1"}
        async with running_shop(env, monkeypatch):
            await tg.wait_for("getUpdates")
            user = tg.user(8201)
            invoice = await invoice_for(tg, user, "Gift cards", "Steam Wallet 5 USD")
            assert (await user.checkout(invoice)).params["ok"] is True

            await redis.stop()
            status, body = await health(env)
            assert status == 503 and body["redis"] is False and body["database"]["ok"]
            # Telegram charges the customer while the shop cannot read conversations: the
            # update fails, and the Stars ledger brings the payment back once Redis is up
            await user.successful_payment(invoice)
            await asyncio.sleep(1.0)
            await redis.start()

            await wait_text(tg, user, "Your key")
            order_id = invoice.invoice.payload
            db = await Database.open(env["DATABASE_URL"])
            try:
                orders = OrderRepo(db, KeyCipher.from_file(tmp_path / "data" / "keys.secret"))
                order = await settled(orders, order_id, OrderState.DELIVERED)
                assert order.telegram_charge_id
            finally:
                await db.close()
            assert (await health(env))[0] == 200
            # conversations work again: a top-up asks for the player ID and remembers it
            other = tg.user(8202)
            mark = await other.send("/start offer-pubg-60uc")
            await tg.wait_for("sendMessage", since=mark)
            mark = await other.press(lambda button: button["text"].startswith("🛒"))
            await wait_text(tg, other, "player ID", since=mark)
            mark = await other.send("52357322414")
            await wait_text(tg, other, "check your order", since=mark)
            assert not tg.calls_of("refundStarPayment")


async def test_a_postgresql_restart_loses_no_order(tg, sim, shop_env, monkeypatch, tmp_path):
    sim.set_outcome(3001, "COMPLETED", processing_seconds=3.0)
    async with private_postgres() as postgres:
        env = shop_env | {"DATABASE_URL": postgres.url}
        async with running_shop(env, monkeypatch):
            await tg.wait_for("getUpdates")
            user = tg.user(8301)
            order_id = await paid_order(tg, user, "Gift cards", "Steam Wallet 5 USD")
            await eventually(partial(sim.order_by_transaction, order_id))  # at the vendor

            await postgres.stop()
            status, body = await health(env)
            assert status == 503 and body["database"]["ok"] is False
            await asyncio.sleep(1.5)  # worker rounds fail meanwhile (and say so in the log)
            await postgres.start()

            vendor_order = sim.order_by_transaction(order_id)
            await wait_text(tg, user, vendor_order.key)
            await eventually(lambda: _healthy(env), within=15)
            another = tg.user(8302)  # and the next customer buys as usual
            await paid_order(tg, another, "Gift cards", "Google Play 10 USD")
            await wait_text(tg, another, "Your key")
            assert sim.orders_created == 2


async def _healthy(env: dict[str, str]) -> bool:
    return (await health(env))[0] == 200
