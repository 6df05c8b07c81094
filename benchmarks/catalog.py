"""A catalog of 50,000 offers: how long a customer waits for a category page, a search and
an inline query, and whether reloading the catalog holds updates up.

The shop is built by `bot.app.build` on a catalog file of 50,000 CodeGames offers in 50
categories (its sandbox simulator), with the Bot API session of `benchmarks.updates`.
Updates are handled one at a time, each timed from the raw update to its last Bot API
call; then the same while the catalog reloads (an admin's edit, an import).

    .venv/bin/python -m benchmarks.catalog [--offers 50000] [--updates 600]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import tomli_w

from benchmarks.open_orders import percentile
from benchmarks.stub_session import StubSession
from benchmarks.updates import Json, Mix, shop_settings
from bot.__main__ import run
from bot.app import build
from bot.runtime import memory
from handlers.callbacks import CategoryCb

WORDS = [
    "dark",
    "shadow",
    "legend",
    "dragon",
    "star",
    "war",
    "craft",
    "space",
    "city",
    "farm",
    "racing",
    "cyber",
    "knight",
    "ghost",
    "empire",
    "souls",
    "iron",
    "storm",
    "battle",
    "quest",
    "frontier",
    "origins",
    "tactics",
    "zombie",
    "rogue",
    "pirate",
    "ninja",
    "galaxy",
    "kingdom",
    "chronicles",
    "wild",
    "hunter",
    "arena",
    "tycoon",
]
CATEGORIES = 50


def write_catalog(path: Path, count: int) -> list[str]:
    """`count` CodeGames offers with made-up titles; returns the titles."""
    chance = random.Random(5)
    titles = [" ".join(chance.sample(WORDS, 3)).title() + f" {n}" for n in range(count)]
    offers = [
        {
            "sku": f"game-{n}",
            "vendor": "codegames",
            "vendor_offer_id": 3001,
            "title": title,
            "category": f"Category {n % CATEGORIES:02d}",
            "price_stars": 100 + n % 900,
            "max_vendor_price": 5000.0,
        }
        for n, title in enumerate(titles)
    ]
    path.write_text(tomli_w.dumps({"offers": offers}), encoding="utf-8")
    return titles


async def timed(shop: object, updates: list[Json]) -> list[float]:
    waits = []
    for update in updates:
        started = time.perf_counter()
        await shop.dispatcher.feed_raw_update(shop.bot, update)  # type: ignore[attr-defined]
        waits.append(time.perf_counter() - started)
    return waits


def line(label: str, waits: list[float]) -> str:
    p50, p99 = (percentile(waits, share) * 1000 for share in (0.5, 0.99))
    return f"  {label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(waits) * 1000:.1f} ms"


async def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as name:
        catalog_file = Path(name) / "catalog.toml"
        started = time.perf_counter()
        titles = write_catalog(catalog_file, args.offers)
        async with shop_settings("sqlite") as base, AsyncExitStack() as stack:
            settings = base.model_copy(update={"catalog_file": catalog_file})
            shop = await build(settings, stack)
            memory.settle()
            print(
                f"{args.offers} offers: file written and shop built in"
                f" {time.perf_counter() - started:.1f} s"
            )
            shop.bot.session = StubSession()
            catalog = shop.dispatcher.workflow_data["catalog"]
            mix = Mix(catalog)
            chance = random.Random(9)
            users = itertools.cycle(range(10_000, 10_500))
            pages = [
                mix._callback(next(users), CategoryCb(key=c.key, page=chance.randrange(100)).pack())
                for c in itertools.islice(itertools.cycle(catalog.categories), args.updates)
            ]
            searches = [
                mix._message(next(users), " ".join(chance.sample(titles, 1)[0].split()[:2]))
                for _ in range(args.updates)
            ]
            inline = [mix._inline(next(users), chance.choice(WORDS)) for _ in range(args.updates)]
            print(line("category pages", await timed(shop, pages)))
            print(line("searches", await timed(shop, searches)))
            print(line("inline queries", await timed(shop, inline)))

            desk = shop.dispatcher.workflow_data["catalog_desk"]
            reloading = asyncio.create_task(desk.reload())
            reload_started = time.perf_counter()
            during: list[float] = []
            stalls: list[float] = []
            while not reloading.done():
                during += await timed(shop, [inline[len(during) % len(inline)]])
                ticked = time.perf_counter()
                await asyncio.sleep(0.005)
                stalls.append(time.perf_counter() - ticked - 0.005)
            await reloading
            print(
                f"  a reload took {time.perf_counter() - reload_started:.2f} s; meanwhile"
                f" {len(during)} inline queries waited at most {max(during or [0]) * 1000:.0f} ms"
                f" and the event loop stalled at most {max(stalls or [0]) * 1000:.0f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=50_000)
    parser.add_argument("--updates", type=int, default=600)
    run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
