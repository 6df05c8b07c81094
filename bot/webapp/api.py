"""The Mini App's JSON API under `/app/api/`: the catalog by category, search, an offer
with its live availability and the fields its vendor needs, the customer's orders and
their keys. Every call names its customer with Telegram's signed initData (401 otherwise,
saying nothing more), is rate-limited per customer on every replica, and is never cached
by a proxy."""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.types import LabeledPrice
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.web_app import WebAppUser
from aiohttp import web
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.catalog import Catalog
from bot.i18n import pick_locale
from bot.offers import Availability, OfferService
from bot.orders.checkout import STARS, Checkout, invoice_terms
from bot.runtime.public import read_body
from bot.texts import field_label, short_id, state_label
from bot.webapp.auth import WebAppAuth
from bot.webapp.covers import Covers
from storage.models import Offer, Order, OrderState
from storage.orders import OrderRepo
from storage.users import UserRepo

PREFIX = "/app/api"
MAX_BODY = 4096  # a purchase: an offer, a quantity, a player ID
PAGE_LIMIT = 50
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Handler = Callable[[web.Request, WebAppUser], Awaitable[Any]]


class WebAppApi:
    def __init__(
        self,
        auth: WebAppAuth,
        catalog: Catalog,
        offers: OfferService,
        orders: OrderRepo,
        users: UserRepo,
        i18n: I18n,
        checkout: Checkout,
        bot: Bot,
        wake_workers: Callable[[], None],
        *,
        rate_storage: Storage | None = None,
        calls_per_minute: int = 240,
    ) -> None:
        self._auth, self._i18n = auth, i18n
        self._catalog, self._offers = catalog, offers  # what the chat's catalog shows
        self._orders, self._users = orders, users
        self._checkout, self._bot, self._wake_workers = checkout, bot, wake_workers
        self._covers = Covers(catalog, offers)
        self._limiter = MovingWindowRateLimiter(rate_storage or MemoryStorage())
        self._rate = RateLimitItemPerMinute(calls_per_minute)

    def routes(self, app: web.Application) -> None:
        app.router.add_get(PREFIX + "/texts", self._guarded(self._texts))
        app.router.add_get(PREFIX + "/catalog", self._guarded(self._categories))
        app.router.add_get(PREFIX + "/categories/{key}", self._guarded(self._category))
        app.router.add_get(PREFIX + "/search", self._guarded(self._search))
        app.router.add_get(PREFIX + "/offers/{sku}", self._guarded(self._offer))
        app.router.add_get(PREFIX + "/orders", self._guarded(self._order_list))
        app.router.add_get(PREFIX + "/orders/{order_id}", self._guarded(self._order))
        app.router.add_post(PREFIX + "/buy", self._guarded(self._buy))
        self._covers.route(app)  # public: an <img> sends no initData, and covers are no secret

    def _guarded(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """The customer from initData (401 without), in their language, within their rate.
        A banned customer browses as in the chat; buying refuses them (the checkout)."""

        async def guarded(request: web.Request) -> web.Response:
            customer = self._auth.customer(request.headers.get("Authorization"))
            if customer is None:
                return _json({"error": "unauthorized"}, 401)
            if not await self._limiter.hit(self._rate, "webapp", str(customer.id)):
                return _json({"error": "slow_down"}, 429, {"Retry-After": "5"})
            language = await self._users.language(customer.id, customer.language_code)
            with self._i18n.context(), self._i18n.use_locale(pick_locale(self._i18n, language)):
                body = await handler(request, customer)
            if isinstance(body, web.Response):
                return body
            return _json(body)

        return guarded

    async def _texts(self, request: web.Request, customer: WebAppUser) -> Any:
        """The page's words, in the customer's language (the chat's catalogs)."""
        return {
            "language": self._i18n.current_locale,
            "catalog": _("Catalog"),
            "search": _("Search the shop"),
            "my_orders": _("🧾 My orders"),
            "no_orders": _("You have no orders yet."),
            "results": _("Found for “{query}”:"),
            "nothing_found": _("Nothing found. Try another word."),
            "stars": _("{amount} ⭐"),
            "buy_for": _("Buy for {amount} ⭐"),
            "available": _("✅ In stock"),
            "sold_out": _("❌ Sold out right now"),
            "unknown": _("⚠️ Could not check with the supplier; try again"),
            "your_key": _("Your key"),
            "copy": _("📋 Copy"),
        }

    async def _categories(self, request: web.Request, customer: WebAppUser) -> Any:
        return {
            "categories": [
                {"key": c.key, "title": c.title, "count": len(c.offers)}
                for c in self._catalog.categories
            ]
        }

    async def _category(self, request: web.Request, customer: WebAppUser) -> Any:
        category = self._catalog.category(request.match_info["key"])
        if category is None:
            return _json({"error": "not_found"}, 404)
        offset = _number(request.query.get("offset"), 0)
        page = category.offers[offset : offset + PAGE_LIMIT]
        return {
            "title": category.title,
            "offers": [_summary(offer) for offer in page],
            "next": offset + PAGE_LIMIT if offset + PAGE_LIMIT < len(category.offers) else None,
        }

    async def _search(self, request: web.Request, customer: WebAppUser) -> Any:
        query = request.query.get("q", "")[:100]
        found = self._catalog.search(query, limit=PAGE_LIMIT) if query.strip() else ()
        return {"offers": [_summary(offer) for offer in found]}

    async def _offer(self, request: web.Request, customer: WebAppUser) -> Any:
        offer = self._catalog.offer(request.match_info["sku"])
        if offer is None:
            return _json({"error": "not_found"}, 404)
        live = await self._offers.live(offer)
        return _summary(offer) | {
            "availability": live.availability.value,
            "max_units": live.max_units,
            "cover": self._covers.url_of(live),
            "fields": [
                {"name": name, "label": field_label(name), "pattern": offer.patterns.get(name)}
                for name in live.required_fields
            ],
        }

    async def _buy(self, request: web.Request, customer: WebAppUser) -> Any:
        """The same checkout as the chat's: an order, then a Stars invoice link for what
        the shop credit did not cover (none when it covered all: the order is paid)."""
        try:
            wanted = BuyRequest.model_validate_json(await read_body(request, MAX_BODY))
        except ValidationError:
            return _json({"error": "invalid_request"}, 400)
        refusal = await self._checkout.refusal(customer.id)
        if refusal is not None:  # maintenance, or a banned customer
            return _json({"error": "refused", "message": refusal}, 403)
        offer = self._catalog.offer(wanted.sku)
        live = await self._offers.live(offer, fresh=True) if offer else None
        if live is None or live.availability is not Availability.AVAILABLE:
            message = _("Sorry, this offer cannot be bought right now.")
            return _json({"error": "unavailable", "message": message}, 409)
        if wanted.quantity > live.max_units:
            message = _("You can buy up to {count} at once.").format(count=live.max_units)
            return _json({"error": "quantity", "message": message}, 400)
        values = {name: wanted.fields.get(name, "").strip() for name in live.required_fields}
        for name, value in values.items():
            if not live.offer.accepts(name, value):
                message = _("❗ “{value}” is not a valid {label}.").format(
                    value=value[:64], label=field_label(name)
                )
                return _json({"error": "field", "field": name, "message": message}, 400)
        order = await self._checkout.open_order(
            customer.id, customer.id, live, values, wanted.quantity
        )
        if order.state is OrderState.PAID:  # the shop credit paid it all
            self._wake_workers()
            return {"order": _order_json(order), "invoice_link": None}
        terms = invoice_terms(order)
        link = await self._bot.create_invoice_link(
            title=terms.title,
            description=terms.description,
            payload=terms.payload,
            currency=STARS,
            prices=[LabeledPrice(label=terms.title, amount=terms.amount)],
        )
        return {"order": _order_json(order), "invoice_link": link}

    async def _order_list(self, request: web.Request, customer: WebAppUser) -> Any:
        orders = await self._orders.for_user(customer.id, limit=PAGE_LIMIT)
        return {"orders": [_order_json(order) for order in orders]}

    async def _order(self, request: web.Request, customer: WebAppUser) -> Any:
        order = await self._orders.get(request.match_info["order_id"][:64])
        if order is None or order.user_id != customer.id:  # another's: as if there were none
            return _json({"error": "not_found"}, 404)
        keys = await self._orders.keys(order.id)
        return _order_json(order) | {
            "keys": [
                {"kind": "text", "value": key.value}
                if isinstance(key.value, str)
                else {
                    "kind": "image",
                    "value": f"data:{key.mime};base64,{base64.b64encode(key.value).decode()}",
                }
                for key in keys
            ]
        }


SUMMARY = {"sku", "title", "category", "description", "price_stars", "max_quantity"}


class BuyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    quantity: int = Field(default=1, ge=1, le=1000)
    fields: dict[str, str] = Field(default_factory=dict, max_length=10)


def _summary(offer: Offer) -> dict[str, Any]:
    return offer.model_dump(include=SUMMARY)


def _order_json(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "number": short_id(order),
        "title": order.title,
        "quantity": order.quantity,
        "state": order.state.value,
        "state_label": state_label(order.state),
        "price_stars": order.price_stars,
        "created_at": order.created_at,
        "age_seconds": round(time.time() - order.created_at),
    }


def _number(raw: str | None, default: int) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) < 9 else default


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=NO_STORE | (headers or {}))
