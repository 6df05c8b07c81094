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
    """Everything customers see, in private chats only, on one router: each module adds
    its handlers in turn (an update then passes one router, not ten), the fallback last."""
    root = Router(name="customers")
    root.message.filter(Is(F.chat.type == "private"))
    root.callback_query.filter(Is(F.message.chat.type == "private"))
    for module in (
        payments,
        support,  # before the rest: in support mode, messages go to the team
        catalog,
        purchase,
        orders,
        language,
        policies,
        search,
        inline,  # inline queries (`@bot elden`) come from any chat
        fallback,
    ):
        module.register(root)
    return root
