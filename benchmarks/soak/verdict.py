"""The soak's verdict, from the shop's database, the fake Telegram and the vendors' own
books: every Star received ends as delivered keys, a refund or shop credit; no vendor
sells one unit of ours twice (or sells us anything nobody got); no key message goes out
twice; no order is left open."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from benchmarks.soak.customers import Purchase
from benchmarks.soak.world import World
from storage import Database, KeyCipher, Order, OrderRepo, OrderState
from storage.models import G2A, TELEGRAM, Key, refund_credit, undelivered_credit
from tests.support.fake_telegram import Call
from vendors.kinguin_integration import TAG

S = OrderState
SETTLED = {S.DELIVERED, S.REFUNDED, S.CANCELLED}


@dataclass
class Verdict:
    setup: str
    problems: list[str] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems

    def line(self) -> str:
        figures = " · ".join(f"{name} {value}" for name, value in self.figures.items())
        outcome = "PASS" if self.passed else f"FAIL ({len(self.problems)} problems)"
        return f"soak {self.setup}: {outcome} · {figures}"


async def judge(
    setup: str,
    world: World,
    database: str,
    cipher_key: str,
    purchases: list[Purchase],
    key_messages_until: int,
) -> Verdict:
    verdict = Verdict(setup)
    db = await Database.open(database)
    try:
        repo = OrderRepo(db, KeyCipher(cipher_key))
        rows = await db.fetchall("SELECT id FROM orders")
        orders = {row[0]: await repo.get(row[0]) for row in rows}
        keys = {order_id: await repo.keys(order_id) for order_id in orders}
        entries = await db.fetchall("SELECT user_id, order_id, delta FROM credit_entries")
        lost = await db.fetchone(
            "SELECT COUNT(DISTINCT order_id) FROM order_events WHERE to_state = ?",
            (S.KEY_LOST,),
        )
    finally:
        await db.close()
    ours = {o.id: o for o in orders.values() if o is not None}
    _stars(verdict, world, ours)
    _credit(verdict, ours, entries)
    _vendors(verdict, world, ours)
    _key_messages(verdict, world, ours, keys, key_messages_until)
    _open(verdict, ours, purchases)
    _g2a_buyers(verdict, ours, keys, purchases)
    verdict.figures["G2A keys lost in transit"] = lost[0] if lost else 0
    return verdict


def _stars(verdict: Verdict, world: World, orders: dict[str, Order]) -> None:
    """Every charge Telegram took: its order delivered (charge kept), or refunded once."""
    refunds: Counter[str] = Counter(
        call.params["telegram_payment_charge_id"]
        for call in world.tg.calls_of("refundStarPayment")
        if call.result is True
    )
    by_charge = {o.telegram_charge_id: o for o in orders.values() if o.telegram_charge_id}
    received = refunded = delivered = 0
    for charge_id, charge in world.tg.charges.items():
        received += charge.total_amount
        order = by_charge.get(charge_id)
        times = refunds[charge_id]
        if times > 1:
            verdict.problems.append(f"charge {charge_id} refunded {times} times")
        if order is not None and order.state is S.DELIVERED:
            delivered += charge.total_amount
            if times:
                verdict.problems.append(f"order {order.id}: delivered and refunded")
        elif times == 1:
            refunded += charge.total_amount
        else:
            state = order.state if order else "no order (a stray payment)"
            verdict.problems.append(f"charge {charge_id} ({charge.total_amount} ⭐): {state}, kept")
    verdict.figures["Stars"] = f"{received} = {delivered} delivered + {refunded} refunded"


def _credit(verdict: Verdict, orders: dict[str, Order], entries: list) -> None:
    """The credit ledger: each order moved what its outcome says; no balance below 0."""
    per_order: defaultdict[str, int] = defaultdict(int)
    per_user: defaultdict[int, int] = defaultdict(int)
    for user_id, order_id, delta in entries:
        per_user[int(user_id)] += int(delta)
        if order_id:
            per_order[order_id] += int(delta)
    given = 0
    for order in orders.values():
        expected = _credit_expected(order)
        if expected is not None and per_order[order.id] != expected:
            verdict.problems.append(
                f"order {order.id} ({order.state}): credit moved {per_order[order.id]},"
                f" expected {expected}"
            )
        given += max(
            0, undelivered_credit(order.price_stars, order.quantity, order.delivered_units)
        )
    negative = [user for user, balance in per_user.items() if balance < 0]
    if negative:
        verdict.problems.append(f"credit below zero for customers {negative}")
    spent = -sum(min(0, d) for _u, o, d in entries if o)
    verdict.figures["credit"] = f"{given} given for missing units, {spent} spent"


def _credit_expected(order: Order) -> int | None:
    paid_part = -order.credit_stars
    if order.state in (S.DELIVERED, S.FULFILLED):
        return paid_part + undelivered_credit(
            order.price_stars, order.quantity, order.delivered_units
        )
    if order.state is S.REFUNDED:
        return paid_part + refund_credit(
            order.credit_stars, order.price_stars, order.quantity, order.delivered_units
        )
    if order.state is S.CANCELLED:
        return 0
    return None  # still open: reported as such


def _vendors(verdict: Verdict, world: World, orders: dict[str, Order]) -> None:
    """One vendor order per order of ours, and none that no order of ours holds."""
    held = Counter((o.vendor, o.vendor_order_id) for o in orders.values() if o.vendor_order_id)
    for (vendor, vendor_order), count in held.items():
        if count > 1:
            verdict.problems.append(f"{vendor} order {vendor_order} held by {count} orders")
    placed: Counter[str] = Counter()

    def check(vendor: str, vendor_order: str, charged: bool) -> None:
        placed[vendor] += 1
        if charged and (vendor, vendor_order) not in held:
            verdict.problems.append(f"{vendor} order {vendor_order} was paid for nobody")

    twice: Counter[tuple[str, str]] = Counter()
    for cg in world.codegames.orders.values():
        twice["codegames", cg.transaction_id] += 1
        check("codegames", str(cg.order_id), cg.final_status == "COMPLETED")
    for esa in world.kinguin.orders.values():
        twice["kinguin", esa.external_id or ""] += 1
        check("kinguin", esa.order_id, esa.status != "canceled")
    for old in world.integration.orders.values():
        tags = {m[1] for line in old.products if (m := TAG.fullmatch(line.name))}
        for tag in tags:
            twice["kinguin-integration", tag] += 1
        check("kinguin-integration", old.order_id, old.final_status == "completed")
    for g2a in world.g2a.orders.values():
        check("g2a", g2a.order_id, g2a.paid)
    for (vendor, reference), count in twice.items():
        if count > 1:
            verdict.problems.append(f"{vendor} sold order {reference} {count} times")
    verdict.figures["vendor orders"] = dict(placed)


def _key_messages(
    verdict: Verdict,
    world: World,
    orders: dict[str, Order],
    keys: dict[str, list[Key]],
    until: int,
) -> None:
    """No key went out twice on its own (asking for it in "My orders" is not counted)."""
    sent = [c for c in world.tg.calls[:until] if c.result is not None]
    repeated = 0
    for order in orders.values():
        if order.channel != TELEGRAM:
            continue
        for key in keys.get(order.id, []):
            count = sum(
                _carries(call, key) for call in sent if call.params.get("chat_id") == order.chat_id
            )
            if count > 1:
                repeated += 1
                verdict.problems.append(f"order {order.id}: a key was sent {count} times")
    verdict.figures["keys sent twice"] = repeated


def _carries(call: Call, key: Key) -> bool:
    if isinstance(key.value, str):
        return key.value in str(call.params.get("text", "") or call.params.get("caption", ""))
    photos = [call.params.get("photo")] + [
        m.get("media") for m in call.params.get("media", []) or []
    ]
    return any(getattr(p, "data", p) == key.value for p in photos if p is not None)


def _open(verdict: Verdict, orders: dict[str, Order], purchases: list[Purchase]) -> None:
    states = Counter(o.state.value for o in orders.values())
    verdict.figures["orders"] = dict(states)
    left = [
        o
        for o in orders.values()
        if o.state not in SETTLED
        and o.state is not S.AWAITING_PAYMENT
        and not (o.channel == G2A and o.state is S.FAILED)  # closed on G2A's side
    ]
    for order in left[:10]:
        verdict.problems.append(
            f"order {order.id} ({order.vendor}) left {order.state}: {order.failure_reason}"
        )
    if len(left) > 10:
        verdict.problems.append(f"... and {len(left) - 10} more open orders")
    paid = [p for p in purchases if p.channel == TELEGRAM]
    missing = [p for p in paid if p.order_id not in orders]
    if missing:
        verdict.problems.append(f"{len(missing)} paid purchases have no order")
    verdict.figures["purchases"] = len(purchases)


def _g2a_buyers(
    verdict: Verdict,
    orders: dict[str, Order],
    keys: dict[str, list[Key]],
    purchases: list[Purchase],
) -> None:
    """What G2A's buyers collected is what the shop bought for them."""
    by_ref = {o.external_ref: o for o in orders.values() if o.channel == G2A}
    for purchase in purchases:
        if purchase.channel != G2A:
            continue
        order = by_ref.get(purchase.g2a_order_id)
        if order is None or order.state is not S.DELIVERED:
            continue  # refused or closed: G2A refunds its buyer
        stored = sorted(str(k.value) for k in keys.get(order.id, []))
        if sorted(purchase.keys) != stored:
            verdict.problems.append(f"G2A order {purchase.g2a_order_id}: keys differ")
