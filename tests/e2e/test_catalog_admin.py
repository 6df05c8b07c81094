"""The catalog from the admin group: /import from a vendor's product list (which a customer
then finds and buys), and /catalog with the vendor's live price, stock and our margin."""

from __future__ import annotations

from pathlib import Path

from bot.catalog import load_catalog_file
from storage import OfferRepo, OrderState
from tests.conftest import FAST_PROCESSING, open_shop_database
from tests.e2e.flows import eventually, settled, wait_text
from tests.e2e.test_admins import OPERATOR, OWNER, admins, reply_in, shop_env
from vendors import REGISTRY
from vendors.simulators.kinguin.catalog import SimProduct, stocked

__all__ = ["admins", "shop_env"]  # fixtures shared with test_admins

WITCHER = 3001


def add_witcher(kinguin) -> None:
    product = SimProduct(
        kinguin_id=WITCHER,
        product_id="64b7f0c2a1e4d5f6a7b8c9e1",
        name="The Witcher 3: Wild Hunt GOTY GOG CD Key",
        price=9.99,
        platform="GOG",
        genres=["RPG"],
        processing_seconds=FAST_PROCESSING,
    )
    kinguin.products[WITCHER] = stocked(product, kinguin.clock())


async def test_import_adds_an_offer_a_customer_finds_and_buys(
    tg, admins, shop, shop_env, orders, kinguin
):
    add_witcher(kinguin)
    owner, operator = tg.user(OWNER), tg.user(OPERATOR)
    mark = await operator.send("/import kinguin witcher", chat=admins)
    assert "owner" in await reply_in(tg, admins, mark)

    mark = await owner.send("/import kinguin witcher", chat=admins)
    found = await reply_in(tg, admins, mark, "tap a number")
    # 9.99 EUR × 83 Stars per EUR × 1.25 markup, rounded up
    assert "The Witcher 3" in found and "(GOG)" in found and "9.99 EUR" in found
    assert "sell at 1037 ⭐" in found
    search_call = kinguin.calls("/v1/products")[-1]
    assert search_call.query["name"] == "witcher"

    results = admins.last_message(with_keyboard=True)
    mark = await operator.press("➕ 1", message=results, chat=admins)  # operators may not
    refusal = await tg.wait_for("answerCallbackQuery", since=mark)
    assert "owner" in refusal.params["text"]
    mark = await owner.press("➕ 1", message=results, chat=admins)
    added = await reply_in(tg, admins, mark, "Added")
    assert "<code>the-witcher-3-wild-hunt-goty-gog-cd</code>" in added
    assert "1037 ⭐" in added and "at most 10.99" in added
    mark = await owner.press("➕ 1", message=results, chat=admins)  # twice: still one offer
    assert "Already in the shop" in await reply_in(tg, admins, mark, "Already")

    customer = tg.user(7100)
    mark = await customer.send("witcher")
    await wait_text(tg, customer, "Found for", since=mark)
    mark = await customer.press(lambda b: b["text"].startswith("The Witcher 3"))
    card = await tg.wait_for(
        "editMessageText", where=lambda c: c.params["chat_id"] == customer.id, since=mark
    )
    assert "1037 ⭐" in card.params["text"] and "In stock" in card.params["text"]
    mark = await customer.press(lambda b: b["text"].startswith("🛒"))
    await tg.wait_for("sendInvoice", where=lambda c: c.params["chat_id"] == customer.id)
    invoice = customer.last_invoice()
    assert (await customer.pay(invoice)).params["ok"] is True
    assert invoice.invoice is not None
    order_id = invoice.invoice.payload
    vendor_order = await eventually(lambda: kinguin.order_by_external_id(order_id))
    assert vendor_order.lines[0].kinguin_id == WITCHER
    await settled(orders, order_id, OrderState.DELIVERED)
    await wait_text(tg, customer, vendor_order.keys[0], since=mark)

    # a restart re-reads catalog.toml: the imported offer stays
    db = await open_shop_database(shop_env)
    repo = OfferRepo(db)
    await repo.replace_catalog(load_catalog_file(Path(shop_env["CATALOG_FILE"]), REGISTRY))
    active = {offer.sku: offer for offer in await repo.active()}
    assert active["the-witcher-3-wild-hunt-goty-gog-cd"].price_stars == 1037
    await db.close()


async def test_import_refusals_are_clear(tg, admins, shop, kinguin, g2a):
    owner = tg.user(OWNER)
    mark = await owner.send("/import nosuchvendor elden", chat=admins)
    assert "Vendors: codegames, g2a, kinguin, kinguin-integration" in await reply_in(
        tg, admins, mark
    )
    mark = await owner.send("/import kinguin zzzz-nothing", chat=admins)
    assert "nothing matching" in await reply_in(tg, admins, mark)
    mark = await owner.send("/import g2a cyberpunk", chat=admins)  # G2A: by name, in pages
    found = await reply_in(tg, admins, mark, "tap a number")
    assert "Cyberpunk" in found and "EUR" in found
    await owner.press_data("adi:kinguin:999999", chat=admins)  # a forged or stale product
    refusal = await tg.wait_for(
        "answerCallbackQuery", where=lambda c: "999999" in c.params.get("text", "")
    )
    assert "does not sell" in refusal.params["text"]


async def test_catalog_shows_live_price_stock_and_margin(tg, admins, shop, shop_env, kinguin):
    kinguin.set_stock(2002, 7)
    file_offers = load_catalog_file(Path(shop_env["CATALOG_FILE"]), REGISTRY)
    index, minecraft = next(
        (n, o) for n, o in enumerate(file_offers) if o.vendor_offer_id == "2002"
    )
    page = index // 10 + 1
    operator = tg.user(OPERATOR)
    mark = await operator.send(f"/catalog {page}", chat=admins)
    listing = await reply_in(tg, admins, mark, f"Catalog, page {page}")
    entry = next(part for part in listing.split("\n\n") if f"<code>{minecraft.sku}</code>" in part)
    kept = minecraft.price_stars - 19.50 * 83  # the default rate: 83 Stars per EUR
    assert "kinguin: 19.50 EUR" in entry and "stock 7" in entry
    assert f"margin {kept:+.0f} ⭐ ({100 * kept / minecraft.price_stars:+.0f}%)" in entry

    mark = await operator.send("/catalog", chat=admins)
    await reply_in(tg, admins, mark, "Catalog, page 1 of")
    mark = await operator.press("▶", chat=admins)
    edited = await tg.wait_for("editMessageText", since=mark)
    assert "Catalog, page 2 of" in edited.params["text"]
