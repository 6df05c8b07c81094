"""`python -m storage.transfer`: a SQLite shop moves into an empty PostgreSQL database whole,
in one transaction, keys still encrypted, or not at all."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import storage.transfer as transfer
from storage import (
    AdminLog,
    AlertRepo,
    CreateSlotRepo,
    CreditRepo,
    Database,
    FlagRepo,
    ForumTopicRepo,
    G2ARepo,
    Key,
    KeyCipher,
    LeaseRepo,
    ListingState,
    OfferRepo,
    OrderRepo,
    OrderState,
    StrayPaymentRepo,
    SupportMessageRepo,
    UserRepo,
)
from storage.cursors import CursorRepo
from storage.flags import KEYS_FINGERPRINT, MAINTENANCE
from storage.models import G2A
from tests.support.factories import offer
from tests.support.services import postgres_database

S = OrderState
KEYS = [
    Key(kind="text", value="AAAA-BBBB-CCCC"),
    Key(kind="image", value=b"\x89PNG\r\n\x1a\n\x00picture-key", mime="image/png"),
]
USERS = (7, 8, 9)
ADMIN = 42
GROUP = -100500
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cipher() -> KeyCipher:
    return KeyCipher(Fernet.generate_key())


@pytest.fixture
async def shop(tmp_path, cipher) -> Path:
    """A SQLite shop with a row in every table, written through the repositories."""
    path = tmp_path / "data" / "storefront.sqlite3"
    db = await Database.open(path)
    try:
        await fill(db, cipher)
        for table in await tables(db):
            assert await count(db, table), f"the test shop has no row in {table}: add one"
    finally:
        await db.close()
    return path


async def fill(db: Database, cipher: KeyCipher) -> None:
    users = UserRepo(db)
    await users.language(7, "en")
    await users.set_language(7, "de")
    await users.language(9, "ru")
    await users.set_banned(8, True)
    await users.set_blocked(9, True)

    offers = OfferRepo(db)
    psn = offer(sku="psn-10", title="PSN 10 — ünïcode", price_stars=800, g2a_product_id="100")
    await offers.replace_catalog([offer(), psn])
    imported = offer(sku="cs-source", vendor="kinguin", vendor_offer_id="1949", title="CS")
    assert await offers.add_imported(imported, ADMIN)
    await offers.edit("steam-5", ADMIN, price_stars=450, max_vendor_price=3000.5)

    repo = OrderRepo(db, cipher)

    async def order(order_id: str, user: int, stars: int, **extra):
        steam = offer()
        return await repo.create(
            order_id=order_id,
            user_id=user,
            chat_id=user,
            sku=steam.sku,
            title=steam.title,
            vendor=steam.vendor,
            vendor_offer_id=steam.vendor_offer_id,
            price_stars=stars,
            vendor_price=2750.25,
            max_vendor_price=steam.max_vendor_price,
            vendor_currency="KZT",
            delivers_key=True,
            customer_fields={"account": "12345"},
            **extra,
        )

    await order("delivered", 7, 400)
    await repo.record_payment("delivered", "charge-1")
    await repo.transition("delivered", S.PLACING)
    await repo.transition("delivered", S.PROCESSING, vendor_order_id="10502")
    await repo.transition("delivered", S.FULFILLED, keys=KEYS)
    await repo.transition("delivered", S.DELIVERED)
    await order("partial", 7, 300, quantity=3)  # 2 units missing: 200 Stars of credit
    await repo.record_payment("partial", "charge-2")
    await repo.transition("partial", S.PLACING)
    await repo.transition("partial", S.FULFILLED, keys=KEYS[:1], delivered_units=1)
    await order("with-credit", 7, 250)  # 200 from credit, 50 by the charge
    await repo.record_payment("with-credit", "charge-3")
    assert await CreateSlotRepo(db).take("kinguin-integration", "18", "with-credit") is None
    await order("awaiting", 9, 100)
    await order("cancelled", 9, 120)
    await repo.transition("cancelled", S.CANCELLED, note="invoice expired")
    await order("refunded", 8, 500)
    await repo.record_payment("refunded", "charge-4")
    await repo.transition("refunded", S.REFUNDING)
    await repo.transition("refunded", S.REFUNDED)
    await order("failed", 8, 60)
    await repo.record_payment("failed", "charge-5")
    await repo.transition("failed", S.PLACING)
    await repo.transition("failed", S.FAILED, failure_reason="the vendor lost the key")
    await order("g2a", 0, 0, channel=G2A, external_ref="g2a-order-1")

    await CreditRepo(db).grant(8, 75, "goodwill")
    strays = StrayPaymentRepo(db)
    await strays.record("stray-1", 7, 400, "order:delivered")
    await strays.record("stray-2", 9, 25, "order:gone")
    await strays.settle("stray-2", "refunded")

    await AdminLog(db).record(ADMIN, "refund", "refunded", "customer asked")
    await AdminLog(db).record(ADMIN, "credit", "8", "+75")
    alerts = AlertRepo(db)
    await alerts.add("order delivered", "delivered", "orders")
    await alerts.add("vendor down", None)
    sent = await alerts.claim("host-1", limit=1, lease_seconds=30)
    await alerts.sent([alert.id for alert in sent])

    await ForumTopicRepo(db).remember(GROUP, "alerts", 11)
    await ForumTopicRepo(db).remember(GROUP, "customer:7", 12, customer_id=7)
    await SupportMessageRepo(db).remember(GROUP, [501, 502], 7)
    await FlagRepo(db).set(MAINTENANCE, "off")
    await FlagRepo(db).set_once(KEYS_FINGERPRINT, cipher.fingerprint())
    await CursorRepo(db).advance("stars_ledger", 1_234_567)
    g2a = G2ARepo(db)
    await g2a.save_listing("psn-10", "100", 9.99, ListingState.ACTIVE, offer_id="o-1", admin_id=1)
    await g2a.reserve("r1", "g2a-order-1", "100", "psn-10", 1, 5.79, "EUR", 9.99, 1800.0)
    await g2a.confirmed("r1", "g2a")
    await LeaseRepo(db).take("alert-sender", "host-1", 30)


async def tables(db: Database) -> list[str]:
    if db.kind == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    return sorted(row[0] for row in await db.fetchall(sql) if row[0] != "schema_migrations")


async def count(db: Database, table: str) -> int:
    row = await db.fetchone(f'SELECT COUNT(*) FROM "{table}"')
    assert row is not None
    return int(row[0])


async def rows_in_all(db: Database) -> int:
    return sum([await count(db, table) for table in await tables(db)])


async def contents(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    found = {}
    for table in await tables(db):
        rows = await db.fetchall(f'SELECT * FROM "{table}"')
        found[table] = sorted((tuple(sorted(dict(row).items())) for row in rows), key=repr)
    return found


@asynccontextmanager
async def opened(where: Path | str) -> AsyncIterator[Database]:
    db = await Database.open(where)
    try:
        yield db
    finally:
        await db.close()


async def max_id(db: Database, table: str) -> int:
    row = await db.fetchone(f"SELECT MAX(id) FROM {table}")
    assert row is not None
    return int(row[0])


async def run(*args: str) -> int:
    """`main` as the command runs it (its own event loop, in a thread)."""
    return await asyncio.to_thread(transfer.main, list(args))


async def test_a_shop_moves_whole_with_its_keys_still_encrypted(shop, cipher, capsys, monkeypatch):
    monkeypatch.setattr(transfer, "BATCH", 2)  # several batches per table
    async with postgres_database() as url, opened(shop) as sqlite:
        before = await contents(sqlite)
        assert await run("--from", str(shop), url) == 0
        out = capsys.readouterr().out
        assert out.splitlines()[-2] == "counts and totals match"
        assert out.splitlines()[-1] == (
            "keys moved still encrypted: the shop needs KEYS_ENCRYPTION_KEY"
            f" or {shop.parent / 'keys.secret'}"
        )
        assert "rows order_keys" in out and "Stars received" in out and "credit ledger" in out
        assert "AAAA" not in out and "picture-key" not in out

        async with opened(url) as postgres:
            assert await contents(postgres) == before  # every row, every value, same tokens
            for order_id in ("delivered", "partial"):
                keys = await OrderRepo(postgres, cipher).keys(order_id)
                assert keys == await OrderRepo(sqlite, cipher).keys(order_id)
            assert await OrderRepo(postgres, cipher).keys("delivered") == KEYS
            for user in USERS:
                balance = await CreditRepo(postgres).balance(user)
                assert balance == await CreditRepo(sqlite).balance(user)
            assert await CreditRepo(postgres).balance(7) == 0  # 200 granted, 200 spent
            assert await OfferRepo(postgres).listing() == await OfferRepo(sqlite).listing()
            assert await FlagRepo(postgres).get(KEYS_FINGERPRINT) == cipher.fingerprint()

            writes = {  # numbering goes on after the copied ids
                "admin_actions": lambda: AdminLog(postgres).record(ADMIN, "retry", "failed"),
                "admin_alerts": lambda: AlertRepo(postgres).add("new", None),
                "credit_entries": lambda: CreditRepo(postgres).grant(9, 5, "goodwill"),
                "order_events": lambda: OrderRepo(postgres, cipher).transition("g2a", S.PLACING),
            }
            for table, write in writes.items():
                copied = await max_id(sqlite, table)
                await write()
                assert await max_id(postgres, table) == copied + 1


async def test_a_target_holding_a_shop_is_refused(shop, capsys):
    async with postgres_database() as url:
        assert await run("--from", str(shop), url) == 0
        async with opened(url) as postgres:
            copied = await contents(postgres)
            capsys.readouterr()
            assert await run("--from", str(shop), url) == 2
            [line] = capsys.readouterr().out.splitlines()
            assert "already holds a shop (rows in admin_actions, admin_alerts, create_slots" in line
            assert "and 15 more)" in line
            assert await contents(postgres) == copied

            others = [table for table in await tables(postgres) if table != "job_leases"]
            await postgres.execute(f"TRUNCATE {', '.join(others)}")  # one table with rows
            assert await run("--from", str(shop), url) == 2
            [line] = capsys.readouterr().out.splitlines()
            assert "(rows in job_leases)" in line
            assert await rows_in_all(postgres) == 1


async def test_a_missing_source_or_bad_url_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    missing = tmp_path / "data" / "storefront.sqlite3"
    monkeypatch.setenv("DATABASE_PATH", str(missing))
    assert await run("postgresql://shop@127.0.0.1:5432/shop") == 2
    [line] = capsys.readouterr().out.splitlines()
    assert str(missing) in line and "no SQLite shop" in line
    assert not missing.exists() and not missing.parent.exists()  # nothing made there

    source = tmp_path / "shop.sqlite3"
    async with opened(source):
        pass
    for url in (
        "postgresql://shop:s3cret@127.0.0.1:1/shop",  # nobody listens there
        "postgresql://shop:s3cret@127.0.0.1:port/shop",
        "mysql://shop:s3cret@127.0.0.1/shop",
    ):
        assert await run("--from", str(source), url) == 2
        [line] = capsys.readouterr().out.splitlines()
        assert line.startswith(("DATABASE_URL", "DATABASE URL")) and "s3cret" not in line


async def test_counts_that_differ_roll_everything_back(shop, capsys, monkeypatch):
    copy_table = transfer._copy_table

    async def losing_alerts(src, dst, table, *args):
        if table != "admin_alerts":
            await copy_table(src, dst, table, *args)

    async with postgres_database() as url:
        monkeypatch.setattr(transfer, "_copy_table", losing_alerts)
        assert await run("--from", str(shop), url) == 1
        out = capsys.readouterr().out
        assert "rows admin_alerts" in out and "<- differs" in out
        assert out.splitlines()[-1].startswith("counts and totals differ: rows admin_alerts")
        async with opened(url) as postgres:
            assert await rows_in_all(postgres) == 0
            await AdminLog(postgres).record(ADMIN, "retry", None)  # numbering untouched
            assert await max_id(postgres, "admin_actions") == 1
            await postgres.execute("DELETE FROM admin_actions")
        monkeypatch.undo()
        assert await run("--from", str(shop), url) == 0  # nothing was left behind


async def test_a_value_postgresql_cannot_hold_stops_the_copy(shop, capsys):
    async with opened(shop) as db:
        await db.execute("INSERT INTO cursors (name, value) VALUES ('odd', 2.5)")
    async with postgres_database() as url:
        assert await run("--from", str(shop), url) == 1
        [line] = capsys.readouterr().out.splitlines()
        assert "cursors.value holds a float" in line and "nothing written" in line
        async with opened(url) as postgres:
            assert await rows_in_all(postgres) == 0


@pytest.mark.parametrize(
    ("value", "pg_type", "wanted"),
    [
        (None, "bigint", None),
        (3, "bigint", 3),
        (3.0, "bigint", 3),
        (3, "double precision", 3.0),
        (b"token", "bytea", b"token"),
        ("token", "bytea", b"token"),
        (5, "text", "5"),
        ("x", "text", "x"),
    ],
)
def test_values_take_the_postgresql_column_type(value, pg_type, wanted):
    coerced = transfer.coerce(value, pg_type, "t.c")
    assert coerced == wanted and type(coerced) is type(wanted)


@pytest.mark.parametrize(
    ("value", "pg_type"), [(2.5, "bigint"), ("7", "bigint"), (b"x", "text"), (1, "bytea")]
)
def test_values_that_do_not_fit_are_named_not_shown(value, pg_type):
    with pytest.raises(transfer.Failed, match=r"^t\.c holds a \w+, PostgreSQL wants") as caught:
        transfer.coerce(value, pg_type, "t.c")
    assert repr(value) not in str(caught.value)


async def test_the_command_moves_the_shop_at_database_path(shop):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    async with postgres_database() as url:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "storage.transfer",
            url,
            env=env | {"DATABASE_PATH": str(shop)},
            cwd=PROJECT_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()
        assert "counts and totals match" in stdout.decode().splitlines()
        assert f"from {shop}" in stdout.decode()
