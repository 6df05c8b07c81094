"""Order steps: from a paid order to delivered keys (or the Stars refunded), for every vendor.

Each step starts from the order's stored state, so a restart after a crash at any line
resumes where the last committed transition left it:

    paid ─► placing ─► processing ─► fulfilled ─► delivered
                 │            │
                 └────────────┴─► refunding ─► refunded (or failed: a human looks)

`placing` is written before the vendor is called. Finding an order in `placing` means an
answer may have been lost, so the retry is `resumed`: the vendor client first learns what
already happened (same reference, a search, or the vendor order id remembered mid-way)
instead of buying again. Keys are committed with `fulfilled` before anyone sees them;
units a vendor did not deliver become shop credit in that same transaction.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramNetworkError
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import lazy_ngettext as ngettext
from babel.support import LazyProxy

from bot.orders.notify import CANCELLED, KEY_LOST, REFUSED, SOLD_OUT, TEST_PURCHASE, Notifier
from bot.orders.refunds import Refunds
from bot.texts import lazy_format, lazy_state_label, short_id
from storage.create_slots import CreateSlotRepo
from storage.models import TELEGRAM, Key, Order, OrderState
from storage.orders import OrderRepo, TransitionError
from storage.payments import StrayPayment
from vendors.base import (
    InsufficientFunds,
    KeyLost,
    OfferNotFound,
    OrderRejected,
    OrderUncertain,
    OutOfStock,
    PlaceOrder,
    Vendor,
    VendorAuthError,
    VendorError,
    VendorOrder,
    VendorOrderStatus,
)

log = logging.getLogger(__name__)
S = OrderState
POLL_SHARE_OF_WAIT = 0.1
SLOT_WAIT = 0.5  # seconds between looks at a product's create slot (see _may_create)


class Fulfillment:
    """The steps that move one order (or one stray payment) forward; the worker runs them."""

    def __init__(
        self,
        orders: OrderRepo,
        refunds: Refunds,
        vendors: Mapping[str, Vendor],
        notifier: Notifier,
        slots: CreateSlotRepo,
        *,
        poll_min: float,
        poll_max: float,
        stuck_after: float,
        poll_slow_max: float = 300.0,
        webhook_poll: float = 30.0,
        preorder_poll: float = 3600.0,
        refund_test_purchases: bool = False,  # the sandbox, paid with real Stars
        key_lost_refund: float = 24 * 3600.0,  # seconds a lost key may be recovered in
    ) -> None:
        self._key_lost_refund = key_lost_refund
        self._refund_test_purchases = refund_test_purchases
        self._orders = orders
        self._refunds = refunds
        self._vendors = vendors
        self._notifier = notifier
        self._slots = slots
        self._poll_min = poll_min
        self._poll_max = poll_max
        self._poll_slow_max = poll_slow_max
        self._stuck_after = stuck_after
        self._webhook_poll = webhook_poll  # the safety net when the vendor pushes updates
        self._preorder_poll = preorder_poll

    async def guarded_step(self, order: Order) -> None:
        """One step; whatever goes wrong is logged and the order retried later."""
        try:
            await self.step(order)
        except TransitionError as exc:
            log.info("order %s moved elsewhere: %s", order.id, exc)
        except Exception as exc:
            log.exception("order %s: step in %s failed", order.id, order.state)
            await self._retry(order, f"{type(exc).__name__}: {exc}")

    async def step(self, order: Order) -> None:
        if order.state is S.PAID:
            if not await self._may_create(order):
                return
            order = await self._orders.transition(order.id, S.PLACING, keep_lease=True)
            await self._place(order, resumed=False)
        elif order.state is S.PLACING:
            await self._place(order, resumed=True)
        elif order.state is S.PROCESSING:
            await self._poll(order)
        elif order.state is S.FULFILLED:
            await self._deliver(order)
        elif order.state is S.REFUNDING:
            await self._refunds.refund_order(order)
        elif order.state is S.KEY_LOST:
            await self._key_not_recovered(order)

    async def refund_stray(self, payment: StrayPayment) -> None:
        await self._refunds.refund_stray(payment, self._backoff(payment.attempts))

    async def _may_create(self, order: Order) -> bool:
        """At a vendor whose repeated create buys again, wait while another order's create
        of the same product has an unknown outcome: a lost answer must leave one candidate
        for the resumed search, never several it cannot tell apart."""
        vendor = self._vendor(order)
        if vendor.idempotent_creates:
            return True
        holder = await self._slots.take(vendor.name, order.vendor_offer_id, order.id)
        if holder is None:
            return True
        note = f"waits until the outcome of order {holder}'s create at {vendor.name} is known"
        await self._retry(order, note, due_in=SLOT_WAIT)
        return False

    async def _place(self, order: Order, *, resumed: bool) -> None:
        async def remember(vendor_order_id: str) -> None:
            await self._orders.remember_vendor_order(order.id, vendor_order_id)

        async def taken(vendor_order_ids: Sequence[str]) -> set[str]:
            return await self._orders.vendor_orders_of_others(
                order.vendor, vendor_order_ids, order.id
            )

        request = PlaceOrder(
            reference=order.id,
            offer_id=order.vendor_offer_id,
            price=order.vendor_price,
            customer_fields=order.customer_fields,
            quantity=order.quantity,
            key_type=order.key_type,
            variant=order.variant,
            max_price=order.max_vendor_price,
            resumed=resumed,
            vendor_order_id=order.vendor_order_id,
            placed_at=order.updated_at,
            remember=remember,
            taken=taken,
        )
        try:
            placed = await self._vendor(order).place_order(request)
        except OrderUncertain as exc:
            await self._failure_alert(
                order,
                __(
                    "Order {id}: {vendor} cannot tell whether an earlier attempt bought it"
                    " ({error}); check the vendor's orders by hand. {outcome}"
                ),
                error=str(exc),
            )
            await self._start_refund(order, f"{REFUSED}: uncertain")
        except (OrderRejected, OfferNotFound) as exc:
            await self._refused(order, exc, resumed=resumed)
        except VendorError as exc:
            await self._vendor_trouble(order, exc)
        else:
            await self._advance(order, placed)

    async def _refused(self, order: Order, exc: VendorError, *, resumed: bool) -> None:
        """The vendor said no for good: the customer gets the Stars back, the admins hear why."""
        code = exc.code or type(exc).__name__
        if isinstance(exc, InsufficientFunds):
            template = __(
                "Order {id}: {vendor} refused it for lack of funds ({code}); top up the vendor"
                " balance. {outcome}"
            )
        elif isinstance(exc, OutOfStock):
            template = __("Order {id}: {vendor} has no stock at our price ({code}). {outcome}")
        elif resumed:  # an earlier attempt's answer was lost: it may have gone through
            template = __(
                "Order {id}: {vendor} refused a repeated order ({code}) after an earlier"
                " attempt's answer was lost; check the vendor for reference {id}. {outcome}"
            )
        else:
            template = __("Order {id}: {vendor} refused it ({code}). {outcome}")
        await self._failure_alert(order, template, code=code)
        reason = SOLD_OUT if isinstance(exc, OutOfStock | OfferNotFound) else REFUSED
        await self._start_refund(order, f"{reason}: {code}")

    async def _poll(self, order: Order) -> None:
        assert order.vendor_order_id is not None
        try:
            status = await self._vendor(order).order_status(order.vendor_order_id)
        except VendorError as exc:
            await self._vendor_trouble(order, exc)
            return
        await self._advance(order, status)

    async def _advance(self, order: Order, vendor_order: VendorOrder) -> None:
        """Act on what the vendor says about an order we placed."""
        if vendor_order.status is VendorOrderStatus.CANCELED:
            await self._failure_alert(order, __("Order {id}: {vendor} cancelled it. {outcome}"))
            await self._start_refund(order, CANCELLED, vendor_order.order_id)
        elif vendor_order.status is VendorOrderStatus.PROCESSING:
            await self._wait_for_vendor(order, vendor_order)
        else:
            await self._complete(order, vendor_order)

    async def _complete(self, order: Order, vendor_order: VendorOrder) -> None:
        keys = vendor_order.keys
        if order.delivers_key and not keys:
            try:
                keys = await self._vendor(order).fetch_keys(vendor_order.order_id)
            except KeyLost as exc:
                await self._key_lost(order, vendor_order, exc)
                return
            except VendorError as exc:
                if order.state is S.PLACING:  # remember the vendor order before retrying
                    await self._orders.transition(
                        order.id, S.PROCESSING, vendor_order_id=vendor_order.order_id
                    )
                    return
                await self._vendor_trouble(order, exc)
                return
        await self._fulfil(order, vendor_order, keys if order.delivers_key else ())

    async def _fulfil(self, order: Order, vendor_order: VendorOrder, keys: tuple[Key, ...]) -> None:
        """Commit the keys with `fulfilled` (and credit for missing units), then deliver."""
        partial = vendor_order.status is VendorOrderStatus.PARTIAL
        if order.delivers_key and not keys:
            if partial:  # cancelled after all: nothing came
                await self._start_refund(order, CANCELLED, vendor_order.order_id)
            else:  # completed, but the keys are not listed yet
                await self._wait_for_vendor(order, vendor_order)
            return
        extra: dict[str, Any] = {}
        if order.delivers_key and len(keys) < order.quantity:
            extra["delivered_units"] = len(keys)
        order = await self._orders.transition(
            order.id,
            S.FULFILLED,
            keep_lease=True,
            keys=keys,
            vendor_order_id=vendor_order.order_id,
            note=f"{len(keys)} of {order.quantity} delivered" if extra else None,
            **extra,
        )
        await self._deliver(order)

    async def _key_lost(self, order: Order, vendor_order: VendorOrder, exc: KeyLost) -> None:
        """The vendor handed the key out once and we never stored it: an owner recovers it
        from the vendor and enters it, or the order is refunded when the wait runs out.
        Told before it is recorded: a crash in between repeats the notices, never loses them."""
        hours = self._key_lost_hours()
        await self._alert(
            order,
            ngettext(
                "Order {id}: the {vendor} key of vendor order {vendor_order} was downloaded"
                " once but never reached our database (lost in transit). Nothing was bought"
                " again. Recover the key from the vendor and enter it on the order's card"
                " (/order {id}); otherwise {outcome} in {hours} hour.",
                "Order {id}: the {vendor} key of vendor order {vendor_order} was downloaded"
                " once but never reached our database (lost in transit). Nothing was bought"
                " again. Recover the key from the vendor and enter it on the order's card"
                " (/order {id}); otherwise {outcome} in {hours} hours.",
                hours,
            ),
            vendor_order=vendor_order.order_id,
            hours=hours,
            outcome=self._giving_up(order),
        )
        with contextlib.suppress(TelegramForbiddenError):
            await self._notifier.key_delayed(order, hours)
        await self._orders.transition(
            order.id,
            S.KEY_LOST,
            due_in=self._key_lost_refund,
            vendor_order_id=vendor_order.order_id,
            failure_reason=f"key lost: {exc.code or exc}",
            note="key lost in transit",
        )

    async def _key_not_recovered(self, order: Order) -> None:
        """Nobody entered the lost key in time (an early wake-up just waits on)."""
        left = order.updated_at + self._key_lost_refund - time.time()
        if left > 0:
            await self._orders.reschedule(order.id, due_in=left, note=order.failure_reason)
            return
        await self._alert(
            order,
            __("Order {id}: nobody entered the lost {vendor} key in time: {outcome}."),
            outcome=self._giving_up(order),
        )
        await self._start_refund(order, f"{KEY_LOST}: not recovered")

    def _giving_up(self, order: Order) -> LazyProxy:
        if order.channel == TELEGRAM:
            return __("the customer is refunded")
        return lazy_format(
            __("the order closes; cancel the {channel} buyer's order {ref} there"),
            channel=order.channel.upper(),
            ref=order.external_ref,
        )

    def _key_lost_hours(self) -> int:
        return max(1, round(self._key_lost_refund / 3600))

    async def _wait_for_vendor(self, order: Order, vendor_order: VendorOrder) -> None:
        release = vendor_order.release_date
        if release and order.release_date != release:
            with contextlib.suppress(TelegramForbiddenError):
                await self._notifier.preorder(order, release)
            await self._orders.set_release_date(order.id, release)
        if order.state is S.PLACING:
            await self._orders.transition(
                order.id,
                S.PROCESSING,
                due_in=self._poll_delay(order, release, 0),
                vendor_order_id=vendor_order.order_id,
            )
        else:
            await self._retry(order, None, due_in=self._poll_delay(order, release, order.attempts))
        if self._vendor(order).pushes_updates:  # a push during this step must not wait
            await self._orders.due_if_pushed_since(order.id, order.vendor_updated_at)

    def _poll_delay(self, order: Order, release: str | None, attempts: int) -> float:
        """Poll fast at first, then every tenth of the wait so far (up to poll_slow_max: an
        order long at the vendor leaves its rate limit to fresh ones); slowly for
        pre-orders; only as a safety net with webhooks."""
        if release:
            return self._preorder_poll
        waited = time.time() - order.updated_at  # since it went to the vendor
        delay = max(self._backoff(attempts), min(waited * POLL_SHARE_OF_WAIT, self._poll_slow_max))
        if self._vendor(order).pushes_updates:
            return max(delay, self._webhook_poll)
        return delay

    async def _deliver(self, order: Order) -> None:
        if order.delivered_units is not None:  # before `delivered`: a crash repeats, never loses
            if order.channel == TELEGRAM:
                template = __(
                    "Order {id}: {vendor} delivered {delivered} of {quantity} units; the"
                    " customer got the missing ones as shop credit."
                )
            else:
                template = __(
                    "Order {id}: {vendor} delivered {delivered} of {quantity} units; the"
                    " {channel} buyer gets those: settle the rest of their order {ref} there."
                )
            await self._alert(
                order,
                template,
                delivered=order.delivered_units,
                quantity=order.quantity,
                channel=order.channel.upper(),
                ref=order.external_ref,
            )
        try:
            if not order.delivers_key:
                await self._notifier.topped_up(order)
            elif order.channel != TELEGRAM or await self._orders.start_key_message(order.id):
                await self._send_keys(order)
            else:  # an earlier attempt may have reached the customer: never the keys twice
                log.warning("order %s: key message attempted before; a notice instead", order.id)
                await self._notifier.keys_waiting(order)
        except TelegramForbiddenError:
            log.info("order %s: customer blocked the bot; the key waits in /orders", order.id)
        await self._orders.transition(order.id, S.DELIVERED)
        log.info("order %s delivered", order.id)
        if order.test_purchase and order.channel == TELEGRAM and self._refund_test_purchases:
            await self._refund_test_purchase(order.id)

    async def refund_test_purchases(self) -> None:
        """Sandbox test purchases delivered but not refunded yet (a crash came in between):
        a housekeeping chore while the sandbox runs on Telegram's production environment."""
        for order_id in await self._orders.delivered_test_purchases():
            await self._refund_test_purchase(order_id)

    async def _refund_test_purchase(self, order_id: str) -> None:
        with contextlib.suppress(TransitionError):  # refunded meanwhile
            await self._orders.transition(
                order_id,
                S.REFUNDING,
                failure_reason=f"{TEST_PURCHASE}: a sandbox purchase, refunded automatically",
                note="sandbox on the production environment: refunded",
            )

    async def _send_keys(self, order: Order) -> None:
        try:
            await self._notifier.send_keys(order, await self._orders.keys(order.id))
        except TelegramNetworkError:
            raise  # it may have arrived: the next attempt sends a notice, not the keys
        except TelegramForbiddenError:
            raise
        except TelegramAPIError:  # Telegram answered no: it did not arrive
            await self._orders.key_message_failed(order.id)
            raise

    async def _start_refund(
        self, order: Order, reason: str, vendor_order_id: str | None = None
    ) -> None:
        extra: dict[str, Any] = {"vendor_order_id": vendor_order_id} if vendor_order_id else {}
        if order.channel != TELEGRAM:  # the channel refunds its buyer once an admin acts
            await self._orders.transition(
                order.id, S.FAILED, failure_reason=reason, note=reason, **extra
            )
            return
        order = await self._orders.transition(
            order.id, S.REFUNDING, keep_lease=True, failure_reason=reason, note=reason, **extra
        )
        await self._refunds.refund_order(order)

    async def _vendor_trouble(self, order: Order, exc: VendorError) -> None:
        log.warning("order %s: %s", order.id, exc)
        if isinstance(exc, VendorAuthError) and not order.alerted:
            await self._notifier.alert_admins(
                __(
                    "Vendor {vendor} refused our credentials ({error}). Orders wait until the"
                    " API key is fixed."
                ),
                order_id=order.id,
                vendor=order.vendor,
                error=str(exc),
            )
            await self._orders.reschedule(order.id, due_in=60.0, note=str(exc), alerted=True)
            return
        await self._retry(order, str(exc))

    async def _retry(self, order: Order, reason: str | None, due_in: float | None = None) -> None:
        alerted = await self._alert_if_stuck(order, reason)
        await self._orders.reschedule(
            order.id,
            due_in=self._backoff(order.attempts) if due_in is None else due_in,
            note=reason,
            alerted=alerted,
        )

    async def _alert_if_stuck(self, order: Order, reason: str | None) -> bool:
        """Tell the admins once when an order has made no progress for too long (a
        pre-order waits for its release date: that is progress as planned)."""
        age = time.time() - order.updated_at
        if age <= self._stuck_after or order.alerted or order.release_date:
            return False
        await self._alert(
            order,
            __("Order {id} ({vendor}) has been {state} for {minutes} min; last problem: {reason}."),
            state=lazy_state_label(order.state),
            minutes=round(age / 60),
            reason=reason or order.failure_reason or "-",
        )
        return True

    async def _failure_alert(self, order: Order, template: Any, **values: Any) -> None:
        """An alert about an order that failed at the vendor, saying what happens next."""
        if order.channel == TELEGRAM:
            outcome = __("The customer is refunded.")
        else:
            outcome = lazy_format(
                __(
                    "The {channel} buyer sees no stock: cancel their order {ref} there, then"
                    " /refund {id} closes ours."
                ),
                channel=order.channel.upper(),
                ref=order.external_ref,
                id=short_id(order),
            )
        await self._alert(order, template, outcome=outcome, **values)

    async def _alert(self, order: Order, template: Any, **values: Any) -> None:
        await self._notifier.alert_admins(
            template, order_id=order.id, id=order.id, vendor=order.vendor, **values
        )

    def _backoff(self, attempts: int) -> float:
        return float(min(self._poll_max, self._poll_min * 1.5**attempts))

    def _vendor(self, order: Order) -> Vendor:
        return self._vendors[order.vendor]
