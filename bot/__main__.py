"""`python -m bot`: read the configuration, assemble the shop, poll Telegram."""

from __future__ import annotations

import asyncio
import logging
import sys
from contextlib import AsyncExitStack

from aiogram.exceptions import TelegramUnauthorizedError

from bot.app import build
from bot.catalog import CatalogError
from bot.config import ConfigError, Settings, load_settings


async def serve(settings: Settings) -> None:
    async with AsyncExitStack() as stack:
        shop = await build(settings, stack)
        await shop.run()


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(load_settings()))
    except (ConfigError, CatalogError) as exc:
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
