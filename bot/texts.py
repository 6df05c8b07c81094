"""Texts shared by handlers and background workers (all through gettext)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel.support import LazyProxy

from storage.models import Order, OrderState

_FIELD_LABELS = {
    "gameUserId": __("player ID"),
}

_STATE_LABELS = {
    OrderState.AWAITING_PAYMENT: __("⏳ awaiting payment"),
    OrderState.CANCELLED: __("✖ cancelled"),
    OrderState.PAID: __("💫 paid, buying"),
    OrderState.PLACING: __("💫 paid, buying"),
    OrderState.PROCESSING: __("⏳ the vendor is processing"),
    OrderState.FULFILLED: __("📦 ready"),
    OrderState.DELIVERED: __("✅ delivered"),
    OrderState.REFUNDING: __("↩ refund in progress"),
    OrderState.REFUNDED: __("↩ refunded"),
    OrderState.FAILED: __("⚠ needs attention: our team is on it"),
    OrderState.KEY_LOST: __("⏳ delayed: our team is recovering the key"),
}


def field_label(name: str) -> str:
    label = _FIELD_LABELS.get(name)
    return str(label) if label is not None else name


def state_label(state: OrderState) -> str:
    return str(_STATE_LABELS[state])


def lazy_state_label(state: OrderState) -> LazyProxy:
    """For texts formatted later, in another language context (admin alerts)."""
    return _STATE_LABELS[state]


def lazy_format(template: LazyProxy, **values: object) -> LazyProxy:
    """`template` formatted when it is shown, in the language of that moment."""
    return LazyProxy(lambda: str(template).format(**values), enable_cache=False)


def short_id(order: Order) -> str:
    return order.id[:8].upper()


def stars(amount: int) -> str:
    return _("{amount} ⭐").format(amount=amount)
