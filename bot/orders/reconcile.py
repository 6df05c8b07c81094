"""Payments whose update never reached us, found in the bot's Stars ledger.

Long polling confirms updates before their handlers finish, so a process killed at the
wrong moment can lose a `successful_payment` update that Telegram will not send again.
The Stars ledger (getStarTransactions, oldest first) still lists the payment: every
incoming invoice payment in it is recorded exactly like the update would have been.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import StarTransaction, TransactionPartnerUser

from bot.orders.checkout import Checkout
from storage.cursors import CursorRepo

log = logging.getLogger(__name__)
CURSOR = "stars_ledger"
PAGE = 100  # the Bot API's largest page


class PaymentReconciler:
    def __init__(self, bot: Bot, checkout: Checkout, cursors: CursorRepo) -> None:
        self._bot = bot
        self._checkout = checkout
        self._cursors = cursors

    async def run(self) -> int:
        """Read the ledger from where the last run stopped; returns payments recovered."""
        offset = await self._cursors.get(CURSOR)
        recovered = 0
        while True:
            page = await self._bot.get_star_transactions(offset=offset, limit=PAGE)
            for transaction in page.transactions:
                recovered += await self._settle(transaction)
            offset += len(page.transactions)
            await self._cursors.advance(CURSOR, offset)
            if len(page.transactions) < PAGE:
                return recovered

    async def _settle(self, transaction: StarTransaction) -> int:
        source = transaction.source
        if not (
            isinstance(source, TransactionPartnerUser)
            and source.transaction_type == "invoice_payment"
            and source.invoice_payload
        ):
            return 0  # our refunds, and whatever else is not a customer paying an invoice
        order = await self._checkout.record_payment(
            source.invoice_payload, transaction.id, source.user.id, transaction.amount
        )
        if order is None:
            return 0
        log.warning("order %s: payment recovered from the Stars ledger", order.id)
        return 1
