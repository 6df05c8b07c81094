"""An owner hands over a key recovered from the vendor after it was lost in transit (G2A
lets a key download once): from the order's card, as the next message in the group."""

from __future__ import annotations

import contextlib
import html

from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.admin.access import Role
from bot.admin.desk import AdminDesk, Outcome
from bot.texts import short_id, state_label
from handlers.admin.common import AdminCb, cancel_button, owners_order
from storage.models import Key, Order


class RecoverKey(StatesGroup):
    entering = State()


def recover_button(order: Order) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("🔑 Enter recovered key"),
        callback_data=AdminCb(action="recover", ref=order.id).pack(),
    )


async def recover_pressed(
    query: CallbackQuery, callback_data: AdminCb, desk: AdminDesk, role: Role, state: FSMContext
) -> None:
    found = await owners_order(
        query, callback_data, desk, role, _("Only the shop owner can enter keys.")
    )
    if found is not None and desk.may_recover_key(found[0]) is not Outcome.DONE:
        await query.answer(_not_lost(found[0]), show_alert=True)
    elif found is not None:
        await query.answer()
        await _ask_for_key(*found, state)


async def _ask_for_key(order: Order, message: Message, state: FSMContext) -> None:
    await state.set_state(RecoverKey.entering)
    await state.update_data(recover=order.id)
    text = ngettext(
        "Send the key recovered from {vendor} for order {id} ({title}) as your next message:"
        " {count} text key. For an image key, type the code it shows. Your message is"
        " deleted once the key is stored.",
        "Send the keys recovered from {vendor} for order {id} ({title}) as your next message:"
        " {count} text keys, one per line. For an image key, type the code it shows. Your"
        " message is deleted once the keys are stored.",
        order.quantity,
    ).format(
        vendor=order.vendor,
        id=short_id(order),
        title=html.escape(order.title),
        count=order.quantity,
    )
    markup = InlineKeyboardMarkup(inline_keyboard=[[cancel_button()]])
    await message.answer(text, reply_markup=markup)


async def recovered_key(message: Message, desk: AdminDesk, role: Role, state: FSMContext) -> None:
    """The owner's message with the key(s): stored, delivered by the workers, and deleted
    from the group, so the key does not stay where every admin reads."""
    order_id = (await state.get_data()).get("recover")
    order = await desk.find(order_id) if role is Role.OWNER and order_id else None
    if not isinstance(order, Order):
        await state.clear()
        return
    if not message.text:
        await message.reply(_("Send the key as text: for an image key, type the code it shows."))
        return
    keys = [Key(kind="text", value=line.strip()) for line in message.text.splitlines()]
    keys = [key for key in keys if key.value]
    outcome = await desk.recover_key(order, keys, message.from_user.id if message.from_user else 0)
    deleted = await _delete(message)
    if outcome is Outcome.WRONG_COUNT:  # the dialog stays open for the right number
        text = ngettext(
            "Order {id} needs {count} key; that message had {sent}. Send it again.",
            "Order {id} needs {count} keys, one per line; that message had {sent}. Send them"
            " again.",
            order.quantity,
        ).format(id=short_id(order), count=order.quantity, sent=len(keys))
        await message.answer(text)
        return
    await state.clear()
    if outcome is not Outcome.DONE:  # refunded or recovered meanwhile
        latest = await desk.find(order.id)
        await message.answer(_not_lost(latest if isinstance(latest, Order) else order))
        return
    text = _("Order {id}: the recovered key is stored and on its way to the customer.").format(
        id=short_id(order)
    )
    if not deleted:
        text += " " + _("I could not delete your message: delete it, it shows the key.")
    await message.answer(text)


async def _delete(message: Message) -> bool:
    with contextlib.suppress(TelegramAPIError):
        return await message.delete()
    return False


def _not_lost(order: Order) -> str:
    return _("Order {id} waits for no recovered key (it is {state}).").format(
        id=short_id(order), state=state_label(order.state)
    )
