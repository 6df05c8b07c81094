"""Importing offers from the vendors' product lists: prices in Stars, margins, skus, the
refusals, and `python -m bot.catalog` writing catalog.toml (against the simulators)."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bot.catalog import load_catalog_file
from bot.catalog.importer import Importer, ImportRefused, Refusal, free_sku
from bot.catalog.pricing import margin, suggested_price
from bot.config import PROJECT_ROOT, CatalogSettings
from tests.conftest import G2A_HASH, VENDOR_KEY
from vendors import REGISTRY, VendorContext, VendorPool


def settings(**values: object) -> CatalogSettings:
    return CatalogSettings.model_validate(values)


def test_rates_from_the_environment(monkeypatch):
    monkeypatch.setenv("STARS_PER_CURRENCY", "eur=80, USD=70.5")
    assert CatalogSettings(_env_file=None).stars_per_currency == {"EUR": 80.0, "USD": 70.5}
    monkeypatch.setenv("STARS_PER_CURRENCY", '{"kzt": 0.2}')
    assert CatalogSettings(_env_file=None).stars_per_currency == {"KZT": 0.2}
    monkeypatch.setenv("STARS_PER_CURRENCY", "EUR=0")
    with pytest.raises(ValueError, match="above 0"):
        CatalogSettings(_env_file=None)


def test_suggested_price_and_margin():
    rates = settings(stars_per_currency={"EUR": 80}, price_markup=1.5)
    assert suggested_price(rates, 10.0, "eur") == 1200
    assert suggested_price(rates, 0.001, "EUR") == 1  # never free
    assert suggested_price(rates, 10.0, "GBP") is None  # no rate: no guess
    kept = margin(rates, 1000, 10.0, "EUR")
    assert kept is not None and (kept.stars, kept.percent) == (200, 20)
    assert str(kept) == "+200 ⭐ (+20%)"
    assert str(margin(rates, 500, 10.0, "EUR")) == "-300 ⭐ (-60%)"
    assert margin(rates, 1000, 10.0, "GBP") is None


def test_skus_are_readable_and_free():
    assert free_sku("Elden Ring: Steam CD Key", set()) == "elden-ring-steam-cd-key"
    assert free_sku("Pokémon Légendes", {"pokemon-legendes"}) == "pokemon-legendes-2"
    assert free_sku("Ведьмак", set()) == "offer"
    assert len(free_sku("x" * 300, set())) <= 36


@pytest.fixture
async def pool():
    async with AsyncExitStack() as stack:
        yield lambda sandbox: VendorPool(
            VendorContext(sandbox=sandbox, timeout=5, rate_per_second=50, stack=stack)
        )


async def test_each_vendor_finds_products(pool, kinguin, g2a, monkeypatch):
    monkeypatch.setenv("KINGUIN_API_URL", str(kinguin.base_url))
    monkeypatch.setenv("KINGUIN_API_KEY", VENDOR_KEY)
    monkeypatch.setenv("G2A_API_URL", str(g2a.base_url))
    monkeypatch.setenv("G2A_API_HASH", G2A_HASH)
    monkeypatch.setenv("G2A_API_KEY", VENDOR_KEY)
    importer = Importer(pool(False), settings())
    [elden] = await importer.search("kinguin", "elden ring")
    assert (elden.product.offer_id, elden.category, elden.price_stars) == ("2001", "Steam", 4149)
    assert elden.max_vendor_price == 43.99  # 39.99 + 10% headroom
    assert kinguin.calls("/v1/products")[-1].query["name"] == "elden ring"
    [by_id] = await importer.search("kinguin", "2002")  # an id: that product
    assert by_id.product.name.startswith("Minecraft")
    found = await importer.search("g2a", "CYBERPUNK")  # G2A: read pages, match names here
    assert found and all("cyberpunk" in item.title.casefold() for item in found)
    assert await importer.search("g2a", "no such game at all") == []
    with pytest.raises(ImportRefused) as refused:
        await importer.candidate("kinguin", "not-an-id")
    assert refused.value.refusal is Refusal.NOT_FOUND


async def test_without_credentials_only_the_sandbox_imports(pool, monkeypatch):
    for name in ("CODEGAMES_API_URL", "CODEGAMES_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODEGAMES_API_URL", "")
    live = Importer(pool(False), settings())
    with pytest.raises(ImportRefused) as refused:
        await live.search("codegames", "2061")
    assert refused.value.refusal is Refusal.NO_CREDENTIALS
    with pytest.raises(ImportRefused) as refused:
        await live.search("steam", "2061")
    assert refused.value.refusal is Refusal.UNKNOWN_VENDOR
    sandbox = Importer(pool(True), settings(sandbox=True, stars_per_currency={"EUR": 80}))
    [top_up] = await sandbox.search("codegames", "2061")
    assert top_up.product.currency == "KZT" and top_up.price_stars is None
    with pytest.raises(ImportRefused) as refused:
        sandbox.offer(top_up, set())
    assert (refused.value.refusal, refused.value.detail) == (Refusal.NO_RATE, "KZT")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_URL", "_API_KEY"))}
    env |= {"SANDBOX": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.catalog", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_line_searches_and_writes_toml(tmp_path):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text((PROJECT_ROOT / "catalog.toml").read_text(encoding="utf-8"))
    found = run_cli("search", "kinguin", "elden", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("2001\tElden Ring Steam CD Key\tSteam\t39.99 EUR")
    added = run_cli("add", "kinguin", "2001", "--price-stars", "3999", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "added elden-ring-steam-cd-key" in added.stdout
    offers = {o.sku: o for o in load_catalog_file(catalog, REGISTRY)}
    entry = offers["elden-ring-steam-cd-key"]
    assert (entry.vendor, entry.vendor_offer_id, entry.price_stars) == ("kinguin", "2001", 3999)
    assert entry.max_vendor_price == 43.99 and entry.category == "Steam"
    again = run_cli("add", "kinguin", "2001", cwd=tmp_path)
    assert again.returncode == 1 and "already listed" in again.stderr
    missing = run_cli("add", "kinguin", "424242", cwd=tmp_path)
    assert missing.returncode == 1 and "error:" in missing.stderr
    assert load_catalog_file(catalog, REGISTRY)  # still a catalog the bot starts on
