"""`python -m bot [--role all|bot|worker]`: read the configuration, assemble the shop, run
what the role asks (ROLE, or `all`: everything in one process)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import Any

from aiogram.exceptions import TelegramUnauthorizedError

from bot.app import build
from bot.catalog import CatalogError
from bot.config import ConfigError, Role, Settings, load_settings
from bot.runtime import memory
from bot.runtime.telegram import PollingConflict


def run(main: Coroutine[Any, Any, None]) -> None:
    """On uvloop where it is installed: sockets, timers and callbacks cost less."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - every platform the image runs on has it
        asyncio.run(main)
        return
    uvloop.run(main)


async def serve(settings: Settings) -> None:
    async with AsyncExitStack() as stack:
        shop = await build(settings, stack)
        memory.settle()
        await shop.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "--role",
        choices=[role.value for role in Role],
        help="bot: Telegram updates and the HTTP server; worker: order steps and the shop's"
        " periodic jobs; all (default): both in one process. Also ROLE.",
    )
    args = parser.parse_args(argv)
    if args.role:
        os.environ["ROLE"] = args.role
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        run(serve(load_settings()))
    except (ConfigError, CatalogError, PollingConflict) as exc:
        print(f"storefront: {exc}", file=sys.stderr)
        return 2
    except TelegramUnauthorizedError:
        print("storefront: Telegram refused BOT_TOKEN: check it with @BotFather", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
