"""Orders and their state machine: every transition is one committed write with an event row.

This module is the only place that changes an order's state. A transition is a
compare-and-set on the current state, so two workers (or a worker and a late Telegram
update) can never both move the same order.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from storage.credit import add_credit, credit_balance
from storage.db import Database, Row, Transaction
from storage.models import (
    TELEGRAM,
    TRANSITIONS,
    WORKER_STATES,
    Key,
    Order,
    OrderState,
    refund_credit,
    undelivered_credit,
)
from storage.secrets import KeyCipher

_SETTABLE = frozenset(
    {
        "vendor_order_id",
        "vendor_price",
        "vendor_currency",
        "failure_reason",
        "attempts",
        "release_date",
        "delivered_units",
    }
)
S = OrderState


class TransitionError(Exception):
    """The order is not in a state that allows this change (someone else moved it first)."""

    def __init__(self, order_id: str, current: OrderState | None, wanted: OrderState) -> None:
        super().__init__(f"order {order_id}: {current} -> {wanted} is not allowed")
        self.current = current


# Which due orders a claim takes first. Literal SQL, as the partial index orders_due_on_us
# (migration 0015) spells it: both databases use a partial index only for a query that
# repeats its condition.
_DUE_ON_US = "state IN ('paid', 'placing', 'fulfilled', 'refunding')"
_DUE_AT_VENDOR = "state IN ('processing', 'key_lost')"


class OrderRepo:
    def __init__(self, db: Database, cipher: KeyCipher) -> None:
        self._db = db
        self._cipher = cipher

    async def create(
        self,
        *,
        order_id: str,
        user_id: int,
        chat_id: int,
        sku: str,
        title: str,
        vendor: str,
        vendor_offer_id: str,
        price_stars: int,
        vendor_price: float,
        max_vendor_price: float,
        vendor_currency: str,
        delivers_key: bool,
        customer_fields: Mapping[str, str],
        quantity: int = 1,
        key_type: str | None = None,
        variant: str | None = None,
        use_credit: bool = True,
        channel: str = TELEGRAM,
        external_ref: str | None = None,
        test_purchase: bool = False,
    ) -> Order:
        """A new order awaiting its invoice's payment. With `use_credit`, the customer's
        shop credit pays as much as it can, in the same transaction; an order the credit
        covers whole is paid at once (no invoice: Telegram charges at least one Star).
        Another channel's order (G2A's) is paid already, and there is one per
        `external_ref`: a second one (two confirmations racing) returns the first."""
        now = time.time()
        async with self._db.transaction() as tx:
            use_credit = use_credit and channel == TELEGRAM
            if use_credit:  # two purchases at once never spend the same credit
                await tx.lock(f"credit:{user_id}")
            credit = min(await credit_balance(tx, user_id), price_stars) if use_credit else 0
            paid = credit == price_stars or channel != TELEGRAM
            state = S.PAID if paid else S.AWAITING_PAYMENT
            values: dict[str, Any] = {
                "id": order_id,
                "user_id": user_id,
                "chat_id": chat_id,
                "sku": sku,
                "title": title,
                "vendor": vendor,
                "vendor_offer_id": vendor_offer_id,
                "price_stars": price_stars,
                "vendor_price": vendor_price,
                "max_vendor_price": max_vendor_price,
                "vendor_currency": vendor_currency,
                "customer_fields": json.dumps(dict(customer_fields)),
                "delivers_key": int(delivers_key),
                "state": state,
                "quantity": quantity,
                "credit_stars": credit,
                "key_type": key_type,
                "variant": variant,
                "channel": channel,
                "external_ref": external_ref,
                "test_purchase": int(test_purchase),
                "next_attempt_at": now if state is S.PAID else None,
                "created_at": now,
                "updated_at": now,
            }
            rows = await tx.fetchall(
                f"INSERT INTO orders ({', '.join(values)})"
                f" VALUES ({', '.join('?' * len(values))})"
                " ON CONFLICT (channel, external_ref) WHERE external_ref IS NOT NULL DO NOTHING"
                " RETURNING *",
                tuple(values.values()),
            )
            if not rows:  # the channel's order came twice at once: the first one stands
                rows = await tx.fetchall(
                    "SELECT * FROM orders WHERE channel = ? AND external_ref = ?",
                    (channel, external_ref),
                )
                return _order(rows[0])
            note = "paid from credit" if credit else None
            if channel != TELEGRAM:
                note = f"paid on {channel}"
            await _event(tx, order_id, None, state, note, now)
            if credit:
                await add_credit(tx, user_id, -credit, "spent", order_id, now)
        return _order(rows[0])

    async def get(self, order_id: str) -> Order | None:
        row = await self._db.fetchone("SELECT * FROM orders WHERE id = ?", (order_id,))
        return _order(row) if row else None

    async def find(self, reference: str) -> list[Order]:
        """Orders whose id is `reference` or starts with it (the short ids customers see);
        at most two, so a caller can tell "ambiguous" from "found"."""
        prefix = reference.strip().lower()
        if not prefix.isalnum():
            return []
        rows = await self._db.fetchall(
            "SELECT * FROM orders WHERE id LIKE ? ORDER BY id LIMIT 2", (prefix + "%",)
        )
        exact = [row for row in rows if row["id"] == prefix]
        return [_order(row) for row in (exact or rows)]

    async def vendor_orders_of_others(
        self, vendor: str, vendor_order_ids: Sequence[str], order_id: str
    ) -> set[str]:
        """Which of these vendor orders already belong to another order of ours."""
        if not vendor_order_ids:
            return set()
        marks = ",".join("?" * len(vendor_order_ids))
        rows = await self._db.fetchall(
            f"SELECT vendor_order_id FROM orders WHERE vendor = ? AND id <> ?"
            f" AND vendor_order_id IN ({marks})",
            (vendor, order_id, *vendor_order_ids),
        )
        return {row[0] for row in rows}

    async def delivered_test_purchases(self, limit: int = 100) -> list[str]:
        """Sandbox purchases delivered to a Telegram customer and not refunded yet."""
        rows = await self._db.fetchall(
            "SELECT id FROM orders WHERE state = ? AND test_purchase = 1 AND channel = ?"
            " ORDER BY updated_at LIMIT ?",
            (S.DELIVERED, TELEGRAM, limit),
        )
        return [row[0] for row in rows]

    async def wake(self, order_id: str) -> bool:
        """An admin's retry: an order a worker moves on its own is due now (lease kept)."""
        placeholders = ",".join("?" * len(WORKER_STATES))
        changed = await self._db.execute(
            f"UPDATE orders SET next_attempt_at = ?, alerted = 0 WHERE id = ?"
            f" AND state IN ({placeholders})",
            (time.time(), order_id, *WORKER_STATES),
        )
        return changed == 1

    async def for_user(self, user_id: int, *, limit: int, offset: int = 0) -> list[Order]:
        rows = await self._db.fetchall(
            "SELECT * FROM orders WHERE user_id = ? AND state != ?"
            " ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            (user_id, OrderState.CANCELLED, limit, offset),
        )
        return [_order(row) for row in rows]

    async def recent(
        self,
        *,
        state: OrderState | None = None,
        vendor: str | None = None,
        user_id: int | None = None,
        since: float | None = None,
        limit: int,
        offset: int = 0,
    ) -> tuple[list[Order], int]:
        """Orders newest first, filtered (unpaid invoices only when asked by state), and
        how many match in all."""
        where, params = self._filters(state, vendor, user_id, since)
        rows = await self._db.fetchall(
            f"SELECT * FROM orders WHERE {where} ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        count = await self._db.fetchone(f"SELECT COUNT(*) FROM orders WHERE {where}", params)
        return [_order(row) for row in rows], int(count[0]) if count else 0

    @staticmethod
    def _filters(
        state: OrderState | None, vendor: str | None, user_id: int | None, since: float | None
    ) -> tuple[str, tuple[Any, ...]]:
        clauses: list[str] = []
        params: list[Any] = []
        if state is not None:
            clauses.append("state = ?")
            params.append(state)
        else:
            clauses.append("state NOT IN (?, ?)")
            params += [S.AWAITING_PAYMENT, S.CANCELLED]
        for column, value in (("vendor", vendor), ("user_id", user_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(since)
        return " AND ".join(clauses), tuple(params)

    async def totals_for_user(self, user_id: int) -> tuple[int, int, int]:
        """(orders placed, Stars of delivered orders, orders refunded) for one customer."""
        row = await self._db.fetchone(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN state = ? THEN price_stars ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN state = ? THEN 1 ELSE 0 END), 0)"
            " FROM orders WHERE user_id = ? AND state NOT IN (?, ?)",
            (S.DELIVERED, S.REFUNDED, user_id, S.CANCELLED, S.AWAITING_PAYMENT),
        )
        return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)

    async def page_for_user(
        self, user_id: int, *, size: int, page: int
    ) -> tuple[list[Order], int, int]:
        """One page of the customer's orders (newest first; a page past the end is the
        last one), that page's number and how many there are: one query when it exists."""
        rows = await self._user_page(user_id, size, page)
        if not rows and page > 0:  # a stale button: the orders' count says the last page
            row = await self._db.fetchone(
                "SELECT COUNT(*) FROM orders WHERE user_id = ? AND state != ?",
                (user_id, OrderState.CANCELLED),
            )
            page = max(0, -(-int(row[0] if row else 0) // size) - 1)
            rows = await self._user_page(user_id, size, page)
        if not rows:
            return [], 0, 1
        return [_order(row) for row in rows], page, max(1, -(-int(rows[0]["total"]) // size))

    async def _user_page(self, user_id: int, size: int, page: int) -> list[Row]:
        return await self._db.fetchall(
            "SELECT *, COUNT(*) OVER () AS total FROM orders WHERE user_id = ? AND state != ?"
            " ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            (user_id, OrderState.CANCELLED, size, page * size),
        )

    async def events(self, order_id: str) -> list[tuple[str | None, str, str | None, float]]:
        """The order's transitions, oldest first: (from, to, note, when)."""
        rows = await self._db.fetchall(
            "SELECT from_state, to_state, note, at FROM order_events WHERE order_id = ?"
            " ORDER BY id",
            (order_id,),
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def open_by_vendor(self) -> dict[str, int]:
        """How many paid orders each vendor has not finished yet."""
        placeholders = ",".join("?" * len(WORKER_STATES))
        rows = await self._db.fetchall(
            f"SELECT vendor, COUNT(*) FROM orders WHERE state IN ({placeholders}) GROUP BY vendor",
            WORKER_STATES,
        )
        return {row[0]: int(row[1]) for row in rows}

    async def count_by_state(self) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT state, COUNT(*) FROM orders GROUP BY state")
        return {row[0]: int(row[1]) for row in rows}

    async def oldest_due_at(self) -> float | None:
        """When the longest-waiting order step that no worker holds became due."""
        now = time.time()
        placeholders = ",".join("?" * len(WORKER_STATES))
        row = await self._db.fetchone(
            f"SELECT MIN(next_attempt_at) FROM orders WHERE state IN ({placeholders})"
            " AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)",
            (*WORKER_STATES, now, now),
        )
        return float(row[0]) if row and row[0] is not None else None

    async def transition(
        self,
        order_id: str,
        to: OrderState,
        *,
        note: str | None = None,
        due_in: float = 0.0,
        keep_lease: bool = False,
        keys: Sequence[Key] = (),
        **fields: Any,
    ) -> Order:
        """Move an order to `to` if its current state allows it; raise TransitionError if not.

        Keys passed here are stored in the same transaction, so a key is durable no later
        than the state that says we have it. Orders entering a worker state become due
        after `due_in` seconds; the worker's lease is released unless `keep_lease`.
        """
        unknown = set(fields) - _SETTABLE
        if unknown:
            raise ValueError(f"cannot set {sorted(unknown)} in a transition")
        now = time.time()
        assignments = {
            "attempts": 0,  # a new state starts its own retry count
            **fields,
            "updated_at": now,
            "next_attempt_at": now + due_in if to in WORKER_STATES else None,
        }
        if not keep_lease:
            assignments |= {"lease_owner": None, "lease_until": None}
        async with self._db.transaction() as tx:
            current = await _current(tx, order_id)
            if current is None:
                raise TransitionError(order_id, None, to)
            row = await _move(tx, order_id, current[0], to, assignments, note, now)
            for position, key in enumerate(keys):
                await tx.execute(
                    "INSERT INTO order_keys (order_id, position, kind, mime, secret, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (order_id, position, key.kind, key.mime, self._cipher.seal(key), now),
                )
        return _order(row)

    async def record_payment(self, order_id: str, charge_id: str) -> Order | None:
        """Store Telegram's charge id and mark the order paid, once.

        Returns the paid order, or None if this charge was already recorded (a repeated
        update). Raises TransitionError for a charge this order cannot take (it is paid by
        another charge, or settled): the caller keeps it as a stray payment to refund.
        """
        now = time.time()
        paid = OrderState.PAID
        async with self._db.transaction() as tx:
            current = await _current(tx, order_id)
            if current is None:
                raise TransitionError(order_id, None, paid)
            state, known_charge = current
            if known_charge == charge_id:
                return None
            if known_charge is not None:
                raise TransitionError(order_id, state, paid)
            assignments = {
                "telegram_charge_id": charge_id,
                "updated_at": now,
                "next_attempt_at": now,
            }
            return _order(await _move(tx, order_id, state, paid, assignments, None, now))

    async def remember_vendor_order(self, order_id: str, vendor_order_id: str) -> None:
        """Store the vendor's order id while placing, before the next money-spending call
        (G2A: between create and pay), so a crash resumes at the right call."""
        await self._db.execute(
            "UPDATE orders SET vendor_order_id = ? WHERE id = ? AND state = ?",
            (vendor_order_id, order_id, S.PLACING),
        )

    async def due_now(self, vendors: Sequence[str]) -> int:
        """Make these vendors' open orders due at once: pushes sent while no process was
        listening (a restart) are lost, so each such order is asked about once."""
        if not vendors:
            return 0
        marks = ",".join("?" * len(vendors))
        return await self._db.execute(
            f"UPDATE orders SET next_attempt_at = ? WHERE state = ? AND vendor IN ({marks})"
            " AND release_date IS NULL",
            (time.time(), S.PROCESSING, *vendors),
        )

    async def due_if_pushed_since(self, order_id: str, seen: str | None) -> bool:
        """After scheduling a wait: a vendor push that came while the step ran (its
        `vendor_updated_at` is not the one the step started with) makes the order due now,
        so the wait cannot swallow it. A push after this call sets the time itself."""
        changed = await self._db.execute(
            "UPDATE orders SET next_attempt_at = ? WHERE id = ? AND state IN (?, ?)"
            " AND vendor_updated_at IS NOT NULL AND vendor_updated_at != ?",
            (time.time(), order_id, S.PLACING, S.PROCESSING, seen or ""),
        )
        return changed == 1

    async def start_key_message(self, order_id: str) -> bool:
        """Claim the one attempt at the message with the keys: False when one was made
        already (it may have reached the customer before a crash)."""
        changed = await self._db.execute(
            "UPDATE orders SET key_message_at = ? WHERE id = ? AND state = ?"
            " AND key_message_at IS NULL",
            (time.time(), order_id, S.FULFILLED),
        )
        return changed == 1

    async def key_message_failed(self, order_id: str) -> None:
        """Telegram refused the key message (it surely did not arrive): it may be sent again."""
        await self._db.execute(
            "UPDATE orders SET key_message_at = NULL WHERE id = ? AND state = ?",
            (order_id, S.FULFILLED),
        )

    async def set_release_date(self, order_id: str, release_date: str) -> None:
        """A pre-order's release date, once the customer has been told it."""
        await self._db.execute(
            "UPDATE orders SET release_date = ? WHERE id = ?", (release_date, order_id)
        )

    async def record_vendor_event(
        self, vendor: str, event_order: str, reference: str | None, status: str, updated_at: str
    ) -> Order | None:
        """A vendor's push about an open order: keep it if it is the newest (`updated_at`,
        ISO 8601 UTC) and make the order due at once. Late or repeated events change
        nothing; the worker still asks the vendor before it moves the order."""
        now = time.time()
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE orders SET vendor_status = ?, vendor_updated_at = ?, next_attempt_at = ?"
                " WHERE vendor = ? AND (vendor_order_id = ? OR id = ?) AND state IN (?, ?)"
                " AND (vendor_updated_at IS NULL OR vendor_updated_at < ?) RETURNING *",
                (
                    status,
                    updated_at,
                    now,
                    vendor,
                    event_order,
                    reference or "",
                    S.PLACING,
                    S.PROCESSING,
                    updated_at,
                ),
            )
        return _order(rows[0]) if rows else None

    async def requote(self, order_id: str, vendor_price: float) -> bool:
        """Update the vendor price we will pay, while the order is still unpaid."""
        changed = await self._db.execute(
            "UPDATE orders SET vendor_price = ? WHERE id = ? AND state = ?",
            (vendor_price, order_id, OrderState.AWAITING_PAYMENT),
        )
        return changed == 1

    async def reschedule(
        self, order_id: str, *, due_in: float, note: str | None = None, alerted: bool = False
    ) -> None:
        """Try this order again later (same state), releasing the worker's lease."""
        now = time.time()
        alerted_sql = self._db.dialect.greatest("alerted", "?")
        await self._db.execute(
            # updated_at is left alone: it says since when the order is in its state
            "UPDATE orders SET next_attempt_at = ?, attempts = attempts + 1, failure_reason = ?,"
            f" alerted = {alerted_sql}, lease_owner = NULL, lease_until = NULL"
            " WHERE id = ?",
            (now + due_in, note, int(alerted), order_id),
        )

    async def claim_due(self, owner: str, *, lease_seconds: float, limit: int) -> list[Order]:
        """Lease up to `limit` orders whose next step is due, for one worker: first those
        that wait on us (to place, deliver, refund), then vendor polls. A backlog of polls
        (thousands of orders open at a slow vendor) must not hold up a customer who just
        paid or whose key just arrived."""
        now = time.time()
        claimed: list[Order] = []
        for which in (_DUE_ON_US, _DUE_AT_VENDOR):  # each claim is atomic on its own
            rows = await self._db.returning(
                "UPDATE orders SET lease_owner = ?, lease_until = ? WHERE id IN ("
                f" SELECT id FROM orders WHERE {which}"
                " AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)"
                f" ORDER BY next_attempt_at LIMIT ?{self._db.dialect.skip_locked}) RETURNING *",
                (owner, now + lease_seconds, now, now, limit - len(claimed)),
            )
            claimed += map(_order, rows)
            if len(claimed) >= limit:
                break
        return claimed

    async def renew_leases(self, owner: str, order_ids: Sequence[str], lease_seconds: float) -> int:
        """Keep `owner`'s leases on orders whose steps still run (a step slowed by a vendor
        must not be taken over by another worker); returns how many it still holds."""
        if not order_ids:
            return 0
        marks = ",".join("?" * len(order_ids))
        return await self._db.execute(
            f"UPDATE orders SET lease_until = ? WHERE lease_owner = ? AND id IN ({marks})",
            (time.time() + lease_seconds, owner, *order_ids),
        )

    async def next_due_at(self) -> float | None:
        """When the next step may be taken: the next order due, or, for orders due already
        but leased by another worker, when that lease runs out. Both halves read the
        index on next_attempt_at (set only while an order is in a worker state), not every
        open order: a shop with 10,000 open orders asks this whenever its worker idles."""
        now = time.time()
        row = await self._db.fetchone(
            "SELECT MIN(soon) FROM ("
            " SELECT MIN(next_attempt_at) AS soon FROM orders WHERE next_attempt_at > ?"
            " UNION ALL"
            " SELECT MIN(lease_until) FROM orders WHERE next_attempt_at <= ? AND lease_until > ?"
            ") AS candidates",
            (now, now, now),
        )
        return float(row[0]) if row and row[0] is not None else None

    async def by_external_ref(self, channel: str, external_ref: str) -> Order | None:
        row = await self._db.fetchone(
            "SELECT * FROM orders WHERE channel = ? AND external_ref = ?", (channel, external_ref)
        )
        return _order(row) if row is not None else None

    async def keys(self, order_id: str) -> list[Key]:
        rows = await self._db.fetchall(
            "SELECT kind, mime, secret FROM order_keys WHERE order_id = ? ORDER BY position",
            (order_id,),
        )
        return [self._cipher.open(row["kind"], row["mime"], row["secret"]) for row in rows]

    async def cancel_stale_unpaid(self, older_than: float) -> int:
        """Cancel invoices nobody paid within the allowed time; returns how many."""
        cutoff = time.time() - older_than
        rows = await self._db.fetchall(
            "SELECT id FROM orders WHERE state = ? AND created_at < ?",
            (OrderState.AWAITING_PAYMENT, cutoff),
        )
        cancelled = 0
        for row in rows:
            try:
                await self.transition(row["id"], OrderState.CANCELLED, note="invoice expired")
                cancelled += 1
            except TransitionError:
                pass  # paid meanwhile: good
        return cancelled


async def _current(tx: Transaction, order_id: str) -> tuple[OrderState, str | None] | None:
    """The order's state and charge id, read inside the write transaction that changes them."""
    rows = await tx.fetchall(
        f"SELECT state, telegram_charge_id FROM orders WHERE id = ?{tx.dialect.for_update}",
        (order_id,),
    )
    return (OrderState(rows[0][0]), rows[0][1]) if rows else None


def _credit_move(row: Row, current: OrderState, to: OrderState) -> tuple[int, str]:
    """The shop-credit move that goes with a transition: (Stars, reason), 0 for none.

    The credit an order used comes back when it is cancelled or refunded (and is spent
    again if a payment honours a cancelled order); units a vendor did not deliver become
    credit, since Telegram refunds only whole charges."""
    credit = int(row["credit_stars"])
    if to is S.CANCELLED:
        return credit, "returned"
    if current is S.CANCELLED and to is S.PAID:
        return -credit, "spent"
    price, quantity, delivered = (
        int(row["price_stars"]),
        int(row["quantity"]),
        row["delivered_units"],
    )
    if to is S.REFUNDED:
        return refund_credit(credit, price, quantity, delivered), "refund"
    if to is S.FULFILLED:
        return undelivered_credit(price, quantity, delivered), "partial"
    return 0, ""


async def _move(
    tx: Transaction,
    order_id: str,
    current: OrderState,
    to: OrderState,
    assignments: Mapping[str, Any],
    note: str | None,
    now: float,
) -> Row:
    """The one way an order changes state: checked, compare-and-set, with its event row."""
    if to not in TRANSITIONS[current]:
        raise TransitionError(order_id, current, to)
    changes = {**assignments, "state": to}
    columns = ", ".join(f"{name} = ?" for name in changes)
    rows = await tx.fetchall(
        f"UPDATE orders SET {columns} WHERE id = ? AND state = ? RETURNING *",
        (*changes.values(), order_id, current),
    )
    if not rows:
        raise TransitionError(order_id, current, to)
    await _event(tx, order_id, current, to, note, now)
    stars, reason = _credit_move(rows[0], current, to)
    user_id = rows[0]["user_id"]
    if stars < 0 and to is S.REFUNDED:  # credit an order gave, taken back: what is left of it
        await tx.lock(f"credit:{user_id}")
        stars = -min(-stars, max(0, await credit_balance(tx, user_id)))
    if stars:
        await add_credit(tx, user_id, stars, reason, order_id, now)
    return rows[0]


async def _event(
    tx: Transaction,
    order_id: str,
    from_state: OrderState | None,
    to_state: OrderState,
    note: str | None,
    at: float,
) -> None:
    await tx.execute(
        "INSERT INTO order_events (order_id, from_state, to_state, note, at)"
        " VALUES (?, ?, ?, ?, ?)",
        (order_id, from_state, to_state, note, at),
    )


_ORDER_COLUMNS = tuple(field.name for field in dataclasses.fields(Order))


def _order(row: Row) -> Order:
    data: dict[str, Any] = {name: row[name] for name in _ORDER_COLUMNS}
    data |= {
        "state": OrderState(row["state"]),
        "delivers_key": bool(row["delivers_key"]),
        "alerted": bool(row["alerted"]),
        "test_purchase": bool(row["test_purchase"]),
        "customer_fields": json.loads(row["customer_fields"]),
    }
    return Order(**data)
