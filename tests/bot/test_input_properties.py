"""Input from strangers, made up at random (hypothesis): a catalog file, G2A's reservation
bodies, deep links and invoice payloads. Each gets the clear error for that input (or is
read as it is) and changes nothing; nothing else is ever raised."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.catalog import Catalog, CatalogError, load_catalog_file
from bot.config import PROJECT_ROOT
from bot.g2a.server import ReservationRequest
from bot.i18n import load_i18n
from bot.offers import OfferService
from bot.orders.checkout import Checkout, PaymentRefused
from storage import Database, KeyCipher, OrderRepo, StrayPaymentRepo
from tests.storage.test_orders import new_order
from tests.support.factories import offer
from vendors import REGISTRY

EXAMPLE = (PROJECT_ROOT / "catalog.toml").read_text(encoding="utf-8")
I18N = load_i18n(PROJECT_ROOT / "locales", "en")
ORDER = "a1b2c3d4e5f60718"  # the one order in the shop, awaiting its payment
QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated_catalogs(draw: st.DrawFn) -> str:
    """The shipped catalog with a few characters replaced, dropped or inserted."""
    text = EXAMPLE
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text) - 1))
        edit = draw(st.sampled_from(["replace", "drop", "insert"]))
        char = draw(st.characters(codec="utf-8"))
        if edit == "replace":
            text = text[:at] + char + text[at + 1 :]
        elif edit == "drop":
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + char + text[at:]
    return text


@QUICK
@given(text=st.text(max_size=400) | mutated_catalogs())
def test_a_catalog_file_loads_or_says_what_is_wrong(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.toml"
        path.write_text(text, encoding="utf-8")
        try:
            offers = load_catalog_file(path, REGISTRY)
        except CatalogError as exc:
            assert str(path) in str(exc)  # names the file (and where, when it can)
            return
    assert offers and len({o.sku for o in offers}) == len(offers)


@QUICK
@given(
    body=st.binary(max_size=200)
    | st.dictionaries(
        st.sampled_from(["orderId", "productId", "quantity", "extra"]),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    ).map(lambda d: json.dumps(d).encode())
)
def test_a_g2a_reservation_body_is_read_or_refused(body: bytes) -> None:
    try:
        request = ReservationRequest.model_validate_json(body)
    except ValidationError:
        return
    assert request.productId.isdigit() and 1 <= request.quantity <= 100


@QUICK
@given(argument=st.text(max_size=80))
def test_a_deep_link_names_an_offer_or_none(argument: str) -> None:
    catalog = Catalog([offer()])
    found = catalog.offer(argument.removeprefix("offer-"))
    assert found is None or found.sku == argument.removeprefix("offer-")


async def _vet(payload: str, user_id: int, currency: str, amount: int) -> tuple[str, int]:
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "shop.sqlite3")
        try:
            orders = OrderRepo(db, KeyCipher(Fernet.generate_key()))
            await new_order(orders, ORDER)
            checkout = Checkout(
                orders,
                StrayPaymentRepo(db),
                Catalog([offer()]),
                OfferService({}, 10),
                invoice_ttl=3600,
            )
            with I18N.context(), I18N.use_locale("en"), pytest.raises(PaymentRefused):
                await checkout.vet_payment(payload, user_id, currency, amount)
            rows = await db.fetchall("SELECT state FROM orders")
            strays_row = await db.fetchone("SELECT COUNT(*) FROM stray_payments")
            assert strays_row is not None
            return rows[0][0], strays_row[0]
        finally:
            await db.close()


@QUICK
@given(
    payload=st.text(max_size=80).filter(lambda p: p != ORDER),
    user_id=st.integers(-(2**40), 2**40),
    currency=st.text(max_size=5),
    amount=st.integers(-(2**31), 2**31),
)
def test_a_forged_invoice_payload_is_refused_and_changes_nothing(
    payload: str, user_id: int, currency: str, amount: int
) -> None:
    state, strays = asyncio.run(_vet(payload, user_id, currency, amount))
    assert (state, strays) == ("awaiting_payment", 0)
