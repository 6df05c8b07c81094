"""The catalog file: the shipped example loads; mistakes name file, line and field."""

from __future__ import annotations

import pytest

from bot.catalog import Catalog, CatalogError, load_catalog_file
from bot.config import PROJECT_ROOT

GOOD = """
[[offers]]
sku = "steam-5"
vendor = "codegames"
vendor_offer_id = 3001
title = "Steam 5"
category = "Gift cards"
price_stars = 400
max_vendor_price = 2900.0
"""


def write(tmp_path, text):
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_catalog_loads_and_paginates():
    offers = load_catalog_file(PROJECT_ROOT / "catalog.toml", ["codegames"])
    catalog = Catalog(offers)
    gift_cards = next(c for c in catalog.categories if c.title == "Gift cards")
    assert len(gift_cards.offers) > 8  # the example exercises pagination
    assert catalog.offer("pubg-660uc").pattern_for("gameUserId") == r"^\d{8,12}$"
    assert catalog.offer("steam-5").vendor_offer_id == "3001"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("price_stars = 400", "price_stars = 0"), "catalog.toml:8: offers[0].price_stars"),
        (('sku = "steam-5"\n', ""), "catalog.toml:2: offers[0].sku: Field required"),
        (('vendor = "codegames"', 'vendor = "nope"'), "catalog.toml:4: offers[0].vendor"),
        (('title = "Steam 5"', 'title = "Steam 5"\ncolour = 1'), "offers[0].colour"),
        (
            ("max_vendor_price = 2900.0", "max_vendor_price = 2900.0\npatterns = { x = '(' }"),
            "catalog.toml:10: offers[0].patterns",
        ),
        (("price_stars = 400", "price_stars = = 400"), "line 8"),
    ],
)
def test_mistakes_are_located(tmp_path, change, expected):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(CatalogError) as raised:
        load_catalog_file(path, ["codegames"])
    assert expected in str(raised.value)
    assert str(path) in str(raised.value)


def test_duplicate_sku(tmp_path):
    with pytest.raises(CatalogError, match=r"catalog\.toml:12: offers\[1\]\.sku: duplicate"):
        load_catalog_file(write(tmp_path, GOOD + GOOD), ["codegames"])


def test_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog_file(tmp_path / "nope.toml", ["codegames"])
