"""Wiring: storage, vendors, services, the aiogram dispatcher, the worker and the HTTP
server, in one place."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisStorage
from redis.asyncio import Redis

from bot.admin.access import AdminAccess
from bot.admin.alerts import AlertSender
from bot.admin.broadcast import Broadcaster
from bot.admin.desk import AdminDesk
from bot.admin.support import SupportDesk
from bot.admin.topics import GroupTopics
from bot.admin.vendor_watch import VendorWatch
from bot.catalog import Catalog, check_against_vendors, load_catalog_file
from bot.catalog.desk import CatalogDesk
from bot.catalog.importer import Importer
from bot.config import OFFICIAL_API, CatalogSettings, ConfigError, Settings
from bot.g2a.channel import open_channel
from bot.i18n import UserLanguageMiddleware, load_i18n
from bot.offers import OfferService
from bot.orders.checkout import Checkout
from bot.orders.fulfillment import Fulfillment
from bot.orders.notify import Notifier
from bot.orders.reconcile import PaymentReconciler
from bot.orders.refunds import Refunds
from bot.orders.vendor_events import VendorEvents
from bot.orders.worker import Chore, Worker
from bot.runtime.dispatcher import ShopDispatcher
from bot.runtime.metrics import UpdateMetrics
from bot.runtime.process import Storefront
from bot.runtime.public import AuthThrottle
from bot.runtime.redis import connect_redis
from bot.runtime.server import HealthSources, HttpServer, Route
from bot.runtime.session import ShopSession
from bot.runtime.signals import Signal, Signals
from bot.runtime.telegram import webhook_route
from bot.webapp.api import WebAppApi
from bot.webapp.auth import WebAppAuth
from bot.webapp.page import page_routes
from handlers import admin_router, customer_router, keyboards
from handlers.admin import alert_buttons
from handlers.support import write_more
from storage import (
    AdminLog,
    AlertRepo,
    CreateSlotRepo,
    CreditRepo,
    Database,
    FlagRepo,
    ForumTopicRepo,
    KeyCipher,
    LeaseRepo,
    OfferRepo,
    OrderRepo,
    StrayPaymentRepo,
    SupportMessageRepo,
    UserRepo,
)
from storage.cursors import CursorRepo
from storage.db import DatabaseError
from storage.flags import KEYS_FINGERPRINT
from storage.models import Offer
from vendors import (
    REGISTRY,
    VendorContext,
    VendorPool,
    credentials_given,
    missing_credentials,
)
from vendors.pace import Pace

log = logging.getLogger(__name__)
DAY = 86400  # a conversation left this long starts over


async def build(settings: Settings, stack: AsyncExitStack) -> Storefront:
    """Every part of the shop, wired; what runs of it is the role's choice (Storefront)."""
    i18n = load_i18n(settings.locales_dir, settings.default_locale)
    offers = load_catalog_file(settings.catalog_file, REGISTRY)

    db = await _database(settings)
    stack.push_async_callback(db.close)
    redis = (
        await connect_redis(settings.redis_url.get_secret_value()) if settings.redis_url else None
    )
    if redis is not None:
        stack.push_async_callback(redis.aclose)
    signals = Signals(redis, settings.redis_prefix)
    webhook_base = None
    if settings.http_port:  # the server starts last, but simulators need its address now
        webhook_base = f"http://127.0.0.1:{settings.http_port}/webhooks"
    in_use = {offer.vendor for offer in offers} | await OfferRepo(db).imported_vendors()
    settings = _sandbox_or_credentials(settings, offers, in_use & REGISTRY.keys())
    vendor_context = _vendor_context(settings, stack, webhook_base, _pace(settings))
    pool = VendorPool(vendor_context)
    vendors = await pool.open_all(in_use & REGISTRY.keys())
    check_against_vendors(settings.catalog_file, offers, vendors)
    await OfferRepo(db).replace_catalog(offers)
    catalog = Catalog(await OfferRepo(db).active())
    flags = FlagRepo(db)
    cipher = await _cipher(settings, flags)
    users, orders, leases = UserRepo(db), OrderRepo(db, cipher), LeaseRepo(db)
    signals.on(Signal.CUSTOMER, lambda user_id: users.forget(int(user_id or 0)))

    bot = _bot(settings)
    stack.push_async_callback(bot.session.close)
    alerts = AlertRepo(db)
    topics = None
    if settings.admin_chat_id is not None:  # its forum topics, if it has them
        topics = GroupTopics(bot, ForumTopicRepo(db), i18n, settings.admin_chat_id)
    notifier = Notifier(
        bot, i18n, users, settings.admin_chat_id, alerts, topics, order_card=keyboards.order_card
    )
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
            leases=leases,
        )
        signals.on(Signal.ALERTS, lambda _: sender.wake())
        notifier.on_alert(lambda: signals.emit(Signal.ALERTS))
    offer_service = OfferService(vendors, ttl=settings.offer_cache_seconds)
    catalog_desk = CatalogDesk(
        OfferRepo(db),
        catalog,
        AdminLog(db),
        offer_service,
        Importer(pool, settings),
        vendors,
        settings,
        announce=lambda: signals.emit(Signal.CATALOG, here=False),
    )
    signals.on(Signal.CATALOG, lambda _: catalog_desk.reload())
    strays = StrayPaymentRepo(db)
    # sandbox purchases paid with real Stars (Telegram's production environment) go back
    refund_tests = settings.sandbox and not settings.telegram_test_environment
    fulfillment = Fulfillment(
        orders,
        Refunds(bot, orders, strays, notifier),
        vendors,
        notifier,
        CreateSlotRepo(db),
        poll_min=settings.poll_min_seconds,
        poll_max=settings.poll_max_seconds,
        poll_slow_max=settings.poll_slow_max_seconds,
        stuck_after=settings.order_stuck_alert_minutes * 60,
        webhook_poll=settings.webhook_poll_seconds,
        preorder_poll=settings.preorder_poll_seconds,
        refund_test_purchases=refund_tests,
        key_lost_refund=settings.key_lost_refund_hours * 3600,
    )
    checkout = Checkout(
        orders,
        strays,
        catalog,
        offer_service,
        invoice_ttl=settings.invoice_ttl_minutes * 60,
        users=users,
        flags=flags,
        test_purchases=settings.sandbox,
    )
    watch = VendorWatch(vendors, notifier, settings.vendor_balance_alert_below, flags)
    # another replica's /offer edit reaches this one's snapshot within a round at the latest
    refresh = Chore("catalog-refresh", catalog_desk.refresh, shared=False)
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
        chores=(Chore("vendor-health", watch.check), refresh),
        leases=leases,
    )
    signals.on(Signal.ORDERS_DUE, lambda _: worker.wake())
    g2a = await open_channel(
        settings, vendor_context, db, orders, catalog, offer_service, notifier, signals.wake_workers
    )
    if g2a is not None:
        worker.add_chore(Chore("g2a", g2a.chores))
    if refund_tests:
        worker.add_chore(Chore("test-refunds", fulfillment.refund_test_purchases))
    credit = CreditRepo(db)
    dispatcher = ShopDispatcher(
        admin_chat_id=settings.admin_chat_id,
        storage=_conversations(settings, redis),
        events_isolation=SimpleEventIsolation(),
    )
    dispatcher.update.outer_middleware(UpdateMetrics())
    UserLanguageMiddleware(i18n, users, settings.admin_chat_id).setup(dispatcher)
    # customers first: nearly every update is theirs, and the two routers' chats never meet
    dispatcher.include_router(customer_router())
    dispatcher.include_router(admin_router())
    dispatcher.workflow_data.update(
        catalog=catalog,
        offers=offer_service,
        checkout=checkout,
        orders=orders,
        users=users,
        credit=credit,
        broadcaster=Broadcaster(
            bot,
            users,
            i18n,
            rate=settings.broadcast_rate_per_second,
            pace=vendor_context.pace,
            leases=leases,
        ),
        access=AdminAccess(bot, settings.admin_chat_id, settings.owner_ids),
        desk=AdminDesk(orders, credit, AdminLog(db), signals, vendors, users, flags),
        catalog_desk=catalog_desk,
        signals=signals,
        notifier=notifier,
        support=SupportDesk(
            bot, topics, SupportMessageRepo(db), orders, notifier, write_more=write_more
        ),
        settings=settings,
        g2a=g2a,
    )
    if settings.http_port:
        routes: list[Route] = []
        if settings.role.serves_updates:
            routes.append(VendorEvents(vendors, orders, offer_service, signals).route)
            if g2a is not None:
                routes.append(g2a.routes)
            if settings.webhook_path and settings.telegram_webhook_secret:
                secret = settings.telegram_webhook_secret.get_secret_value()
                routes.append(webhook_route(dispatcher, bot, settings.webhook_path, secret))
            if settings.webapp_url:
                auth = WebAppAuth(
                    settings.bot_token.get_secret_value(), settings.webapp_auth_max_age
                )
                api = WebAppApi(
                    auth, catalog, offer_service, orders, users, i18n,
                    checkout, bot, signals.wake_workers,
                    rate_storage=vendor_context.pace.storage,
                )  # fmt: skip
                routes += [api.routes, page_routes]
        health = HealthSources(
            role=settings.role,
            db=db,
            orders=orders,
            alerts=alerts,
            vendors=vendors,
            redis=redis,
            worker_alive=worker.alive if settings.role.works else None,
            token=settings.health_token.get_secret_value() if settings.health_token else None,
        )
        throttle = AuthThrottle(
            vendor_context.pace.storage,
            failures_per_minute=settings.auth_failures_per_minute,
            trusted_proxies=settings.trusted_proxies,
        )
        server = HttpServer(health, routes, throttle)
        await server.start(settings.http_host, settings.http_port)
        stack.push_async_callback(server.stop)
    return Storefront(
        settings, bot, dispatcher, worker, i18n, vendors, signals, flags, sender, refresh.run
    )


async def _database(settings: Settings) -> Database:
    url = settings.database_url.get_secret_value() if settings.database_url else None
    try:
        return await Database.open(
            url or settings.database_path, pool_size=settings.database_pool_size
        )
    except DatabaseError as exc:
        raise ConfigError(str(exc)) from None


async def _cipher(settings: Settings, flags: FlagRepo) -> KeyCipher:
    """The key that encrypts keys at rest: the same one for every process of the shop, or
    the keys stored by one could not be read by another (checked against the database)."""
    key = settings.keys_encryption_key
    try:
        cipher = (
            KeyCipher(key.get_secret_value())
            if key
            else KeyCipher.from_file(settings.database_path.parent / "keys.secret")
        )
    except ValueError:
        raise ConfigError("KEYS_ENCRYPTION_KEY is invalid: it must be a Fernet key") from None
    if await flags.set_once(KEYS_FINGERPRINT, cipher.fingerprint()) != cipher.fingerprint():
        raise ConfigError(
            "KEYS_ENCRYPTION_KEY is not the key this shop's keys are encrypted with: use the"
            " shop's KEYS_ENCRYPTION_KEY (or its keys.secret) in every process"
        )
    return cipher


def _pace(settings: Settings) -> Pace:
    if settings.redis_url is None:
        return Pace()
    return Pace.in_redis(settings.redis_url.get_secret_value(), settings.redis_prefix)


def _conversations(settings: Settings, redis: Redis | None) -> BaseStorage:
    """Where conversation state lives: in Redis, so that any replica continues a
    conversation another began, or here. One chat's updates are handled one at a time
    without a lock in Redis: Telegram sends a chat's next update only once the last was
    answered (the webhook answers after handling), and polling is one process, where
    aiogram's in-process isolation holds them apart."""
    if redis is None:
        return MemoryStorage()
    keys = DefaultKeyBuilder(prefix=f"{settings.redis_prefix}:fsm", with_destiny=True)
    return RedisStorage(redis, key_builder=keys, state_ttl=DAY, data_ttl=DAY)


def _bot(settings: Settings) -> Bot:
    base = settings.telegram_api_url
    session = ShopSession(timeout=settings.telegram_timeout_seconds)
    if settings.telegram_test_environment:
        session.api = TelegramAPIServer(
            base=f"{base}/bot{{token}}/test/{{method}}",
            file=f"{base}/file/bot{{token}}/test/{{path}}",
        )
    elif base != OFFICIAL_API:
        session.api = TelegramAPIServer.from_base(base)
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def _sandbox_or_credentials(settings: Settings, offers: list[Offer], in_use: set[str]) -> Settings:
    """The sandbox is deliberate: SANDBOX=1, or no vendor credentials at all (the README's
    try-it-out start). Otherwise every vendor the shop sells from needs its credentials: a
    mistyped variable must stop the shop, not sell simulated keys for real Stars."""
    if settings.sandbox:
        return settings
    if not credentials_given():
        log.warning("no vendor credentials are set: SANDBOX mode, every vendor simulated")
        return settings.model_copy(update={"sandbox": True})
    missing = missing_credentials(in_use)
    if missing:
        needs = []
        for vendor, variables in missing.items():
            skus = [offer.sku for offer in offers if offer.vendor == vendor]
            sold = ", ".join(skus[:5]) + (", …" if len(skus) > 5 else "") or "imported offers"
            needs.append(f"{' and '.join(variables)} (for {vendor}: {sold})")
        raise ConfigError(
            f"not set: {'; '.join(needs)}. Set them, or SANDBOX=1 to try the shop with"
            " simulated vendors"
        )
    return settings


def _vendor_context(
    settings: CatalogSettings, stack: AsyncExitStack, webhook_base: str | None, pace: Pace
) -> VendorContext:
    return VendorContext(
        sandbox=settings.sandbox,
        timeout=settings.vendor_timeout_seconds,
        rate_per_second=settings.vendor_rate_per_second,
        stack=stack,
        webhook_base=webhook_base,
        pace=pace,
    )
