"""Thin aiogram routers, split by what the customer is doing. No SQL and no vendor HTTP here:
they call the services the dispatcher injects by parameter name (catalog, offers, checkout,
orders, users, fulfillment, notifier)."""

from __future__ import annotations

from aiogram import F, Router

from handlers import (
    admin,
    catalog,
    fallback,
    inline,
    language,
    orders,
    payments,
    policies,
    purchase,
    search,
    support,
)
from handlers.filters import Is


def admin_router() -> Router:
    """The admin group (ADMIN_CHAT_ID), its administrators only."""
    return admin.router()


def customer_router() -> Router:
    """Everything customers see, in private chats only; the fallback router goes last."""
    root = Router(name="customers")
    root.message.filter(Is(F.chat.type == "private"))
    root.callback_query.filter(Is(F.message.chat.type == "private"))
    root.include_routers(
        payments.router(),
        support.router(),  # before the rest: in support mode, messages go to the team
        catalog.router(),
        purchase.router(),
        orders.router(),
        language.router(),
        policies.router(),
        search.router(),
        inline.router(),  # inline queries (`@bot elden`) come from any chat
        fallback.router(),
    )
    return root
