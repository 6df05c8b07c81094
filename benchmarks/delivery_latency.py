"""Delivery latency and throughput, end to end, on this machine.

Customers buy gift cards through the real dispatcher and worker, the fake Bot API server
and the CodeGames simulator. For every order it prints how long it took from the moment
the simulator marked the vendor order COMPLETED to the moment the key message reached the
Bot API, and the throughput from first payment to last delivery.

    .venv/bin/python -m benchmarks.delivery_latency [--orders 40] [--processing 2.0]
        [--poll-min 0.5] [--poll-max 5.0]   (VENDOR_RATE_PER_SECOND etc. from the environment)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from benchmarks.flows import buy, key_message, spread
from bot.app import build
from bot.config import PROJECT_ROOT, Settings
from tests.support.fake_telegram import FakeTelegram
from vendors.simulators.codegames import DEFAULT_OFFERS, CodeGamesSimulator

OFFER_ID, SKU = 3001, "steam-5"


async def measure(args: argparse.Namespace) -> None:
    offers = [o.model_copy(update={"processing_seconds": args.processing}) for o in DEFAULT_OFFERS]
    clock_offset = time.time() - time.monotonic()  # Call.ts is monotonic, the simulator's wall
    with tempfile.TemporaryDirectory() as tmp:
        async with AsyncExitStack() as stack:
            tg = await stack.enter_async_context(FakeTelegram())
            sim = await stack.enter_async_context(CodeGamesSimulator(offers, api_key="k"))
            os.environ.update(
                BOT_TOKEN="1:bench",
                TELEGRAM_API_URL=tg.url,
                CODEGAMES_API_URL=str(sim.base_url),
                CODEGAMES_API_KEY="k",
                DATABASE_PATH=str(Path(tmp) / "bench.sqlite3"),
                CATALOG_FILE=str(PROJECT_ROOT / "catalog.toml"),
                POLL_MIN_SECONDS=str(args.poll_min),
                POLL_MAX_SECONDS=str(args.poll_max),
                HTTP_PORT="0",
            )
            shop = await build(Settings(), stack)
            polling = asyncio.create_task(shop.run(handle_signals=False))
            await tg.wait_for("getUpdates")

            users = [tg.user(10_000 + n) for n in range(args.orders)]
            started = time.monotonic()
            order_ids = await asyncio.gather(*(buy(tg, user, SKU) for user in users))
            deliveries = await asyncio.gather(*(key_message(tg, user) for user in users))
            finished = time.monotonic()
            latencies = []
            for order_id, call in zip(order_ids, deliveries, strict=True):
                vendor_order = sim.order_by_transaction(order_id)
                assert vendor_order is not None and vendor_order.completed_at is not None
                latencies.append(call.ts + clock_offset - vendor_order.completed_at)
            await shop.dispatcher.stop_polling()
            await polling

    latencies.sort()
    print(
        f"orders: {args.orders}, vendor processing {args.processing}s, "
        f"polling {args.poll_min}s..{args.poll_max}s (x1.5)"
    )
    print(f"COMPLETED -> key message sent (s): {spread(latencies)}")
    print(
        f"throughput: {args.orders / (finished - started):.1f} orders/s "
        f"({finished - started:.1f}s from the first /start to the last key)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--processing", type=float, default=2.0)
    parser.add_argument("--poll-min", type=float, default=0.5)
    parser.add_argument("--poll-max", type=float, default=5.0)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
