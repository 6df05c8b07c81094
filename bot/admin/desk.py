"""What admins do to orders and customers, apart from the chat that asks for it: every
change goes through the order state machine and is written to the audit log."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.admin.stats import Stats, compute
from bot.orders.notify import BY_SHOP
from bot.runtime.signals import Signals
from storage.admin_log import AdminLog
from storage.credit import CreditRepo
from storage.flags import MAINTENANCE, FlagRepo
from storage.models import TELEGRAM, WORKER_STATES, Key, Order, OrderState
from storage.orders import OrderRepo, TransitionError
from storage.users import UserRepo
from vendors.base import Vendor

S = OrderState
# An owner may refund an order the shop has been paid for: not delivered yet, or delivered
# and disputed (a key that does not work: Telegram expects Stars sellers to settle those).
REFUNDABLE = frozenset({S.PAID, S.PLACING, S.PROCESSING, S.FAILED, S.KEY_LOST, S.DELIVERED})


class Outcome(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    NOT_ALLOWED = "not_allowed"  # the order's state does not allow it
    OTHER_CHANNEL = "other_channel"  # delivered to a buyer on G2A: G2A settles disputes
    NEEDS_REASON = "needs_reason"  # refunding a delivered order: the audit log says why
    WRONG_COUNT = "wrong_count"  # recovered keys: one per unit of the order


@dataclass(frozen=True)
class CustomerSummary:
    user_id: int
    orders: int
    spent_stars: int  # on delivered orders
    refunded: int
    credit: int
    banned: bool
    recent: list[Order]


@dataclass(frozen=True)
class VendorStatus:
    name: str
    last_success: float | None
    error_rate: float | None  # over the last hour
    open_orders: int
    balance: float | None


class AdminDesk:
    def __init__(
        self,
        orders: OrderRepo,
        credit: CreditRepo,
        audit: AdminLog,
        signals: Signals,
        vendors: Mapping[str, Vendor],
        users: UserRepo,
        flags: FlagRepo,
    ) -> None:
        self._users = users
        self._flags = flags
        self._orders = orders
        self._credit = credit
        self._audit = audit
        self._signals = signals
        self._vendors = vendors

    @property
    def vendor_names(self) -> list[str]:
        return sorted(self._vendors)

    async def find(self, reference: str) -> Order | Outcome:
        found = await self._orders.find(reference)
        if not found:
            return Outcome.NOT_FOUND
        return found[0] if len(found) == 1 else Outcome.AMBIGUOUS

    async def events(self, order_id: str) -> list[tuple[str | None, str, str | None, float]]:
        return await self._orders.events(order_id)

    @staticmethod
    def may_refund(order: Order, reason: str = "") -> Outcome:
        """Whether a refund of `order` would go ahead (asked before offering one)."""
        if order.state not in REFUNDABLE:
            return Outcome.NOT_ALLOWED
        if order.state is S.DELIVERED and order.channel != TELEGRAM:
            return Outcome.OTHER_CHANNEL
        if order.state is S.DELIVERED and not reason.strip():
            return Outcome.NEEDS_REASON
        return Outcome.DONE

    @staticmethod
    def may_retry(order: Order) -> Outcome:
        """Whether a retry of `order` would do anything (asked before offering one)."""
        if order.state is S.FAILED:
            return Outcome.DONE if _refund_failed(order) else Outcome.NOT_ALLOWED
        if order.state is S.KEY_LOST:  # nothing to retry: enter the recovered key, or refund
            return Outcome.NOT_ALLOWED
        return Outcome.DONE if order.state in WORKER_STATES else Outcome.NOT_ALLOWED

    async def refund(self, order: Order, admin_id: int, reason: str = "") -> Outcome:
        """Hand the order to the worker's refund step (Stars back; credit back to credit).
        A delivered order keeps its key on record; the audit log says who and why."""
        reason = reason.strip()
        allowed = self.may_refund(order, reason)
        if allowed is not Outcome.DONE:
            return allowed
        why = f": {reason}" if reason else ""
        try:
            await self._orders.transition(
                order.id,
                S.REFUNDING,
                failure_reason=f"{BY_SHOP}: refunded by an admin ({admin_id}){why}"[:500],
                note=f"admin {admin_id}: refund{why}"[:500],
            )
        except TransitionError:
            return Outcome.NOT_ALLOWED
        await self._audit.record(admin_id, "refund", order.id, reason[:500] or None)
        self._signals.wake_workers()
        return Outcome.DONE

    async def retry(self, order: Order, admin_id: int) -> Outcome:
        """Push a stuck order on through the workers' own idempotent paths: now, not later.
        A refund Telegram refused is tried again."""
        if self.may_retry(order) is not Outcome.DONE:
            return Outcome.NOT_ALLOWED  # e.g. a key lost in transit: recover it or refund
        if order.state is S.FAILED:
            try:
                await self._orders.transition(
                    order.id, S.REFUNDING, note=f"admin {admin_id}: retry the refund"
                )
            except TransitionError:
                return Outcome.NOT_ALLOWED
        elif not await self._orders.wake(order.id):
            return Outcome.NOT_ALLOWED
        await self._audit.record(admin_id, "retry", order.id)
        self._signals.wake_workers()
        return Outcome.DONE

    @staticmethod
    def may_recover_key(order: Order, keys: int | None = None) -> Outcome:
        """Whether `keys` recovered keys (None: any number, asked before the dialog) would
        complete `order`: only a key lost in transit, and one key per unit."""
        if order.state is not S.KEY_LOST:
            return Outcome.NOT_ALLOWED
        if keys is not None and keys != order.quantity:
            return Outcome.WRONG_COUNT
        return Outcome.DONE

    async def recover_key(self, order: Order, keys: list[Key], admin_id: int) -> Outcome:
        """Keys an owner recovered from the vendor: stored encrypted with `fulfilled`, then
        the workers deliver them like any key. The audit log says who (never the key)."""
        allowed = self.may_recover_key(order, len(keys))
        if allowed is not Outcome.DONE:
            return allowed
        try:
            await self._orders.transition(
                order.id, S.FULFILLED, keys=keys, note=f"admin {admin_id}: recovered key"
            )
        except TransitionError:
            return Outcome.NOT_ALLOWED
        await self._audit.record(admin_id, "recover_key", order.id, f"{len(keys)} key(s)")
        self._signals.wake_workers()
        return Outcome.DONE

    async def grant_credit(self, user_id: int, stars: int, reason: str, admin_id: int) -> None:
        await self._credit.grant(user_id, stars, f"admin: {reason}"[:200])
        await self._audit.record(admin_id, "credit", str(user_id), f"{stars}: {reason}"[:500])

    async def customer(self, user_id: int) -> CustomerSummary:
        orders, spent, refunded = await self._orders.totals_for_user(user_id)
        return CustomerSummary(
            user_id,
            orders,
            spent,
            refunded,
            await self._credit.balance(user_id),
            await self._users.is_banned(user_id),
            await self._orders.for_user(user_id, limit=5),
        )

    async def audience(self) -> int:
        """How many customers a broadcast would reach now."""
        return await self._users.count_reachable()

    async def broadcast_started(self, text: str, admin_id: int) -> None:
        await self._audit.record(admin_id, "broadcast", None, text[:500])

    async def ban(self, user_id: int, banned: bool, admin_id: int) -> None:
        await self._users.set_banned(user_id, banned)
        await self._audit.record(admin_id, "ban" if banned else "unban", str(user_id))

    async def maintenance(self, on: bool, admin_id: int) -> None:
        """Customers cannot start purchases; paid orders keep being fulfilled."""
        await self._flags.set(MAINTENANCE, "on" if on else "off")
        await self._audit.record(admin_id, "maintenance", None, "on" if on else "off")

    async def recent_orders(
        self,
        *,
        state: OrderState | None,
        vendor: str | None,
        user_id: int | None,
        page: int,
        page_size: int = 10,
    ) -> tuple[list[Order], int]:
        return await self._orders.recent(
            state=state,
            vendor=vendor,
            user_id=user_id,
            limit=page_size,
            offset=page * page_size,
        )

    async def export_csv(self, since: float | None, admin_id: int) -> tuple[bytes, int]:
        """Paid orders since `since` as CSV (no keys), and how many; the export is logged."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        orders = await self._paid_since(since)
        writer.writerows(_export_row(order) for order in orders)
        await self._audit.record(admin_id, "export", None, f"{len(orders)} orders")
        return out.getvalue().encode("utf-8"), len(orders)

    async def stats(self, days: int) -> Stats:
        """The last `days` days (today included), from midnight UTC."""
        until = datetime.now(UTC)
        since = (until - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0)
        return compute(await self._paid_since(since.timestamp()), since, until)

    async def _paid_since(self, since: float | None) -> list[Order]:
        found: list[Order] = []
        while True:
            batch, _total = await self._orders.recent(
                since=since, limit=EXPORT_PAGE, offset=len(found)
            )
            found += batch
            if len(batch) < EXPORT_PAGE:
                return found

    async def credit_balance(self, user_id: int) -> int:
        return await self._credit.balance(user_id)

    async def show_keys(self, order: Order, admin_id: int) -> list[Key]:
        """An admin asked for this order's keys: logged, then handed over."""
        await self._audit.record(admin_id, "show_key", order.id)
        return await self._orders.keys(order.id)

    async def vendor_health(self) -> list[VendorStatus]:
        now = time.time()
        open_orders = await self._orders.open_by_vendor()
        statuses = []
        for name, vendor in sorted(self._vendors.items()):
            try:
                balance = await vendor.balance()
            except Exception:  # a vendor that does not answer still gets its line
                balance = None
            statuses.append(
                VendorStatus(
                    name,
                    vendor.health.last_success,
                    vendor.health.error_rate(now),
                    open_orders.get(name, 0),
                    balance,
                )
            )
        return statuses


EXPORT_PAGE = 500
EXPORT_COLUMNS = (
    "order_id",
    "created_at_utc",
    "user_id",
    "sku",
    "title",
    "vendor",
    "quantity",
    "state",
    "price_stars",
    "credit_stars",
    "charged_stars",
    "vendor_price_per_unit",
    "vendor_currency",
    "vendor_order_id",
    "delivered_units",
    "channel",  # telegram, or g2a (sold on G2A's marketplace)
    "channel_order_id",  # G2A's order id
)


def _export_row(order: Order) -> tuple[object, ...]:
    return (
        order.id,
        datetime.fromtimestamp(order.created_at, UTC).isoformat(timespec="seconds"),
        order.user_id,
        order.sku,
        order.title,
        order.vendor,
        order.quantity,
        order.state,
        order.price_stars,
        order.credit_stars,
        order.charged_stars,
        order.vendor_price,
        order.vendor_currency,
        order.vendor_order_id or "",
        order.delivered_units if order.delivered_units is not None else "",
        order.channel,
        order.external_ref or "",
    )


def _refund_failed(order: Order) -> bool:
    return order.failure_reason is None or not order.failure_reason.startswith("key lost")
