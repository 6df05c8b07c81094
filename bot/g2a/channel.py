"""The G2A sales channel assembled: listings (the Import API client), the dropshipping
endpoints G2A calls, and the chores that keep them tidy. Off unless the owner issued G2A
its credentials (G2A_DROPSHIPPING_CLIENT_ID and _SECRET); in the sandbox it is always on,
against a G2A simulator, with credentials of its own."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.catalog import Catalog
from bot.config import Settings
from bot.g2a.auth import DropshippingAuth
from bot.g2a.listings import G2AListings
from bot.g2a.sales import G2ASales
from bot.g2a.server import DropshippingApi
from bot.offers import OfferService
from bot.orders.notify import Notifier
from storage import AdminLog, Database, G2ARepo, LeaseRepo, OrderRepo
from vendors import VendorContext
from vendors.g2a_import import open_import

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class G2AChannel:
    sales: G2ASales
    listings: G2AListings
    routes: Callable[[web.Application], None]
    client_id: str  # what G2A (or the sandbox's simulated buyer) presents
    client_secret: str = field(repr=False)  # never in a log line

    async def chores(self) -> None:
        await self.sales.expire_reservations()
        await self.sales.fill_payouts()
        await self.listings.follow_pending()
        await self.listings.guard.watch_sources()


async def open_channel(
    settings: Settings,
    ctx: VendorContext,
    db: Database,
    orders: OrderRepo,
    catalog: Catalog,
    offers: OfferService,
    notifier: Notifier,
    wake_worker: Callable[[], None],
) -> G2AChannel | None:
    client_id = settings.g2a_dropshipping_client_id
    secret = settings.g2a_dropshipping_client_secret
    client_secret = secret.get_secret_value() if secret else None
    if settings.sandbox and not (client_id and client_secret):
        client_id, client_secret = "sandbox-g2a", secrets.token_urlsafe(24)
    if not (client_id and client_secret):
        return None
    if not settings.http_port:
        log.warning("selling on G2A needs HTTP_PORT: G2A calls the shop there")
        return None
    repo = G2ARepo(db)
    listings = G2AListings(
        await open_import(ctx),
        repo,
        catalog,
        offers,
        settings,
        AdminLog(db),
        notifier,
        leases=LeaseRepo(db),
    )
    sales = G2ASales(repo, orders, catalog, offers, wake_worker, payout=listings.income)
    offers.on_change(listings.guard.source_changed)
    api = DropshippingApi(sales, DropshippingAuth(client_id, client_secret))
    return G2AChannel(sales, listings, api.routes, client_id, client_secret)
