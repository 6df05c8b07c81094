"""The admin side of /support: an admin's message in a customer's forum topic, or reply to
a customer's support message, goes to that customer (operators and owners alike)."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.admin.support import Delivery, SupportDesk


class ToCustomer(Filter):
    """Passes an admin's message that answers a customer (not a command) and hands the
    handler that `customer`."""

    async def __call__(self, message: Message, support: SupportDesk) -> bool | dict[str, Any]:
        if (message.text or "").startswith("/"):
            return False
        customer = await support.customer_for(message)
        return {"customer": customer} if customer is not None else False


async def answer_customer(message: Message, customer: int, support: SupportDesk) -> None:
    delivery = await support.answer(customer, message)
    if delivery is Delivery.BLOCKED:
        await message.reply(_("The customer blocked the bot: this answer did not reach them."))
    elif delivery is Delivery.FAILED:
        await message.reply(_("Telegram refused to pass this answer on; try another form."))
