"""Wiring: storage, vendors, services, the aiogram dispatcher and the worker, in one place."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.types import BotCommand
from aiogram.utils.i18n import I18n

from bot.admin_desk import AdminDesk
from bot.admins import AdminAccess
from bot.alerts import AlertSender
from bot.broadcast import Broadcaster
from bot.catalog import Catalog, check_against_vendors, load_catalog_file
from bot.catalog.desk import CatalogDesk
from bot.catalog.importer import Importer
from bot.checkout import Checkout
from bot.config import OFFICIAL_API, CatalogSettings, Settings
from bot.fulfillment import Fulfillment
from bot.g2a.channel import open_channel
from bot.i18n import UserLanguageMiddleware, load_i18n
from bot.notify import Notifier
from bot.offers import OfferService
from bot.reconcile import PaymentReconciler
from bot.refunds import Refunds
from bot.server import HttpServer
from bot.support import SupportDesk
from bot.topics import GroupTopics
from bot.vendor_watch import VendorWatch
from bot.webhooks import VendorEvents
from bot.worker import Worker
from handlers import admin_router, customer_router
from handlers.admin import alert_buttons
from handlers.support import write_more
from storage import (
    AdminLog,
    AlertRepo,
    CreditRepo,
    Database,
    FlagRepo,
    ForumTopicRepo,
    KeyCipher,
    OfferRepo,
    OrderRepo,
    StrayPaymentRepo,
    SupportMessageRepo,
    UserRepo,
)
from storage.cursors import CursorRepo
from vendors import REGISTRY, VendorContext, VendorPool
from vendors.base import Vendor

log = logging.getLogger(__name__)


@dataclass
class Storefront:
    bot: Bot
    dispatcher: Dispatcher
    worker: Worker
    i18n: I18n
    vendors: dict[str, Vendor]
    alerts: AlertSender | None = None

    async def run(self, *, handle_signals: bool = True) -> None:
        """Long-poll Telegram and run the worker until stopped (SIGTERM/SIGINT)."""
        await self.set_commands()
        worker = asyncio.create_task(self.worker.run(), name="worker")
        background = [worker]
        if self.alerts is not None:
            background.append(asyncio.create_task(self.alerts.run(), name="alerts"))
        try:
            await self.dispatcher.start_polling(
                self.bot,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
                close_bot_session=False,
                handle_signals=handle_signals,
            )
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)

    async def set_commands(self) -> None:
        for locale in [None, *self.i18n.available_locales]:
            with self.i18n.context(), self.i18n.use_locale(locale or self.i18n.default_locale):
                commands = [
                    BotCommand(command="start", description=self.i18n.gettext("Open the catalog")),
                    BotCommand(command="orders", description=self.i18n.gettext("My orders")),
                    BotCommand(
                        command="support", description=self.i18n.gettext("Write to our team")
                    ),
                    BotCommand(command="language", description=self.i18n.gettext("Language")),
                    BotCommand(command="cancel", description=self.i18n.gettext("Cancel")),
                    BotCommand(
                        command="paysupport", description=self.i18n.gettext("Help with a payment")
                    ),
                    BotCommand(command="terms", description=self.i18n.gettext("Terms of sale")),
                ]
            await self.bot.set_my_commands(commands, language_code=locale)


async def build(settings: Settings, stack: AsyncExitStack) -> Storefront:
    i18n = load_i18n(settings.locales_dir, settings.default_locale)
    offers = load_catalog_file(settings.catalog_file, REGISTRY)

    db = await Database.open(settings.database_path)
    stack.push_async_callback(db.close)
    webhook_base = None
    if settings.http_port:  # the server starts last, but simulators need its address now
        webhook_base = f"http://127.0.0.1:{settings.http_port}/webhooks"
    vendor_context = _vendor_context(settings, stack, webhook_base)
    pool = VendorPool(vendor_context)
    in_use = {offer.vendor for offer in offers} | await OfferRepo(db).imported_vendors()
    vendors = await pool.open_all(in_use & REGISTRY.keys())
    check_against_vendors(settings.catalog_file, offers, vendors)
    await OfferRepo(db).replace_catalog(offers)
    catalog = Catalog(await OfferRepo(db).active())
    cipher = (
        KeyCipher(settings.keys_encryption_key.get_secret_value())
        if settings.keys_encryption_key
        else KeyCipher.from_file(settings.database_path.parent / "keys.secret")
    )
    users, orders = UserRepo(db), OrderRepo(db, cipher)

    bot = _bot(settings)
    stack.push_async_callback(bot.session.close)
    alerts = AlertRepo(db)
    topics = None
    if settings.admin_chat_id is not None:  # its forum topics, if it has them
        topics = GroupTopics(bot, ForumTopicRepo(db), i18n, settings.admin_chat_id)
    notifier = Notifier(bot, i18n, users, settings.admin_chat_id, alerts, topics)
    sender = None
    if settings.admin_chat_id is not None:
        sender = AlertSender(
            bot,
            alerts,
            i18n,
            settings.admin_chat_id,
            buttons=alert_buttons,
            interval=settings.alert_interval_seconds,
            topics=topics,
        )
        notifier.on_alert(sender.wake)
    offer_service = OfferService(vendors, ttl=settings.offer_cache_seconds)
    catalog_desk = CatalogDesk(
        OfferRepo(db),
        catalog,
        AdminLog(db),
        offer_service,
        Importer(pool, settings),
        vendors,
        settings,
    )
    strays = StrayPaymentRepo(db)
    fulfillment = Fulfillment(
        orders,
        Refunds(bot, orders, strays, notifier),
        vendors,
        notifier,
        poll_min=settings.poll_min_seconds,
        poll_max=settings.poll_max_seconds,
        stuck_after=settings.order_stuck_alert_minutes * 60,
        webhook_poll=settings.webhook_poll_seconds,
        preorder_poll=settings.preorder_poll_seconds,
    )
    flags = FlagRepo(db)
    checkout = Checkout(
        orders,
        strays,
        catalog,
        offer_service,
        invoice_ttl=settings.invoice_ttl_minutes * 60,
        users=users,
        flags=flags,
    )
    worker = Worker(
        orders,
        strays,
        fulfillment,
        PaymentReconciler(bot, checkout, CursorRepo(db)),
        idle=settings.worker_idle_seconds,
        housekeeping=settings.housekeeping_seconds,
        lease_seconds=settings.worker_lease_seconds,
        invoice_ttl=settings.invoice_ttl_minutes * 60,
        pushing_vendors=tuple(name for name, v in vendors.items() if v.pushes_updates),
        chores=(
            VendorWatch(vendors, notifier, settings.vendor_balance_alert_below).check,
            # another replica's /offer edit reaches this one's snapshot within a round
            catalog_desk.reload,
        ),
    )
    g2a = await open_channel(
        settings, vendor_context, db, orders, catalog, offer_service, notifier, worker.wake
    )
    if g2a is not None:
        worker.add_chore(g2a.chores)
    if settings.http_port:
        events = VendorEvents(vendors, orders, offer_service, worker)
        routes = [g2a.routes] if g2a is not None else []
        server = HttpServer(events, db, worker, vendors, routes=routes)
        await server.start(settings.http_host, settings.http_port)
        stack.push_async_callback(server.stop)
    credit = CreditRepo(db)
    dispatcher = Dispatcher(storage=MemoryStorage(), events_isolation=SimpleEventIsolation())
    UserLanguageMiddleware(i18n, users, settings.admin_chat_id).setup(dispatcher)
    dispatcher.include_router(admin_router())
    dispatcher.include_router(customer_router())
    dispatcher.workflow_data.update(
        catalog=catalog,
        offers=offer_service,
        checkout=checkout,
        orders=orders,
        users=users,
        credit=credit,
        broadcaster=Broadcaster(bot, users, i18n, rate=settings.broadcast_rate_per_second),
        access=AdminAccess(bot, settings.admin_chat_id, settings.owner_ids),
        desk=AdminDesk(orders, credit, AdminLog(db), worker, vendors, users, flags),
        catalog_desk=catalog_desk,
        worker=worker,
        notifier=notifier,
        support=SupportDesk(
            bot, topics, SupportMessageRepo(db), orders, notifier, write_more=write_more
        ),
        settings=settings,
        g2a=g2a,
    )
    return Storefront(bot, dispatcher, worker, i18n, vendors, sender)


def _bot(settings: Settings) -> Bot:
    base = settings.telegram_api_url
    session = None
    if settings.telegram_test_environment:
        api = TelegramAPIServer(
            base=f"{base}/bot{{token}}/test/{{method}}",
            file=f"{base}/file/bot{{token}}/test/{{path}}",
        )
        session = AiohttpSession(api=api)
    elif base != OFFICIAL_API:
        session = AiohttpSession(api=TelegramAPIServer.from_base(base))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def _vendor_context(
    settings: CatalogSettings, stack: AsyncExitStack, webhook_base: str | None = None
) -> VendorContext:
    return VendorContext(
        sandbox=settings.sandbox,
        timeout=settings.vendor_timeout_seconds,
        rate_per_second=settings.vendor_rate_per_second,
        stack=stack,
        webhook_base=webhook_base,
    )
