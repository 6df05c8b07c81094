"""The admin group: orders, refunds, retries, credit and vendor health.

Only updates from the group ADMIN_CHAT_ID, from its administrators, reach these handlers
(`AdminOnly`); anyone else, anywhere else, changes nothing and learns nothing. Owners
(OWNER_IDS) may also refund and grant credit. Every change asks for confirmation first
and is written to the audit log by `bot.admin.desk`.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from handlers.admin.catalog import (
    CatalogPageCb,
    ImportCb,
    catalog_command,
    catalog_page,
    import_button,
    import_command,
    offer_command,
)
from handlers.admin.common import AdminCb, AdminOnly
from handlers.admin.customers import (
    ban_command,
    broadcast_button,
    broadcast_command,
    credit_button,
    credit_command,
    maintenance_command,
    user_command,
    vendors_command,
)
from handlers.admin.g2a import G2AListCb, g2a_command, g2a_list_button
from handlers.admin.orders import (
    alert_buttons,
    ask_button,
    cancel_pressed,
    confirm_button,
    key_button,
    open_button,
    order_command,
    refund_command,
    retry_command,
)
from handlers.admin.recovery import RecoverKey, recover_pressed, recovered_key
from handlers.admin.reports import (
    AdminOrdersCb,
    export_command,
    orders_command,
    orders_page,
    stats_command,
)
from handlers.admin.support import ToCustomer, answer_customer
from handlers.filters import InState, Is

__all__ = ["AdminCb", "alert_buttons", "router"]


def router() -> Router:
    r = Router(name="admins")
    r.message.filter(AdminOnly())
    r.callback_query.filter(AdminOnly())
    r.message.register(order_command, Command("order"))
    r.message.register(refund_command, Command("refund"))
    r.message.register(retry_command, Command("retry"))
    r.message.register(credit_command, Command("credit"))
    r.message.register(vendors_command, Command("vendors"))
    r.message.register(user_command, Command("user"))
    r.message.register(ban_command, Command("ban", "unban"))
    r.message.register(maintenance_command, Command("maintenance"))
    r.message.register(orders_command, Command("orders"))
    r.message.register(export_command, Command("export"))
    r.message.register(stats_command, Command("stats"))
    r.message.register(catalog_command, Command("catalog"))
    r.message.register(offer_command, Command("offer"))
    r.message.register(import_command, Command("import"))
    r.callback_query.register(catalog_page, CatalogPageCb.filter())
    r.callback_query.register(import_button, ImportCb.filter())
    r.message.register(g2a_command, Command("g2a"))
    r.callback_query.register(g2a_list_button, G2AListCb.filter())
    r.message.register(broadcast_command, Command("broadcast"))
    r.callback_query.register(broadcast_button, AdminCb.filter(F.action == "broadcast"))
    r.callback_query.register(orders_page, AdminOrdersCb.filter())
    r.callback_query.register(cancel_pressed, AdminCb.filter(F.action == "cancel"))
    r.callback_query.register(ask_button, AdminCb.filter(F.action.in_({"ask_refund", "ask_retry"})))
    r.callback_query.register(key_button, AdminCb.filter(F.action == "key"))
    r.callback_query.register(open_button, AdminCb.filter(F.action == "open"))
    r.callback_query.register(credit_button, AdminCb.filter(F.action == "credit"))
    r.callback_query.register(recover_pressed, AdminCb.filter(F.action == "recover"))
    r.callback_query.register(confirm_button, AdminCb.filter())
    r.message.register(recovered_key, Is(~F.text.startswith("/")), InState(RecoverKey.entering))
    r.message.register(answer_customer, ToCustomer())  # last: any other message in a topic
    return r
