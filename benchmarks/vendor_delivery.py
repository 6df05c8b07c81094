"""Per vendor: vendor HTTP calls per delivered order, and the time from the vendor
completing an order to the key message reaching the Bot API.

Real dispatcher, worker and HTTP server; the fake Bot API; the four vendor simulators over
HTTP on 127.0.0.1. Kinguin runs twice: with its `order.status` webhook (polling only as
the 30 s safety net) and without (polling alone).

    .venv/bin/python -m benchmarks.vendor_delivery [--orders 10] [--processing 2.0]
        [--poll-min 0.5] [--poll-max 5.0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.flows import buy, key_message, spread
from bot.app import build
from bot.config import PROJECT_ROOT, Settings
from storage import Database, KeyCipher, OrderRepo
from tests.support.fake_telegram import FakeTelegram
from vendors.simulators.base import SimulatorServer
from vendors.simulators.codegames import DEFAULT_OFFERS, CodeGamesSimulator
from vendors.simulators.g2a import G2ASimulator
from vendors.simulators.kinguin import KinguinSimulator
from vendors.simulators.kinguin_integration import KinguinIntegrationSimulator

KEY, SECRET, HASH = "bench-key", "bench-secret", "bench-hash"


@dataclass
class Scenario:
    label: str
    sku: str
    sim: SimulatorServer
    completed_at: Callable[[str, str], float]  # (our id, vendor order id) -> when it completed


async def run(
    scenario: Scenario, tg: FakeTelegram, repo: OrderRepo, orders: int, first_user: int
) -> None:
    clock_offset = time.time() - time.monotonic()  # Call.ts is monotonic, the simulators' wall
    calls_before = len(scenario.sim.log)
    users = [tg.user(first_user + n) for n in range(orders)]
    order_ids = await asyncio.gather(*(buy(tg, user, scenario.sku) for user in users))
    deliveries = await asyncio.gather(*(key_message(tg, user) for user in users))
    latencies = []
    for order_id, call in zip(order_ids, deliveries, strict=True):
        order = await repo.get(order_id)
        assert order is not None and order.vendor_order_id is not None
        done = scenario.completed_at(order_id, order.vendor_order_id)
        latencies.append(call.ts + clock_offset - done)
    latencies.sort()
    calls = scenario.sim.log[calls_before:]
    kinds = Counter(f"{c.method} {_shape(c.path)}" for c in calls)
    print(f"\n{scenario.label}: {orders} orders")
    print(
        f"  vendor calls per delivered order: {len(calls) / orders:.1f}  ("
        + ", ".join(f"{kind} {n / orders:.1f}" for kind, n in kinds.most_common())
        + ")"
    )
    print(f"  vendor completed -> key message (s): {spread(latencies)}")


def _shape(path: str) -> str:
    """A path with ids replaced, so calls group by endpoint."""

    def is_id(part: str) -> bool:
        return len(part) >= 6 and not part.replace("-", "").islower()

    return "/".join("{id}" if is_id(part) else part for part in path.split("/"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def measure(args: argparse.Namespace, webhooks: bool) -> None:
    processing = args.processing
    with tempfile.TemporaryDirectory() as tmp:
        async with AsyncExitStack() as stack:
            tg = await stack.enter_async_context(FakeTelegram())
            offers = [
                o.model_copy(update={"processing_seconds": processing}) for o in DEFAULT_OFFERS
            ]
            codegames = await stack.enter_async_context(CodeGamesSimulator(offers, api_key=KEY))
            kinguin = await stack.enter_async_context(
                KinguinSimulator(api_key=KEY, webhook_secret=SECRET if webhooks else None)
            )
            integration = await stack.enter_async_context(KinguinIntegrationSimulator(api_key=KEY))
            g2a = await stack.enter_async_context(G2ASimulator(api_hash=HASH, api_key=KEY))
            for simulator in (kinguin, g2a):
                for product in simulator.products.values():
                    product.processing_seconds = processing
            for item in integration.products.values():
                item.pending_seconds = processing
            port = _free_port()
            if webhooks:
                kinguin.webhook_url = f"http://127.0.0.1:{port}/webhooks/kinguin"
            env: dict[str, Any] = {
                "BOT_TOKEN": "1:bench",
                "TELEGRAM_API_URL": tg.url,
                "DATABASE_PATH": str(Path(tmp) / "bench.sqlite3"),
                "CATALOG_FILE": str(PROJECT_ROOT / "catalog.toml"),
                "POLL_MIN_SECONDS": str(args.poll_min),
                "POLL_MAX_SECONDS": str(args.poll_max),
                "HTTP_HOST": "127.0.0.1",
                "HTTP_PORT": str(port),
                "CODEGAMES_API_URL": codegames.base_url,
                "CODEGAMES_API_KEY": KEY,
                "KINGUIN_API_URL": kinguin.base_url,
                "KINGUIN_API_KEY": KEY,
                "KINGUIN_INTEGRATION_API_URL": integration.base_url,
                "KINGUIN_INTEGRATION_API_KEY": KEY,
                "G2A_API_URL": g2a.base_url,
                "G2A_API_HASH": HASH,
                "G2A_API_KEY": KEY,
            }
            os.environ.pop("KINGUIN_WEBHOOK_SECRET", None)
            if webhooks:
                env["KINGUIN_WEBHOOK_SECRET"] = SECRET
            os.environ.update({k: str(v) for k, v in env.items()})
            shop = await build(Settings(), stack)
            polling = asyncio.create_task(shop.run(handle_signals=False))
            await tg.wait_for("getUpdates")
            db = await Database.open(env["DATABASE_PATH"])
            stack.push_async_callback(db.close)
            repo = OrderRepo(db, KeyCipher.from_file(Path(tmp) / "keys.secret"))

            def kinguin_done(order_id: str, vendor_id: str) -> float:
                order = kinguin.order_by_external_id(order_id)
                assert order is not None
                return float(order.updated_at)

            def codegames_done(order_id: str, vendor_id: str) -> float:
                return float(codegames.orders[int(vendor_id)].completed_at or 0.0)

            def integration_ready(order_id: str, vendor_id: str) -> float:
                return float(integration.order(vendor_id).due_at)  # awaits dispatch from then

            def g2a_done(order_id: str, vendor_id: str) -> float:
                return float(g2a.order(vendor_id).completed_at or 0.0)

            scenarios = [
                Scenario(
                    "Kinguin ESA, webhook on" if webhooks else "Kinguin ESA, polling only",
                    "elden-ring",
                    kinguin,
                    kinguin_done,
                )
            ]
            if not webhooks:  # the others once
                scenarios = [
                    Scenario("CodeGames", "steam-5", codegames, codegames_done),
                    *scenarios,
                    Scenario(
                        "Kinguin integration API (from ready-to-dispatch)",
                        "anno-1602",
                        integration,
                        integration_ready,
                    ),
                    Scenario("G2A Export API", "terraria", g2a, g2a_done),
                ]
            for number, scenario in enumerate(scenarios):
                await run(scenario, tg, repo, args.orders, 10_000 * (number + 1))
            await shop.dispatcher.stop_polling()
            await polling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10)
    parser.add_argument("--processing", type=float, default=2.0)
    parser.add_argument("--poll-min", type=float, default=0.5)
    parser.add_argument("--poll-max", type=float, default=5.0)
    args = parser.parse_args()
    print(
        f"vendor processing {args.processing}s, polling {args.poll_min}s..{args.poll_max}s (x1.5)"
    )
    asyncio.run(measure(args, webhooks=False))
    asyncio.run(measure(args, webhooks=True))


if __name__ == "__main__":
    main()
