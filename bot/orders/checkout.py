"""From a chosen offer to a paid order: create the order, vet the payment, record it."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from aiogram.utils.i18n import gettext as _

from bot.catalog import Catalog
from bot.offers import Availability, LiveOffer, OfferService
from bot.texts import field_label, short_id, stars
from storage.flags import MAINTENANCE, FlagRepo
from storage.models import Order, OrderState
from storage.orders import OrderRepo, TransitionError
from storage.payments import StrayPaymentRepo
from storage.users import UserRepo

log = logging.getLogger(__name__)
STARS = "XTR"
INVOICE_TITLE_LIMIT = 32  # Bot API: an invoice's title is 1-32 characters


class PaymentRefused(Exception):
    """Why a payment must not go ahead; the message is shown to the customer."""


class Checkout:
    def __init__(
        self,
        orders: OrderRepo,
        strays: StrayPaymentRepo,
        catalog: Catalog,
        offers: OfferService,
        *,
        invoice_ttl: float,
        precheck_timeout: float = 7.0,
        users: UserRepo | None = None,
        flags: FlagRepo | None = None,
        test_purchases: bool = False,  # the sandbox: orders are marked as test purchases
    ) -> None:
        self._test_purchases = test_purchases
        self._users = users
        self._flags = flags
        self._orders = orders
        self._strays = strays
        self._catalog = catalog
        self._offers = offers
        self._invoice_ttl = invoice_ttl
        self._precheck_timeout = precheck_timeout  # Telegram waits 10 s for our answer

    async def refusal(self, user_id: int) -> str | None:
        """Why this customer may not start a purchase now (shown to them), or None."""
        if self._flags is not None and await self._flags.get(MAINTENANCE) == "on":
            return _(
                "🛠 The shop is closed for maintenance and will be back soon. Orders already"
                " paid are being fulfilled as usual."
            )
        if self._users is not None and await self._users.is_banned(user_id):
            return _("Sorry, purchases are not available for your account. See /paysupport.")
        return None

    async def open_order(
        self,
        user_id: int,
        chat_id: int,
        live: LiveOffer,
        fields: Mapping[str, str],
        quantity: int = 1,
    ) -> Order:
        """An order for `quantity` units; the customer's shop credit pays what it can (an
        order it covers whole comes back already paid, with no invoice to send)."""
        assert live.vendor is not None, "only offers the vendor confirmed can be ordered"
        offer = live.offer
        return await self._orders.create(
            order_id=secrets.token_hex(8),
            user_id=user_id,
            chat_id=chat_id,
            sku=offer.sku,
            title=offer.title,
            vendor=offer.vendor,
            vendor_offer_id=offer.vendor_offer_id,
            price_stars=offer.price_stars * quantity,
            vendor_price=live.vendor.price,
            max_vendor_price=offer.max_vendor_price,
            vendor_currency=live.vendor.currency,
            delivers_key=live.vendor.delivers_key,
            customer_fields={name: fields[name] for name in live.required_fields},
            quantity=quantity,
            key_type=offer.key_type,
            variant=offer.kinguin_offer_id,
            test_purchase=self._test_purchases,
        )

    async def cancel(self, order_id: str, user_id: int) -> bool:
        order = await self._orders.get(order_id)
        if order is None or order.user_id != user_id:
            return False
        try:
            await self._orders.transition(order_id, OrderState.CANCELLED, note="customer")
        except TransitionError:
            return False
        return True

    async def vet_payment(self, order_id: str, user_id: int, currency: str, amount: int) -> None:
        """Raise PaymentRefused unless this order may be charged now (pre-checkout)."""
        order = await self._orders.get(order_id)
        if order is None or order.user_id != user_id:
            raise PaymentRefused(_("This order was not found. Please start a new purchase."))
        refusal = await self.refusal(user_id)
        if refusal is not None:
            raise PaymentRefused(refusal)
        expired = time.time() - order.created_at > self._invoice_ttl
        if order.state is not OrderState.AWAITING_PAYMENT or expired:
            raise PaymentRefused(_("This invoice is no longer valid. Please open the offer again."))
        if currency != STARS or amount != order.charged_stars:
            raise PaymentRefused(_("The amount does not match the order. Nothing was charged."))
        offer = self._catalog.offer(order.sku)
        if offer is None:
            raise PaymentRefused(_("This offer is no longer sold. Nothing was charged."))
        live = await self._offers.live(offer, fresh=True, wait_at_most=self._precheck_timeout)
        if live.availability is Availability.UNKNOWN or live.vendor is None:
            raise PaymentRefused(
                _("We cannot reach the supplier right now. Please try again in a minute.")
            )
        if live.availability is not Availability.AVAILABLE or live.max_units < order.quantity:
            raise PaymentRefused(
                _(
                    "Sorry, the supplier's price just changed or the offer sold out."
                    " Nothing was charged."
                )
            )
        if live.vendor.price != order.vendor_price:
            await self._orders.requote(order_id, live.vendor.price)

    async def record_payment(
        self, order_id: str, charge_id: str, user_id: int, amount: int
    ) -> Order | None:
        """Store the payment first of all; None if it is not (or no longer) news.

        A charge that matches no open order (an invoice paid twice, a settled order) is
        stored as a stray payment, which the worker refunds: no Star is ever kept by mistake.
        """
        try:
            return await self._orders.record_payment(order_id, charge_id)
        except TransitionError:
            if await self._strays.record(charge_id, user_id, amount, order_id):
                log.warning("payment %s matches no open order %s: refunding", charge_id, order_id)
            return None


@dataclass(frozen=True)
class InvoiceTerms:
    """What a Stars invoice for an order says: in the chat (sendInvoice) or as a link the
    Mini App opens (createInvoiceLink), the same."""

    title: str
    description: str
    payload: str
    amount: int


def invoice_terms(order: Order) -> InvoiceTerms:
    """The invoice for what the shop credit did not cover (in the customer's language)."""
    name = order.title if order.quantity == 1 else f"{order.quantity} × {order.title}"
    title = name if len(name) <= INVOICE_TITLE_LIMIT else name[: INVOICE_TITLE_LIMIT - 1] + "…"
    details = [f"{field_label(k)} {v}" for k, v in order.customer_fields.items()]
    if order.credit_stars:
        details.append(
            _("{stars} paid from your shop credit").format(stars=stars(order.credit_stars))
        )
    description = _("Order #{id}").format(id=short_id(order)) + "".join(f" · {d}" for d in details)
    return InvoiceTerms(title, description[:255], order.id, order.charged_stars)
