"""G2A's side of selling on G2A, on this machine: how fast the shop answers G2A.

The real shop (dispatcher, worker, HTTP server) sells cs-source on a simulated G2A; many
simulated G2A buyers at once take a token, reserve, confirm and poll the inventory, while
the shop buys each key from the Kinguin simulator. It prints each call's answer times
(G2A allows 9 s), how many confirmations answered 200 (keys ready) or 202, and the time
from reservation to keys.

    .venv/bin/python -m benchmarks.g2a_dropshipping [--buyers 50] [--processing 2.0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import AsyncExitStack
from pathlib import Path

from benchmarks.flows import spread
from bot.app import build
from bot.config import PROJECT_ROOT, Settings
from bot.g2a.channel import G2AChannel
from tests.support.fake_telegram import FakeTelegram
from vendors.simulators.g2a import G2ASimulator
from vendors.simulators.g2a.catalog import DEFAULT_PRODUCTS, LISTED_BY_SANDBOX
from vendors.simulators.g2a_buyer import G2ABuyer, Purchase
from vendors.simulators.kinguin import KinguinSimulator

KEY, HASH, CLIENT, SECRET = "bench-key", "bench-hash", "g2a", "bench-secret"


async def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with AsyncExitStack() as stack:
            tg = await stack.enter_async_context(FakeTelegram())
            kinguin = await stack.enter_async_context(KinguinSimulator(api_key=KEY))
            for product in kinguin.products.values():
                product.processing_seconds = args.processing
            products = (*DEFAULT_PRODUCTS, LISTED_BY_SANDBOX)
            g2a = await stack.enter_async_context(
                G2ASimulator(api_hash=HASH, api_key=KEY, products=products)
            )
            g2a.imports.set_job_timing(step_seconds=0)
            port = args.port
            os.environ.update(
                BOT_TOKEN="1:bench",
                TELEGRAM_API_URL=tg.url,
                DATABASE_PATH=str(Path(tmp) / "bench.sqlite3"),
                CATALOG_FILE=str(PROJECT_ROOT / "catalog.toml"),
                KINGUIN_API_URL=str(kinguin.base_url),
                KINGUIN_API_KEY=KEY,
                G2A_API_URL=str(g2a.base_url),
                G2A_IMPORT_API_URL=str(g2a.base_url),
                G2A_API_HASH=HASH,
                G2A_API_KEY=KEY,
                G2A_DROPSHIPPING_CLIENT_ID=CLIENT,
                G2A_DROPSHIPPING_CLIENT_SECRET=SECRET,
                HTTP_HOST="127.0.0.1",
                HTTP_PORT=str(port),
                POLL_MIN_SECONDS="0.5",
                POLL_MAX_SECONDS="5",
            )
            shop = await build(Settings(), stack)
            polling = asyncio.create_task(shop.run(handle_signals=False))
            await tg.wait_for("getUpdates")
            channel = shop.dispatcher.workflow_data["g2a"]
            assert isinstance(channel, G2AChannel)
            await channel.listings.create("cs-source", 9.99, admin_id=0)

            async def one() -> tuple[Purchase, float]:
                base = f"http://127.0.0.1:{port}"
                async with G2ABuyer(base, CLIENT, SECRET, poll_interval=0.5) as buyer:
                    started = time.monotonic()
                    purchase = await buyer.buy(LISTED_BY_SANDBOX.product_id)
                    return purchase, time.monotonic() - started

            began = time.monotonic()
            results = await asyncio.gather(*(one() for _ in range(args.buyers)))
            elapsed = time.monotonic() - began
            await shop.dispatcher.stop_polling()
            await polling

    times: dict[str, list[float]] = defaultdict(list)
    for purchase, _total in results:
        for call in purchase.calls:
            name = call.path.split("/")[3] if call.path.startswith("/integration") else call.path
            if "confirm" in call.path:
                name = "confirm"
            times[f"{call.method} {name}"].append(call.seconds)
    confirms = Counter(purchase.confirmation.status for purchase, _ in results)
    print(f"G2A buyers: {args.buyers} at once, Kinguin processing {args.processing}s (s)")
    for name, values in sorted(times.items()):
        print(f"  {name:<22} n={len(values):<4} {spread(values)}")
    print(f"  {'reserve -> keys':<22} n={len(results):<4} {spread(t for _, t in results)}")
    print(f"  confirm answers: {dict(sorted(confirms.items()))} (200: keys ready, 202: later)")
    print(f"  all {args.buyers} sales in {elapsed:.1f}s; Kinguin orders: {kinguin.orders_created}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=50)
    parser.add_argument("--processing", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=18181)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
