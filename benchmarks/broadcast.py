"""A broadcast to 10,000 customers: how close to Telegram's floor it comes, and whether it
ever trips Telegram's limit.

The shop runs (`bot.app.build`, long polling) against the fake Bot API with Telegram's
bulk limit switched on (`flood_limit`: more than 30 messages within a second are refused
with 429 and retry_after). The owner sends /broadcast in the admin group and confirms;
the time runs from the confirmation to the "Broadcast done" summary. The floor is the
customers divided by BROADCAST_RATE_PER_SECOND: no broadcast at that pace can be faster.

    .venv/bin/python -m benchmarks.broadcast [--customers 10000] [--rate 25]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from bot.__main__ import run
from bot.app import build
from bot.config import PROJECT_ROOT, Settings
from storage import Database, UserRepo
from tests.support.fake_telegram import FakeTelegram

ADMIN_CHAT, OWNER = -1_001_000_000_001, 9001
TELEGRAM_LIMIT = 30  # messages a second, Telegram's bulk limit


async def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = str(Path(tmp) / "shop.sqlite3")
        db = await Database.open(database)
        users = UserRepo(db)
        for user_id in range(1_000_000, 1_000_000 + args.customers):
            await users.language(user_id, "en")  # as the bot records every customer it meets
        await db.close()
        async with AsyncExitStack() as stack:
            tg = await stack.enter_async_context(FakeTelegram())
            tg.flood_limit = TELEGRAM_LIMIT
            admins = tg.group(ADMIN_CHAT, "Shop admins")
            owner = tg.user(OWNER)
            admins.set_member(owner, "creator")
            settings = Settings(
                bot_token="123456:bench",
                telegram_api_url=tg.url,
                database_path=database,
                catalog_file=PROJECT_ROOT / "catalog.toml",
                admin_chat_id=ADMIN_CHAT,
                owner_ids=frozenset({OWNER}),
                broadcast_rate_per_second=args.rate,
                http_port=0,
            )
            shop = await build(settings, stack)
            polling = asyncio.create_task(shop.run(handle_signals=False))
            await tg.wait_for("getUpdates", timeout=30)
            await owner.send("/broadcast Weekend sale: 20% off every gift card", chat=admins)
            await tg.wait_for("sendMessage", where=lambda c: "Preview" in c.params["text"])
            mark = await owner.press(lambda b: b["text"].startswith("📣"), chat=admins)
            started = time.monotonic()
            await tg.wait_for(
                "sendMessage",
                where=lambda c: (
                    c.params["chat_id"] == ADMIN_CHAT and "Broadcast done" in c.params["text"]
                ),
                since=mark,
                timeout=args.customers / args.rate * 3 + 60,
            )
            took = time.monotonic() - started
            sent = sum(1 for c in tg.calls_of("sendMessage") if c.params["chat_id"] >= 1_000_000)
            busiest = tg.max_rate("sendMessage", window=1.0)
            await shop.stop()
            await polling
    floor = args.customers / args.rate
    print(f"broadcast to {args.customers} customers at {args.rate:g}/s:")
    print(f"  {took:.1f} s; floor {floor:.1f} s: {(took / floor - 1) * 100:+.1f} %")
    print(f"  {sent} messages sent; busiest second {busiest}; 429 from the Bot API: {tg.flooded}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
