"""`python -m bot.catalog`: build catalog.toml from the vendors' own product lists.

    python -m bot.catalog search kinguin elden ring
    python -m bot.catalog add kinguin 2001 [--price-stars 4200] [--sku elden] [--category RPG]

`add` appends an [[offers]] entry to CATALOG_FILE (catalog.toml) at the suggested price
(the vendor's price × STARS_PER_CURRENCY × PRICE_MARKUP), ready to adjust by hand. The same
settings as the bot apply (SANDBOX=1, vendor credentials from the environment or .env).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tomllib
from contextlib import AsyncExitStack
from pathlib import Path

import tomli_w

from bot.catalog.file import CatalogError, load_catalog_file
from bot.catalog.importer import Candidate, Importer, ImportRefused
from bot.config import CatalogSettings, ConfigError, load_catalog_settings
from storage.models import Offer
from vendors import REGISTRY, VendorContext, VendorPool, credentials_given
from vendors.base import VendorError


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_catalog_settings()
        return asyncio.run(_run(args, settings))
    except (ConfigError, CatalogError, ImportRefused, VendorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.catalog", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="list a vendor's products matching some words")
    search.add_argument("vendor", choices=sorted(REGISTRY))
    search.add_argument("words", nargs="+", help="search words, or a product id")
    add = commands.add_parser("add", help="append a vendor's product to the catalog file")
    add.add_argument("vendor", choices=sorted(REGISTRY))
    add.add_argument("product_id")
    add.add_argument("--sku", help="our id for it (default: from its title)")
    add.add_argument("--price-stars", type=int, help="the price (default: the suggested one)")
    add.add_argument("--category", help="the category customers browse (default: the vendor's)")
    add.add_argument("--file", type=Path, help="the catalog file (default: CATALOG_FILE)")
    return parser


async def _run(args: argparse.Namespace, settings: CatalogSettings) -> int:
    async with AsyncExitStack() as stack:
        pool = VendorPool(
            VendorContext(
                sandbox=settings.sandbox or not credentials_given(),
                timeout=settings.vendor_timeout_seconds,
                rate_per_second=settings.vendor_rate_per_second,
                stack=stack,
            )
        )
        importer = Importer(pool, settings)
        if args.command == "search":
            return await _search(importer, args.vendor, " ".join(args.words))
        candidate = await importer.candidate(args.vendor, args.product_id)
    return _add(importer, candidate, args, args.file or settings.catalog_file)


async def _search(importer: Importer, vendor: str, words: str) -> int:
    found = await importer.search(vendor, words, limit=20)
    if not found:
        print(f"{vendor}: nothing matches {words!r}", file=sys.stderr)
        return 1
    for item in found:
        product = item.product
        suggested = f"{item.price_stars} Stars" if item.price_stars else "no rate"
        stock = "?" if product.stock is None else product.stock
        print(
            f"{product.offer_id}\t{item.title}\t{item.category}\t"
            f"{product.price:.2f} {product.currency}\tstock {stock}\tsell at {suggested}"
        )
    return 0


def _add(importer: Importer, candidate: Candidate, args: argparse.Namespace, path: Path) -> int:
    entries = _entries(path)
    for entry in entries:
        same_product = str(entry.get("vendor_offer_id")) == args.product_id
        if entry.get("vendor") == args.vendor and same_product:
            print(f"{path}: already listed as sku {entry.get('sku')!r}", file=sys.stderr)
            return 1
    offer = importer.offer(candidate, {str(entry.get("sku")) for entry in entries})
    changes = {"sku": args.sku, "price_stars": args.price_stars, "category": args.category}
    offer = Offer.model_validate(
        offer.model_dump() | {name: value for name, value in changes.items() if value}
    )
    if any(entry.get("sku") == offer.sku for entry in entries):
        print(f"{path}: sku {offer.sku!r} is taken", file=sys.stderr)
        return 1
    entry = offer.model_dump(exclude_defaults=True)
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    separator = (
        "" if not before or before.endswith("\n\n") else "\n" if before.endswith("\n") else "\n\n"
    )
    path.write_text(before + separator + tomli_w.dumps({"offers": [entry]}), encoding="utf-8")
    try:
        load_catalog_file(path, REGISTRY)
    except CatalogError:
        path.write_text(before, encoding="utf-8")  # never leave a file the bot cannot start on
        raise
    print(f"{path}: added {offer.sku} ({offer.title}) at {offer.price_stars} Stars")
    return 0


def _entries(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    try:
        offers = tomllib.loads(path.read_text(encoding="utf-8")).get("offers", [])
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: {exc}") from None
    return [entry for entry in offers if isinstance(entry, dict)]


if __name__ == "__main__":
    sys.exit(main())
