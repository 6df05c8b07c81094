"""Users' languages and the catalog table."""

from __future__ import annotations

from storage import OfferRepo, UserRepo
from tests.support.factories import offer


async def test_chosen_language_wins_over_telegram(db):
    users = UserRepo(db)
    assert await users.language(1, "ru") == "ru"
    await users.set_language(1, "en")
    assert await users.language(1, "ru") == "en"
    assert await UserRepo(db).language(1, None) == "en"  # another replica, from the database


async def test_telegram_language_is_remembered_for_background_messages(db):
    await UserRepo(db).language(2, "ru")
    assert await UserRepo(db).language(2, None) == "ru"


async def test_catalog_sync_deactivates_removed_offers(db):
    repo = OfferRepo(db)
    a = offer(sku="a", patterns={"gameUserId": "[0-9]{8}"})
    b = a.model_copy(update={"sku": "b", "title": "B"})
    await repo.replace_catalog([a, b])
    assert [o.sku for o in await repo.active()] == ["a", "b"]
    await repo.replace_catalog([b.model_copy(update={"price_stars": 5})])
    active = await repo.active()
    assert [(o.sku, o.price_stars) for o in active] == [("b", 5)]
    assert active[0].patterns == {"gameUserId": "[0-9]{8}"}


async def test_imported_offers_survive_the_file_and_follow_it(db):
    repo = OfferRepo(db)
    a = offer(sku="a")
    await repo.replace_catalog([a])
    imported = a.model_copy(update={"sku": "imp", "vendor_offer_id": "77", "title": "Imp"})
    assert await repo.add_imported(imported, admin_id=9001)
    assert not await repo.add_imported(imported, admin_id=9001)  # the sku is taken
    assert await repo.imported_vendors() == {a.vendor}
    await repo.replace_catalog([a])  # a restart re-reads the file
    assert [o.sku for o in await repo.active()] == ["a", "imp"]  # file first, then imports
    await repo.replace_catalog([])  # gone from the file: only file offers go
    assert [o.sku for o in await repo.active()] == ["imp"]
    # the file now lists the imported sku: the file's entry wins
    await repo.replace_catalog([imported.model_copy(update={"price_stars": 7})])
    assert [(o.sku, o.price_stars) for o in await repo.active()] == [("imp", 7)]
    assert await repo.imported_vendors() == set()
    assert await repo.taken_skus() == {"a", "imp"}
