"""Buying: ask the fields the vendor needs (aiogram FSM), confirm, send a Stars invoice."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
)
from aiogram.utils.i18n import gettext as _

from bot.catalog import Catalog
from bot.offers import Availability, OfferService
from bot.orders.checkout import STARS, Checkout, invoice_terms
from bot.runtime.signals import Signals
from bot.texts import field_label, short_id, stars
from handlers import keyboards
from handlers.callbacks import BuyCb, FormCb, InvoiceCancelCb
from handlers.filters import InState, Is
from storage.models import DEFAULT_FIELD_PATTERN, Order, OrderState


class Purchase(StatesGroup):
    entering = State()
    confirming = State()


def register(r: Router) -> None:
    """The purchase handlers, on the customers' router."""
    r.callback_query.register(buy, BuyCb.filter())
    r.message.register(cancel_command, Command("cancel"))
    r.callback_query.register(cancel_form, FormCb.filter(F.action == "cancel"))
    r.message.register(
        take_field, InState(Purchase.entering), Is(F.text), Is(~F.text.startswith("/"))
    )
    r.message.register(ask_for_text, InState(Purchase.entering), Is(~F.text))
    r.callback_query.register(
        edit_fields, InState(Purchase.confirming), FormCb.filter(F.action == "edit")
    )
    r.callback_query.register(pay, InState(Purchase.confirming), FormCb.filter(F.action == "pay"))
    r.callback_query.register(form_expired, InState(None), FormCb.filter())
    r.callback_query.register(cancel_invoice, InvoiceCancelCb.filter())


async def buy(
    query: CallbackQuery,
    callback_data: BuyCb,
    state: FSMContext,
    catalog: Catalog,
    offers: OfferService,
    checkout: Checkout,
    signals: Signals,
) -> None:
    refusal = await checkout.refusal(query.from_user.id)
    if refusal is not None:
        await query.answer(refusal, show_alert=True)
        return
    offer = catalog.offer(callback_data.sku)
    live = await offers.live(offer) if offer else None
    if live is None or live.availability is not Availability.AVAILABLE:
        await query.answer(_("Sorry, this offer cannot be bought right now."), show_alert=True)
        return
    qty = callback_data.qty
    if not 1 <= qty <= live.max_units:  # a forged or stale button
        await query.answer(
            _("You can buy up to {count} at once.").format(count=live.max_units), show_alert=True
        )
        return
    await query.answer()
    await state.clear()
    required = list(live.required_fields)
    if not required:
        order = await checkout.open_order(query.from_user.id, _chat_id(query), live, {}, qty)
        await _bill(query, order, signals)
        return
    await state.set_state(Purchase.entering)
    await state.update_data(sku=live.offer.sku, required=required, values={}, qty=qty)
    await _ask(query, live.offer.pattern_for(required[0]), required[0])


async def take_field(message: Message, state: FSMContext, catalog: Catalog) -> None:
    data = await state.get_data()
    offer = catalog.offer(data["sku"])
    if offer is None:
        await state.clear()
        await message.answer(_("This offer is not sold any more."))
        return
    required: list[str] = data["required"]
    values: dict[str, str] = data["values"]
    name = next(field for field in required if field not in values)
    value = (message.text or "").strip()
    if not offer.accepts(name, value):
        await message.answer(
            _("❗ “{value}” is not a valid {label}.").format(
                value=html.escape(value[:64]), label=field_label(name)
            )
            + "\n"
            + _prompt(offer.pattern_for(name), name),
            reply_markup=keyboards.cancel_only(),
        )
        return
    values[name] = value
    await state.update_data(values=values)
    missing = [field for field in required if field not in values]
    if missing:
        await message.answer(
            _prompt(offer.pattern_for(missing[0]), missing[0]), reply_markup=keyboards.cancel_only()
        )
        return
    await state.set_state(Purchase.confirming)
    total = offer.price_stars * data.get("qty", 1)
    details = "\n".join(
        f"{field_label(field)}: <code>{html.escape(values[field])}</code>" for field in required
    )
    await message.answer(
        _("Please check your order:\n<b>{title}</b>\n{details}\nPrice: {price}").format(
            title=html.escape(offer.title), details=details, price=stars(total)
        ),
        reply_markup=keyboards.confirm_form(total),
    )


async def ask_for_text(message: Message, state: FSMContext) -> None:
    await message.answer(
        _("Please send it as a text message, or press Cancel."),
        reply_markup=keyboards.cancel_only(),
    )


async def edit_fields(query: CallbackQuery, state: FSMContext, catalog: Catalog) -> None:
    data = await state.get_data()
    offer = catalog.offer(data["sku"])
    await query.answer()
    if offer is None:
        await state.clear()
        return
    await state.set_state(Purchase.entering)
    await state.update_data(values={})
    first = data["required"][0]
    await _ask(query, offer.pattern_for(first), first)


async def pay(
    query: CallbackQuery,
    state: FSMContext,
    catalog: Catalog,
    offers: OfferService,
    checkout: Checkout,
    signals: Signals,
) -> None:
    data = await state.get_data()
    await state.clear()
    offer = catalog.offer(data["sku"])
    live = await offers.live(offer) if offer else None
    if live is None or live.availability is not Availability.AVAILABLE:
        await query.answer(_("Sorry, this offer cannot be bought right now."), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    order = await checkout.open_order(
        query.from_user.id, _chat_id(query), live, data["values"], data.get("qty", 1)
    )
    await _bill(query, order, signals)


async def cancel_form(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            _("Cancelled. Nothing was charged."), reply_markup=keyboards.back_to_catalog()
        )


async def cancel_command(message: Message, state: FSMContext) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    text = _("Cancelled. Nothing was charged.") if had_state else _("Nothing to cancel.")
    await message.answer(text, reply_markup=keyboards.back_to_catalog())


async def form_expired(query: CallbackQuery) -> None:
    await query.answer(_("This form has expired. Please open the offer again."), show_alert=True)


async def cancel_invoice(
    query: CallbackQuery, callback_data: InvoiceCancelCb, checkout: Checkout
) -> None:
    if not await checkout.cancel(callback_data.order_id, query.from_user.id):
        await query.answer(_("This order can no longer be cancelled."), show_alert=True)
        return
    await query.answer(_("Order cancelled. Nothing was charged."))
    if isinstance(query.message, Message):
        await query.message.delete()


async def _ask(query: CallbackQuery, pattern: str, name: str) -> None:
    assert query.bot is not None
    await query.bot.send_message(
        _chat_id(query), _prompt(pattern, name), reply_markup=keyboards.cancel_only()
    )


def _prompt(pattern: str, name: str) -> str:
    if pattern == DEFAULT_FIELD_PATTERN:
        return _("Please enter your {label} (digits only, 5 to 20 of them):").format(
            label=field_label(name)
        )
    return _("Please enter your {label}:").format(label=field_label(name))


async def _bill(query: CallbackQuery, order: Order, signals: Signals) -> None:
    """The Stars invoice for what the shop credit did not cover; nothing to pay when it
    covered everything (the order is already paid: the worker starts at once)."""
    assert query.bot is not None
    if order.state is OrderState.PAID:
        signals.wake_workers()
        await query.bot.send_message(
            order.chat_id,
            _(
                "💫 Order #{id} is paid from your shop credit ({stars}). We are getting"
                " <b>{title}</b> for you; it will arrive in this chat in a moment."
            ).format(
                id=short_id(order), stars=stars(order.credit_stars), title=html.escape(order.title)
            ),
        )
        return
    terms = invoice_terms(order)
    await query.bot.send_invoice(
        chat_id=order.chat_id,
        title=terms.title,
        description=terms.description,
        payload=terms.payload,
        currency=STARS,
        prices=[LabeledPrice(label=terms.title, amount=terms.amount)],
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Pay {price}").format(price=stars(order.charged_stars)), pay=True
                    )
                ],
                [
                    InlineKeyboardButton(
                        text=_("✖ Cancel"), callback_data=InvoiceCancelCb(order_id=order.id).pack()
                    )
                ],
            ]
        ),
    )


def _chat_id(query: CallbackQuery) -> int:
    return query.message.chat.id if query.message else query.from_user.id
