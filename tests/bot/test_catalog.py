"""The catalog file: the shipped example loads; mistakes name file, line and field."""

from __future__ import annotations

import gc

import pytest

from bot.catalog import Catalog, CatalogError, check_against_vendors, load_catalog_file
from bot.catalog.snapshot import Snapshot
from bot.config import PROJECT_ROOT
from bot.runtime.memory import collector_paused
from tests.support.factories import offer
from vendors import REGISTRY
from vendors.codegames import CodeGamesVendor
from vendors.g2a import G2AVendor
from vendors.kinguin import KinguinVendor

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
    offers = load_catalog_file(PROJECT_ROOT / "catalog.toml", REGISTRY)
    assert {offer.vendor for offer in offers} == set(REGISTRY)  # every vendor is shown
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


KINGUIN = GOOD.replace('vendor = "codegames"', 'vendor = "kinguin"').replace("3001", '"1949"')


@pytest.fixture
async def vendors():
    opened = {
        "codegames": CodeGamesVendor("http://127.0.0.1:9", None),
        "kinguin": KinguinVendor("http://127.0.0.1:9", None),
        "g2a": G2AVendor("http://127.0.0.1:9", "hash", "key"),
    }
    yield opened
    for vendor in opened.values():
        await vendor.aclose()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (KINGUIN + "max_quantity = 10\n", "offers[0].max_quantity: kinguin sells at most 9"),
        (GOOD + "max_quantity = 2\n", "offers[0].max_quantity: codegames sells at most 1"),
        (
            KINGUIN.replace('"1949"', '"abc"'),
            "catalog.toml:5: offers[0].vendor_offer_id: a Kinguin",
        ),
        (GOOD + 'kinguin_offer_id = "5f7e"\n', "offers[0].kinguin_offer_id: only for"),
        (GOOD + 'key_type = "text"\n', "offers[0].key_type: codegames has no key types"),
    ],
)
async def test_what_only_the_vendor_knows_is_checked_at_start(tmp_path, vendors, text, expected):
    path = write(tmp_path, text)
    offers = load_catalog_file(path, vendors)
    with pytest.raises(CatalogError) as raised:
        check_against_vendors(path, offers, vendors)
    assert expected in str(raised.value) and str(path) in str(raised.value)


async def test_kinguin_takes_up_to_nine_and_either_id(tmp_path, vendors):
    text = (
        KINGUIN
        + "max_quantity = 9\n"
        + KINGUIN.replace("steam-5", "v2").replace('"1949"', '"64b7f0c2a1e4d5f6a7b8c9d0"')
    )
    path = write(tmp_path, text)
    check_against_vendors(path, load_catalog_file(path, vendors), vendors)


async def test_a_swap_serves_the_new_snapshot_and_forgets_the_old_one():
    catalog = Catalog([offer(sku=f"old-{n}", title=f"Old {n}") for n in range(5)])
    catalog.memo("kept", lambda: ["a keyboard"])
    await catalog.swap(
        Snapshot.of([offer(sku=f"new-{n}", title=f"New {n}") for n in range(3)]), chunk=2
    )
    assert catalog.offer("old-1") is None and catalog.offer("new-2") is not None
    assert [o.sku for o in catalog.search("new")] == ["new-0", "new-1", "new-2"]
    assert catalog.memo("kept", lambda: ["rebuilt"]) == ["rebuilt"]  # built of the old one


def test_collections_pause_until_the_last_pause_ends():
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # another reload still builds
    assert gc.isenabled()
