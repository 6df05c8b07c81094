"""Customer updates a second: the shop's dispatcher against bare aiogram, in the same run.

Both dispatchers get the same updates as raw JSON (validated into `Update` as polling does),
100 at a time handled concurrently (as aiogram's polling does), on the same Bot API session
without the network (`benchmarks.stub_session`). The shop is built by `bot.app.build` with
its sandbox vendors on a fresh database; bare aiogram has one handler per update type that
answers with the least it can (echo the text, answer the button, answer the inline query).

The mix, round-robin over 500 customers: /start, the main menu, a category page, an offer
card, a plain-text search, /orders, an inline query; and between them, messages in a busy
group the shop is in that are not for it (one in four updates).

    .venv/bin/python -m benchmarks.updates [--updates 6000] [--rounds 3]
        [--backend sqlite|postgresql|both] [--profile FILE]

Prints each dispatcher's rate (the median of its rounds) and, last, the ratio (the median of
the rounds' ratios: both dispatchers of a round run one after the other).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.types import CallbackQuery, InlineQuery, Message

from benchmarks.stub_session import StubSession
from bot.__main__ import run
from bot.app import build
from bot.catalog import Catalog
from bot.config import PROJECT_ROOT, Settings
from bot.runtime import memory
from handlers.callbacks import CategoryCb, MenuCb, OfferCb
from tests.support.services import postgres_database, redis_prefix

BATCH = 100  # updates handled at once, as one getUpdates answer is
CUSTOMERS = 500
ADMIN_GROUP = -1_001_000_000_001
BUSY_GROUP = -1_001_000_000_777
SEARCHES = ("steam", "pubg", "elden", "STEAM wallet", "пабг", "nothing like it")
Json = dict[str, Any]


class Mix:
    """The updates of the benchmark, as the Bot API sends them."""

    def __init__(self, catalog: Catalog) -> None:
        self._ids = itertools.count(1)
        self._categories = [c.key for c in catalog.categories]
        self._skus = [o.sku for o in catalog.offers(limit=1000)]

    def updates(self, count: int) -> Iterator[Json]:
        steps = itertools.cycle(range(7))
        customers = itertools.cycle(range(CUSTOMERS))
        for n in range(count):
            if n % 4 == 3:
                yield self._group_chatter(n)
                continue
            who, step = next(customers), next(steps)
            yield self._step(10_000 + who, step, n)

    def _step(self, user_id: int, step: int, n: int) -> Json:
        category = self._categories[n % len(self._categories)]
        sku = self._skus[n % len(self._skus)]
        match step:
            case 0:
                return self._message(user_id, "/start")
            case 1:
                return self._callback(user_id, MenuCb(page=0).pack())
            case 2:
                return self._callback(user_id, CategoryCb(key=category).pack())
            case 3:
                return self._callback(user_id, OfferCb(sku=sku).pack())
            case 4:
                return self._message(user_id, SEARCHES[n % len(SEARCHES)])
            case 5:
                return self._message(user_id, "/orders")
            case _:
                return self._inline(user_id, SEARCHES[n % 3])

    def _user(self, user_id: int) -> Json:
        language = "ru" if user_id % 3 == 0 else "en"
        return {"id": user_id, "is_bot": False, "first_name": "C", "language_code": language}

    def _message(self, user_id: int, text: str) -> Json:
        chat = {"id": user_id, "type": "private", "first_name": "C"}
        message = {
            "message_id": next(self._ids),
            "date": 1_800_000_000,
            "chat": chat,
            "from": self._user(user_id),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        return {"update_id": next(self._ids), "message": message}

    def _callback(self, user_id: int, data: str) -> Json:
        message = {
            "message_id": 5,
            "date": 1_800_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "C"},
            "from": {"id": 1, "is_bot": True, "first_name": "Shop"},
            "text": "menu",
        }
        query = {
            "id": str(next(self._ids)),
            "from": self._user(user_id),
            "chat_instance": "ci",
            "message": message,
            "data": data,
        }
        return {"update_id": next(self._ids), "callback_query": query}

    def _inline(self, user_id: int, text: str) -> Json:
        query = {
            "id": str(next(self._ids)),
            "from": self._user(user_id),
            "query": text,
            "offset": "",
        }
        return {"update_id": next(self._ids), "inline_query": query}

    def _group_chatter(self, n: int) -> Json:
        message = {
            "message_id": next(self._ids),
            "date": 1_800_000_000,
            "chat": {"id": BUSY_GROUP, "type": "supergroup", "title": "Gamers"},
            "from": self._user(50_000 + n % 300),
            "text": f"anyone up for a match? {n}",
        }
        return {"update_id": next(self._ids), "message": message}


def bare_dispatcher() -> Dispatcher:
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    @router.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    @router.inline_query()
    async def inline(query: InlineQuery) -> None:
        await query.answer([])

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def rate(dispatcher: Dispatcher, bot: Bot, updates: list[Json]) -> float:
    """Updates a second, `BATCH` at a time concurrently."""
    started = time.perf_counter()
    for first in range(0, len(updates), BATCH):
        batch = updates[first : first + BATCH]
        await asyncio.gather(*(dispatcher.feed_raw_update(bot, u) for u in batch))
    return len(updates) / (time.perf_counter() - started)


@asynccontextmanager
async def shop_settings(backend: str) -> AsyncIterator[Settings]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "BOT_TOKEN": "1:bench",
            "DATABASE_PATH": str(Path(tmp) / "bench.sqlite3"),
            "CATALOG_FILE": str(PROJECT_ROOT / "catalog.toml"),
            "ADMIN_CHAT_ID": str(ADMIN_GROUP),
            "HTTP_PORT": "0",
            "OFFER_CACHE_SECONDS": "3600",
        }
        if backend == "sqlite":
            yield Settings(**_lower(env))
            return
        async with postgres_database() as url, redis_prefix() as prefix:
            env |= {"DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:6379/0"}
            env["REDIS_PREFIX"] = prefix
            yield Settings(**_lower(env))


def _lower(env: dict[str, str]) -> dict[str, Any]:
    return {key.lower(): value for key, value in env.items()}


async def measure(backend: str, args: argparse.Namespace) -> tuple[float, float, float]:
    async with shop_settings(backend) as settings, AsyncExitStack() as stack:
        shop = await build(settings, stack)
        memory.settle()  # as `python -m bot` does before serving
        session = StubSession()
        shop.bot.session = session
        bare_bot = Bot("1:bare", session=session)
        bare = bare_dispatcher()
        mix = Mix(shop.dispatcher.workflow_data["catalog"])
        warm_up = list(mix.updates(CUSTOMERS * 8))
        await rate(shop.dispatcher, shop.bot, warm_up)  # caches filled, as in a running shop
        await rate(bare, bare_bot, warm_up)
        shop_rates, bare_rates = [], []
        profile = cProfile.Profile() if args.profile else None
        for _ in range(args.rounds):
            updates = list(mix.updates(args.updates))
            bare_rates.append(await rate(bare, bare_bot, updates))
            if profile:
                profile.enable()
            shop_rates.append(await rate(shop.dispatcher, shop.bot, updates))
            if profile:
                profile.disable()
        if profile:
            profile.dump_stats(args.profile)
        # each round's two runs share the machine's state of the moment: compare within it
        ratio = statistics.median(s / b for s, b in zip(shop_rates, bare_rates, strict=True))
        return statistics.median(shop_rates), statistics.median(bare_rates), ratio


async def main(args: argparse.Namespace) -> None:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(
        f"{args.updates} updates x {args.rounds} rounds, {CUSTOMERS} customers, batches of {BATCH}"
    )
    for backend in backends:
        shop, bare, ratio = await measure(backend, args)
        label = "SQLite" if backend == "sqlite" else "PostgreSQL + Redis"
        print(f"{label}: shop {shop:,.0f} updates/s, bare aiogram {bare:,.0f} updates/s")
        print(f"{label}: ratio {ratio:.2f}x (the median of the rounds' ratios)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--profile", help="write a cProfile of the shop's rounds here")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    run(main(parser.parse_args()))  # the shop's event loop (uvloop) for both dispatchers
