"""Callback data of every inline button. aiogram validates them: a forged or stale button
that does not parse matches no handler and reaches the fallback router."""

from __future__ import annotations

from typing import Literal

from aiogram.filters.callback_data import CallbackData


class MenuCb(CallbackData, prefix="m"):
    page: int = 0


class CategoryCb(CallbackData, prefix="c"):
    key: str
    page: int = 0


class OfferCb(CallbackData, prefix="o"):
    sku: str
    refresh: bool = False
    qty: int = 1  # the quantity picked on the card


class BuyCb(CallbackData, prefix="b"):
    sku: str
    qty: int = 1


class FormCb(CallbackData, prefix="f"):
    action: Literal["pay", "edit", "cancel"]


class InvoiceCancelCb(CallbackData, prefix="x"):
    order_id: str


class OrdersCb(CallbackData, prefix="ol"):
    page: int = 0


class OrderCb(CallbackData, prefix="od"):
    order_id: str
    action: Literal["show", "key"] = "show"


class LanguageMenuCb(CallbackData, prefix="lm"):
    pass


class LanguageCb(CallbackData, prefix="lg"):
    code: str
