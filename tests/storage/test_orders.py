"""The order state machine: compare-and-set transitions, durable keys, leases."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import storage
from storage import Database, Key, OrderRepo, OrderState, TransitionError
from storage.models import WORKER_STATES
from storage.orders import _DUE_AT_VENDOR, _DUE_ON_US
from tests.support.factories import offer

MIGRATIONS = Path(storage.__file__).parent / "migrations"

S = OrderState


async def new_order(repo: OrderRepo, order_id: str = "o1"):
    steam = offer()
    return await repo.create(
        order_id=order_id,
        user_id=7,
        chat_id=7,
        sku=steam.sku,
        title=steam.title,
        vendor=steam.vendor,
        vendor_offer_id=steam.vendor_offer_id,
        price_stars=steam.price_stars,
        vendor_price=2750.0,
        max_vendor_price=steam.max_vendor_price,
        vendor_currency="KZT",
        delivers_key=True,
        customer_fields={},
    )


async def test_happy_path_records_every_transition(repo):
    await new_order(repo)
    assert (await repo.record_payment("o1", "charge-1")).state is S.PAID
    await repo.transition("o1", S.PLACING)
    await repo.transition("o1", S.PROCESSING, vendor_order_id="10502")
    await repo.transition("o1", S.FULFILLED, keys=[Key(kind="text", value="AAAA-BBBB")])
    order = await repo.transition("o1", S.DELIVERED)
    assert order.vendor_order_id == "10502" and order.telegram_charge_id == "charge-1"
    assert [to for _, to, _, _ in await repo.events("o1")] == [
        "awaiting_payment",
        "paid",
        "placing",
        "processing",
        "fulfilled",
        "delivered",
    ]
    assert [k.value for k in await repo.keys("o1")] == ["AAAA-BBBB"]


async def test_keys_are_encrypted_at_rest(repo, db, tmp_path):
    await new_order(repo)
    await repo.record_payment("o1", "c")
    await repo.transition("o1", S.PLACING)
    await repo.transition("o1", S.FULFILLED, keys=[Key(kind="text", value="SECRET-KEY-123")])
    [row] = await db.fetchall("SELECT secret FROM order_keys")
    assert b"SECRET-KEY-123" not in bytes(row[0])
    if db.kind == "sqlite":  # nor anywhere in the file or its log
        raw = (tmp_path / "shop.sqlite3").read_bytes()
        raw += (tmp_path / "shop.sqlite3-wal").read_bytes()
        assert b"SECRET-KEY-123" not in raw
    assert "SECRET" not in repr(Key(kind="text", value="SECRET-KEY-123"))


async def test_forbidden_transition_changes_nothing(repo):
    await new_order(repo)
    with pytest.raises(TransitionError):
        await repo.transition("o1", S.DELIVERED)
    with pytest.raises(TransitionError):
        await repo.transition("missing", S.PAID)
    assert (await repo.get("o1")).state is S.AWAITING_PAYMENT


async def test_payment_is_recorded_once(repo):
    await new_order(repo)
    assert await repo.record_payment("o1", "charge-1") is not None
    assert await repo.record_payment("o1", "charge-1") is None  # repeated update
    with pytest.raises(TransitionError):
        await repo.record_payment("o1", "charge-2")  # a second charge is never silently kept
    assert (await repo.get("o1")).telegram_charge_id == "charge-1"


async def test_payment_after_cancel_is_still_honoured(repo):
    await new_order(repo)
    await repo.transition("o1", S.CANCELLED)
    assert (await repo.record_payment("o1", "late")).state is S.PAID


async def test_a_due_order_is_leased_to_one_worker_only(repo):
    await new_order(repo)
    await repo.record_payment("o1", "c")
    first = await repo.claim_due("w1", lease_seconds=60, limit=10)
    second = await repo.claim_due("w2", lease_seconds=60, limit=10)
    assert [o.id for o in first] == ["o1"] and second == []
    await repo.reschedule("o1", due_in=0)
    assert [o.id for o in await repo.claim_due("w2", lease_seconds=60, limit=10)] == ["o1"]


async def test_steps_that_wait_on_us_go_before_a_backlog_of_polls(repo, db):
    for n in range(5):  # open at the vendor, overdue for a poll since long ago
        await new_order(repo, f"poll{n}")
        await repo.record_payment(f"poll{n}", f"c{n}")
        await repo.transition(f"poll{n}", S.PLACING)
        await repo.transition(f"poll{n}", S.PROCESSING, vendor_order_id=str(n), due_in=-600)
    await new_order(repo, "fresh")
    await repo.record_payment("fresh", "c")  # just paid: due now, later than every poll
    first = await repo.claim_due("w", lease_seconds=60, limit=2)
    assert [o.id for o in first] == ["fresh", "poll0"]
    rest = await repo.claim_due("w", lease_seconds=60, limit=10)
    assert sorted(o.id for o in rest) == ["poll1", "poll2", "poll3", "poll4"]
    # spelled as migration 0015's partial index spells it: kept in step with the states
    assert set(_DUE_ON_US.split("'")[1::2]) == set(WORKER_STATES) - {S.PROCESSING, S.KEY_LOST}
    assert set(_DUE_AT_VENDOR.split("'")[1::2]) == {S.PROCESSING, S.KEY_LOST}
    if db.kind == "sqlite":  # found through the partial index, not by walking the polls
        plan = await db.fetchall(
            f"EXPLAIN QUERY PLAN SELECT id FROM orders WHERE {_DUE_ON_US}"
            " AND next_attempt_at <= 1 ORDER BY next_attempt_at"
        )
        assert "orders_due_on_us" in " ".join(str(row[-1]) for row in plan)


async def test_unpaid_orders_expire(repo):
    await new_order(repo)
    assert await repo.cancel_stale_unpaid(older_than=-1) == 1
    assert (await repo.get("o1")).state is S.CANCELLED


async def test_requote_only_while_unpaid(repo):
    await new_order(repo)
    assert await repo.requote("o1", 2800.0)
    await repo.record_payment("o1", "c")
    assert not await repo.requote("o1", 9999.0)
    assert (await repo.get("o1")).vendor_price == 2800.0


async def test_migrations_are_applied_once(tmp_path):
    path = tmp_path / "again.sqlite3"
    db = await Database.open(path)
    await db.close()
    db = await Database.open(path)
    rows = await db.fetchall("SELECT version FROM schema_migrations")
    shipped = sorted(int(f.name[:4]) for f in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    assert shipped[:12] == list(range(1, 13))  # 0011: support, 0012: G2A sales
    assert [r[0] for r in rows] == shipped
    mode = await db.fetchone("PRAGMA journal_mode")
    assert mode[0] == "wal"
    await db.close()


async def test_a_push_during_a_step_is_not_swallowed_by_the_wait(repo):
    await new_order(repo)
    await repo.record_payment("o1", "charge-1")
    started = await repo.transition("o1", S.PLACING)  # the step starts: nothing pushed yet
    # the vendor pushes while our place-order call is still out
    pushed = await repo.record_vendor_event("codegames", "v-1", "o1", "completed", "2030-01-01")
    assert pushed is not None and pushed.vendor_status == "completed"
    await repo.transition("o1", S.PROCESSING, due_in=3600, vendor_order_id="v-1")
    assert await repo.due_if_pushed_since("o1", started.vendor_updated_at) is True
    [due] = await repo.claim_due("w", lease_seconds=5, limit=5)
    assert due.id == "o1"
    # nothing new since: the wait stands
    await repo.reschedule("o1", due_in=3600)
    assert await repo.due_if_pushed_since("o1", due.vendor_updated_at) is False
    # a late copy of the same event changes nothing
    assert await repo.record_vendor_event("codegames", "v-1", "o1", "processing", "2029") is None


async def test_a_customers_orders_come_a_page_at_a_time(repo):
    for n in range(7):
        await new_order(repo, f"o{n}")
    await repo.transition("o3", S.CANCELLED)  # not shown

    first, page, pages = await repo.page_for_user(7, size=4, page=0)
    assert (page, pages) == (0, 2) and len(first) == 4
    second, page, pages = await repo.page_for_user(7, size=4, page=1)
    assert (page, pages) == (1, 2) and len(second) == 2
    assert {o.id for o in first + second} == {f"o{n}" for n in range(7)} - {"o3"}
    beyond, page, pages = await repo.page_for_user(7, size=4, page=9)  # a stale button
    assert (page, pages) == (1, 2) and [o.id for o in beyond] == [o.id for o in second]
    assert await repo.page_for_user(8, size=4, page=0) == ([], 0, 1)


async def test_the_next_step_is_due_when_an_order_is_or_another_workers_lease_ends(repo):
    assert await repo.next_due_at() is None
    await new_order(repo, "soon")
    await repo.record_payment("soon", "c1")
    await repo.transition("soon", S.PLACING, due_in=60)
    now = time.time()
    assert now + 55 < await repo.next_due_at() <= now + 60
    await new_order(repo, "now")
    await repo.record_payment("now", "c2")  # due at once...
    [claimed] = await repo.claim_due("elsewhere", lease_seconds=30, limit=5)
    assert claimed.id == "now"  # ...and taken by another worker: due when its lease ends
    assert now + 25 < await repo.next_due_at() <= time.time() + 30


async def test_vendor_orders_of_other_orders_are_told_apart(repo):
    for order_id, vendor_order in (("a", "v1"), ("b", "v2")):
        await new_order(repo, order_id)
        await repo.record_payment(order_id, f"c-{order_id}")
        await repo.transition(order_id, S.PLACING)
        await repo.transition(order_id, S.PROCESSING, vendor_order_id=vendor_order)
    vendor = (await repo.get("a")).vendor
    assert await repo.vendor_orders_of_others(vendor, ["v1", "v2", "v3"], "a") == {"v2"}
    assert await repo.vendor_orders_of_others("another-vendor", ["v1", "v2"], "a") == set()
    assert await repo.vendor_orders_of_others(vendor, [], "a") == set()
